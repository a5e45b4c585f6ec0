"""``fairx datasets``: list the built-in datasets and show one (or your own file) at a glance."""

from __future__ import annotations

from typing import Any

import pandas as pd
import typer

from ..data import (
    available_datasets,
    data_home,
    dataset_info,
    download_dataset,
    load_csv,
    load_dataset,
    load_openml,
    load_parquet,
)
from ._common import console, print_frame, user_errors
from ._options import opt

datasets_app = typer.Typer(
    help="List built-in datasets; 'show' one (or a CSV/Parquet/OpenML table): rows, columns, "
         "group sizes and base rates per group.",
    invoke_without_command=True, add_completion=False, rich_markup_mode=None,
)


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _parse_options(options: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option {item!r}: expected KEY=VALUE, e.g. --option split=train")
        out[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return out


def _short_list(text: str, keep: int = 4) -> str:
    items = [t for t in text.split(", ") if t]
    return text if len(items) <= keep else ", ".join(items[:keep]) + f", ... ({len(items)} in all)"


@datasets_app.callback()
def _list(ctx: typer.Context) -> None:
    """Without a sub-command: the table of built-in datasets."""
    if ctx.invoked_subcommand is not None:
        return

    table = available_datasets()[["name", "kind", "target", "sensitive", "description"]].copy()
    table["sensitive"] = table["sensitive"].map(_short_list)
    print_frame(table, title="fairx built-in datasets")
    console.print("Details: fairx datasets show NAME   Your own table: fairx datasets show "
                  "--csv FILE --target COL --sensitive COL", highlight=False)


@datasets_app.command("show")
@user_errors
def show(
    name: str = typer.Argument(None, help="Built-in dataset name (see 'fairx datasets')."),
    sensitive: list[str] = opt("sensitive"),
    target: str = opt("target"),
    positive_label: str = opt("positive_label"),
    option: list[str] = opt("option"),
    csv: str = opt("csv"),
    parquet: str = typer.Option(None, "--parquet", metavar="FILE",
                                help="A Parquet file instead of a built-in dataset."),
    openml: int = typer.Option(None, "--openml", metavar="ID",
                               help="An OpenML data id instead of a built-in dataset."),
    categorical: list[str] = typer.Option(None, "--categorical", metavar="COLUMN",
                                          help="Force these file columns to be categorical."),
) -> None:
    """Rows, columns (with types), group sizes and positive rates per sensitive group."""

    sources = [x for x in (name, csv, parquet, openml) if x is not None]
    if len(sources) != 1:
        raise ValueError("give exactly one of: a dataset NAME, --csv FILE, --parquet FILE, --openml ID")
    options = _parse_options(option or [])
    pos = _parse_value(positive_label) if positive_label is not None else None
    if name is not None and dataset_info(name).kind != "tabular":
        info = dataset_info(name)
        console.print(f"{info.name} ({info.kind}): target {info.target}; sensitive "
                      f"{', '.join(info.sensitive)}\n{info.description}", highlight=False, markup=False)
        return
    if name is not None:
        if pos is not None:
            options["positive_label"] = pos
        ds = load_dataset(name, sensitive=sensitive or None, target=target, **options)
    else:
        if not sensitive:
            raise ValueError("--sensitive is required for a file or OpenML table")
        kw = dict(sensitive=sensitive, positive_label=pos, categorical=categorical or None, **options)
        if openml is not None:
            ds = load_openml(openml, target=target, **kw)
        else:
            if target is None:
                raise ValueError("--target is required for a file")
            loader = load_csv if csv is not None else load_parquet
            ds = loader(csv if csv is not None else parquet, target=target, **kw)
    _print_dataset(ds)


def _with_files() -> list[str]:
    """Built-in datasets that have files to fetch (not generated, not a local folder)."""

    return [n for n in available_datasets()["name"]
            if dataset_info(n).files and not any(f.endswith("/") for f in dataset_info(n).files)]


@datasets_app.command("fetch")
@user_errors
def fetch(
    names: list[str] = typer.Argument(None, help="Dataset names, e.g. adult compas."),
    all_: bool = typer.Option(False, "--all", help="Every built-in dataset that has files."),
) -> None:
    """Download the raw files of built-in datasets into the cache once and verify their pinned
    checksums (files already there are only verified). Progress bars on a terminal."""

    if bool(names) == all_:
        raise ValueError("give dataset names (e.g. 'fairx datasets fetch adult') or --all; "
                         f"datasets with files: {', '.join(_with_files())}")
    chosen = _with_files() if all_ else [dataset_info(n).name for n in names]
    home = data_home()
    console.print(f"cache: {home}", highlight=False, markup=False)
    for name in chosen:
        before = {f: (home / f).is_file() for f in dataset_info(name).files}
        for path in download_dataset(name):
            rel = str(path.relative_to(home)) if path.is_relative_to(home) else str(path)
            how = "verified" if before.get(rel) else "downloaded, verified"
            console.print(f"{name}: {path} ({how})", highlight=False, markup=False)


@datasets_app.command("download", hidden=True)
@user_errors
def download(names: list[str] = typer.Argument(None)) -> None:
    """Old name of 'fetch' (no names: every dataset with files)."""
    fetch(names=names, all_=not names)


@datasets_app.command("where")
def where() -> None:
    """Print the dataset cache folder ($FAIRX_DATA_HOME, else the user cache dir)."""

    typer.echo(str(data_home()))


def _print_dataset(ds) -> None:

    meta = ds.meta
    console.print(f"[bold]{ds.name}[/]: {len(ds):,} rows, {ds.frame.shape[1]} columns", highlight=False)
    console.print(f"target: {ds.target} (positive = {ds.positive_label!r}, base rate "
                  f"{ds.y.mean():.3f}); sensitive: {', '.join(ds.sensitive)}", highlight=False,
                  markup=False)
    dropped = meta.get("dropped_missing_values", 0) + meta.get("dropped_missing_target", 0)
    if "rows_raw" in meta:
        console.print(f"raw rows: {meta['rows_raw']:,}; dropped for missing values: {dropped:,}",
                      highlight=False)
    if meta.get("source"):
        src = meta["source"]
        console.print("source: " + (", ".join(src) if isinstance(src, list) else str(src)),
                      highlight=False, markup=False)
    rows = []
    for c in ds.frame.columns:
        role = "target" if c == ds.target else "sensitive" if c in ds.sensitive else "feature"
        kind = ("integer" if c in ds.integer else "numerical") if c in ds.numerical else "categorical"
        col = ds.frame[c]
        if kind == "categorical":
            top = col.astype(str).value_counts().index[:4].tolist()
            values = ", ".join(top) + (", ..." if col.nunique() > 4 else "")
        else:
            values = f"{col.min():g} .. {col.max():g} (mean {col.mean():.3g})"
        rows.append({"column": c, "role": role, "type": kind, "unique": int(col.nunique()),
                     "values": values})
    print_frame(pd.DataFrame(rows), title="columns")
    summary = ds.group_summary()
    print_frame(summary, title="groups: size and positive rate (data-level bias)")
    for attr, g in summary.groupby("attribute", sort=False):
        rates = g["positive_rate"]
        ratio = rates.min() / rates.max() if rates.max() > 0 else float("nan")
        console.print(f"{attr}: positive-rate gap (max - min) {rates.max() - rates.min():.3f}, "
                      f"ratio (min / max) {ratio:.3f}", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``fairx datasets`` (list) and its ``show``, ``fetch`` and ``where`` commands."""
    app.add_typer(datasets_app, name="datasets")
