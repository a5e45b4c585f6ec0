"""Kept for users' imports: the evaluation protocol lives in :mod:`fairx.evaluation.protocol`."""

from .evaluation.protocol import (
    MethodResult,
    evaluate_method,
    mean_std_table,
    summarize,
)
from .metrics import headline_fairness

__all__ = ["MethodResult", "evaluate_method", "headline_fairness", "mean_std_table", "summarize"]
