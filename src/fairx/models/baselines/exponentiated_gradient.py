"""fairlearn's ExponentiatedGradient reduction (Agarwal et al. 2018) as a fair classifier."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from ...data import TabularDataset
from .._features import check_training_data, make_estimator
from ..base import FairClassifier

CONSTRAINTS = ("demographic_parity", "equalized_odds")


def _moment(constraint: str, difference_bound: float | None) -> Any:
    # heavy (fairlearn): loaded when used; `import fairx` stays light
    from fairlearn.reductions import DemographicParity, EqualizedOdds

    kwargs = {} if difference_bound is None else {"difference_bound": difference_bound}
    if constraint == "demographic_parity":
        return DemographicParity(**kwargs)
    if constraint == "equalized_odds":
        return EqualizedOdds(**kwargs)
    raise ValueError(f"constraint={constraint!r}; allowed: {', '.join(CONSTRAINTS)}")


class ExponentiatedGradient(FairClassifier):
    """A randomised classifier: a weighted mixture of base classifiers found by the
    exponentiated-gradient reduction so that the constraint (``demographic_parity`` or
    ``equalized_odds``, up to ``eps``) holds on the train split.

    The base estimator is the downstream classifier type (``classifier``, seeded with
    ``random_state``); the sensitive column is used for the constraint only, not as a feature
    unless ``use_sensitive``. ``predict_proba`` is the mixture's probability of a positive
    decision; ``predict`` draws from it with ``random_state`` (reproducible).

    Parameters
    ----------
    constraint : ``"demographic_parity"`` or ``"equalized_odds"``.
    classifier : the base classifier type (``"hgb"``, ``"logreg"``, ``"rf"``, ``"xgboost"``).
    use_sensitive : whether the base classifier sees the sensitive column as a feature.
    eps : allowed constraint violation.
    max_iter : iterations of the reduction.
    difference_bound : fairlearn's bound on the constraint difference (``None``: its default).
    random_state : seeds the base classifiers and the randomised predictions.
    """

    name: ClassVar[str] = "exponentiated_gradient"
    stage: ClassVar[str] = "in"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"eps": 0.01, "max_iter": 50},
        "fast": {"eps": 0.02, "max_iter": 15},
    }

    def __init__(self, *, constraint: str = "demographic_parity", classifier: str = "hgb",
                 use_sensitive: bool = False, eps: float = 0.01, max_iter: int = 50,
                 difference_bound: float | None = None, random_state: int = 0) -> None:
        self.constraint = constraint
        self.classifier = classifier
        self.use_sensitive = use_sensitive
        self.eps = eps
        self.max_iter = max_iter
        self.difference_bound = difference_bound
        self.random_state = random_state

    @property
    def display_name(self) -> str:
        return "ExpGrad-" + {"demographic_parity": "DP", "equalized_odds": "EO"}.get(
            self.constraint, self.constraint)

    @property
    def uses_sensitive(self) -> bool:
        return bool(self.use_sensitive)

    def fit(self, train: TabularDataset) -> ExponentiatedGradient:
        # heavy (fairlearn): loaded when used; `import fairx` stays light
        from fairlearn.reductions import ExponentiatedGradient as _EG

        moment = _moment(self.constraint, self.difference_bound)
        check_training_data(train)
        if train.weights is not None:
            # fairlearn's reduction sets the base model's sample_weight itself (the Lagrangian's
            # cost weights) and its moments count rows unweighted: per-row weights have nowhere to go
            raise ValueError("ExponentiatedGradient cannot use per-row weights (this dataset has "
                             "weights, e.g. from Reweighing): fairlearn's reduction weighs the rows "
                             "itself. Fit it on the unweighted data (dataset.replace(weights=None)) "
                             "or use a method that trains on weights (threshold_optimizer).")
        estimator, self.features_ = make_estimator(self.classifier, train,
                                                   use_sensitive=self.use_sensitive,
                                                   seed=self.random_state)
        # the column step (one-hot, scaling) is fitted on the unweighted features, the same in
        # every iteration: fit it once and let the reduction refit only the model (identical
        # predictions, and the reduction no longer re-encodes the table per iteration)
        self.columns_ = estimator.named_steps["columns"]
        x = self.columns_.fit_transform(train.frame[self.features_])
        self.model_ = _EG(estimator.named_steps["model"], moment, eps=self.eps,
                          max_iter=self.max_iter, sample_weight_name="sample_weight")
        with warnings.catch_warnings():
            # fairlearn's reductions set Series items pandas 3 deprecates (Pandas4Warning); they
            # are fairlearn's to fix, so exactly those are silenced, here only
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"fairlearn\.")
            self.model_.fit(x, train.y, sensitive_features=train.s.to_numpy().astype(str))
        return self

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray:
        self._check_fitted("model_")
        proba = self.model_._pmf_predict(self._x(dataset))[:, 1]
        return np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)

    def predict(self, dataset: TabularDataset) -> np.ndarray:
        self._check_fitted("model_")
        pred = self.model_.predict(self._x(dataset), random_state=self.random_state)
        return np.asarray(pred, dtype=int)

    def _x(self, dataset: TabularDataset) -> Any:
        return self.columns_.transform(dataset.frame[self.features_])
