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

from ..benchmark._metric_names import COUNT_METRICS

# soft_wrap: a printed line is never broken by rich (the terminal wraps it), so a long path in
# "wrote …" or "german: …/german.data (verified)" stays one line that can be copied or grepped;
# tables are still laid out to the terminal width.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

# Expected failures: bad values and files (ValueError, KeyError, TypeError), files and folders
# that cannot be read or written (OSError: missing, a directory, read-only, disk full), SQLite
# files that are not databases, and sizes that do not fit in memory.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, TypeError, OSError,
                                                EOFError, sqlite3.Error, MemoryError,
                                                ConnectionError)


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


_WRAP_AT = 28


def _cell_text(v: Any, floatfmt: str, as_int: bool) -> str:
    if isinstance(v, float):
        if v != v:  # NaN
            return "–"
        return f"{v:,.0f}" if as_int else floatfmt.format(v)
    return str(v)


def column_chunks(widths: dict[str, int], fixed: list[str], total: int) -> list[list[str]]:
    """Split the non-fixed columns into runs that, with the ``fixed`` columns in front, fit in
    ``total`` characters (a rich table spends 3 characters per column and 1 for the border).
    A column too wide on its own gets a run of its own."""
    def cost(cols: list[str]) -> int:
        return 1 + sum(widths[c] + 3 for c in cols)

    chunks: list[list[str]] = []
    current: list[str] = []
    for col in [c for c in widths if c not in fixed]:
        if current and cost(fixed + current + [col]) > total:
            chunks.append(current)
            current = []
        current.append(col)
    if current or not chunks:
        chunks.append(current)
    return chunks


def print_frame(frame: pd.DataFrame, title: str | None = None, floatfmt: str = "{:.3f}",
                fixed: int | list[str] = 1, integer: tuple[str, ...] = ("n", "size", "unique")) -> None:
    """Print a DataFrame as rich table(s) that fit the terminal: when the columns do not fit,
    the first ``fixed`` columns (or the named ones) repeat in front of each further table.
    Cells are never cut; float columns named in ``integer`` print without decimals. User
    strings are not interpreted as markup."""

    cols = [str(c) for c in frame.columns]
    ints = {c for c in cols if c in integer or c in COUNT_METRICS}
    text = {c: [_cell_text(v, floatfmt, c in ints) for v in frame.iloc[:, i]]
            for i, c in enumerate(cols)}
    full = {c: max([len(c), *(len(t) for t in text[c])]) for c in cols}
    # long free text (descriptions) may wrap; numbers and short labels never do
    wraps = {c for c in cols if full[c] > _WRAP_AT}
    widths = {c: min(full[c], _WRAP_AT) for c in cols}
    fixed_cols = cols[:fixed] if isinstance(fixed, int) else [c for c in fixed if c in cols]
    chunks = column_chunks(widths, fixed_cols, max(40, console.width))
    for k, chunk in enumerate(chunks):
        part_title = title
        if title and len(chunks) > 1:
            part_title = f"{title} ({k + 1}/{len(chunks)})"
        if part_title:  # a line of its own: a narrow table would wrap a long title
            console.print(f"[bold]{escape(part_title)}[/]", highlight=False)
        table = Table(show_lines=False)
        shown = fixed_cols + chunk
        for col in shown:
            numeric = pd.api.types.is_numeric_dtype(frame[col]) if col in frame else False
            table.add_column(col, justify="right" if numeric else "left",
                             no_wrap=col not in wraps, min_width=widths[col], overflow="fold")
        for i in range(len(frame)):
            table.add_row(*[text[c][i].replace("[", "\\[") for c in shown])
        console.print(table)
