"""Group fairness of one prediction set (methods.md §6).

One per-group rates table (:func:`group_table`, built with fairlearn's ``MetricFrame`` and its
``selection_rate`` / ``true_positive_rate`` / ``false_positive_rate``); every metric is a thin
function over one block of that table. Several sensitive columns give one block per column plus
one for their intersection (values joined with ``"|"``, as ``TabularDataset.s``); the headline
metrics use the intersection. Groups smaller than ``min_group_size`` are kept and flagged in the
group table; :func:`headline_fairness` (what evaluations report) leaves them out of an
intersection's headline and keeps the every-group values as ``<metric>_all``.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data import DatasetError, TabularDataset
from ..data._dataset import INTERSECTION_SEP

logger = logging.getLogger(__name__)

RATE_COLUMNS = ("selection_rate", "tpr", "fpr")
FAIRNESS_KEYS = ("dpr", "dpd", "eor", "eod", "eop_ratio", "eop_diff", "fpr_gap")
UNDEFINED_RULES = ("exclude", "zero")
UNDEFINED_FLAG = "undefined_rate_groups"


def _check_undefined(undefined: str) -> None:
    if undefined not in UNDEFINED_RULES:
        raise ValueError(f"undefined={undefined!r}; allowed: {list(UNDEFINED_RULES)}")


# ---------------------------------------------------------------------------- inputs
def sensitive_columns(sensitive_features: Any, n: int | None = None) -> list[tuple[str, np.ndarray]]:
    """Normalise ``sensitive_features`` to ``[(name, values as str)]``, one entry per column.

    Accepts a Series, a DataFrame, a 1-D or 2-D array, a dict ``name -> values`` or a list of
    1-D arrays/Series.
    """
    sf = sensitive_features
    cols: list[tuple[str, np.ndarray]] = []
    if isinstance(sf, pd.Series):
        cols = [(str(sf.name) if sf.name is not None else "sensitive", sf.to_numpy())]
    elif isinstance(sf, pd.DataFrame):
        cols = [(str(c), sf[c].to_numpy()) for c in sf.columns]
    elif isinstance(sf, Mapping):
        cols = [(str(k), np.asarray(v)) for k, v in sf.items()]
    elif isinstance(sf, (list, tuple)) and sf and not np.isscalar(sf[0]):
        cols = [(str(getattr(v, "name", None) or f"sensitive_{i}"), np.asarray(v)) for i, v in enumerate(sf)]
    else:
        arr = np.asarray(sf)
        if arr.ndim == 1:
            cols = [("sensitive", arr)]
        elif arr.ndim == 2:
            cols = [(f"sensitive_{j}", arr[:, j]) for j in range(arr.shape[1])]
        else:
            raise ValueError(f"sensitive_features must be 1-D or 2-D, got shape {arr.shape}")
    if not cols:
        raise ValueError("sensitive_features is empty")
    out = []
    for name, values in cols:
        values = np.asarray(values)
        if values.ndim != 1:
            raise ValueError(f"sensitive feature {name!r} must be 1-D, got shape {values.shape}")
        if n is not None and len(values) != n:
            raise ValueError(f"sensitive feature {name!r} has {len(values)} values, expected {n}")
        if pd.isna(values).any():
            raise ValueError(f"sensitive feature {name!r} has missing values")
        out.append((name, values.astype(str)))
    return out


def _blocks(sensitive_features: Any, n: int) -> list[tuple[str, np.ndarray]]:
    """The per-column blocks plus, with several columns, their intersection (listed last)."""
    cols = sensitive_columns(sensitive_features, n)
    if len(cols) > 1:
        name = INTERSECTION_SEP.join(c for c, _ in cols)
        joined = pd.DataFrame({c: v for c, v in cols}).agg(INTERSECTION_SEP.join, axis=1).to_numpy()
        cols.append((name, joined.astype(str)))
    return cols


def _headline(sensitive_features: Any, n: int | None) -> tuple[str, np.ndarray]:
    return _blocks(sensitive_features, n)[-1]


def _binary(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    values = set(np.unique(arr).tolist())
    if not values <= {0, 1}:
        raise ValueError(f"{name} must hold 0/1 labels (1 = positive label); got values {sorted(values)[:10]}")
    return arr.astype(int)


# ---------------------------------------------------------------------------- group table
def _rates_block(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """size, selection rate, TPR and FPR per group via fairlearn's MetricFrame.

    TPR (FPR) is NaN for a group without positive (negative) rows instead of fairlearn's 0.
    """
    # heavy (fairlearn): imported when used, so `import fairx` stays light
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fairlearn warns on groups without positives/negatives
        mf = MetricFrame(
            metrics={"size": count, "selection_rate": selection_rate,
                     "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=y_true, y_pred=y_pred, sensitive_features=pd.Series(groups, name="group"),
        )
    table = mf.by_group.reset_index()
    pos = pd.Series(y_true).groupby(groups).sum().reindex(table["group"]).to_numpy()
    size = table["size"].to_numpy()
    table["tpr"] = np.where(pos > 0, table["tpr"].astype(float), np.nan)
    table["fpr"] = np.where(size - pos > 0, table["fpr"].astype(float), np.nan)
    table["size"] = size.astype(int)
    table["selection_rate"] = table["selection_rate"].astype(float)
    return table


def group_table(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, min_group_size: int = 30
) -> pd.DataFrame:
    """Per-group rates: columns ``attribute, group, size, selection_rate, tpr, fpr, small``.

    One block per sensitive column and, with several columns, one for their intersection
    (attribute ``"a|b"``). ``small`` flags groups with fewer than ``min_group_size`` rows; they
    are kept (reported, not dropped).
    """
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if len(yt) != len(yp):
        raise ValueError(f"y_true has {len(yt)} rows but y_pred has {len(yp)}")
    parts = []
    for name, groups in _blocks(sensitive_features, len(yt)):
        block = _rates_block(yt, yp, groups)
        block.insert(0, "attribute", name)
        parts.append(block)
    table = pd.concat(parts, ignore_index=True)
    table["small"] = table["size"] < min_group_size
    return table[["attribute", "group", "size", "selection_rate", "tpr", "fpr", "small"]]


# ---------------------------------------------------------------------------- summaries
def _ratio(values: np.ndarray) -> float:
    v = values[~np.isnan(values)]
    if len(v) < 2:
        return float("nan")
    hi = v.max()
    return float(v.min() / hi) if hi > 0 else float("nan")


def _range(values: np.ndarray) -> float:
    v = values[~np.isnan(values)]
    return float(v.max() - v.min()) if len(v) >= 2 else float("nan")


def summarise_rates(block: pd.DataFrame, undefined: str = "exclude") -> dict[str, float]:
    """The §6 metrics from one block of a group table (columns selection_rate, tpr, fpr).

    DPR = min SR / max SR, DPD = max SR − min SR; EOR = min(TPR ratio, FPR ratio);
    EOD = max(TPR range, FPR range); eop_* on TPR alone; fpr_gap = FPR range.

    A group without positive rows has no TPR, one without negative rows no FPR (NaN in the
    block). ``undefined="exclude"`` (default) leaves such a group out of the TPR (FPR) based
    metrics only; ``"zero"`` counts the rate as 0, as fairlearn does. Either way
    ``undefined_rate_groups`` is the number of groups with an undefined TPR or FPR (0 = no
    rule was needed).
    """
    _check_undefined(undefined)
    sr = block["selection_rate"].to_numpy(dtype=float)
    tpr = block["tpr"].to_numpy(dtype=float)
    fpr = block["fpr"].to_numpy(dtype=float)
    n_undefined = int(np.count_nonzero(np.isnan(tpr) | np.isnan(fpr)))
    if undefined == "zero":
        tpr, fpr = np.nan_to_num(tpr, nan=0.0), np.nan_to_num(fpr, nan=0.0)
    return {
        "dpr": _ratio(sr),
        "dpd": _range(sr),
        "eor": float(np.nanmin([_ratio(tpr), _ratio(fpr)])) if not (
            np.isnan(_ratio(tpr)) and np.isnan(_ratio(fpr))) else float("nan"),
        "eod": float(np.nanmax([_range(tpr), _range(fpr)])) if not (
            np.isnan(_range(tpr)) and np.isnan(_range(fpr))) else float("nan"),
        "eop_ratio": _ratio(tpr),
        "eop_diff": _range(tpr),
        "fpr_gap": _range(fpr),
        UNDEFINED_FLAG: float(n_undefined),
    }


def fairness_metrics(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, min_group_size: int = 30,
    exclude_small: bool = False, undefined: str = "exclude",
) -> dict[str, float]:
    """dpr, dpd, eor, eod, eop_ratio, eop_diff, fpr_gap over the headline groups, and the
    flag ``undefined_rate_groups``.

    The headline groups are the single sensitive column or the intersection of several.
    ``exclude_small=True`` leaves groups under ``min_group_size`` rows out of the summary
    (they stay in :func:`group_table`); by default every group counts, as in fairlearn.
    ``undefined``: how a group without positives (TPR) or negatives (FPR) counts, see
    :func:`summarise_rates` (``"zero"`` reproduces fairlearn).
    """
    _check_undefined(undefined)
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    _, groups = _headline(sensitive_features, len(yt))
    block = _rates_block(yt, yp, groups)
    if exclude_small:
        block = block[block["size"] >= min_group_size]
    return summarise_rates(block, undefined)


def headline_fairness(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, min_group_size: int = 30,
    undefined: str = "exclude",
) -> dict[str, float]:
    """The headline fairness metrics, with the small-group rule for intersections.

    One sensitive column: :func:`fairness_metrics` over every group (as fairlearn). Several
    columns: the metrics over the intersection groups with at least ``min_group_size`` rows
    (groups of 1–3 rows would otherwise decide dpr/eor alone), plus ``<metric>_all`` over every
    group and ``n_groups_excluded``. When fewer than two groups are that large, the headline is
    the all-groups value (nothing else is defined) and ``n_groups_excluded`` still counts them.
    """
    _check_undefined(undefined)
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    _, groups = _headline(sensitive_features, len(yt))
    block = _rates_block(yt, yp, groups)  # one rates table serves both summaries
    every = summarise_rates(block, undefined)
    if len(sensitive_columns(sensitive_features, len(yt))) < 2:
        return every
    large = block["size"] >= min_group_size
    kept = summarise_rates(block[large], undefined) if int(large.sum()) >= 2 else every
    out = dict(kept)
    out.update({f"{k}_all": every[k] for k in FAIRNESS_KEYS})
    out["n_groups_excluded"] = float((~large).sum())
    return out


def group_sizes(sensitive_features: Any, n: int | None = None) -> pd.Series:
    """Rows per headline group (the intersection of several columns), largest first."""
    _, groups = _headline(sensitive_features, n)
    return pd.Series(groups).value_counts()


def small_groups(sensitive_features: Any, min_group_size: int) -> pd.Series:
    """The headline groups with fewer than ``min_group_size`` rows and their sizes (smallest
    first): the groups :func:`headline_fairness` leaves out of an intersection's headline."""
    sizes = group_sizes(sensitive_features)
    return sizes[sizes < min_group_size].sort_values(kind="stable")


