"""Helpers shared by CLI commands: error reporting and rich tables."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, FileNotFoundError, TypeError)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected user errors into a one-line message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            err_console.print(f"[bold red]error:[/] {msg}", markup=True, highlight=False)
            raise typer.Exit(code=2) from None

    return wrapper


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
