"""fairlearn's ThresholdOptimizer (Hardt et al. 2016) as a post-processor."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from ...data import TabularDataset
from .._features import check_training_data, make_estimator
from ..base import Postprocessor

logger = logging.getLogger(__name__)

MERGED_GROUP = "(merged small groups)"

_SHORT = {"demographic_parity": "DP", "equalized_odds": "EO", "true_positive_rate_parity": "TPR",
          "false_positive_rate_parity": "FPR", "false_negative_rate_parity": "FNR",
          "true_negative_rate_parity": "TNR", "selection_rate_parity": "SR"}


class ThresholdOptimizer(Postprocessor):
    """Group-specific (randomised) thresholds on a base classifier's scores that satisfy the
    constraint on the train split while maximising ``objective``.

    The base classifier (``classifier`` type, seeded) is trained inside ``fit``
    (``prefit=False``). Predictions use the sensitive attribute of each row and are drawn with
    ``random_state``, so they are reproducible. The protocol computes its utility **from these
    predictions**; ``predict_proba`` (its probability of a positive decision) is offered for AUROC.

    fairlearn cannot fit a group with a single label or very few rows ("Degenerate labels"), which
    small intersections (e.g. ``Female|Other`` on Adult) often are. Train groups with fewer than
    ``min_group_size`` rows or one label are therefore merged into one pooled group (``merged_``
    lists them, ``n_groups_merged_`` counts them) and get the pooled group's thresholds; a pooled
    group that is itself degenerate joins the largest group. This is logged, never silent.

    Parameters
    ----------
    constraint : fairlearn constraint, e.g. ``"demographic_parity"``, ``"equalized_odds"``.
    objective : the metric maximised under the constraint (fairlearn's name).
    classifier : the base classifier type (``"hgb"``, ``"logreg"``, ``"rf"``, ``"xgboost"``).
    use_sensitive : whether the base classifier sees the sensitive column as a feature.
    grid_size : thresholds tried per group.
    min_group_size : train groups with fewer rows (or one label) are pooled, see above.
    random_state : seeds the base classifier and the randomised predictions.
    """

    name: ClassVar[str] = "threshold_optimizer"
    stage: ClassVar[str] = "post"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"grid_size": 1000}, "fast": {"grid_size": 200},
    }

    def __init__(self, *, constraint: str = "demographic_parity", objective: str = "accuracy_score",
                 classifier: str = "hgb", use_sensitive: bool = False, grid_size: int = 1000,
                 min_group_size: int = 30, random_state: int = 0) -> None:
        self.constraint = constraint
        self.objective = objective
        self.classifier = classifier
        self.use_sensitive = use_sensitive
        self.grid_size = grid_size
        self.min_group_size = min_group_size
        self.random_state = random_state

    @property
    def display_name(self) -> str:
        return "ThresholdOpt-" + _SHORT.get(self.constraint, self.constraint)

    @property
    def uses_sensitive(self) -> bool:
        return True  # its decisions depend on s by construction

    def fit(self, train: TabularDataset) -> ThresholdOptimizer:
        # heavy (fairlearn): loaded when used; `import fairx` stays light
        from fairlearn.postprocessing import ThresholdOptimizer as _TO

        if self.constraint not in _SHORT:
            raise ValueError(f"constraint={self.constraint!r}; allowed: {', '.join(_SHORT)}")
        check_training_data(train)
        estimator, self.features_ = make_estimator(self.classifier, train,
                                                   use_sensitive=self.use_sensitive,
                                                   seed=self.random_state)
        kwargs = {} if train.weights is None else {"model__sample_weight": train.weights}
        self.model_ = _TO(estimator=estimator, constraints=self.constraint, objective=self.objective,
                          grid_size=self.grid_size, prefit=False, predict_method="predict_proba")
        s = train.s.to_numpy().astype(str)
        self.groups_ = sorted(set(s.tolist()))
        self.merged_, self._target = _merge_small_groups(s, np.asarray(train.y), self.min_group_size)
        self.n_groups_merged_ = len(self.merged_)
        if self.merged_:
            logger.warning("%s: merged %d small or single-label group(s) %s into %r (fewer than "
                           "%d train rows or one label)", self.display_name, len(self.merged_),
                           self.merged_, self._target, self.min_group_size)
        self.model_.fit(train.frame[self.features_], train.y,
                        sensitive_features=self._pooled(s), **kwargs)
        return self

    def _pooled(self, s: np.ndarray) -> np.ndarray:
        if not self.merged_:
            return s
        return np.where(np.isin(s, self.merged_), self._target, s)

    def _inputs(self, dataset: TabularDataset) -> tuple[Any, np.ndarray]:
        self._check_fitted("model_")
        s = dataset.s.to_numpy().astype(str)
        unknown = sorted(set(s) - set(self.groups_))
        if unknown:
            raise ValueError(f"sensitive group(s) {unknown} were not in the training data; "
                             f"known groups: {self.groups_}")
        return dataset.frame[self.features_], self._pooled(s)

    def predict(self, dataset: TabularDataset) -> np.ndarray:
        x, s = self._inputs(dataset)
        return np.asarray(self.model_.predict(x, sensitive_features=s, random_state=self.random_state),
                          dtype=int)

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray:
        x, s = self._inputs(dataset)
        return np.asarray(self.model_._pmf_predict(x, sensitive_features=s)[:, 1], dtype=float)


def _merge_small_groups(s: np.ndarray, y: np.ndarray, min_size: int) -> tuple[list[str], str]:
    """Groups to pool (fewer than ``min_size`` rows or a single label) and the pooled label.

    The pooled label is :data:`MERGED_GROUP`, or the largest group when the pool itself has
    fewer than ``min_size`` rows or one label."""
    groups, counts = np.unique(s, return_counts=True)
    merged = [str(g) for g, c in zip(groups, counts, strict=True)
              if c < min_size or len(np.unique(y[s == g])) < 2]
    if not merged:
        return [], MERGED_GROUP
    pool = np.isin(s, merged)
    if pool.sum() >= min_size and len(np.unique(y[pool])) == 2:
        return merged, MERGED_GROUP
    kept = [g for g in groups if g not in merged]
    if not kept:
        raise ValueError(f"every sensitive group has fewer than {min_size} train rows or a single "
                         f"label: {dict(zip(groups.tolist(), counts.tolist(), strict=True))}")
    largest = max(kept, key=lambda g: int((s == g).sum()))
    return merged, str(largest)
