"""Mean ± std over seeds, one row per method, grouped by dataset and sensitive attribute.

The std is the sample standard deviation (``ddof=1``; undefined, shown as blank, for one seed);
``n`` is the number of seeds with a finite value.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._metric_names import expand_metrics
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
                     "n": n, "n_seeds": int(g["seed"].nunique()),
                     "position": int(g["position"].min())})
    out = pd.DataFrame(rows, columns=["dataset", "sensitive", "method", "stage", "metric", "mean",
                                      "std", "n", "n_seeds", "position"])
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


def _fmt(mean: float, std: float, digits: int) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


# ---------------------------------------------------------------------------- export
def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (pipes and HTML in cells escaped)."""
    import html

    cols = [str(c) for c in table.columns]

    def cell(v: object) -> str:
        return html.escape(str(v), quote=False).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in cols) + " |",
             "|" + "|".join("---:" if c in ("n",) else "---" for c in cols) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def to_latex(table: pd.DataFrame, *, caption: str | None = None) -> str:
    """A booktabs LaTeX table; ``±`` becomes ``$\\pm$`` and user strings are escaped."""
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
    if caption:
        out.append(rf"\caption{{{latex_escape(caption)}}}")
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def export_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` as Markdown (.md), LaTeX (.tex) or CSV (.csv), chosen by the suffix."""
    from .._io import atomic_path, safe_csv_cells, write_text

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".md":
        write_text(p, to_markdown(table))
    elif suffix == ".tex":
        write_text(p, to_latex(table))
    elif suffix == ".csv":
        with atomic_path(p) as tmp:
            safe_csv_cells(table).to_csv(tmp, index=False)
    else:
        raise ValueError(f"cannot export a table to {str(p)!r}: use .md, .tex or .csv")
    return p
