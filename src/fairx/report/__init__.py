"""A self-contained HTML report of a benchmark database (tables + base64-embedded figures).

Every user-supplied string (dataset, column, method and group names, errors, the spec) is
HTML-escaped; figures are PNG images inside the file, so it can be mailed or archived as is.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path, write_text
from ..benchmark import ResultStore, aggregate, summary_table
from ..benchmark._metric_names import expand_metrics, metric_direction

logger = logging.getLogger(__name__)

__all__ = ["build_report", "frame_to_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td.l,th.l{text-align:left}
img{max-width:100%;height:auto;margin:.5rem 0}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem}
.note{color:#555;font-size:.9rem}.fail{color:#a00}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def frame_to_html(frame: pd.DataFrame, *, floatfmt: str = "{:.3f}") -> str:
    """A DataFrame as an HTML table; every cell and header escaped."""
    head = "".join(f"<th class='{'r' if pd.api.types.is_numeric_dtype(frame[c]) else 'l'}'>"
                   f"{esc(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (float, np.floating)):
                cells.append(f"<td>{esc(floatfmt.format(v)) if np.isfinite(v) else '–'}</td>")
            elif isinstance(v, (int, np.integer)):
                cells.append(f"<td>{esc(v)}</td>")
            else:
                cells.append(f"<td class='l'>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:80] or "figure"


class _Figures:
    def __init__(self, figures_dir: Path | None, fmt: str) -> None:
        if fmt not in ("png", "pdf"):
            raise ValueError(f"format={fmt!r}; allowed: 'png', 'pdf'")
        self.dir, self.fmt, self.names = figures_dir, fmt, set()
        if figures_dir is not None:
            figures_dir.mkdir(parents=True, exist_ok=True)

    def embed(self, fig, name: str, alt: str) -> str:
        if fig is None:
            return ""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        if self.dir is not None:
            stem = _slug(name)
            base, i = stem, 1
            while stem in self.names:
                i += 1
                stem = f"{base}_{i}"
            self.names.add(stem)
            with atomic_path(self.dir / f"{stem}.{self.fmt}") as tmp:
                fig.savefig(tmp, format=self.fmt, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        return f"<img alt='{esc(alt)}' src='data:image/png;base64,{data}'>"


def build_report(db: str | Path, output: str | Path = "report.html", *,
                 figures_dir: str | Path | None = None, fmt: str = "png", tsne: bool = True,
                 title: str | None = None) -> Path:
    """Write the HTML report of the results in ``db`` to ``output``; optionally also save every
    figure to ``figures_dir`` as PNG or PDF."""
    from . import _figures as F

    figs = _Figures(None if figures_dir is None else Path(figures_dir), fmt)
    with ResultStore(db, readonly=True) as store:
        meta = store.meta()
        results = store.results()
        groups = store.groups()
        samples = store.samples()
        importances = store.importances()
        failures = store.failures()
        cells = store.cells()
    agg = aggregate(results) if len(results) else pd.DataFrame(
        columns=["dataset", "sensitive", "method", "stage", "metric", "mean", "std", "n", "n_seeds",
                 "position"])
    try:
        selection = json.loads(meta.get("metrics", '["utility", "fairness"]'))
    except json.JSONDecodeError:
        selection = ["utility", "fairness"]
    name = title or meta.get("spec_name", "benchmark")
    parts: list[str] = []
    parts.append(f"<h1>fairx benchmark report: {esc(name)}</h1>")
    n_ok = int((cells["status"] == "ok").sum()) if len(cells) else 0
    parts.append(
        f"<p class='note'>{n_ok} completed cells, {len(failures)} failed; generated "
        f"{esc(datetime.now(timezone.utc).isoformat(timespec='seconds'))}. Every number is the mean ± "
        "sample standard deviation over seeds (n = seeds). Fairness is measured on the real test "
        "split; generators are evaluated train-on-synthetic, test-on-real.</p>")
    toc: list[str] = []
    keys = agg[["dataset", "sensitive"]].drop_duplicates().itertuples(index=False) if len(agg) else []
    for ds, sens in keys:
        anchor = _slug(f"{ds}-{sens}")
        toc.append(f"<li><a href='#{esc(anchor)}'>{esc(ds)} · sensitive = {esc(sens)}</a></li>")
        sub = agg[(agg["dataset"] == ds) & (agg["sensitive"] == sens)]
        label = f"{ds} · {sens}"
        sec = [f"<h2 id='{esc(anchor)}'>{esc(ds)} · sensitive = {esc(sens)}</h2>"]
        table = summary_table(sub, selection).drop(columns=["dataset", "sensitive"])
        sec.append(frame_to_html(table))
        directions = ", ".join(f"{esc(m)} ({esc(metric_direction(m))})"
                               for m in expand_metrics(selection, sub["metric"].unique().tolist()))
        sec.append(f"<p class='note'>better is: {directions}</p>")
        full = summary_table(sub, ["utility", "fairness", "data", "quality", "explain", "cost"])
        sec.append("<details><summary>all metrics</summary>"
                   + frame_to_html(full.drop(columns=["dataset", "sensitive"])) + "</details>")
        sec.append("<h3>Fairness–utility trade-off</h3>")
        sec.append(figs.embed(F.tradeoff_figure(sub, f"{label}: fairness vs utility"),
                              f"tradeoff_{ds}_{sens}", f"trade-off {label}"))
        sec.append("<p class='note'>Black-edged markers lie on the Pareto front (no method has both "
                   "higher AUROC and higher fairness ratio); bars are ±1 std over seeds.</p>")
        qual = expand_metrics(["quality"], sub["metric"].unique().tolist())
        qfig = F.quality_figure(sub, qual, f"{label}: synthetic-data quality") if qual else None
        if qfig is not None:
            sec.append("<h3>Synthetic-data quality (generators)</h3>")
            sec.append(figs.embed(qfig, f"quality_{ds}_{sens}", f"quality {label}"))
        sec.append(_embeddings(F, figs, samples, ds, sens, label, tsne))
        g = groups[(groups["dataset"] == ds) & (groups["sensitive"] == sens)] if len(groups) else groups
        if len(g):
            sec.append("<h3>Per-group rates on the real test split</h3>")
            sec.append(figs.embed(F.group_rates_figure(g, f"{label}: per-group rates"),
                                  f"groups_{ds}_{sens}", f"group rates {label}"))
            heat = F.intersection_heatmap(g, str(sens).split("+"),
                                          f"{label}: selection rate over the intersection")
            if heat is not None:
                sec.append(figs.embed(heat, f"intersection_{ds}_{sens}", f"intersection {label}"))
            gm = g.groupby(["method", "attribute", "group"], sort=False)[
                ["size", "selection_rate", "tpr", "fpr"]].mean().reset_index()
            sec.append("<details><summary>per-group table</summary>" + frame_to_html(gm) + "</details>")
        imp = importances[(importances["dataset"] == ds) & (importances["sensitive"] == sens)] \
            if len(importances) else importances
        if len(imp):
            sec.append("<h3>SHAP importances: real data vs method output</h3>")
            sec.append(figs.embed(F.importance_figure(imp, f"{label}: mean |SHAP|"),
                                  f"shap_{ds}_{sens}", f"SHAP {label}"))
        parts.append("\n".join(s for s in sec if s))
    if len(failures):
        rows = failures[["dataset", "sensitive", "method", "seed", "error"]]
        parts.append("<h2 id='failures' class='fail'>Failed cells</h2>" + frame_to_html(rows))
        parts.append("<details><summary>tracebacks</summary>" + "".join(
            f"<h4>{esc(r.key)}</h4><pre>{esc(r.traceback)}</pre>" for r in failures.itertuples())
            + "</details>")
        toc.append("<li><a href='#failures'>failed cells</a></li>")
    prov = ""
    if len(cells):
        versions = cells["versions"].dropna()
        prov = f"<p class='note'>package versions: {esc(versions.iloc[0] if len(versions) else '')}</p>"
    spec_text = meta.get("spec", "")
    parts.append("<h2 id='spec'>Spec and provenance</h2>" + prov + f"<pre>{esc(spec_text)}</pre>")
    toc.append("<li><a href='#spec'>spec and provenance</a></li>")
    body = parts[0] + parts[1] + "<ul>" + "".join(toc) + "</ul>" + "\n".join(parts[2:])
    doc = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>{esc(name)} — fairx report</title><style>{_CSS}</style></head>"
           f"<body>{body}</body></html>")
    return write_text(output, doc)


def _embeddings(F, figs: _Figures, samples: list[dict], ds: str, sens: str, label: str,
                tsne: bool) -> str:
    mine = [s for s in samples if s["dataset"] == ds and s["sensitive"] == sens]
    if not mine:
        return ""
    seed = min(s["seed"] for s in mine)
    mine = [s for s in mine if s["seed"] == seed]
    real = next((s for s in mine if s["kind"] == "real"), None)
    synth = {s["method"]: s["frame"] for s in mine if s["kind"] == "synthetic" and len(s["frame"])}
    if real is None or not synth:
        return ""
    out = [f"<h3>Real vs synthetic rows (seed {esc(seed)}, random subsample)</h3>"]
    try:
        out.append(figs.embed(F.embedding_figure(real["frame"], synth, real["schema"], label,
                                                 kind="pca", seed=0), f"pca_{ds}_{sens}", f"PCA {label}"))
        if tsne:
            out.append(figs.embed(F.embedding_figure(real["frame"], synth, real["schema"], label,
                                                     kind="tsne", seed=0),
                                  f"tsne_{ds}_{sens}", f"t-SNE {label}"))
    except (ValueError, KeyError) as exc:  # e.g. a generator returned other columns
        logger.warning("embedding plot for %s skipped: %s", label, exc)
        out.append(f"<p class='note'>embedding plot skipped: {esc(exc)}</p>")
    return "\n".join(out)
