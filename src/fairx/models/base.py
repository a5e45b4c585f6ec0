"""The method interfaces every fairx method implements (design.md, "The method interfaces").

All methods are scikit-learn style estimators: ``__init__`` stores hyper-parameters unchanged,
``fit(train)`` does the work and returns ``self``, fitted state ends in ``_``. They are cheap to
construct and to ``sklearn.base.clone``, which is what a benchmark grid needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from sklearn.base import BaseEstimator

from ..data import TabularDataset
from ..exceptions import NotFittedError
from .persist import load_method, save_method

Stage = Literal["reference", "pre", "in", "post", "generator"]


class FairMethod(BaseEstimator):
    """Base of all methods.

    Class attributes: ``name`` (registry name), ``stage``, ``presets`` (``{"paper": {...},
    "fast": {...}, "default": {...}}`` of hyper-parameter overrides).
    """

    name: ClassVar[str] = "method"
    stage: ClassVar[Stage] = "reference"
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: parameters renamed since an earlier release, ``{"old": "new"}``: saved models that use the
    #: old names still load, and ``fairx.models.get`` names the new one
    renamed_params: ClassVar[dict[str, str]] = {}
    #: nested estimator parameters and the class each defaults to when it is ``None``
    #: (``{"teacher": FairVAE}``): ``fairx.models.get(..., teacher__epochs=5)`` sets theirs
    nested_params: ClassVar[dict[str, type[FairMethod]]] = {}

    def fit(self, train: TabularDataset) -> FairMethod:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def display_name(self) -> str:
        """Name shown in result tables (e.g. ``DECAF-DP``); defaults to the registry name."""
        return self.name

    @classmethod
    def _params_from_saved(cls, params: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments from the parameters of a saved ``config.json``: names renamed
        since (``renamed_params``) are mapped to the new ones. Subclasses extend it."""
        return {cls.renamed_params.get(k, k): v for k, v in params.items()}

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(train) first")

    # persistence: weights + JSON (never pickle); subclasses override _get_state/_set_state
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError(f"{type(self).__name__} does not support save()")

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not support load()")

    def save(self, path: str | Path) -> Path:
        """Save the fitted model to the folder ``path`` (``config.json`` + ``weights.safetensors``)."""
        return save_method(self, path)

    @classmethod
    def load(cls, path: str | Path) -> FairMethod:
        """Load a model saved with ``save``; no code from the files is executed."""
        return load_method(path, expected=cls)


class Preprocessor(FairMethod):
    """Pre-processing: ``fit(train)`` then ``transform(ds) -> ds`` (same kind of dataset)."""

    stage: ClassVar[Stage] = "pre"

    def transform(self, dataset: TabularDataset) -> TabularDataset:  # pragma: no cover
        raise NotImplementedError


class FairClassifier(FairMethod):
    """In-processing: a classifier trained under a fairness constraint."""

    stage: ClassVar[Stage] = "in"

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray:  # pragma: no cover
        """Probability of the positive label, shape (rows,)."""
        raise NotImplementedError

    def predict(self, dataset: TabularDataset) -> np.ndarray:
        return (self.predict_proba(dataset) >= 0.5).astype(int)


class Postprocessor(FairMethod):
    """Post-processing: wraps a base classifier; ``predict`` may be randomised (seeded)."""

    stage: ClassVar[Stage] = "post"

    def predict(self, dataset: TabularDataset) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def predict_proba(self, dataset: TabularDataset) -> np.ndarray | None:
        """Scores for AUROC where the method has them, else ``None``."""
        return None


class FairGenerator(FairMethod):
    """A generative model: ``sample(n, seed=...)`` returns a table in the original schema."""

    stage: ClassVar[Stage] = "generator"

    def sample(self, n: int, *, seed: int | None = None) -> TabularDataset:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _check_n(n: int) -> int:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n={n!r}: the number of rows to generate must be a positive integer")
        return int(n)
