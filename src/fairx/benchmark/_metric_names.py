"""Metric names, groups and directions as tables and reports need them.

The source of truth is ``fairx.metrics.METRIC_INFO``; the contract's names below are the fallback
(and cover the benchmark's own bookkeeping metrics: costs and SHAP summaries).
"""

from __future__ import annotations

from ..metrics import METRIC_INFO

_CONTRACT: dict[str, tuple[str, str]] = {
    # name: (group, direction)
    "accuracy": ("utility", "higher"), "balanced_accuracy": ("utility", "higher"),
    "precision": ("utility", "higher"), "recall": ("utility", "higher"), "f1": ("utility", "higher"),
    "auroc": ("utility", "higher"),
    "dpr": ("fairness", "higher"), "dpd": ("fairness", "lower"), "eor": ("fairness", "higher"),
    "eod": ("fairness", "lower"), "eop_ratio": ("fairness", "higher"),
    "eop_diff": ("fairness", "lower"), "fpr_gap": ("fairness", "lower"), "ftu": ("fairness", "lower"),
    "data_dpd": ("data", "lower"), "data_dpr": ("data", "higher"),
    "alpha_precision": ("quality", "higher"), "beta_recall": ("quality", "higher"),
    "authenticity": ("quality", "higher"), "prdc_precision": ("quality", "higher"),
    "prdc_recall": ("quality", "higher"), "density": ("quality", "higher"),
    "coverage": ("quality", "higher"), "ks_complement": ("quality", "higher"),
    "tv_complement": ("quality", "higher"), "column_fidelity": ("quality", "higher"),
    "correlation_similarity": ("quality", "higher"), "c2st_auc": ("quality", "target"),
    "detection_score": ("quality", "higher"), "dcr_share": ("quality", "target"),
}
_OWN: dict[str, tuple[str, str]] = {
    "fit_seconds": ("cost", "lower"), "sample_seconds": ("cost", "lower"),
    "n_parameters": ("cost", "lower"),
    "shap_rank_corr": ("explain", "higher"), "shap_share_s_real": ("explain", "lower"),
    "shap_share_s_method": ("explain", "lower"), "shap_share_proxies_real": ("explain", "lower"),
    "shap_share_proxies_method": ("explain", "lower"),
    # intersections: the headline leaves groups under min_group_size out; *_all keeps every group
    "n_groups_excluded": ("fairness_all", "lower"), "n_groups_merged": ("fairness_all", "lower"),
    **{f"{k}_all": ("fairness_all", d) for k, d in (
        ("dpr", "higher"), ("dpd", "lower"), ("eor", "higher"), ("eod", "lower"),
        ("eop_ratio", "higher"), ("eop_diff", "lower"), ("fpr_gap", "lower"),
        ("data_dpd", "lower"), ("data_dpr", "higher"))},
}
COUNT_METRICS = ("n_parameters", "n_groups_excluded", "n_groups_merged")
"""Metrics that count things: shown as integers, never with decimals."""


def _info() -> dict[str, tuple[str, str]]:
    table = dict(_CONTRACT)
    for name, info in METRIC_INFO.items():
        table[name] = (getattr(info, "group", table.get(name, ("other",))[0]),
                       getattr(info, "direction", table.get(name, ("", "higher"))[1]))
    table.update(_OWN)
    return table


def known_metrics() -> list[str]:
    return list(_info())


def metric_group(name: str) -> str:
    return _info().get(name, ("other", "higher"))[0]


def metric_direction(name: str) -> str:
    return _info().get(name, ("other", "higher"))[1]


def expand_metrics(selection: list[str], available: list[str]) -> list[str]:
    """Metric names for a selection of groups and/or names, in a stable order, that occur in
    ``available``."""
    info = _info()
    order = list(info) + sorted(set(available) - set(info))
    wanted: list[str] = []
    for item in selection:
        names = [m for m in order if info.get(m, ("other",))[0] == item] if item in {
            g for g, _ in info.values()} | {"other"} else [item]
        wanted += [m for m in names if m in available and m not in wanted]
    return wanted
