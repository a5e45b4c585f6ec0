"""Training-loop helpers: early stopping and a rich progress bar that can be switched off."""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator

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


@contextlib.contextmanager
def progress(total: int, description: str, enabled: bool = True) -> Iterator:
    """Yield ``advance(**fields)``; shows a rich bar when ``enabled`` and a terminal is attached."""
    if not enabled:
        yield lambda *a, **k: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), TextColumn("{task.fields[info]}"), transient=True) as bar:
        task = bar.add_task(description, total=total, info="")

        def advance(info: str = "") -> None:
            bar.update(task, advance=1, info=info)

        yield advance