def fairness_by_attribute(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, min_group_size: int = 30,
    undefined: str = "exclude",
) -> pd.DataFrame:
    """Tidy ``attribute, metric, value`` with the §6 metrics (and ``undefined_rate_groups``)
    for each column and the intersection; ``undefined`` as in :func:`summarise_rates`."""
    _check_undefined(undefined)
    table = group_table(y_true, y_pred, sensitive_features=sensitive_features, min_group_size=min_group_size)
    rows = []
    for attr, block in table.groupby("attribute", sort=False):
        for metric, value in summarise_rates(block, undefined).items():
            rows.append({"attribute": attr, "metric": metric, "value": value})
    return pd.DataFrame(rows)


def worst_pair(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, rate: str = "selection_rate",
    min_group_size: int = 30, exclude_small: bool = False, undefined: str = "exclude",
) -> dict[str, Any]:
    """The pair of headline groups with the lowest and highest ``rate`` (intersectional worst case).

    Returns ``attribute, group_low, group_high, rate_low, rate_high, ratio, difference,
    size_low, size_high``. Groups whose ``rate`` is undefined are left out
    (``undefined="exclude"``) or count as 0 (``"zero"``).
    """
    if rate not in RATE_COLUMNS:
        raise ValueError(f"rate={rate!r}; allowed: {list(RATE_COLUMNS)}")
    _check_undefined(undefined)
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    name, groups = _headline(sensitive_features, len(yt))
    block = _rates_block(yt, yp, groups)
    if exclude_small:
        block = block[block["size"] >= min_group_size]
    block = block.fillna({rate: 0.0}) if undefined == "zero" else block.dropna(subset=[rate])
    if len(block) < 2:
        raise ValueError(f"fewer than two groups with a defined {rate} in {name!r}")
    lo = block.loc[block[rate].idxmin()]
    hi = block.loc[block[rate].idxmax()]
    return {
        "attribute": name, "group_low": lo["group"], "group_high": hi["group"],
        "rate_low": float(lo[rate]), "rate_high": float(hi[rate]),
        "ratio": float(lo[rate] / hi[rate]) if hi[rate] > 0 else float("nan"),
        "difference": float(hi[rate] - lo[rate]),
        "size_low": int(lo["size"]), "size_high": int(hi["size"]),
    }


