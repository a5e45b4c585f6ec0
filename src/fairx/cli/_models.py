"""``fairx models``, ``fairx run`` and ``fairx generate``: the method registry from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import typer

from .._io import atomic_path, check_output, check_output_dir, safe_csv_cells
from ..benchmark._aggregate import excluded_groups, excluded_note
from ..data import load_dataset, load_file, train_test_split
from ..evaluation.protocol import evaluate_method, mean_std_table, summarize
from ..models import FairGenerator, available, get, method_class
from ..models.persist import load_method
from ..models.registry import entry
from ._common import bytes_per_row, check_rows_fit, console, print_frame, user_errors
from ._images import write_images
from ._options import Classifier, Preset, count, opt
from ._options import output as output_opt

DEFAULT_METRICS = ["accuracy", "balanced_accuracy", "auroc", "dpr", "eor", "ftu", "fit_seconds"]
GENERATOR_METRICS = ["data_dpr", "alpha_precision", "beta_recall", "density", "coverage"]


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse_params(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param {item!r}: expected KEY=VALUE, e.g. --param epochs=10")
        out[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return out


def _load(dataset: str | None, csv: str | None, target: str | None,
          sensitive: list[str] | None, positive_label: str | None,
          options: dict[str, Any] | None = None, encoding: str | None = None) -> Any:

    if (dataset is None) == (csv is None):
        raise ValueError("give exactly one of --dataset NAME or --csv FILE")
    pos = _parse_value(positive_label) if positive_label is not None else None
    if dataset is not None:
        extra = {**(options or {}), **({"positive_label": pos} if pos is not None else {})}
        return load_dataset(dataset, sensitive=sensitive or None, target=target, **extra)
    if not target or not sensitive:
        raise ValueError("a file needs --target COLUMN and --sensitive COLUMN")
    return load_file(csv, target=target, sensitive=sensitive, positive_label=pos,
                     **({"encoding": encoding} if encoding else {}))


def models() -> None:
    """List every registered method: name, stage, kind, description."""

    print_frame(available(), title="fairx methods")
    console.print("Use: fairx run --dataset synthetic --model NAME [--preset fast]", highlight=False)


@user_errors
def run(
    model: list[str] = opt("model", ...),
    dataset: str = opt("dataset"),
    csv: str = opt("csv"),
    target: str = opt("target"),
    sensitive: list[str] = opt("sensitive"),
    positive_label: str = opt("positive_label"),
    seeds: int = typer.Option(3, "--seeds", metavar="INT", help="Number of seeds (0, 1, ...)."),
    preset: Preset = opt("preset"),
    classifier: Classifier = opt("classifier", "hgb"),
    use_sensitive: bool = opt("use_sensitive", False),
    param: list[str] = opt("param"),
    quality: bool = opt("quality", True),
    metric: list[str] = typer.Option(None, "--metric", metavar="NAME",
                                     help="Metrics to show (default: a summary)."),
    option: list[str] = opt("option"),
    min_group_size: int = opt("min_group_size", 30),
    output: Path = output_opt(None, "Write the tidy per-seed rows (CSV)."),
    encoding: str = opt("encoding"),
) -> None:
    """Evaluate methods over seeds and print mean ± std (std over seeds; n = seeds)."""

    if seeds < 1:
        raise ValueError(f"--seeds {seeds}: need at least 1")
    if output is not None:
        check_output(output, what="--output", inputs=[csv] if csv else [])
    for name in model:
        entry(name)  # unknown names fail before any work
    params = _parse_params(param)
    unused = [k for k in params if not any(k in _param_names(name) for name in model)]
    if unused:
        raise ValueError(f"--param {unused}: no chosen model has such a parameter")
    ds = _load(dataset, csv, target, sensitive, positive_label, _parse_params(option), encoding)
    results = []
    for seed in range(seeds):
        split = train_test_split(ds, seed=seed)
        for name in model:
            console.print(f"seed {seed}: {name}", highlight=False)
            accepted = {k: v for k, v in params.items() if k in _param_names(name)}
            results.append(evaluate_method(name, ds, seed=seed, preset=preset, params=accepted,
                                           classifier=classifier, use_sensitive=use_sensitive,
                                           quality=quality, split=split,
                                           min_group_size=min_group_size))
    show = list(metric) if metric else DEFAULT_METRICS + (
        GENERATOR_METRICS if any(r.stage == "generator" for r in results) else [])
    table = mean_std_table(summarize(results, metrics=show))
    print_frame(table, title=f"{ds.name}: mean ± std over {seeds} seed(s), test split "
                              f"{len(split[1])} rows, classifier {classifier}",
                fixed=["method", "stage", "n"])
    _print_excluded(results, ds, min_group_size)
    if output is not None:

        with atomic_path(output) as tmp:
            rows = pd.concat([r.to_frame() for r in results], ignore_index=True)
            safe_csv_cells(rows).to_csv(tmp, index=False)
        console.print(f"wrote {output}", highlight=False)


def _print_excluded(results: list, ds: Any, min_group_size: int) -> None:
    """Under the table: the intersection groups left out of the headline, sizes per seed."""


    groups = pd.concat([r.group_table.assign(dataset=ds.name, sensitive="+".join(ds.sensitive),
                                             method=r.method, seed=r.seed)
                        for r in results if r.group_table is not None], ignore_index=True)
    note = excluded_note(excluded_groups(groups), min_group_size)
    if note:
        console.print(note, markup=False, highlight=False)


def _param_names(name: str) -> set[str]:

    return set(method_class(name)().get_params())


@user_errors
def generate(
    data: str = typer.Argument(None, help="Training table (CSV or Parquet)."),
    model: str = opt("model"),
    target: str = opt("target"),
    sensitive: list[str] = opt("sensitive"),
    positive_label: str = opt("positive_label"),
    n: int = count(..., "Number of rows to generate."),
    out: Path = output_opt(..., "Output CSV (or .npz / .png for a saved image generator)."),
    preset: Preset = opt("preset"),
    seed: int = opt("seed", 0),
    param: list[str] = opt("param"),
    save_model: Path = opt("save_model"),
    model_dir: Path = opt("model_dir"),
    encoding: str = opt("encoding"),
) -> None:
    """Train a generator on DATA and write N synthetic rows, or sample a saved one (--model-dir)."""

    if n <= 0:
        raise ValueError(f"-n {n}: the number of rows must be a positive integer")
    # outputs are checked before any training starts
    check_output(out, what="--output", inputs=[p for p in (data,) if p])
    if save_model is not None:
        check_output_dir(save_model, what="--save-model")
    if model_dir is not None:
        if data is not None or model is not None:
            raise ValueError("--model-dir samples a saved generator: do not also give DATA or --model")
        gen = load_method(model_dir)
        if not isinstance(gen, FairGenerator):
            raise ValueError(f"{model_dir} holds a {type(gen).__name__}, which is not a generator")
    else:
        if data is None or model is None:
            raise ValueError("give DATA and --model NAME (or --model-dir DIR of a saved generator)")
        gen = get(model, preset=preset, **{"random_state": seed, **_parse_params(param)})
        if not isinstance(gen, FairGenerator):
            raise ValueError(f"method {model!r} is a {gen.stage} method, not a generator; "
                             "generators: see 'fairx models'")
        ds = _load(None, data, target, sensitive, positive_label, encoding=encoding)
        check_rows_fit(n, bytes_per_row(ds), what=f"-n {n:,}")
        console.print(f"training {gen.display_name} on {len(ds):,} rows", highlight=False)
        gen.fit(ds)
        if save_model is not None:
            gen.save(save_model)
            console.print(f"saved the model to {save_model}", highlight=False)
    if model_dir is not None:  # measure a few rows first: the size of -n must fit in memory
        probe = gen.sample(min(n, 64), seed=seed)
        check_rows_fit(n, bytes_per_row(probe), what=f"-n {n:,}")
    syn = gen.sample(n, seed=seed)
    if getattr(syn, "kind", "tabular") == "image":  # a saved image generator: .npz or .png
        for f in write_images(syn, out):
            console.print(f"wrote {len(syn):,} images to {f}", highlight=False)
        return
    with atomic_path(out) as tmp:
        syn.frame.to_csv(tmp, index=False)
    console.print(f"wrote {len(syn):,} rows to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("models")(models)
    app.command("run")(run)
    app.command("generate")(generate)
