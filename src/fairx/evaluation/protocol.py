"""One evaluation path for every kind of method (design.md, "Evaluation protocol").

``evaluate_method(method, dataset, seed=...)`` splits the data (stratified, seeded), fits the
method on the train split and judges it on the real test split, the same way for every stage:

- ``reference`` (Unmitigated), ``in`` and ``post``: the method's **own** predictions on test.
- ``pre``: the downstream classifier trained on the transformed train split (with its
  ``weights`` as ``sample_weight``, e.g. Reweighing) and applied to the transformed test split.
- ``generator``: TSTR — the downstream classifier trained on ``n_synthetic`` generated rows
  (default: as many as the train split) and tested on the real test split; plus the data-level
  parity of the synthetic table and, when ``quality``, its quality against the real train split
  (the test split is the holdout for ``dcr_share``).

``ftu`` is always reported: for reference, pre and generator rows it comes from a second
downstream classifier that sees s (trained on the same data); for in/post methods whose
decisions depend on s (ThresholdOptimizer) it is computed from the method itself, and it is
``nan`` (not 0) when the method does not see s.

Intersections (several sensitive columns): the headline fairness metrics (``dpr``, ``eor``, ...)
are computed over the intersection groups with at least ``min_group_size`` test rows; the value
over every group is kept as ``<metric>_all`` and ``n_groups_excluded`` counts the groups left
out (their names and sizes are in the group table, flagged ``small``). A single sensitive column
counts every group, as fairlearn does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..data import TabularDataset, train_test_split
from ..metrics import (
    data_parity,
    fit_downstream,
    ftu,
    group_table,
    prediction_metrics,
    synthetic_quality,
)
from ..models import FairMethod, get
from ..models.persist import _jsonable
from ..models.presets import preset_params
from ..models.registry import entry, method_class
from ..progress import uses_verbosity


@dataclass
class MethodResult:
    """The outcome of one method on one seed."""

    method: str                 # display name, e.g. "DECAF-DP", "Unmitigated"
    registry_name: str          # e.g. "decaf"
    stage: str
    seed: int
    metrics: dict[str, float]   # METRIC names + fit_seconds, sample_seconds, n_parameters
    group_table: pd.DataFrame   # per-group table of its test predictions
    synthetic: pd.DataFrame | None = None  # generated rows (generators only; original schema)
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: method, stage, seed, metric, value."""
        rows = [{"method": self.method, "stage": self.stage, "seed": self.seed, "metric": k,
                 "value": float(v)} for k, v in self.metrics.items()]
        return pd.DataFrame(rows, columns=["method", "stage", "seed", "metric", "value"])


def _instantiate(method: str | FairMethod, *, seed: int, preset: str | None,
                 params: dict[str, Any] | None, classifier: str,
                 use_sensitive: bool, min_group_size: int = 30) -> tuple[FairMethod, str]:
    """A fresh, unfitted method seeded with ``seed``; methods that wrap a downstream classifier
    get the protocol's ``classifier`` / ``use_sensitive`` unless ``params`` set them."""
    params = dict(params or {})
    if isinstance(method, str):
        cls = method_class(method)
        name = entry(method).name
        base: FairMethod | None = None
    elif isinstance(method, FairMethod):
        cls, name, base = type(method), method.name, method
    else:
        raise TypeError(f"method must be a registry name or a FairMethod, got {type(method).__name__}")
    valid = cls().get_params() if base is None else base.get_params()
    defaults: dict[str, Any] = {}
    if "random_state" in valid:
        defaults["random_state"] = seed
    if "classifier" in valid:
        defaults["classifier"] = classifier
    if "use_sensitive" in valid:
        defaults["use_sensitive"] = use_sensitive
    if "min_group_size" in valid:
        defaults["min_group_size"] = min_group_size
    if base is None:
        merged = {k: v for k, v in defaults.items() if k not in params}
        est = get(method, preset=preset, **merged, **params)
        if preset is not None:  # a preset value wins over the protocol's defaults
            overrides = {k: v for k, v in preset_params(cls, preset).items()
                         if k in defaults and k not in params}
            est.set_params(**overrides)
    else:
        params = {**preset_params(cls, preset, what=f"method {name!r}"), **params}
        # an instance keeps its own configuration (classifier, ...); only the seed is set
        seeded = {"random_state": seed} if "random_state" in valid else {}
        est = clone(base).set_params(**{**seeded, **params})
    return est, name


