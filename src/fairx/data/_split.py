"""Seeded splits stratified by target and sensitive attribute(s)."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.model_selection import train_test_split as _sk_split

from ._dataset import TabularDataset

logger = logging.getLogger(__name__)


def train_test_split(
    dataset: TabularDataset, *, test_size: float = 0.3, seed: int = 0, stratify: bool = True
) -> tuple[TabularDataset, TabularDataset]:
    """Split rows into train and test, stratified by (target, sensitive groups).

    When some (target, group) stratum is too small to appear on both sides, the split falls back
    to stratifying by the target alone (logged).
    """
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size={test_size}; it must lie strictly between 0 and 1")
    rows = np.arange(len(dataset))
    strata = None
    if stratify:
        key = dataset.s.to_numpy().astype(str).astype(object) + "#" + dataset.y.astype(str)
        _, counts = np.unique(key, return_counts=True)
        n_test = int(np.ceil(test_size * len(rows)))
        if counts.min() >= 2 and len(counts) <= min(n_test, len(rows) - n_test):
            strata = key
        else:
            logger.info("stratifying by target only: some (target, group) stratum is too small")
            strata = dataset.y
    train_rows, test_rows = _sk_split(rows, test_size=test_size, random_state=seed, stratify=strata)
    return dataset.subset(np.sort(train_rows)), dataset.subset(np.sort(test_rows))
