"""``fairx images``: train an image fair generator and compare TSTR with a real-data classifier;
save it, distil a Fair4Free student from a saved teacher without data, and sample saved models.

Two-party flow on images (methods.md §4)::

    fairx images run --dataset colored_mnist --model fairdisco --save-model teacher/   # data owner
    fairx images distill teacher/ -o student/                                    # no data
    fairx images generate --model-dir student/ -n 1000 -o samples.npz           # or .png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from .._io import atomic_path, check_output, check_output_dir
from ..data import load_dataset
from ..evaluation.images import evaluate_image_method
from ..metrics._images import label_group_dependence
from ..models import FairGenerator
from ..models.fair_latent.fair4free import Fair4Free
from ..models.fair_latent.fair_vae import FairVAE
from ..models.persist import load_method
from ..report._images import save_group_grid, write_image_experiment
from ._common import bytes_per_row, check_rows_fit, console, print_frame, user_errors
from ._options import Preset, count, opt
from ._options import output as output_opt

_BIAS_HELP = ("P(digit has its class colour) in the training set (default 0.99; 1.0 with "
              "--sd); Colored MNIST / digits only.")
_SD_HELP = "Colour jitter std (FLDGM Table 2: 0.020..0.050); Colored MNIST / digits only."

images_app = typer.Typer(help="Image datasets and fair image generators (Colored MNIST, CelebA).",
                         no_args_is_help=True, rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(images_app, name="images")


@images_app.command("run")
@user_errors
def run(
    dataset: str = opt("dataset", "colored_mnist"),
    model: str = opt("model", "fldgm"),
    bias: float = typer.Option(None, "--bias", metavar="FLOAT", help=_BIAS_HELP),
    sd: float = typer.Option(None, "--sd", metavar="FLOAT", help=_SD_HELP),
    preset: Preset = opt("preset", "fast"),
    n: int = count(None, "Training images (a seeded subset; default: all)."),
    n_test: int = typer.Option(None, "--n-test", metavar="INT",
                               help="Test images (default: all)."),
    seed: int = opt("seed", 0),
    clf_epochs: int = typer.Option(3, "--clf-epochs", metavar="INT",
                                   help="Epochs of the downstream CNN."),
    epochs: int = opt("epochs"),
    beta: float = typer.Option(None, "--beta", metavar="FLOAT",
                               help="Override the generator's V² weight β."),
    root: str = typer.Option(None, "--root", metavar="DIR", help="CelebA folder."),
    out: Path = output_opt(None, "Folder for PNG grids and results.json."),
    save: Path = opt("save_model"),
) -> None:
    """Train a fair image generator on a biased set; compare TSTR on a colour-debiased test set
    with a CNN trained on the real biased set."""

    for folder, what in ((out, "--out"), (save, "--save")):  # before any training
        if folder is not None:
            check_output_dir(folder, what=what)

    params = {k: v for k, v in (("epochs", epochs), ("beta", beta)) if v is not None}
    exp = evaluate_image_method(dataset=dataset, model=model, bias=bias, sd=sd, preset=preset,
                                n=n, n_test=n_test, seed=seed, clf_epochs=clf_epochs, root=root,
                                params=params, save=save)
    result = exp.result
    if out is not None:
        result["files"] = [str(p) for p in write_image_experiment(exp, out)]

    cols = ["train_on", "accuracy", "balanced_accuracy", "dpr", "eor", "normalized_mi",
            "pixel_colour_nmi", "seconds"]
    frame = pd.DataFrame(result["rows"])
    frame = frame[[c for c in cols if c in frame.columns]]
    print_frame(frame, title=f"{dataset} (bias={bias}, sd={sd}): test on colour-debiased real images")
    console.print(f"TSTR gain over the real-data classifier: {result['gain']:+.3f}")
    for f in result.get("files", []):
        console.print(f"wrote {f}")
    if save is not None:
        console.print(f"saved the model to {save}", highlight=False)


def load_image_generator(model_dir: Path):
    """A saved image generator, or a clear error (missing folder, tabular or non-generator)."""

    if not Path(model_dir).is_dir():
        raise FileNotFoundError(f"model folder {model_dir} does not exist")
    gen = load_method(model_dir)
    if not isinstance(gen, FairGenerator) or getattr(gen, "data_kind", "tabular") != "image":
        raise ValueError(f"{model_dir} holds a {type(gen).__name__}, not an image generator "
                         "(sample tabular generators with 'fairx generate --model-dir')")
    return gen


def check_image_output(out: Path) -> Path:
    """An image output must be a writable ``.npz`` or ``.png`` file (checked before sampling)."""

    out = Path(out)
    if out.suffix.lower() not in (".npz", ".png"):
        raise ValueError(f"output {out}: image samples are written as .npz (arrays) or .png "
                         f"(grid by group), not {out.suffix.lower() or 'a file without suffix'!r}")
    return check_output(out, what="--output")


def write_images(ds, out: Path) -> list[Path]:
    """Write generated images: ``.npz`` (arrays ``images`` (N, C, H, W) float32 in [0, 1], ``y``,
    ``s``, and the names ``classes``, ``groups``, ``target``, ``sensitive``) or ``.png`` (a grid
    with one row per group)."""

    out = check_image_output(out)
    suffix = out.suffix.lower()
    if suffix == ".png":

        return [save_group_grid(ds, out, title=f"{ds.name}: samples by {ds.sensitive}")]

    with atomic_path(out) as tmp:
        np.savez_compressed(tmp, images=ds.to_numpy(), y=ds.y, s=ds.s,
                            classes=np.array(ds.classes), groups=np.array(ds.groups),
                            target=np.array(ds.target), sensitive=np.array(ds.sensitive))
    return [out]


@images_app.command("generate")
@user_errors
def generate(
    model_dir: Path = opt("model_dir", ...),
    n: int = count(..., "Number of images to generate."),
    output: Path = output_opt(..., "samples.npz (arrays) or grid.png."),
    seed: int = opt("seed", 0),
) -> None:
    """Sample a saved image generator (no data needed)."""

    if n <= 0:
        raise ValueError(f"-n {n}: the number of images must be a positive integer")
    check_image_output(output)
    gen = load_image_generator(model_dir)
    check_rows_fit(n, bytes_per_row(gen.sample(min(n, 8), seed=seed)), what=f"-n {n:,}")
    for f in write_images(gen.sample(n, seed=seed), output):
        console.print(f"wrote {n:,} {gen.display_name} images to {f}", highlight=False)


@images_app.command("distill")
@user_errors
def distill(
    teacher_dir: Path = typer.Argument(..., help="Folder of a saved image fair VAE (fairdisco)."),
    output: Path = output_opt(..., "Folder to save the student in."),
    seed: int = opt("seed", 0),
    preset: Preset = opt("preset"),
    k: int = typer.Option(None, "--k", metavar="INT",
                          help="Prior→decode→re-encode steps (default: chosen in 0..5)."),
    epochs: int = opt("epochs"),
) -> None:
    """Distil an image Fair4Free student from a saved teacher, without any training images."""
    check_output_dir(output, what="--output")
    if epochs is not None and epochs < 1:
        raise ValueError(f"--epochs {epochs}: give a positive number of passes")
    teacher = load_image_generator(teacher_dir)
    if not isinstance(teacher, FairVAE):
        raise ValueError(f"{teacher_dir} holds a {type(teacher).__name__}; 'fairx images distill'"
                         " needs a saved image fair VAE (fairx images run --model fairdisco "
                         "--save-model DIR)")
    # --epochs: passes over the teacher-made latents (distill_epochs, as on tables)
    student = Fair4Free.distill(teacher, chain_steps=k, distill_epochs=epochs, random_state=seed,
                                preset=preset)
    student.save(output)
    console.print(f"distilled an image Fair4Free student (k = {student.chain_steps_}; parameters: teacher "
                  f"{student.n_parameters_teacher_:,}, student {student.n_parameters_student_:,})"
                  f" without training images; saved to {output}", highlight=False)


@images_app.command("show")
@user_errors
def show(
    dataset: str = opt("dataset", "digits_colored"),
    bias: float = typer.Option(None, "--bias", metavar="FLOAT", help=_BIAS_HELP),
    sd: float = typer.Option(None, "--sd", metavar="FLOAT", help=_SD_HELP),
    n: int = count(2000, "Images to load (a seeded subset)."),
    out: Path = output_opt(Path("images_grid.png"), "PNG grid of images per group."),
) -> None:
    """Summarise an image dataset (group × class counts) and save a grid per group."""

    opts = {} if dataset == "celeba" else {"bias": bias, "sd": sd}
    ds = load_dataset(dataset, n=n, **opts)
    console.print(repr(ds))
    table = ds.group_summary().reset_index()
    table.columns = [str(c) for c in table.columns]
    print_frame(table, title="images per (group, class)")
    dep = label_group_dependence(ds)
    console.print(" ".join(f"{k}={v:.3f}" for k, v in dep.items()))
    console.print(f"wrote {save_group_grid(ds, out)}")
