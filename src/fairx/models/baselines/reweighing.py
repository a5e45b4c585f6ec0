"""Reweighing (Kamiran & Calders 2012): per-row weights that make s and y independent."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...data import TabularDataset
from .._features import check_training_data
from ..base import Preprocessor

logger = logging.getLogger(__name__)


class Reweighing(Preprocessor):
    """Weights ``w(s, y) = P(s)·P(y) / P(s, y)`` estimated on the train split.

    Under these weights the weighted joint distribution of (s, y) factorises, so a classifier
    trained with ``sample_weight = w`` sees no s–y association in the labels. ``transform``
    returns the dataset unchanged except for ``weights`` (multiplied into existing weights);
    the protocol passes them as ``sample_weight`` to the downstream classifier. Several
    sensitive columns are reweighed on their intersection. An (s, y) cell absent from the train
    split gets weight 1.

    Parameters
    ----------
    random_state : unused (the method is deterministic); kept for a uniform interface.
    """

    name: ClassVar[str] = "reweighing"
    stage: ClassVar[str] = "pre"
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state  # deterministic; kept for a uniform interface

    @property
    def display_name(self) -> str:
        return "Reweighing"

    def fit(self, train: TabularDataset) -> Reweighing:
        check_training_data(train)
        s = train.s.to_numpy().astype(str)
        y = train.y
        n = len(y)
        rows = []
        for g in np.unique(s):
            for label in (0, 1):
                p_s = np.mean(s == g)
                p_y = np.mean(y == label)
                p_sy = np.sum((s == g) & (y == label)) / n
                w = p_s * p_y / p_sy if p_sy > 0 else 1.0
                rows.append({"group": g, "y": label, "weight": float(w)})
        self.weights_table_ = pd.DataFrame(rows)
        return self

    def weights_for(self, dataset: TabularDataset) -> np.ndarray:
        """The fitted weight of each row of ``dataset`` (by its (s, y) cell)."""
        self._check_fitted("weights_table_")
        lookup = {(r.group, int(r.y)): r.weight for r in self.weights_table_.itertuples()}
        s = dataset.s.to_numpy().astype(str)
        y = dataset.y
        w = np.array([lookup.get((g, int(label)), np.nan) for g, label in zip(s, y, strict=True)], dtype=float)
        unseen = np.isnan(w)
        if unseen.any():
            logger.info("reweighing: %d rows fall in (s, y) cells absent from train; weight 1",
                        int(unseen.sum()))
            w[unseen] = 1.0
        return w

    def transform(self, dataset: TabularDataset) -> TabularDataset:
        w = self.weights_for(dataset)
        if dataset.weights is not None:
            w = w * dataset.weights
        return dataset.replace(weights=w)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._check_fitted("weights_table_")
        return {"weights_table": self.weights_table_.to_dict(orient="list")}, {}

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        self.weights_table_ = pd.DataFrame(config["weights_table"])
