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
import yaml

from .._io import atomic_path, write_text
from ..benchmark import ResultStore, aggregate, summary_table
from ..benchmark._aggregate import excluded_groups, excluded_note, headline_metrics, sub_tables
from ..benchmark._metric_names import COUNT_METRICS, expand_metrics, metric_direction
from ..metrics import METRIC_INFO

logger = logging.getLogger(__name__)

__all__ = ["build_report", "frame_to_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
h4{margin:1rem 0 .2rem}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:.8rem;margin:.3rem 0 .6rem}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4;white-space:normal;vertical-align:bottom}td.l,th.l{text-align:left}
td.w{white-space:normal;text-align:left;min-width:12rem;overflow-wrap:anywhere}
table.headline{font-size:.82rem}
img{max-width:100%;height:auto;margin:.5rem 0}
pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap}
.note{color:#555;font-size:.9rem}.fail{color:#a00}
"""


_NUMBER = re.compile(r"^[\d.,eE+\-–± ]+$")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def frame_to_html(frame: pd.DataFrame, *, floatfmt: str = "{:.3f}", cls: str = "",
                  integer: tuple[str, ...] = ("size", "n", *COUNT_METRICS)) -> str:
    """A DataFrame as an HTML table (inside a scroll box); every cell and header escaped.

    Float columns named in ``integer`` (counts) are shown without decimals."""
    def numeric(col: pd.Series) -> bool:
        return pd.api.types.is_numeric_dtype(col) or bool(
            len(col) and col.astype(str).map(lambda t: bool(_NUMBER.match(t))).all())

    # long metric names may break after an underscore; values never break
    head = "".join(f"<th class='{'r' if numeric(frame.iloc[:, i]) else 'l'}'>"
                   f"{esc(c).replace('_', '_<wbr>')}</th>" for i, c in enumerate(frame.columns))
    body = []
    ints = [str(c) in integer for c in frame.columns]
    for row in frame.itertuples(index=False):
        cells = []
        for v, as_int in zip(row, ints, strict=True):
            if isinstance(v, (float, np.floating)):
                fmt = "{:,.0f}" if as_int else floatfmt
                cells.append(f"<td>{esc(fmt.format(v)) if np.isfinite(v) else '–'}</td>")
            elif isinstance(v, (int, np.integer)):
                cells.append(f"<td>{esc(v)}</td>")
            elif _NUMBER.match(str(v)):  # "0.812 ± 0.004", "1–3": numbers never wrap
                cells.append(f"<td>{esc(v)}</td>")
            else:  # labels stay on one line; long free text (errors) may wrap
                cells.append(f"<td class='{'w' if len(str(v)) > 40 else 'l'}'>{esc(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f" class='{esc(cls)}'" if cls else ""
    return (f"<div class='scroll'><table{attr}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


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
    # heavy (matplotlib): imported when used, so `import fairx` stays light
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
    min_size = _min_group_size(meta.get("spec", ""))
    excluded = excluded_groups(groups)
    parts: list[str] = []
    parts.append(f"<h1>fairx benchmark report: {esc(name)}</h1>")
    n_ok = int((cells["status"] == "ok").sum()) if len(cells) else 0
    parts.append(
        f"<p class='note'>{n_ok} completed cells, {len(failures)} failed; generated "
        f"{esc(datetime.now(timezone.utc).isoformat(timespec='seconds'))}. Every number is the mean ± "
        "sample standard deviation over seeds (n = seeds); counts are integers (a range when the "
        "seeds differ). Fairness is measured on the real test split; generators are evaluated "
        "train-on-synthetic, test-on-real.</p>")
    toc: list[str] = []
    keys = agg[["dataset", "sensitive"]].drop_duplicates().itertuples(index=False) if len(agg) else []
    for ds, sens in keys:
        anchor = _slug(f"{ds}-{sens}")
        toc.append(f"<li><a href='#{esc(anchor)}'>{esc(ds)} · sensitive = {esc(sens)}</a></li>")
        sub = agg[(agg["dataset"] == ds) & (agg["sensitive"] == sens)]
        label = f"{ds} · {sens}"
        exc = excluded[(excluded["dataset"] == ds) & (excluded["sensitive"] == sens)]
        note = excluded_note(exc, min_size)
        note_html = f"<p class='note'>{esc(note)}</p>" if note else ""
        sec = [f"<h2 id='{esc(anchor)}'>{esc(ds)} · sensitive = {esc(sens)}</h2>"]
        available = sub["metric"].unique().tolist()
        head = headline_metrics(selection, available)
        table = summary_table(sub, head).drop(columns=["dataset", "sensitive", "stage"])
        step = -(-len(head) // -(-len(head) // 6)) if head else 1  # at most 6 metrics a table
        for i in range(0, max(1, len(head)), step):
            sec.append(frame_to_html(table[["method", "n", *head[i:i + step]]], cls="headline"))
        directions = ", ".join(f"{esc(m)} ({esc(_direction_text(m))})" for m in head)
        sec.append(f"<p class='note'>better is: {directions}</p>")
        sec.append(note_html)
        sec.append(_merged_note(sub, min_size))
        tables = sub_tables(sub)
        last_fair = max((i for i, (t, _) in enumerate(tables) if t.startswith("fairness")),
                        default=-1)
        for i, (title_, part) in enumerate(tables):
            sec.append(f"<h4>{esc(title_)}</h4>" + frame_to_html(part))
            sec.append(note_html if i == last_fair else "")
        sec.append("<h3>Fairness–utility trade-off</h3>")
        sec.append(figs.embed(F.tradeoff_figure(sub, f"{label}: fairness vs utility"),
                              f"tradeoff_{ds}_{sens}", f"trade-off {label}"))
        sec.append("<p class='note'>Black-edged markers lie on the Pareto front (no method has both "
                   "higher AUROC and higher fairness ratio); bars are ±1 std over seeds.</p>")
        qual = expand_metrics(["quality"], available)
        qfig = F.quality_figure(sub, qual, f"{label}: synthetic-data quality") if qual else None
        if qfig is not None:
            sec.append("<h3>Synthetic-data quality (generators)</h3>")
            sec.append(figs.embed(qfig, f"quality_{ds}_{sens}", f"quality {label}"))
        sec.append(_embeddings(F, figs, samples, ds, sens, label, tsne))
        g = groups[(groups["dataset"] == ds) & (groups["sensitive"] == sens)] if len(groups) else groups
        if len(g):
            sec.append("<h3>Per-group rates on the real test split (mean over seeds)</h3>")
            sec.append(figs.embed(F.group_rates_figure(g, f"{label}: per-group rates, mean over "
                                                          "seeds"),
                                  f"groups_{ds}_{sens}", f"group rates {label}"))
            heat = F.intersection_heatmap(g, str(sens).split("+"),
                                          f"{label}: selection rate over the intersection, mean "
                                          "over seeds")
            if heat is not None:
                sec.append(figs.embed(heat, f"intersection_{ds}_{sens}", f"intersection {label}"))
            sec.append(note_html)
            sec.append("<details><summary>per-group table</summary>" + frame_to_html(
                per_group_table(g)) + "</details>")
        imp = importances[(importances["dataset"] == ds) & (importances["sensitive"] == sens)] \
            if len(importances) else importances
        if len(imp):
            sec.append("<h3>SHAP importances: real data vs method output</h3>")
            sec.append(figs.embed(F.importance_figure(imp, f"{label}: mean |SHAP| (mean over "
                                                           "seeds)"),
                                  f"shap_{ds}_{sens}", f"SHAP {label}"))
        parts.append("\n".join(s for s in sec if s))
    if len(failures):
        rows = failures[["dataset", "sensitive", "method", "seed", "error"]]
        parts.append("<h2 id='failures' class='fail'>Failed cells</h2>" + frame_to_html(rows))
        parts.append("<details><summary>tracebacks</summary>" + "".join(
            f"<h4>{esc(r.key)}</h4><pre>{esc(r.traceback)}</pre>" for r in failures.itertuples())
            + "</details>")
        toc.append("<li><a href='#failures'>failed cells</a></li>")
    prov = _provenance(meta, cells)
    spec_text = meta.get("spec", "")
    parts.append("<h2 id='spec'>Spec and provenance</h2>" + prov + f"<pre>{esc(spec_text)}</pre>")
    toc.append("<li><a href='#spec'>spec and provenance</a></li>")
    body = parts[0] + parts[1] + "<ul>" + "".join(toc) + "</ul>" + "\n".join(parts[2:])
    doc = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>{esc(name)} — fairx report</title><style>{_CSS}</style></head>"
           f"<body>{body}</body></html>")
    return write_text(output, doc)


def _min_group_size(spec_text: str) -> int:
    """``protocol.min_group_size`` of the stored spec (30 when absent or unreadable)."""

    try:
        data = yaml.safe_load(spec_text) or {}
        return int((data.get("protocol") or {}).get("min_group_size", 30))
    except (yaml.YAMLError, AttributeError, TypeError, ValueError):
        return 30


def _direction_text(metric: str) -> str:
    direction = metric_direction(metric)
    if direction == "target":

        target = getattr(METRIC_INFO.get(metric), "target", None)
        return f"closest to {target:g}" if target is not None else "closest to its target"
    return direction


def _merged_note(sub: pd.DataFrame, min_size: int) -> str:
    merged = sub[(sub["metric"] == "n_groups_merged") & (sub["max"] >= 1)]
    if merged.empty:
        return ""
    names = ", ".join(f"{m} ({int(v):,})" for m, v in zip(merged["method"], merged["max"],
                                                          strict=True))
    return (f"<p class='note'>Pooled groups: {esc(names)} merged train groups with fewer than "
            f"{min_size} rows or a single label into one group (they share its thresholds) "
            "instead of failing.</p>")


def per_group_table(g: pd.DataFrame) -> pd.DataFrame:
    """Per method and group: test rows per seed (integers), mean rates over seeds, small flag."""
    rows = []
    for (method, attr, group), b in g.sort_values("seed").groupby(
            ["method", "attribute", "group"], sort=False):
        rows.append({"method": method, "attribute": attr, "group": group,
                     "rows per seed": ", ".join(str(int(v)) for v in b["size"]),
                     "selection_rate": b["selection_rate"].mean(), "tpr": b["tpr"].mean(),
                     "fpr": b["fpr"].mean(),
                     "small": "yes" if bool(b["small"].astype(bool).any()) else ""})
    return pd.DataFrame(rows)


def _provenance(meta: dict[str, str], cells: pd.DataFrame) -> str:
    """Versions, and how the last run ran: n_jobs, backend, cells run and reused."""
    out = []
    run = meta.get("last_run")
    if run:
        try:
            r = json.loads(run)
            out.append(
                f"<p class='note'>last run: {int(r.get('n_reused', 0))} cells reused, "
                f"{int(r.get('n_run', 0))} run ({int(r.get('n_failed', 0))} failed) with n_jobs = "
                f"{esc(r.get('n_jobs'))}, backend {esc(r.get('backend'))}"
                f"{', scheduler ' + esc(r['scheduler']) if r.get('scheduler') else ''}; "
                f"{float(r.get('seconds', 0)):.1f} s; finished {esc(r.get('finished', ''))}</p>")
        except (json.JSONDecodeError, TypeError, ValueError, AttributeError):
            pass
    if len(cells):
        versions = cells["versions"].dropna()
        out.append(f"<p class='note'>package versions: "
                   f"{esc(versions.iloc[0] if len(versions) else '')}</p>")
    return "".join(out)


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
