"""Progress bars for long work: benchmark cells, training epochs, metric passes, downloads.

One rich display per process. A bar opened while another is shown becomes one more line of the
same display (a training bar under the benchmark bar), and the inner line disappears when its
work is done. Whether a bar is shown:

- ``verbose=True`` / ``False`` (every public entry point takes ``verbose=``) decides;
- ``verbose=None`` (the default) follows the innermost :func:`verbosity` block (an entry
  point's own ``verbose=``, ``fairx --quiet``), else shows bars only when stdout is a
  terminal, so CI logs and pipes stay readable.

Training loops hook in with one line::

    with progress(epochs, "TabFairGAN", verbose=self.verbose) as bar:
        for epoch in range(epochs):
            ...
            bar.advance(loss=float(loss))
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

__all__ = ["Bar", "is_enabled", "progress", "quiet", "set_verbosity", "uses_verbosity",
           "verbosity"]

F = TypeVar("F", bound=Callable[..., Any])

_MODE: contextvars.ContextVar[bool | None] = contextvars.ContextVar("fairx_progress", default=None)
_LOCK = threading.Lock()
_LIVE: dict[str, Any] = {"progress": None}


def is_enabled(verbose: bool | None = None) -> bool:
    """True when a bar should be drawn: ``verbose`` if given, else the innermost
    :func:`verbosity` setting, else whether stdout is a terminal."""
    if verbose is not None:
        return bool(verbose)
    mode = _MODE.get()
    if mode is not None:
        return mode
    stream = sys.stdout
    return bool(getattr(stream, "isatty", None) and stream.isatty())


@contextlib.contextmanager
def verbosity(verbose: bool | None) -> Iterator[None]:
    """Within the block, bars whose own ``verbose`` is None are shown (True), hidden (False) or
    left to the terminal test (None: no change)."""
    if verbose is None:
        yield
        return
    token = _MODE.set(bool(verbose))
    try:
        yield
    finally:
        _MODE.reset(token)


def quiet() -> contextlib.AbstractContextManager[None]:
    """Within the block, bars whose own ``verbose`` is None stay hidden."""
    return verbosity(False)


def set_verbosity(verbose: bool | None) -> None:
    """Show / hide / auto for the rest of this context; the CLI calls it once for ``--quiet``."""
    _MODE.set(verbose)


def uses_verbosity(func: F) -> F:
    """Decorator for public entry points with a ``verbose=`` keyword: the call runs under
    :func:`verbosity` of that value, so every bar inside (training, metric passes) follows it."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with verbosity(kwargs.get("verbose")):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


class Bar:
    """One line of the display. ``advance`` moves it on; keyword fields (``loss=0.12``,
    ``failed=1``) are shown after the bar. A disabled bar does nothing."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress = progress
        self._task = task
        self._fields: dict[str, Any] = {}

    @property
    def enabled(self) -> bool:
        return self._progress is not None

    def advance(self, n: float = 1, **fields: Any) -> None:
        """Add ``n`` done units and update the shown fields."""
        if self._progress is None:
            return
        self._fields.update(fields)
        self._progress.update(self._task, advance=n, info=self._info())

    def update(self, **fields: Any) -> None:
        """Change the shown fields without moving the bar."""
        self.advance(0, **fields)

    def note(self, text: str, style: str = "red") -> None:
        """Print ``text`` on its own line above the display (never glued to a bar)."""
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, style=style)

    def set_total(self, total: float | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def _info(self) -> str:
        text = "  ".join(_fmt(v) if k == "info" else f"{k.replace('_', ' ')} {_fmt(v)}"
                         for k, v in self._fields.items() if v is not None)
        return text.replace("[", "\\[")

    # the training loops written before this module call ``advance(info="...")``
    def __call__(self, info: str = "", **fields: Any) -> None:
        if info:
            fields["info"] = info
        self.advance(1, **fields)


def _new_display(download: bool) -> Any:

    counts = (DownloadColumn(), TransferSpeedColumn()) if download else (MofNCompleteColumn(),)
    return Progress(TextColumn("{task.description}"), BarColumn(), *counts, TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                    transient=False)


@contextlib.contextmanager
def progress(total: float | None, description: str, *, verbose: bool | None = None,
             download: bool = False) -> Iterator[Bar]:
    """A progress bar for ``total`` units of work (``None``: unknown); yields a :class:`Bar`.

    Parameters
    ----------
    total : units of work (epochs, cells, passes, bytes), or None when unknown.
    description : what is being done, shown left of the bar.
    verbose : True / False to force; None (default) shows it only on a terminal, not quieted.
    download : the units are bytes (a download): show sizes and speed instead of counts.

    Returns
    -------
    A context manager yielding the :class:`Bar`; the bar is removed from an outer display (or
    the display closed) when the block ends, also on errors.
    """
    if not is_enabled(verbose):
        yield Bar()
        return
    with _LOCK:
        outer = _LIVE["progress"] is not None
        if not outer:
            _LIVE["progress"] = _new_display(download)
            _LIVE["progress"].start()
        display = _LIVE["progress"]
        task = display.add_task(description, total=total, info="")
    try:
        yield Bar(display, task)
    finally:
        with _LOCK:
            if outer:
                display.remove_task(task)  # inner work done: keep the outer lines only
            else:
                display.stop()
                _LIVE["progress"] = None
