"""fairx: fairness benchmarking and fair synthetic data.

``import fairx`` is light (numpy, pandas, scikit-learn); torch is imported only when a model
that needs it is used.
"""

from __future__ import annotations

from ._version import __version__
from .data import TabularDataset, load_dataset, train_test_split
from .evaluation.explain import explain
from .metrics import evaluate

__all__ = ["TabularDataset", "__version__", "evaluate", "explain", "load_dataset", "train_test_split"]

