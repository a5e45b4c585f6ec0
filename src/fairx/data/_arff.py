"""A small reader for dense ARFF files (Weka / OpenML); no extra dependency.

Nominal and string attributes become ``str`` columns, numeric ones numbers; ``?`` is missing.
Sparse ARFF (``{i v, ...}`` rows) is not supported and says so.
"""

from __future__ import annotations

import io
import os
import re
import shlex

import pandas as pd

from ._dataset import DatasetError

_NUMERIC = {"numeric", "real", "integer"}


def _parse_attribute(line: str, path: str) -> tuple[str, str]:
    rest = line.strip()[len("@attribute"):].strip()
    if rest[:1] in "'\"":
        quote = rest[0]
        end = rest.index(quote, 1)
        name, kind = rest[1:end], rest[end + 1:].strip()
    else:
        parts = rest.split(None, 1)
        if len(parts) != 2:
            raise DatasetError(f"{path}: cannot parse ARFF attribute line {line.strip()!r}")
        name, kind = parts
    if kind.startswith("{"):
        return name, "nominal"
    base = kind.split()[0].lower()
    if base in _NUMERIC:
        return name, "numeric"
    if base in ("string", "date"):
        return name, "string"
    raise DatasetError(f"{path}: unsupported ARFF attribute type {kind!r} for {name!r}")


def nominal_values(line: str) -> list[str]:
    """The values of a ``{a, b, 'c d'}`` nominal declaration."""
    body = line[line.index("{") + 1: line.rindex("}")]
    lexer = shlex.shlex(body, posix=True)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    return [v.strip() for v in lexer]


def read_arff(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """(frame, {column: "nominal" | "numeric" | "string"}) of a dense ARFF file."""
    path = str(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError as exc:
        raise DatasetError(f"cannot read ARFF file {path}: {exc}") from None
    match = re.search(r"^\s*@data\s*$", text, flags=re.IGNORECASE | re.MULTILINE)
    if match is None:
        raise DatasetError(f"{path} is not an ARFF file (no @data line)")
    kinds: dict[str, str] = {}
    for line in text[: match.start()].splitlines():
        if line.strip().lower().startswith("@attribute"):
            name, kind = _parse_attribute(line, path)
            if name in kinds:
                raise DatasetError(f"{path}: duplicate ARFF attribute {name!r}")
            kinds[name] = kind
    if not kinds:
        raise DatasetError(f"{path}: no @attribute lines")
    body = text[match.end():]
    first = next((ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("%")), "")
    if first.startswith("{"):
        raise DatasetError(f"{path}: sparse ARFF is not supported")
    quote = '"' if ('"' in body and "'" not in body) else "'"
    names = list(kinds)
    try:
        frame = pd.read_csv(
            io.StringIO(body), header=None, names=names, quotechar=quote, comment="%",
            na_values=["?"], keep_default_na=False, skipinitialspace=True, skip_blank_lines=True,
            dtype={n: str for n, k in kinds.items() if k != "numeric"},
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot parse the ARFF data section: {exc}") from None
    return frame, kinds
