"""``fairx images``: train an image fair generator and compare TSTR with a real-data classifier;
save it, distil a Fair4Free student from a saved teacher without data, and sample saved models.

Two-party flow on images (methods.md §4)::

    fairx images run --dataset colored_mnist --model fairdisco --save teacher/   # data owner
    fairx images distill teacher/ -o student/                                    # no data
    fairx images generate --model-dir student/ -n 1000 -o samples.npz           # or .png
"""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import console, print_frame, user_errors

images_app = typer.Typer(help="Image datasets and fair image generators (Colored MNIST, CelebA).",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(images_app, name="images")


@images_app.command("run")
@user_errors
def run(
    dataset: str = typer.Option("colored_mnist", help="colored_mnist | digits_colored | celeba"),
    model: str = typer.Option("fldgm", help="fairdisco | fldgm | fldgm-wgan-gp | fair4free ..."),
    bias: float = typer.Option(None, help="P(class colour) of the training set (default 0.99; "
                                          "1.0 with --sd)"),
    sd: float = typer.Option(None, help="colour jitter std (FLDGM Table 2: 0.020..0.050)"),
    preset: str = typer.Option("fast", help="fast | default | paper"),
    n: int = typer.Option(None, help="training images (seeded subset; default all)"),
    n_test: int = typer.Option(None, help="test images (default all)"),
    seed: int = typer.Option(0),
    clf_epochs: int = typer.Option(3, help="epochs of the downstream CNN"),
    epochs: int = typer.Option(None, help="override the generator's training epochs"),
    beta: float = typer.Option(None, help="override the generator's V² weight β"),
    root: str = typer.Option(None, help="CelebA folder"),
    out: Path = typer.Option(None, help="folder for PNG grids and results.json"),
    save: Path = typer.Option(None, help="folder to save the fitted generator in (sample it "
                                         "with 'fairx images generate --model-dir')"),
) -> None:
    """Train a fair image generator on a biased set; compare TSTR on a colour-debiased test set
    with a CNN trained on the real biased set."""
    from ..evaluation.images import evaluate_image_method
    from ..report._images import write_image_experiment

    params = {k: v for k, v in (("epochs", epochs), ("beta", beta)) if v is not None}
    exp = evaluate_image_method(dataset=dataset, model=model, bias=bias, sd=sd, preset=preset,
                                n=n, n_test=n_test, seed=seed, clf_epochs=clf_epochs, root=root,
                                params=params, save=save)
    result = exp.result
    if out is not None:
        result["files"] = [str(p) for p in write_image_experiment(exp, out)]
    import pandas as pd

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
    from ..models import FairGenerator
    from ..models.persist import load_method

    if not Path(model_dir).is_dir():
        raise FileNotFoundError(f"model folder {model_dir} does not exist")
    gen = load_method(model_dir)
    if not isinstance(gen, FairGenerator) or getattr(gen, "data_kind", "tabular") != "image":
        raise ValueError(f"{model_dir} holds a {type(gen).__name__}, not an image generator "
                         "(sample tabular generators with 'fairx generate --model-dir')")
    return gen


def write_images(ds, out: Path) -> list[Path]:
    """Write generated images: ``.npz`` (arrays ``images`` (N, C, H, W) float32 in [0, 1], ``y``,
    ``s``, and the names ``classes``, ``groups``, ``target``, ``sensitive``) or ``.png`` (a grid
    with one row per group)."""
    import numpy as np

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".npz", ".png"):
        raise ValueError(f"output {out}: image samples are written as .npz (arrays) or .png "
                         f"(grid by group), not {suffix or 'a file without suffix'!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        from ..report._images import save_group_grid

        return [save_group_grid(ds, out, title=f"{ds.name}: samples by {ds.sensitive}")]
    np.savez_compressed(out, images=ds.to_numpy(), y=ds.y, s=ds.s, classes=np.array(ds.classes),
                        groups=np.array(ds.groups), target=np.array(ds.target),
                        sensitive=np.array(ds.sensitive))
    return [out]


@images_app.command("generate")
@user_errors
def generate(
    model_dir: Path = typer.Option(..., "--model-dir", help="folder of a saved image generator"),
    n: int = typer.Option(..., "-n", "--n", help="number of images"),
    output: Path = typer.Option(..., "-o", "--output", help="samples.npz (arrays) or grid.png"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Sample a saved image generator (no data needed)."""
    if n <= 0:
        raise ValueError(f"-n {n}: the number of images must be a positive integer")
    gen = load_image_generator(model_dir)
    for f in write_images(gen.sample(n, seed=seed), output):
        console.print(f"wrote {n:,} {gen.display_name} images to {f}", highlight=False)


@images_app.command("distill")
@user_errors
def distill(
    teacher_dir: Path = typer.Argument(..., help="folder of a saved image fair VAE (fairdisco)"),
    output: Path = typer.Option(..., "-o", "--output", help="folder to save the student in"),
    seed: int = typer.Option(0, "--seed"),
    preset: str = typer.Option(None, "--preset", help="student preset: paper | default | fast"),
    k: int = typer.Option(None, "--k", help="prior→decode→re-encode steps (default: chosen "
                                            "in 0..5)"),
    steps: int = typer.Option(None, "--steps", help="optimiser steps of the student"),
) -> None:
    """Distil an image Fair4Free student from a saved teacher, without any training images."""
    from ..models.fair_latent.images import ImageFair4Free, ImageFairVAE

    teacher = load_image_generator(teacher_dir)
    if type(teacher) is not ImageFairVAE:
        raise ValueError(f"{teacher_dir} holds a {type(teacher).__name__}; 'fairx images distill'"
                         " needs a saved image fair VAE (fairx images run --model fairdisco "
                         "--save DIR)")
    student = ImageFair4Free.distill(teacher, chain_steps=k, distill_steps=steps,
                                     random_state=seed, preset=preset)
    student.save(output)
    console.print(f"distilled an image Fair4Free student (k = {student.chain_steps_}; parameters: teacher "
                  f"{student.n_parameters_teacher_:,}, student {student.n_parameters_student_:,})"
                  f" without training images; saved to {output}", highlight=False)


@images_app.command("show")
@user_errors
def show(
    dataset: str = typer.Option("digits_colored"),
    bias: float = typer.Option(None),
    sd: float = typer.Option(None),
    n: int = typer.Option(2000),
    out: Path = typer.Option(Path("images_grid.png")),
) -> None:
    """Summarise an image dataset (group × class counts) and save a grid per group."""
    from ..data import load_dataset
    from ..metrics._images import label_group_dependence
    from ..report._images import save_group_grid

    opts = {} if dataset == "celeba" else {"bias": bias, "sd": sd}
    ds = load_dataset(dataset, n=n, **opts)
    console.print(repr(ds))
    table = ds.group_summary().reset_index()
    table.columns = [str(c) for c in table.columns]
    print_frame(table, title="images per (group, class)")
    dep = label_group_dependence(ds)
    console.print(" ".join(f"{k}={v:.3f}" for k, v in dep.items()))
    console.print(f"wrote {save_group_grid(ds, out)}")
