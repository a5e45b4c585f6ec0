"""Helpers shared by CLI commands: error reporting and rich tables."""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

# Expected failures: bad values and files (ValueError, KeyError, TypeError), files and folders
# that cannot be read or written (OSError: missing, a directory, read-only, disk full), SQLite
# files that are not databases, and sizes that do not fit in memory.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, TypeError, OSError,
                                                EOFError, sqlite3.Error, MemoryError)


def error_line(exc: BaseException) -> str:
    """One line saying what went wrong (no traceback, no newlines)."""
    if isinstance(exc, KeyError) and exc.args:
        msg = str(exc.args[0])
    elif isinstance(exc, OSError) and exc.strerror and getattr(exc, "filename", None):
        msg = f"{exc.strerror}: {exc.filename!r}"
    elif isinstance(exc, MemoryError):
        msg = str(exc) if str(exc) else "not enough memory for this size; ask for less"
    elif isinstance(exc, sqlite3.Error):
        msg = f"database error: {exc}"
    else:
        msg = str(exc) or type(exc).__name__
    return " ".join(msg.split())


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """The CLI's error boundary: an expected failure becomes one red line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            err_console.print("[bold red]error:[/] " + escape(error_line(exc)), markup=True,
                              highlight=False, soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def available_memory() -> int:
    """Bytes of memory available to this process now (Linux ``MemAvailable``; else total)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 1 << 62


# generating a row holds it several times at once: latent and decoded float32 matrices, the
# decoded frame, and the CSV text; this factor covers those copies
_COPIES = 6


def bytes_per_row(ds: Any) -> int:
    """Bytes one row of ``ds`` takes while being generated (tabular or image), estimated."""
    if getattr(ds, "kind", "tabular") == "image":
        c, h, w = ds.shape
        return 4 * c * h * w * _COPIES
    frame = ds.frame
    width = 0
    for col in frame.columns:  # encoded width: one-hot for categories, one column otherwise
        if col in getattr(ds, "categorical", ()):
            width += max(1, int(frame[col].nunique()))
        else:
            width += 1
    row = frame.memory_usage(deep=True, index=False).sum() / max(1, len(frame))
    return int(_COPIES * (4 * width + row))


def check_rows_fit(n: int, per_row: int, *, what: str) -> None:
    """Refuse a size that cannot fit in memory, saying how much it needs (MemoryError)."""
    need, have = n * per_row, available_memory()
    if need > have:
        raise MemoryError(f"{what} needs about {_gib(need)} of memory, {_gib(have)} is "
                          f"available; ask for fewer rows (at most about {have // per_row:,})")


def _gib(n: float) -> str:
    return f"{n / 1024**3:.1f} GiB" if n >= 1024**3 else f"{n / 1024**2:.0f} MiB"


def print_frame(frame: pd.DataFrame, title: str | None = None, floatfmt: str = "{:.3f}") -> None:
    """Print a DataFrame as a rich table (user strings are not interpreted as markup)."""
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left")
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(floatfmt.format(v))
            else:
                cells.append(str(v))
        table.add_row(*[c.replace("[", "\\[") for c in cells])
    console.print(table)
