"""``fairx distill``: the data-free half of Fair4Free's two-party flow.

The data owner trains and saves a fair VAE teacher (``fairx generate data.csv --model fairdisco
--save-model TEACHER_DIR ...``); anyone holding only TEACHER_DIR distils a student
(``fairx distill TEACHER_DIR -o STUDENT_DIR``) and samples it (``fairx generate --model-dir
STUDENT_DIR -n N -o out.csv``). No command here reads a data file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from ..models.fair_latent.fair4free import Fair4Free
from ..models.fair_latent.fair_vae import FairVAE
from ..models.persist import load_method
from ._common import console, user_errors
from ._options import Preset, opt
from ._options import output as output_opt


@user_errors
def distill(
    teacher_dir: Path = typer.Argument(..., help="Folder of a saved fair VAE teacher (fairdisco)."),
    output: Path = output_opt(..., "Folder to save the student in."),
    seed: int = opt("seed", 0),
    preset: Preset = opt("preset"),
    k: int = typer.Option(None, "--k", metavar="INT",
                          help="Prior→decode→re-encode steps (default: chosen in 0..5)."),
    epochs: int = opt("epochs"),
) -> None:
    """Distil a Fair4Free student from a saved teacher, without any training data."""
    if not teacher_dir.is_dir():
        raise FileNotFoundError(f"teacher folder {teacher_dir} does not exist")
    teacher = load_method(teacher_dir)
    if getattr(teacher, "data_kind", "tabular") == "image":
        raise ValueError(f"{teacher_dir} holds an image model; distil it with: fairx images distill "
                         f"{teacher_dir} -o STUDENT_DIR")
    if not isinstance(teacher, FairVAE):
        raise ValueError(f"{teacher_dir} holds a {type(teacher).__name__}; 'fairx distill' needs a saved "
                         "fair VAE teacher (train one with: fairx generate DATA --model fairdisco --save-model DIR)")
    student = Fair4Free.distill(teacher, chain_steps=k, distill_epochs=epochs, random_state=seed,
                                 preset=preset)
    student.save(output)
    console.print(f"distilled a Fair4Free student (k = {student.chain_steps_}; parameters: teacher "
                  f"{student.n_parameters_teacher_:,}, student {student.n_parameters_student_:,}) without training data; "
                  f"saved to {output}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("distill")(distill)