# thin per-metric functions (fairlearn call shape)
def _one(key: str):
    def metric(y_true: Any, y_pred: Any, *, sensitive_features: Any, undefined: str = "exclude") -> float:
        return fairness_metrics(y_true, y_pred, sensitive_features=sensitive_features, undefined=undefined)[key]

    metric.__name__ = key
    metric.__doc__ = (f"``{key}`` of the headline groups (see :func:`summarise_rates`; "
                      "``undefined='zero'`` reproduces fairlearn).")
    return metric


dpr = _one("dpr")
dpd = _one("dpd")
eor = _one("eor")
eod = _one("eod")
eop_ratio = _one("eop_ratio")
eop_diff = _one("eop_diff")
fpr_gap = _one("fpr_gap")


# ---------------------------------------------------------------------------- bootstrap
def _fast_rates(codes: np.ndarray, n_groups: int, yt: np.ndarray, yp: np.ndarray) -> pd.DataFrame:
    size = np.bincount(codes, minlength=n_groups).astype(float)
    pos = np.bincount(codes, weights=yt, minlength=n_groups)
    sel = np.bincount(codes, weights=yp, minlength=n_groups)
    tp = np.bincount(codes, weights=yt * yp, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = pd.DataFrame({
            "selection_rate": np.where(size > 0, sel / size, np.nan),
            "tpr": np.where(pos > 0, tp / pos, np.nan),
            "fpr": np.where(size - pos > 0, (sel - tp) / (size - pos), np.nan),
        })
    return rates[size > 0]  # a group absent from a resample is not a group of it


def bootstrap_ci(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, n_boot: int = 200, level: float = 0.95,
    seed: int = 0, metrics: Sequence[str] = FAIRNESS_KEYS, undefined: str = "exclude",
) -> pd.DataFrame:
    """Percentile bootstrap intervals of the headline fairness metrics (rows resampled).

    Returns ``metric, value, lower, upper`` (``value`` on the full data; MetricFrame-style
    resampling of whole rows, seeded by ``seed``); ``undefined`` as in
    :func:`summarise_rates`.
    """
    unknown = [m for m in metrics if m not in FAIRNESS_KEYS]
    if unknown:
        raise ValueError(f"unknown fairness metric(s) {unknown}; allowed: {list(FAIRNESS_KEYS)}")
    if not 0 < level < 1:
        raise ValueError(f"level={level}; it must lie in (0, 1)")
    if n_boot < 10:
        raise ValueError(f"n_boot={n_boot}; use at least 10 resamples")
    _check_undefined(undefined)
    yt, yp = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    _, groups = _headline(sensitive_features, len(yt))
    _, codes = np.unique(groups, return_inverse=True)
    n_groups = int(codes.max()) + 1
    full = fairness_metrics(yt, yp, sensitive_features=groups, undefined=undefined)
    rng = np.random.default_rng(seed)
    draws = {m: np.empty(n_boot) for m in metrics}
    for b in range(n_boot):
        idx = rng.integers(0, len(yt), len(yt))
        summary = summarise_rates(_fast_rates(codes[idx], n_groups, yt[idx], yp[idx]), undefined)
        for m in metrics:
            draws[m][b] = summary[m]
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    rows = []
    for m in metrics:
        lo, hi = np.nanquantile(draws[m], q) if np.isfinite(draws[m]).any() else (np.nan, np.nan)
        rows.append({"metric": m, "value": full[m], "lower": float(lo), "upper": float(hi)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- data level
def data_parity(ds: TabularDataset, min_group_size: int | None = None) -> dict[str, float]:
    """Parity of the labels in a table: ``data_dpd`` = max − min and ``data_dpr`` = min / max
    of P(y = 1 | s = g) over the groups of ``ds.s`` (the intersection when several columns).

    With several sensitive columns and ``min_group_size``, the rule of
    :func:`headline_fairness`: groups with fewer rows are left out (a 3-row group's label rate
    of 0 would decide ``data_dpr`` alone) and ``data_dpd_all`` / ``data_dpr_all`` count every
    group.
    """
    if not isinstance(ds, TabularDataset):
        raise TypeError(f"data_parity expects a TabularDataset, got {type(ds).__name__}")
    by_group = pd.Series(ds.y).groupby(ds.s.to_numpy())
    rates, sizes = by_group.mean().to_numpy(dtype=float), by_group.size().to_numpy()
    if len(rates) < 2:
        logger.warning("data_parity: table %r has a single sensitive group", ds.name)
    out = {"data_dpd": _range(rates), "data_dpr": _ratio(rates)}
    if min_group_size is None or len(ds.sensitive) < 2:
        return out
    every = {f"{k}_all": v for k, v in out.items()}
    large = sizes >= min_group_size
    if large.sum() >= 2:
        out = {"data_dpd": _range(rates[large]), "data_dpr": _ratio(rates[large])}
    return {**out, **every}


# ---------------------------------------------------------------------------- FTU
def ftu(model: Any, test: TabularDataset) -> float:
    """Fairness through unawareness (methods.md §6): max over pairs (a, b) of sensitive values
    of mean_i |p(x_i, s=a) − p(x_i, s=b)|; NaN when the model does not take s as input.

    The values are the sensitive combinations observed in ``test`` (all sensitive columns set
    together).
    """
    if not getattr(model, "uses_sensitive", False):
        return float("nan")
    if not isinstance(test, TabularDataset):
        raise TypeError(f"ftu expects a TabularDataset, got {type(test).__name__}")
    combos = test.frame[test.sensitive].drop_duplicates().to_dict("records")
    if len(combos) < 2:
        raise DatasetError(f"ftu: test table has a single sensitive group {combos}")
    probs = []
    for combo in combos:
        frame = test.frame.copy()
        for col, value in combo.items():
            frame[col] = value
        probs.append(np.asarray(model.predict_proba(test.with_frame(frame)), dtype=float))
    return float(max(np.mean(np.abs(probs[a] - probs[b]))
                     for a, b in itertools.combinations(range(len(probs)), 2)))