def _safe(metric_fn: Any, *args: Any, **kwargs: Any) -> float:
    value = metric_fn(*args, **kwargs)
    return float("nan") if value is None else float(value)


@uses_verbosity
def evaluate_method(
    method: str | FairMethod,
    dataset: TabularDataset,
    *,
    seed: int = 0,
    preset: str | None = None,
    params: dict[str, Any] | None = None,
    classifier: str = "hgb",
    use_sensitive: bool = False,
    test_size: float = 0.3,
    quality: bool = True,
    n_synthetic: int | None = None,
    split: tuple[TabularDataset, TabularDataset] | None = None,
    quality_options: dict[str, Any] | None = None,
    verbose: bool | None = None,
    min_group_size: int = 30,
) -> MethodResult:
    """Fit ``method`` on the train split of ``dataset`` and evaluate it on the real test split.

    ``method``: a registry name (built with ``preset`` and ``params``; methods that wrap a
    classifier get ``classifier`` / ``use_sensitive``) or a ``FairMethod`` (cloned, keeping its
    configuration; ``preset`` and ``params`` are set on the clone). Either way
    ``random_state = seed`` unless ``params`` set it. ``split``: a fixed (train, test) pair, e.g. to give every method the
    same split; otherwise ``train_test_split(dataset, test_size=, seed=)``.
    ``quality_options``: extra keyword arguments of ``synthetic_quality`` (e.g. ``metrics=``,
    ``max_rows=``, ``embedding=``). ``verbose``: progress bars of training and metric passes
    (None: on a terminal only; see :mod:`fairx.progress`).
    ``min_group_size``: intersection groups with fewer test rows are left out of the headline
    fairness metrics (see the module docstring); methods with a ``min_group_size`` parameter
    (ThresholdOptimizer) get the same value unless ``params`` set it.
    """
    if split is not None:
        train, test = split
    else:
        train, test = train_test_split(dataset, test_size=test_size, seed=seed)
    if not isinstance(min_group_size, (int, np.integer)) or min_group_size < 1:
        raise ValueError(f"min_group_size={min_group_size!r}; give a positive integer")
    est, registry_name = _instantiate(method, seed=seed, preset=preset, params=params,
                                      classifier=classifier, use_sensitive=use_sensitive,
                                      min_group_size=int(min_group_size))
    stage = est.stage
    metrics: dict[str, float] = {}
    synthetic: pd.DataFrame | None = None

    start = time.perf_counter()
    est.fit(train)
    metrics["fit_seconds"] = time.perf_counter() - start

    def downstream(data: TabularDataset, sees_s: bool) -> Any:
        return fit_downstream(data, classifier=classifier, use_sensitive=sees_s, seed=seed,
                              sample_weight=data.weights)

    if stage == "generator":
        n = len(train) if n_synthetic is None else n_synthetic
        start = time.perf_counter()
        syn = est.sample(n, seed=seed)
        metrics["sample_seconds"] = time.perf_counter() - start
        synthetic = syn.frame
        model = downstream(syn, use_sensitive)
        y_pred, y_score = model.predict(test), model.predict_proba(test)
        metrics["ftu"] = _safe(ftu, model if use_sensitive else downstream(syn, True), test)
        metrics.update(data_parity(syn, min_group_size))
        if quality:
            metrics.update(synthetic_quality(train, syn, holdout=test, seed=seed,
                                             **(quality_options or {})))
    elif stage == "pre":
        train_t, test_t = est.transform(train), est.transform(test)
        model = downstream(train_t, use_sensitive)
        y_pred, y_score = model.predict(test_t), model.predict_proba(test_t)
        metrics["ftu"] = _safe(ftu, model if use_sensitive else downstream(train_t, True), test_t)
    elif stage == "reference":
        y_pred, y_score = est.predict(test), est.predict_proba(test)
        model = getattr(est, "model_", None)
        sees = model is not None and getattr(model, "uses_sensitive", False)
        metrics["ftu"] = _safe(ftu, model if sees else downstream(train, True), test)
        metrics.update(data_parity(train, min_group_size))
    elif stage in ("in", "post"):
        y_pred = est.predict(test)
        y_score = est.predict_proba(test)
        metrics["ftu"] = _safe(ftu, est, test) if getattr(est, "uses_sensitive", False) else math.nan
    else:
        raise ValueError(f"method {registry_name!r} has unknown stage {stage!r}")

    y_pred = np.asarray(y_pred, dtype=int)
    y_true = test.y
    sens = test.sensitive_frame
    pm = prediction_metrics(y_true, y_pred, y_score=None if y_score is None else np.asarray(y_score),
                            sensitive_features=sens, min_group_size=min_group_size)
    metrics = {**pm, **metrics}
    for key in ("n_groups_merged",):
        if hasattr(est, key + "_"):
            metrics[key] = float(getattr(est, key + "_"))
    n_params = getattr(est, "n_parameters_", None)
    if n_params is not None:
        metrics["n_parameters"] = float(n_params)
    table = group_table(y_true, y_pred, sensitive_features=sens, min_group_size=min_group_size)
    return MethodResult(method=est.display_name, registry_name=registry_name, stage=stage,
                        seed=int(seed), metrics={k: float(v) for k, v in metrics.items()},
                        group_table=table, synthetic=synthetic,
                        params=_jsonable(est.get_params(deep=False)))


