"""fairx: fairness benchmarking and fair synthetic data.

``import fairx`` is light (numpy, pandas, scikit-learn); torch is imported only when a model
that needs it is used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .data import TabularDataset, load_dataset, train_test_split  # noqa: E402

__all__ = ["TabularDataset", "__version__", "evaluate", "explain", "load_dataset", "train_test_split"]


def __getattr__(name: str) -> Any:
    # Heavier entry points resolve on first use.
    if name == "evaluate":
        from .metrics import evaluate

        return evaluate
    if name == "explain":
        from .evaluation.explain import explain

        return explain
    raise AttributeError(f"module 'fairx' has no attribute {name!r}")
