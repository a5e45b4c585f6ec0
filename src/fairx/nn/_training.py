"""Training-loop helpers: early stopping and a rich progress bar that can be switched off."""

from __future__ import annotations

import logging
import math

from ..progress import progress as _progress

logger = logging.getLogger(__name__)


class EarlyStopping:
    """Stop when ``value`` has not improved by ``min_delta`` for ``patience`` checks."""

    def __init__(self, patience: int | None = 20, min_delta: float = 0.0, mode: str = "min") -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = math.inf
        self.best_step = -1
        self.bad = 0

    def step(self, value: float, step: int = 0) -> bool:
        """Record a value; True when training should stop."""
        v = self.sign * float(value)
        if v < self.best - self.min_delta:
            self.best, self.best_step, self.bad = v, step, 0
            return False
        self.bad += 1
        return self.patience is not None and self.bad >= self.patience

    @property
    def improved_last(self) -> bool:
        return self.bad == 0


def progress(total: int, description: str, enabled: bool | None = None):
    """A bar over ``total`` steps (see :func:`fairx.progress.progress`); ``enabled=None`` shows
    it on a terminal unless fairx is quieted. Yields a callable ``advance(info="", **fields)``."""
    return _progress(total, description, verbose=enabled)
