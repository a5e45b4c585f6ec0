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


_NA_VALUES = ("", "?", "NA", "N/A", "NaN", "nan", "null")
_MAGIC = {b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip archive",
          b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
          b"PAR1": "a Parquet file", b"\x1f\x8b": "a gzip archive"}


def _sniff_kind(p: Path) -> str | None:
    with open(p, "rb") as fh:
        head = fh.read(8)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def _utf8_hint(p: Path, exc: UnicodeDecodeError, enc: str) -> str:
    with open(p, "rb") as fh:
        data = fh.read(max(exc.start + 64, 4096)) if exc.start < (1 << 24) else b""
    if b"\x00" in data[:4096]:
        return f"file {str(p)!r} is binary, not CSV text"
    line = data[:exc.start].count(b"\n") + 1
    bad = exc.object[exc.start:exc.start + 1].hex() if exc.object else "?"
    return (f"file {str(p)!r} is not {enc} text (byte 0x{bad} on line {line}); it is probably "
            "latin-1 / cp1252: pass --encoding latin-1 (encoding= in Python)")


def read_frame(
    path: str | os.PathLike[str],
    *,
    sep: str | None = None,
    na_values: Sequence[str] = _NA_VALUES,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV (separator sniffed) or Parquet file into a raw DataFrame, with clear errors.

    The one reader behind every table fairx reads (``load_csv``, ``load_parquet``, spec
    datasets, ``fairx evaluate``, ``fairx explain``). ``na_values`` (default ``"", "?", "NA",
    …``) are read as missing. Refused with a message: an Excel workbook renamed ``.csv``, text
    that is not in ``encoding`` (UTF-8 by default; latin-1 files are named as such), duplicate
    column names and nested Parquet columns (struct, list or map).
    """
    p = _check_path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(p)
    kind = _sniff_kind(p)
    if kind is not None:
        raise DatasetError(f"file {str(p)!r} is {kind}, not CSV text; save it as CSV "
                           "(or Parquet) first")
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
        raise DatasetError(_utf8_hint(p, exc, "UTF-8" if enc.startswith("utf-8") else enc)) from None
    except LookupError:
        raise DatasetError(f"unknown text encoding {encoding!r}; e.g. utf-8, latin-1, cp1252") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        msg = " ".join(str(exc).split())
        raise DatasetError(f"cannot read {str(p)!r} as CSV (sep={sep!r}): {msg}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_parquet(p: Path) -> pd.DataFrame:
    try:  # pyarrow is an optional extra (parquet): imported where a Parquet file is read
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is in the parquet/dev extras
        raise DatasetError("reading Parquet needs pyarrow: pip install 'fairx[parquet]'") from None
    try:
        schema = pq.read_schema(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for non-Parquet input
        raise DatasetError(f"cannot read {str(p)!r} as Parquet: {exc}") from None
    _check_duplicates(schema.names, p)
    nested = [f"{f.name!r} ({f.type})" for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise DatasetError(f"file {str(p)!r}: column {', '.join(nested)} is nested (struct, list "
                           "or map); fairx reads flat tables: flatten or drop it first")
    try:
        return pq.read_table(p).to_pandas()
    except Exception as exc:  # noqa: BLE001 - corrupt pages raise several arrow types
        raise DatasetError(f"cannot read {str(p)!r} as Parquet: {exc}") from None


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
    na_values: Sequence[str] = _NA_VALUES,
    encoding: str | None = None,
    name: str | None = None,
) -> TabularDataset:
    """Read a delimited text file with a header line.

    ``sep=None`` sniffs the separator (``,``, ``;``, tab or ``|``). ``na_values`` are read as
    missing; ``missing`` then drops (default) or imputes them (counts go to the log and ``meta``).
    ``encoding`` defaults to UTF-8 (e.g. ``"latin-1"`` for older exports).
    """
    p = _check_path(path)
    frame = read_frame(p, sep=sep, na_values=na_values, encoding=encoding)
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
    frame = _read_parquet(p)
    return _build(frame, path=p, target=target, sensitive=sensitive, positive_label=positive_label,
                  categorical=categorical, numerical=numerical, missing=missing, name=name)


def load_file(path: str | os.PathLike[str], **kwargs: Any) -> TabularDataset:
    """:func:`load_parquet` for ``.parquet`` / ``.pq`` files, :func:`load_csv` otherwise."""
    if Path(path).suffix.lower() in (".parquet", ".pq"):
        for text_only in ("sep", "encoding", "na_values"):
            kwargs.pop(text_only, None)
        return load_parquet(path, **kwargs)
    return load_csv(path, **kwargs)
