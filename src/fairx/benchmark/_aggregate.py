"""Mean ± std over seeds, one row per method, grouped by dataset and sensitive attribute.

The std is the sample standard deviation (``ddof=1``; undefined, shown as blank, for one seed);
``n`` is the number of seeds with a finite value.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_path, safe_csv_cells, write_text
from ._metric_names import COUNT_METRICS, expand_metrics, metric_group
from ._spec import STAGE_ORDER

KEYS = ["dataset", "sensitive", "method"]


def aggregate(results: pd.DataFrame) -> pd.DataFrame:
    """Tidy results (dataset, sensitive, method, seed, metric, value [, stage, position]) ->
    one row per (dataset, sensitive, method, metric): stage, mean, std, n."""
    need = {*KEYS, "seed", "metric", "value"}
    missing = need - set(results.columns)
    if missing:
        raise ValueError(f"results lack column(s) {sorted(missing)}; have {list(results.columns)}")
    frame = results.copy()
    if "stage" not in frame:
        frame["stage"] = None
    if "position" not in frame:
        frame["position"] = np.arange(len(frame))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    rows = []
    for (ds, sens, method, metric), g in frame.groupby([*KEYS, "metric"], sort=False, dropna=False):
        v = g["value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        n = len(v)
        rows.append({"dataset": ds, "sensitive": sens, "method": method,
                     "stage": g["stage"].iloc[0], "metric": metric,
                     "mean": float(v.mean()) if n else np.nan,
                     "std": float(v.std(ddof=1)) if n > 1 else np.nan,
                     "min": float(v.min()) if n else np.nan,
                     "max": float(v.max()) if n else np.nan,
                     "n": n, "n_seeds": int(g["seed"].nunique()),
                     "position": int(g["position"].min())})
    out = pd.DataFrame(rows, columns=["dataset", "sensitive", "method", "stage", "metric", "mean",
                                      "std", "min", "max", "n", "n_seeds", "position"])
    return out


def _method_order(agg: pd.DataFrame) -> list[str]:
    first = agg.groupby("method", sort=False)[["position", "stage"]].first()
    first["stage_rank"] = first["stage"].map(lambda s: STAGE_ORDER.get(s, 9))
    return first.sort_values(["stage_rank", "position"]).index.tolist()


def summary_table(agg: pd.DataFrame, metrics: Sequence[str] = ("utility", "fairness"), *,
                  digits: int = 3, numeric: bool = False) -> pd.DataFrame:
    """Wide table: dataset, sensitive, method, stage, n, then one "mean ± std" column per metric
    (``numeric=True``: ``<metric>`` and ``<metric>_std`` float columns instead)."""
    names = expand_metrics(list(metrics), agg["metric"].unique().tolist())
    sub = agg[agg["metric"].isin(names)]
    order = {m: i for i, m in enumerate(_method_order(agg))} if len(agg) else {}
    ds_order = {d: i for i, d in enumerate(dict.fromkeys(agg["dataset"]))}
    rows = []
    for (ds, sens, method), g in agg.groupby(KEYS, sort=False):
        row = {"dataset": ds, "sensitive": sens, "method": method, "stage": g["stage"].iloc[0],
               "n": int(g["n_seeds"].max())}
        gm = sub[(sub["dataset"] == ds) & (sub["sensitive"] == sens) & (sub["method"] == method)]
        by = gm.set_index("metric")
        for m in names:
            mean = by["mean"].get(m, np.nan)
            std = by["std"].get(m, np.nan)
            if numeric:
                row[m], row[f"{m}_std"] = mean, std
            elif m in COUNT_METRICS:
                row[m] = _fmt_count(by["min"].get(m, np.nan) if "min" in by else mean,
                                    by["max"].get(m, np.nan) if "max" in by else mean)
            else:
                row[m] = _fmt(mean, std, digits)
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["_d"] = table["dataset"].map(ds_order)
    table["_m"] = table["method"].map(order)
    table = table.sort_values(["_d", "sensitive", "_m"], kind="stable").drop(columns=["_d", "_m"])
    return table.reset_index(drop=True)


def _fmt_count(lo: float, hi: float) -> str:
    """A count over seeds as an integer, or ``lo–hi`` when the seeds differ."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "–"
    lo_i, hi_i = int(round(lo)), int(round(hi))
    return f"{lo_i:,}" if lo_i == hi_i else f"{lo_i:,}–{hi_i:,}"


def _fmt(mean: float, std: float, digits: int) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


# ---------------------------------------------------------------------------- headline
HEADLINE: dict[str, tuple[str, ...]] = {
    "utility": ("accuracy", "auroc"),
    "fairness": ("dpr", "eor"),
    "quality": ("column_fidelity", "detection_score"),  # marginals; 1 - 2|C2ST AUC - 0.5|
    "data": ("data_dpr",),
    "explain": ("shap_rank_corr",),
    "cost": ("fit_seconds",),
    "fairness_all": ("dpr_all",),
}
"""The few metrics of each group shown in the headline table when the spec names the group."""

SUB_TABLES = (("utility", ("utility",)), ("fairness", ("fairness", "data", "fairness_all")),
              ("quality", ("quality",)), ("explanations", ("explain",)), ("cost", ("cost",)))
"""The grouped sub-tables below the headline: title and the metric groups each holds."""


def headline_metrics(selection: Sequence[str], available: Sequence[str]) -> list[str]:
    """The headline columns: each metric the spec names, and the few :data:`HEADLINE` metrics
    of each group it names (only those present in ``available``)."""
    out: list[str] = []
    for item in selection:
        names = HEADLINE.get(item, (item,))
        out += [m for m in names if m in available and m not in out]
    return out


