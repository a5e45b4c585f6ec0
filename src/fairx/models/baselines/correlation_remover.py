"""fairlearn's CorrelationRemover as a fairx pre-processor."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...data import TabularDataset, TabularEncoder
from .._features import check_training_data, feature_encoder
from ..base import Preprocessor


class CorrelationRemover(Preprocessor):
    """Remove the linear correlation between the features and the sensitive attribute.

    fairlearn's ``CorrelationRemover`` replaces the feature matrix X by
    ``X − α·(S − S̄)·β`` where β is the least-squares fit of X (centred) on the one-hot
    sensitive matrix S; ``alpha = 1`` removes all linear correlation, ``0`` none.
    It is fitted on the train split only and applied to train and test.

    How columns are handled: the non-sensitive features are encoded (numericals standardised,
    categoricals one-hot) and every encoded column is decorrelated. The returned dataset keeps
    the target and the sensitive column(s) unchanged and holds the decorrelated features as
    **numerical** columns — one per numerical feature (same name, standardised scale) and one
    per category of each categorical feature (named ``column=value``); a one-hot column becomes
    a real number after the projection, so the categorical schema cannot be kept.

    Parameters
    ----------
    alpha : share of the linear correlation removed, in [0, 1].
    random_state : unused (the method is deterministic); kept for a uniform interface.
    """

    name: ClassVar[str] = "correlation_remover"
    stage: ClassVar[str] = "pre"
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *, alpha: float = 1.0, random_state: int = 0) -> None:
        self.alpha = alpha
        self.random_state = random_state  # deterministic; kept for a uniform interface

    @property
    def display_name(self) -> str:
        return "CorrelationRemover" if self.alpha == 1.0 else f"CorrelationRemover(α={self.alpha:g})"

    def _matrix(self, dataset: TabularDataset) -> np.ndarray:
        x = self.features_.encode(dataset)
        s = self.sensitive_.encode(dataset)
        return np.hstack([x, s]).astype(float)

    def fit(self, train: TabularDataset) -> CorrelationRemover:
        # heavy (fairlearn): loaded when used; `import fairx` stays light
        from fairlearn.preprocessing import CorrelationRemover as _CR

        if not 0.0 <= float(self.alpha) <= 1.0:
            raise ValueError(f"alpha={self.alpha!r}; it must lie in [0, 1]")
        check_training_data(train)
        self.features_ = feature_encoder(train, use_sensitive=False)
        self.sensitive_ = TabularEncoder(columns=train.sensitive, handle_unknown="ignore").fit(train)
        x = self._matrix(train)
        d = self.features_.dim_
        self.remover_ = _CR(sensitive_feature_ids=list(range(d, x.shape[1])), alpha=self.alpha).fit(x)
        self.feature_names_ = self.features_.feature_names
        return self

    def transform(self, dataset: TabularDataset) -> TabularDataset:
        self._check_fitted("remover_")
        z = self.remover_.transform(self._matrix(dataset))
        features = pd.DataFrame(z, columns=self.feature_names_)
        keep = dataset.frame[[dataset.target, *dataset.sensitive]].reset_index(drop=True)
        frame = pd.concat([features, keep], axis=1)
        kept_cat = [c for c in dataset.categorical if c in keep.columns]
        return dataset.replace(frame=frame, categorical=kept_cat, numerical=list(self.feature_names_),
                               integer=[], meta={**dataset.meta, "transformed_by": self.name})
