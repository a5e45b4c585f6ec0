"""Custom tables: CSV and Parquet files -> :class:`TabularDataset` (no pickle formats).

The schema is inferred by :meth:`TabularDataset.from_frame` (non-numeric columns categorical;
``categorical=`` / ``numerical=`` override it); missing values are dropped or imputed there.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ._dataset import DatasetError, TabularDataset

_SNIFF_BYTES = 1 << 16
_DELIMITERS = ",;\t|"


def _check_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"file {str(p)!r} does not exist")
    if p.is_dir():
        raise DatasetError(f"{str(p)!r} is a directory, not a data file")
    if p.stat().st_size == 0:
        raise DatasetError(f"file {str(p)!r} is empty")
    return p


def _check_duplicates(columns: Sequence[Any], path: Path) -> None:
    cols = [str(c).strip() for c in columns]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DatasetError(f"file {str(path)!r} has duplicate column names {dup}; rename them")


def sniff_separator(path: str | os.PathLike[str], encoding: str | None = None) -> str:
    """The field separator of a delimited text file (one of ``, ; TAB |``); ``,`` if unsure."""
    with open(path, encoding=encoding or "utf-8-sig", errors="replace", newline="") as fh:
        sample = fh.read(_SNIFF_BYTES)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _build(frame: pd.DataFrame, *, path: Path, target: str, sensitive: str | Sequence[str],
           positive_label: Any, categorical: Sequence[str] | None, numerical: Sequence[str] | None,
           missing: Literal["drop", "impute"], name: str | None) -> TabularDataset:
    return TabularDataset.from_frame(
        frame, target=target, sensitive=sensitive, positive_label=positive_label,
        categorical=categorical, numerical=numerical, missing=missing,
        name=name or path.stem, meta={"source": str(path)})


def load_csv(
    path: str | os.PathLike[str],
    *,
    target: str,
    sensitive: str | Sequence[str],
    positive_label: Any = None,
    categorical: Sequence[str] | None = None,
    numerical: Sequence[str] | None = None,
    sep: str | None = None,
    missing: Literal["drop", "impute"] = "drop",
    na_values: Sequence[str] = ("", "?", "NA", "N/A", "NaN", "nan", "null"),
    encoding: str | None = None,
    name: str | None = None,
) -> TabularDataset:
    """Read a delimited text file with a header line.

    ``sep=None`` sniffs the separator (``,``, ``;``, tab or ``|``). ``na_values`` are read as
    missing; ``missing`` then drops (default) or imputes them (counts go to the log and ``meta``).
    """
    p = _check_path(path)
    enc = encoding or "utf-8-sig"
    try:
        sep = sep or sniff_separator(p, enc)
        with open(p, encoding=enc, newline="") as fh:
            header = next(csv.reader(fh, delimiter=sep), None)
        if not header or all(not h.strip() for h in header):
            raise DatasetError(f"file {str(p)!r} has no header line")
        _check_duplicates(header, p)
        frame = pd.read_csv(p, sep=sep, encoding=enc, na_values=list(na_values),
                            keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"file {str(p)!r} is not {enc} text ({exc.reason}); is it a CSV? "
                           "Pass encoding= or use load_parquet for Parquet files") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DatasetError(f"cannot read {str(p)!r} as CSV (sep={sep!r}): {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return _build(frame, path=p, target=target, sensitive=sensitive, positive_label=positive_label,
                  categorical=categorical, numerical=numerical, missing=missing, name=name)


def load_parquet(
    path: str | os.PathLike[str],
    *,
    target: str,
    sensitive: str | Sequence[str],
    positive_label: Any = None,
    categorical: Sequence[str] | None = None,
    numerical: Sequence[str] | None = None,
    missing: Literal["drop", "impute"] = "drop",
    name: str | None = None,
) -> TabularDataset:
    """Read a Parquet file (needs pyarrow); same schema options as :func:`load_csv`."""
    p = _check_path(path)
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is in the parquet/dev extras
        raise DatasetError("reading Parquet needs pyarrow: pip install 'fairx[parquet]'") from None
    try:
        schema = pq.read_schema(p)
        _check_duplicates(schema.names, p)
        frame = pq.read_table(p).to_pandas()
    except DatasetError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for non-Parquet input
        raise DatasetError(f"cannot read {str(p)!r} as Parquet: {exc}") from None
    return _build(frame, path=p, target=target, sensitive=sensitive, positive_label=positive_label,
                  categorical=categorical, numerical=numerical, missing=missing, name=name)


def load_file(path: str | os.PathLike[str], **kwargs: Any) -> TabularDataset:
    """:func:`load_parquet` for ``.parquet`` / ``.pq`` files, :func:`load_csv` otherwise."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        kwargs.pop("sep", None)
        return load_parquet(path, **kwargs)
    return load_csv(path, **kwargs)