def sub_tables(agg: pd.DataFrame, *, max_metrics: int = 5) -> list[tuple[str, pd.DataFrame]]:
    """Grouped mean ± std tables (utility / fairness / quality / explanations / cost), each with
    at most ``max_metrics`` metric columns (a group with more is split into balanced parts), so
    each fits a 900 px page; methods without any value in a table (non-generators in quality)
    are left out of it. Returns ``[(title, table)]`` with method, stage, n and the metrics."""
    available = agg["metric"].unique().tolist()
    out: list[tuple[str, pd.DataFrame]] = []
    for title, groups in SUB_TABLES:
        names = [m for m in expand_metrics(list(groups), available)
                 if metric_group(m) in groups]
        if not names:
            continue
        n_parts = -(-len(names) // max_metrics)
        size = -(-len(names) // n_parts)  # balanced parts: 6 metrics -> 3 + 3, not 5 + 1
        parts = [names[i:i + size] for i in range(0, len(names), size)]
        for k, part in enumerate(parts):
            table = summary_table(agg, part).drop(columns=["dataset", "sensitive"])
            table = table[(table[part] != "–").any(axis=1)]  # e.g. quality rows of non-generators
            if table.empty:
                continue
            label = title if len(parts) == 1 else f"{title} ({k + 1}/{len(parts)})"
            out.append((label, table))
    return out


def excluded_groups(groups: pd.DataFrame) -> pd.DataFrame:
    """Intersection groups left out of the headline fairness (flagged ``small``), with their
    test-split sizes per seed as integers.

    ``groups``: the store's per-group rows (dataset, sensitive, method, seed, attribute, group,
    size, small). Returns dataset, sensitive, group, sizes (``"1, 3"``: one per seed, in seed
    order), seeds. Sizes come from one method (the split is the same for every method).
    """
    cols = ["dataset", "sensitive", "group", "sizes", "seeds"]
    if groups is None or groups.empty:
        return pd.DataFrame(columns=cols)
    inter = groups[groups["attribute"].astype(str).str.contains("|", regex=False)
                   & groups["small"].astype(bool)]
    if inter.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (ds, sens), block in inter.groupby(["dataset", "sensitive"], sort=False):
        first = block["method"].iloc[0]
        block = block[block["method"] == first].sort_values("seed")
        for grp, g in block.groupby("group", sort=True):
            rows.append({"dataset": ds, "sensitive": sens, "group": grp,
                         "sizes": ", ".join(str(int(v)) for v in g["size"]),
                         "seeds": ", ".join(str(int(v)) for v in g["seed"])})
    return pd.DataFrame(rows, columns=cols)


def excluded_note(excluded: pd.DataFrame, min_group_size: int) -> str:
    """One sentence naming the excluded intersection groups and their sizes ('' if none)."""
    if excluded.empty:
        return ""
    items = "; ".join(f"{r.group} ({r.sizes})" for r in excluded.itertuples())
    return (f"Intersection groups with fewer than {min_group_size} test rows, left out of the "
            f"headline fairness (test rows per seed): {items}. The *_all metrics count every "
            "group.")


# ---------------------------------------------------------------------------- export
def to_markdown(table: pd.DataFrame, *, notes: Sequence[str] = ()) -> str:
    """A GitHub-flavoured Markdown table (pipes and HTML in cells escaped), then each of
    ``notes`` as a paragraph under it (e.g. the intersection groups left out of the headline)."""

    cols = [str(c) for c in table.columns]

    def cell(v: object) -> str:
        return html.escape(str(v), quote=False).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in cols) + " |",
             "|" + "|".join("---:" if c in ("n",) else "---" for c in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    for note in notes:
        lines += ["", html.escape(str(note), quote=False).replace("\n", " ")]
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(table: pd.DataFrame, *, caption: str | None = None, notes: Sequence[str] = ()) -> str:
    """A booktabs LaTeX table; ``±`` becomes ``$\\pm$`` and user strings are escaped; each of
    ``notes`` is a small-print paragraph under the tabular."""
    cols = list(table.columns)
    align = "".join("r" if c == "n" or c not in ("dataset", "sensitive", "method", "stage") else "l"
                    for c in cols)
    out = [r"\begin{table}[t]", r"\centering", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
           " & ".join(latex_escape(c) for c in cols) + r" \\", r"\midrule"]
    for row in table.itertuples(index=False):
        cells = []
        for v in row:
            text = latex_escape(v)
            cells.append(text.replace("±", r"$\pm$"))
        out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    out += [rf"\par\smallskip{{\footnotesize {latex_escape(note)}}}" for note in notes]
    if caption:
        out.append(rf"\caption{{{latex_escape(caption)}}}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def export_table(table: pd.DataFrame, path: str | Path, *, notes: Sequence[str] = ()) -> Path:
    """Write ``table`` as Markdown (.md), LaTeX (.tex) or CSV (.csv), chosen by the suffix.

    ``notes`` go under the Markdown and LaTeX tables; a CSV holds the numbers only."""

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".md":
        write_text(p, to_markdown(table, notes=notes))
    elif suffix == ".tex":
        write_text(p, to_latex(table, notes=notes))
    elif suffix == ".csv":
        with atomic_path(p) as tmp:
            safe_csv_cells(table).to_csv(tmp, index=False)
    else:
        raise ValueError(f"cannot export a table to {str(p)!r}: use .md, .tex or .csv")
    return p
