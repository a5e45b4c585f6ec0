"""CLI: ``fairx benchmark``, ``fairx report``, ``fairx explain`` and ``fairx demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer
from rich.markup import escape

from .._io import atomic_path, check_output, check_output_dir, write_text
from ..benchmark import (
    EXAMPLE_SPEC,
    ResultStore,
    aggregate,
    export_table,
    load_results,
    load_spec,
    run_benchmark,
    summary_table,
)
from ..benchmark._aggregate import excluded_groups, excluded_note
from ..benchmark._demo import demo_spec
from ..data import load_dataset, load_file
from ..evaluation.explain import explain as run_explain
from ..evaluation.explain import shap_available
from ..report import _min_group_size, build_report
from ._common import console, err_console, print_frame, user_errors
from ._options import Classifier, Preset, opt, output


def _print_table(table, title: str, notes: dict | None = None) -> None:
    """Print the mean ± std table per (dataset, sensitive set); columns that do not fit the
    terminal go to a further table (method, stage and n repeat); a note follows each."""
    if table.empty:
        console.print("no completed cells to show")
        return
    for (ds, sens), part in table.groupby(["dataset", "sensitive"], sort=False):
        print_frame(part.drop(columns=["dataset", "sensitive"]).reset_index(drop=True),
                    title=f"{title}: {ds} · sensitive = {sens}  (mean ± std over seeds)",
                    fixed=["method", "stage", "n"])
        note = (notes or {}).get((ds, sens))
        if note:
            console.print(note, markup=False, highlight=False)


def _excluded_notes(db) -> dict:
    """(dataset, sensitive) -> the note on intersection groups left out of the headline."""

    with ResultStore(db, readonly=True) as store:
        groups, meta = store.groups(), store.meta()
    size = _min_group_size(meta.get("spec", ""))
    excluded = excluded_groups(groups)
    return {(ds, sens): excluded_note(block, size)
            for (ds, sens), block in excluded.groupby(["dataset", "sensitive"], sort=False)}


def _print_failures(failures, n_cells: int, db: Path) -> None:
    """List failed cells; exit 1 when there is any (the table above shows only the others)."""
    if not len(failures):
        return
    for row in failures.itertuples():
        err_console.print(f"  {row.dataset} · {row.sensitive} · {row.method} · seed {row.seed}: "
                          f"{row.error}", markup=False, highlight=False)
    err_console.print("[bold red]error:[/] " + escape(
        f"{len(failures)} of {n_cells} cells failed; tracebacks are in {db} (sqlite3 {db} "
        "\"SELECT key, traceback FROM cells WHERE status != 'ok'\", or the report's "
        "'failed cells' section)"), highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def _check_exports(paths: list[Path], inputs: list) -> None:

    for p in paths:
        if p.suffix.lower() not in (".md", ".tex", ".csv"):
            raise ValueError(f"--export {str(p)!r}: use .md, .tex or .csv")
        check_output(p, what="--export", inputs=inputs)


def _export(table_long, table, paths: list[Path], notes: dict | None = None) -> None:
    """Write the printed table to each path; Markdown/LaTeX carry the excluded-groups notes."""

    several = len(table[["dataset", "sensitive"]].drop_duplicates()) > 1 if len(table) else False
    lines = [f"{ds} · {sens}: {note}" if several else note
             for (ds, sens), note in (notes or {}).items() if note]
    for p in paths:
        if p.suffix.lower() == ".csv":
            numeric = summary_table(table_long, table.attrs.get("metrics", ["utility", "fairness"]),
                                    numeric=True)
            export_table(numeric, p)
        else:
            export_table(table, p, notes=lines)
        console.print(f"wrote {p}")


def benchmark(
    spec: Path = typer.Argument(None, help="The YAML spec (with --init: where to write the example)."),
    init: bool = typer.Option(False, "--init", help="Write a commented example spec and exit."),
    db: Path = typer.Option(Path("results.db"), "--db", metavar="PATH",
                            help="SQLite results database (resumable)."),
    n_jobs: int = opt("n_jobs"),
    backend: Literal["local", "dask"] = typer.Option(
        "local", "--backend", help="local (joblib processes) or dask (a running scheduler)."),
    scheduler: str = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                  help="Dask scheduler address, e.g. tcp://host:8786."),
    force: bool = opt("force", False),
    export: list[Path] = typer.Option([], "--export", "-e", metavar="PATH",
                                      help="Also write the table (.md, .tex, .csv)."),
    progress: bool = typer.Option(None, "--progress/--no-progress",
                                  help="Progress bars (default: on a terminal, off with --quiet)."),
) -> None:
    """Run a benchmark grid (datasets x sensitive sets x methods x seeds) and print mean ± std."""

    if init:
        target = spec or Path("benchmark.yaml")
        if target.exists():
            raise ValueError(f"{str(target)!r} exists; choose another path or remove it")
        write_text(target, EXAMPLE_SPEC)
        console.print(f"wrote example spec {target}; run it with: fairx benchmark {target}")
        return
    if spec is None:
        raise ValueError("give a spec file (or --init to write an example)")
    config = load_spec(spec)
    _check_exports(export, [spec, db, *(d.path for d in config.datasets if d.path)])
    try:
        run = run_benchmark(config, db, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                            force=force, progress=progress)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: every finished cell is saved in {db}; rerun the same "
                          "command to resume")
        raise typer.Exit(code=130) from None
    console.print(f"{run.n_skipped} cells reused, {run.n_run} run ({run.n_failed} failed), "
                  f"{run.seconds:.1f} s; results in {db}", highlight=False)
    long = aggregate(load_results(db, run.keys))
    table = summary_table(long, config.metrics)
    table.attrs["metrics"] = config.metrics
    notes = _excluded_notes(db)
    _print_table(table, config.name, notes)
    _export(long, table, export, notes)
    _print_failures(run.failures, run.n_cells, db)


def report(
    db: Path = typer.Argument(..., help="Results database written by `fairx benchmark`."),
    output: Path = output(Path("report.html"), "HTML file to write."),
    figures_dir: Path = typer.Option(None, "--figures-dir", metavar="DIR",
                                     help="Also save each figure here."),
    fmt: str = typer.Option("png", "--format", metavar="png|pdf",
                            help="Figure format for --figures-dir: png or pdf."),
    tsne: bool = typer.Option(True, "--tsne/--no-tsne", help="Include t-SNE plots (slower)."),
) -> None:
    """Write a self-contained HTML report (tables and figures) of a results database."""

    check_output(output, what="--output", inputs=[db])
    if figures_dir is not None:
        check_output_dir(figures_dir, what="--figures-dir")
    path = build_report(db, output, figures_dir=figures_dir, fmt=fmt, tsne=tsne)
    console.print(f"wrote {path}")


def explain(
    dataset: str = opt("dataset"),
    csv: str = opt("csv"),
    sensitive: list[str] = opt("sensitive"),
    model: str = opt("model", "unmitigated"),
    preset: Preset = opt("preset"),
    target: str = opt("target"),
    seed: int = opt("seed", 0),
    classifier: Classifier = opt("classifier", "hgb"),
    max_rows: int = opt("max_rows", 300),
    plot: Path = typer.Option(None, "--plot", metavar="PATH",
                              help="Save the paired importance bars (png/pdf)."),
    encoding: str = opt("encoding"),
) -> None:
    """SHAP importances of the downstream classifier on real data vs on the method's output."""

    if not shap_available():
        err_console.print('explain needs the optional shap package: pip install "fairx[explain]"',
                          markup=False, highlight=False)
        raise typer.Exit(code=2)
    if (dataset is None) == (csv is None):
        raise ValueError("give exactly one of --dataset NAME or --csv FILE")
    if plot is not None:
        check_output(plot, what="--plot", inputs=[csv or dataset])
    data = _load_any(csv or dataset, sensitive, target, encoding)
    result = run_explain(data, model, seed=seed, classifier=classifier, preset=preset,
                         max_rows=max_rows)
    table = result.importances.reset_index(drop=True)
    # the sensitive column has no mutual information "with s" to report: say so, never "nan"
    table["mutual_info_s"] = [("(is s)" if role == "sensitive" else
                               "–" if v != v else f"{v:.3f}")
                              for v, role in zip(table["mutual_info_s"], table["role"], strict=True)]
    print_frame(table, title=f"mean |SHAP| per feature: real vs {result.method}")
    console.print("mutual_info_s: mutual information of the feature with s on the train split "
                  "(the proxies are the highest); '(is s)' marks the sensitive column itself.",
                  markup=False, highlight=False)
    for line in result.summary_lines():
        console.print(line, markup=False, highlight=False)
    if plot is not None:
        fig = result.plot_bars()
        with atomic_path(plot) as tmp:
            fig.savefig(tmp, bbox_inches="tight")
        console.print(f"wrote {plot}")


