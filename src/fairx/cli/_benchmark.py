"""CLI: ``fairx benchmark``, ``fairx report``, ``fairx explain`` and ``fairx demo``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from ._common import console, err_console, print_frame, user_errors


def _print_table(table, title: str, per_table: int = 3) -> None:
    """Print the mean ± std table, a few metric columns at a time so it fits a terminal."""
    if table.empty:
        console.print("no completed cells to show")
        return
    fixed = ["method", "stage", "n"]
    metrics = [c for c in table.columns if c not in ("dataset", "sensitive", *fixed)]
    width = max(per_table, (console.width - 35) // 16)
    for (ds, sens), part in table.groupby(["dataset", "sensitive"], sort=False):
        for i in range(0, max(1, len(metrics)), width):
            cols = fixed + metrics[i:i + width]
            print_frame(part[cols].reset_index(drop=True),
                        title=escape(f"{title}: {ds} · sensitive = {sens}  (mean ± std over seeds)"))


def _print_failures(failures) -> None:
    if len(failures):
        err_console.print(f"[bold red]{len(failures)} cell(s) failed[/] (tracebacks are in the database):")
        for row in failures.itertuples():
            err_console.print(f"  {row.dataset} · {row.sensitive} · {row.method} · seed {row.seed}: "
                              f"{row.error}", markup=False, highlight=False)


def _export(table_long, table, paths: list[Path]) -> None:
    from ..benchmark import export_table, summary_table

    for p in paths:
        if p.suffix.lower() == ".csv":
            numeric = summary_table(table_long, table.attrs.get("metrics", ["utility", "fairness"]),
                                    numeric=True)
            export_table(numeric, p)
        else:
            export_table(table, p)
        console.print(f"wrote {p}")


def benchmark(
    spec: Path = typer.Argument(None, help="The YAML spec (with --init: where to write the example)."),
    init: bool = typer.Option(False, "--init", help="Write a commented example spec and exit."),
    db: Path = typer.Option(Path("results.db"), "--db", help="SQLite results database (resumable)."),
    n_jobs: int = typer.Option(None, "--n-jobs", "-j", help="Local worker processes (default: spec's n_jobs)."),
    backend: str = typer.Option("local", "--backend", help="local (joblib) or dask."),
    scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786."),
    force: bool = typer.Option(False, "--force", help="Rerun cells already stored."),
    export: list[Path] = typer.Option([], "--export", "-e", help="Also write the table (.md, .tex, .csv)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show the progress bar."),
) -> None:
    """Run a benchmark grid (datasets x sensitive sets x methods x seeds) and print mean ± std."""
    from ..benchmark import (
        EXAMPLE_SPEC,
        aggregate,
        load_results,
        load_spec,
        run_benchmark,
        summary_table,
    )

    if init:
        target = spec or Path("benchmark.yaml")
        if target.exists():
            raise ValueError(f"{str(target)!r} exists; choose another path or remove it")
        target.write_text(EXAMPLE_SPEC, encoding="utf-8")
        console.print(f"wrote example spec {target}; run it with: fairx benchmark {target}")
        return
    if spec is None:
        raise ValueError("give a spec file (or --init to write an example)")
    config = load_spec(spec)
    try:
        run = run_benchmark(config, db, n_jobs=n_jobs, backend=backend, scheduler=scheduler,
                            force=force, progress=progress)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: every finished cell is saved in {db}; rerun the same "
                          "command to resume")
        raise typer.Exit(code=130) from None
    console.print(f"{run.n_cells} cells: {run.n_run} run, {run.n_skipped} already stored, "
                  f"{run.n_failed} failed, {run.seconds:.1f} s; results in {db}")
    long = aggregate(load_results(db, run.keys))
    table = summary_table(long, config.metrics)
    table.attrs["metrics"] = config.metrics
    _print_table(table, config.name)
    _export(long, table, export)
    _print_failures(run.failures)


def report(
    db: Path = typer.Argument(..., help="Results database written by `fairx benchmark`."),
    output: Path = typer.Option(Path("report.html"), "--output", "-o", help="HTML file to write."),
    figures_dir: Path = typer.Option(None, "--figures-dir", help="Also save each figure here."),
    fmt: str = typer.Option("png", "--format", help="Figure format for --figures-dir: png or pdf."),
    tsne: bool = typer.Option(True, "--tsne/--no-tsne", help="Include t-SNE plots (slower)."),
) -> None:
    """Write a self-contained HTML report (tables and figures) of a results database."""
    from ..report import build_report

    path = build_report(db, output, figures_dir=figures_dir, fmt=fmt, tsne=tsne)
    console.print(f"wrote {path}")


def explain(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Built-in dataset name or a CSV/Parquet file."),
    sensitive: list[str] = typer.Option(None, "--sensitive", "-s", help="Sensitive column(s)."),
    model: str = typer.Option("unmitigated", "--model", "-m", help="Registry name of the method."),
    preset: str = typer.Option(None, "--preset", help="Method preset (fast, default, paper)."),
    target: str = typer.Option(None, "--target", help="Target column (for a file)."),
    seed: int = typer.Option(0, "--seed"),
    classifier: str = typer.Option("hgb", "--classifier", help="Downstream classifier: hgb, rf, logreg."),
    max_rows: int = typer.Option(300, "--max-rows", help="Rows explained (random subsample)."),
    plot: Path = typer.Option(None, "--plot", help="Save the paired importance bars (png/pdf)."),
) -> None:
    """SHAP importances of the downstream classifier on real data vs on the method's output."""
    from ..evaluation.explain import explain as run_explain
    from ..evaluation.explain import shap_available

    if not shap_available():
        err_console.print('explain needs the optional shap package: pip install "fairx[explain]"',
                          markup=False, highlight=False)
        raise typer.Exit(code=2)
    data = _load_any(dataset, sensitive, target)
    result = run_explain(data, model, seed=seed, classifier=classifier, preset=preset,
                         max_rows=max_rows)
    print_frame(result.importances.reset_index(drop=True),
                title=f"mean |SHAP| per feature: real vs {result.method}")
    for line in result.summary_lines():
        console.print(line, markup=False, highlight=False)
    if plot is not None:
        fig = result.plot_bars()
        fig.savefig(plot, bbox_inches="tight")
        console.print(f"wrote {plot}")


