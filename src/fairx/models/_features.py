"""Small helpers shared by the scikit-learn based baselines (no torch).

- ``make_estimator``: the downstream classifier pipeline by name (``hgb``, ``logreg``, ``rf``,
  ``xgboost``), seeded; in/post-processing methods wrap the type the protocol uses downstream.
- ``feature_encoder``: a ``TabularEncoder`` over the non-target columns (one-hot
  categoricals, standardised numericals; unseen categories encode as all-zero).
- ``check_training_data``: the bad-input checks every ``fit`` runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import DatasetError, TabularDataset, TabularEncoder
from ..data._dataset import sensitive_groups_problem
from ..metrics._utility import _make_estimator


def make_estimator(classifier: str, train: TabularDataset, *, use_sensitive: bool = False,
                   seed: int = 0) -> tuple[Any, list[str]]:
    """A new, seeded, unfitted downstream classifier pipeline of the named type (the same one
    ``fairx.metrics.fit_downstream`` trains: one-hot + scaling where needed + model) and the
    feature columns it reads from ``dataset.frame``. Sample weights go to ``model__sample_weight``."""
    features = train.features if use_sensitive else train.features_without_sensitive
    if not features:
        raise DatasetError(f"dataset {train.name!r} has no feature columns besides the target and "
                           "sensitive attribute(s)")
    categorical = [c for c in features if c in train.categorical]
    numerical = [c for c in features if c not in train.categorical]
    return _make_estimator(str(classifier).lower(), seed=seed, categorical=categorical,
                           numerical=numerical), features


def feature_encoder(train: TabularDataset, *, use_sensitive: bool = False) -> TabularEncoder:
    """An encoder fitted on ``train``'s classifier inputs (target excluded; s only if asked)."""
    columns = train.features if use_sensitive else train.features_without_sensitive
    if not columns:
        raise DatasetError(f"dataset {train.name!r} has no feature columns besides the target and "
                           "sensitive attribute(s)")
    return TabularEncoder(numerical="standard", columns=columns, handle_unknown="ignore").fit(train)


def check_training_data(train: TabularDataset, *, min_group_rows: int = 2) -> None:
    """Raise ``DatasetError`` when ``train`` cannot be learned from fairly: a single target class,
    a single sensitive group, or a sensitive group with fewer than ``min_group_rows`` rows."""
    if not isinstance(train, TabularDataset):
        raise TypeError(f"expected a TabularDataset, got {type(train).__name__}")
    y = train.y
    if y.min() == y.max():
        raise DatasetError(f"target {train.target!r} has a single class in the training data; "
                           "a fair classifier needs both classes")
    for col in train.sensitive:
        problem = sensitive_groups_problem(col, train.frame[col], min_group_rows,
                                           " in the training data")
        if problem:
            raise DatasetError(problem + ("; merge or drop them first"
                                          if problem.endswith("training data") else ""))


def positive_rate_by_group(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    """P(y = 1 | s = g) for every group g (string keys)."""
    s = np.asarray(s).astype(str)
    return {str(g): float(np.mean(y[s == g])) for g in np.unique(s)}
