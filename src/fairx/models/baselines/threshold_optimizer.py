"""fairlearn's ThresholdOptimizer (Hardt et al. 2016) as a post-processor."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...data import TabularDataset
from .._features import check_training_data, make_estimator
from ..base import Postprocessor

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

    Parameters
    ----------
    constraint : fairlearn constraint, e.g. ``"demographic_parity"``, ``"equalized_odds"``.
    objective : the metric maximised under the constraint (fairlearn's name).
    classifier : the base classifier type (``"hgb"``, ``"logreg"``, ``"rf"``, ``"xgboost"``).
    use_sensitive : whether the base classifier sees the sensitive column as a feature.
    grid_size : thresholds tried per group.
    random_state : seeds the base classifier and the randomised predictions.
    """

    name: ClassVar[str] = "threshold_optimizer"
    stage: ClassVar[str] = "post"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"grid_size": 1000}, "fast": {"grid_size": 200},
    }

    def __init__(self, *, constraint: str = "demographic_parity", objective: str = "accuracy_score",
                 classifier: str = "hgb", use_sensitive: bool = False, grid_size: int = 1000,
                 random_state: int = 0) -> None:
        self.constraint = constraint
        self.objective = objective
        self.classifier = classifier
        self.use_sensitive = use_sensitive
        self.grid_size = grid_size
        self.random_state = random_state

    @property
    def display_name(self) -> str:
        return "ThresholdOpt-" + _SHORT.get(self.constraint, self.constraint)

    @property
    def uses_sensitive(self) -> bool:
        return True  # its decisions depend on s by construction

    def fit(self, train: TabularDataset) -> ThresholdOptimizer:
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
        self.model_.fit(train.frame[self.features_], train.y,
                        sensitive_features=train.s.to_numpy().astype(str), **kwargs)
        self.groups_ = sorted(train.s.astype(str).unique().tolist())
        return self

    def _inputs(self, dataset: TabularDataset) -> tuple[Any, np.ndarray]:
        self._check_fitted("model_")
        s = dataset.s.to_numpy().astype(str)
        unknown = sorted(set(s) - set(self.groups_))
        if unknown:
            raise ValueError(f"sensitive group(s) {unknown} were not in the training data; "
                             f"known groups: {self.groups_}")
        return dataset.frame[self.features_], s

    def predict(self, dataset: TabularDataset) -> np.ndarray:
        x, s = self._inputs(dataset)
        return np.asarray(self.model_.predict(x, sensitive_features=s, random_state=self.random_state),
                          dtype=int)

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray:
        x, s = self._inputs(dataset)
        return np.asarray(self.model_._pmf_predict(x, sensitive_features=s)[:, 1], dtype=float)