def _load_any(dataset: str, sensitive: list[str] | None, target: str | None,
              encoding: str | None = None):

    p = Path(dataset)
    if p.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
        if not target or not sensitive:
            raise ValueError("a file needs --target and --sensitive")
        # the same reader as `fairx evaluate` / `fairx generate`
        return load_file(p, target=target, sensitive=sensitive, name=p.stem,
                         **({"encoding": encoding} if encoding else {}))
    return load_dataset(dataset, sensitive=sensitive or None, target=target)


def demo(
    outdir: Path = output(Path("fairx-demo"), "Folder for results.db and report.html."),
    n_jobs: int = opt("n_jobs", 2),
    force: bool = opt("force", False),
) -> None:
    """A small benchmark on the built-in synthetic table (no downloads), its table and report."""

    spec, notes = demo_spec()
    for note in notes:
        console.print(note, markup=False, highlight=False)

    check_output_dir(outdir, what="--output")
    outdir.mkdir(parents=True, exist_ok=True)
    db = outdir / "results.db"
    write_text(outdir / "demo.yaml", spec.to_yaml())
    run = run_benchmark(spec, db, n_jobs=n_jobs, force=force)
    table = summary_table(aggregate(load_results(db, run.keys)), spec.metrics)
    _print_table(table, "demo", _excluded_notes(db))
    path = build_report(db, outdir / "report.html")
    console.print(f"{run.n_cells} cells in {run.seconds:.1f} s; report: {path}")
    _print_failures(run.failures, run.n_cells, db)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("benchmark")(user_errors(benchmark))
    app.command("report")(user_errors(report))
    app.command("explain")(user_errors(explain))
    app.command("demo")(user_errors(demo))
