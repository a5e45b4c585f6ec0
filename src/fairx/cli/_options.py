"""One option vocabulary for every ``fairx`` command.

An option that several commands take is declared once here (its flags, choices, metavar and
help), and each command asks for it by name: ``seed: int = opt("seed", 0)``. A command-specific
option keeps its own ``typer.Option``. ``tests/test_cli_vocabulary.py`` walks every command's
``--help`` and checks that shared options agree; the README's CLI section lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import typer

PRESETS = ("paper", "default", "fast")
CLASSIFIERS = ("hgb", "logreg", "rf", "xgboost")
Preset = Literal["paper", "default", "fast"]
Classifier = Literal["hgb", "logreg", "rf", "xgboost"]


@dataclass(frozen=True)
class Shared:
    """A shared option: its flags, metavar and help (the same in every command)."""

    flags: tuple[str, ...]
    help: str
    metavar: str | None = None


VOCABULARY: dict[str, Shared] = {
    "dataset": Shared(("--dataset", "-d"), "Dataset name (see 'fairx datasets').", "NAME"),
    "csv": Shared(("--csv",), "Your own table file instead of a built-in dataset.", "FILE"),
    "model": Shared(("--model", "-m"), "Method registry name (see 'fairx models').", "NAME"),
    "target": Shared(("--target", "-t"), "Target column (for your own file).", "COLUMN"),
    "sensitive": Shared(("--sensitive", "-s"),
                        "Sensitive column; repeat for several (their intersection).", "COLUMN"),
    "positive_label": Shared(("--positive-label",),
                             "Target value that counts as positive (default: inferred).",
                             "VALUE"),
    "seed": Shared(("--seed",), "Seed of the split, the training and the sampling.", "INT"),
    "preset": Shared(("--preset",), "Hyper-parameter preset: paper | default | fast."),
    "classifier": Shared(("--classifier",),
                         "Downstream classifier trained on the (transformed or synthetic) data."),
    "use_sensitive": Shared(("--use-sensitive",),
                            "Let the downstream classifier see the sensitive column(s)."),
    "quality": Shared(("--quality/--no-quality",), "Compute the synthetic-data quality metrics."),
    "param": Shared(("--param", "-p"), "Method parameter KEY=VALUE; repeat for several.",
                    "KEY=VALUE"),
    "option": Shared(("--option",),
                     "Dataset loader option KEY=VALUE, e.g. --option bias=0.8; repeat for several.",
                     "KEY=VALUE"),
    "max_rows": Shared(("--max-rows",), "Use a seeded random subsample of at most this many rows.",
                       "INT"),
    "model_dir": Shared(("--model-dir",), "Folder of a saved generator.", "DIR"),
    "save_model": Shared(("--save-model",), "Folder to save the fitted model in.", "DIR"),
    "n_jobs": Shared(("--n-jobs", "-j"), "Local worker processes (-1: all cores).", "INT"),
    "force": Shared(("--force",), "Rerun cells already stored."),
    "epochs": Shared(("--epochs",), "Override the training epochs: passes over the training data "
                     "(distill: over the teacher-made latent pool).", "INT"),
    "encoding": Shared(("--encoding",), "Text encoding of CSV inputs (default UTF-8), e.g. latin-1.",
                       "NAME"),
    "min_group_size": Shared(("--min-group-size",),
                             "Intersection groups with fewer test rows are left out of the "
                             "headline fairness (listed, not hidden).", "INT"),
}
"""Options whose flags, choices and help are the same in every command that takes them."""

PER_COMMAND = {"output": ("--output", "-o"), "n": ("-n", "--n")}
"""Options with the same flags everywhere but a help that says what this command writes or
counts (``-o/--output``: a file or folder; ``-n``: rows or images)."""


def opt(name: str, default: Any = None, **kwargs: Any) -> Any:
    """The shared option ``name`` (see :data:`VOCABULARY`) with this command's default."""
    spec = VOCABULARY[name]
    if spec.metavar is not None:
        kwargs.setdefault("metavar", spec.metavar)
    return typer.Option(default, *spec.flags, help=spec.help, **kwargs)


def output(default: Any, help: str, **kwargs: Any) -> Any:
    """``-o/--output`` with this command's help (what it writes)."""
    kwargs.setdefault("metavar", "PATH")
    return typer.Option(default, *PER_COMMAND["output"], help=help, **kwargs)


def count(default: Any, help: str, **kwargs: Any) -> Any:
    """``-n/--n`` with this command's help (what it counts)."""
    kwargs.setdefault("metavar", "INT")
    return typer.Option(default, *PER_COMMAND["n"], help=help, **kwargs)