def _load_any(dataset: str, sensitive: list[str] | None, target: str | None):
    from ..data import TabularDataset, load_dataset

    p = Path(dataset)
    if p.suffix.lower() in (".csv", ".parquet", ".pq"):
        if not p.exists():
            raise FileNotFoundError(f"file {dataset!r} not found")
        if not target or not sensitive:
            raise ValueError("a file needs --target and --sensitive")
        import pandas as pd

        frame = pd.read_parquet(p) if p.suffix.lower() != ".csv" else pd.read_csv(p)
        return TabularDataset.from_frame(frame, target=target, sensitive=sensitive, name=p.stem)
    return load_dataset(dataset, sensitive=sensitive or None, target=target)


def demo(
    outdir: Path = typer.Option(Path("fairx-demo"), "--output", "-o", help="Folder for results.db and report.html."),
    n_jobs: int = typer.Option(2, "--n-jobs", "-j", help="Local worker processes."),
    force: bool = typer.Option(False, "--force", help="Rerun cells already stored."),
) -> None:
    """A small benchmark on the built-in synthetic table (no downloads), its table and report."""
    from ..benchmark import aggregate, load_results, run_benchmark, summary_table
    from ..benchmark._demo import demo_spec
    from ..report import build_report

    spec, notes = demo_spec()
    for note in notes:
        console.print(note, markup=False, highlight=False)
    outdir.mkdir(parents=True, exist_ok=True)
    db = outdir / "results.db"
    (outdir / "demo.yaml").write_text(spec.to_yaml(), encoding="utf-8")
    run = run_benchmark(spec, db, n_jobs=n_jobs, force=force)
    table = summary_table(aggregate(load_results(db, run.keys)), spec.metrics)
    _print_table(table, "demo")
    _print_failures(run.failures)
    path = build_report(db, outdir / "report.html")
    console.print(f"{run.n_cells} cells in {run.seconds:.1f} s; report: {path}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("benchmark")(user_errors(benchmark))
    app.command("report")(user_errors(report))
    app.command("explain")(user_errors(explain))
    app.command("demo")(user_errors(demo))
