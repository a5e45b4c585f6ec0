"""The reference row: the downstream classifier trained on the real train split, no mitigation."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...data import TabularDataset
from ...metrics import fit_downstream
from .._features import check_training_data
from ..base import FairClassifier


class Unmitigated(FairClassifier):
    """The downstream classifier of the evaluation protocol (``fairx.metrics.fit_downstream``)
    trained on the real data as is — the reference every mitigation is compared with.

    Parameters
    ----------
    classifier : downstream classifier type (``hgb``, ``logreg``, ``rf``).
    use_sensitive : whether the classifier sees the sensitive column(s) (default: no, the
        fairness-through-unawareness setting).
    random_state : seed of the classifier.
    """

    name: ClassVar[str] = "unmitigated"
    stage: ClassVar[str] = "reference"
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *, classifier: str = "hgb", use_sensitive: bool = False,
                 random_state: int = 0) -> None:
        self.classifier = classifier
        self.use_sensitive = use_sensitive
        self.random_state = random_state

    @property
    def display_name(self) -> str:
        return "Unmitigated"

    def fit(self, train: TabularDataset) -> Unmitigated:
        check_training_data(train)
        self.model_ = fit_downstream(train, classifier=self.classifier,
                                     use_sensitive=self.use_sensitive, seed=self.random_state,
                                     sample_weight=train.weights)
        return self

    @property
    def uses_sensitive(self) -> bool:
        return bool(self.use_sensitive)

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray:
        self._check_fitted("model_")
        return np.asarray(self.model_.predict_proba(dataset), dtype=float)