def summarize(results: list[MethodResult] | pd.DataFrame,
              metrics: list[str] | None = None) -> pd.DataFrame:
    """Mean, std (over seeds, ``ddof=1``; ``nan`` for one seed) and n per method and metric.

    Rows keep the order in which methods first appear."""
    frame = results if isinstance(results, pd.DataFrame) else pd.concat(
        [r.to_frame() for r in results], ignore_index=True)
    if metrics is not None:
        frame = frame[frame["metric"].isin(metrics)]
    order = {m: i for i, m in enumerate(dict.fromkeys(frame["method"]))}
    morder = {m: i for i, m in enumerate(metrics or dict.fromkeys(frame["metric"]))}
    out = (frame.groupby(["method", "stage", "metric"], sort=False)["value"]
           .agg(mean="mean", std=lambda v: v.std(ddof=1) if len(v) > 1 else math.nan, n="count")
           .reset_index())
    out = out.sort_values(["method", "metric"], key=lambda c: c.map(order if c.name == "method" else morder))
    return out.reset_index(drop=True)


def mean_std_table(summary: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Wide table: one row per method, one ``mean ± std`` cell per metric, plus ``n`` (seeds)."""
    def cell(r: Any) -> str:
        if math.isnan(r["mean"]):
            return "n/a"
        if str(r["metric"]).startswith("n_"):  # counts (n_parameters, n_groups_*): integers
            same = math.isnan(r["std"]) or r["std"] == 0
            return f"{r['mean']:,.0f}" if same else f"{r['mean']:,.1f} ± {r['std']:,.1f}"
        if math.isnan(r["std"]):
            return f"{r['mean']:.{digits}f}"
        return f"{r['mean']:.{digits}f} ± {r['std']:.{digits}f}"

    s = summary.assign(cell=summary.apply(cell, axis=1))
    wide = s.pivot_table(index=["method", "stage"], columns="metric", values="cell", aggfunc="first",
                         sort=False)
    wide = wide[list(dict.fromkeys(s["metric"]))].fillna("n/a")  # metric absent for a method
    n = s.groupby(["method", "stage"], sort=False)["n"].max()
    wide.insert(0, "n", n)
    return wide.reset_index()
