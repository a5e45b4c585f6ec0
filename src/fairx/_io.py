"""Safe output files: one atomic-write helper for every file fairx writes, and up-front checks.

Every writer (CSV, Parquet, npz, PNG, JSON, HTML, exports, saved models) writes to a temporary
name beside the target and renames it into place (``os.replace``) after an ``fsync``, so a run
killed mid-write leaves either the old file or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pandas as pd


class OutputError(ValueError):
    """An output path that cannot be written (a directory, a parent that is a file, read-only)."""


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success move it into place.

    The caller writes the whole file to the yielded path (any library, any format: the suffix is
    kept so ``savefig`` and friends pick the right format). On leaving the block the file is
    fsynced and renamed over ``path`` in one step; on an exception it is removed and ``path`` is
    left untouched.
    """
    target = Path(path)
    check_output(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if target.exists():  # keep the permissions of the file being replaced
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode(encoding))


def check_output(path: str | os.PathLike[str], *, what: str = "output",
                 inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Check, before any work, that ``path`` can be written as a file; raise :class:`OutputError`.

    Refused: an existing directory, a parent that is a file, a folder we may not write to, and
    any of ``inputs`` (an output must never overwrite the data it was made from).
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise OutputError(f"{what} {str(p)!r} is a directory; give a file name")
    for src in inputs:
        with contextlib.suppress(OSError):
            if Path(src).exists() and p.exists() and os.path.samefile(src, p):
                raise OutputError(f"{what} {str(p)!r} is one of the inputs; refusing to overwrite "
                                  "it (choose another file name)")
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{what} {str(p)!r}: {str(parent)!r} is a file, not a folder")
    _probe(parent, p, what)
    return p


def check_output_dir(path: str | os.PathLike[str], *, what: str = "output folder") -> Path:
    """Check that ``path`` is (or can become) a writable folder; raise :class:`OutputError`."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {str(p)!r} is a file, not a folder")
    parent = p
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{what} {str(p)!r}: {str(parent)!r} is a file, not a folder")
    _probe(parent, p, what)
    return p


def _probe(folder: Path, target: Path, what: str) -> None:
    """Create and remove a scratch file in ``folder``: the only test a read-only mount cannot fool."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OutputError(f"{what} {str(target)!r}: cannot write in {str(folder)!r} "
                          f"({exc.strerror or exc})") from None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading
    apostrophe (OWASP's CSV-injection advice); numbers are left as they are, so ``-0.05``
    stays a number.
    """
    out = frame.copy()
    out.columns = [_neutralise(c) if isinstance(c, str) else c for c in out.columns]
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[col] = series.map(lambda v: _neutralise(v) if isinstance(v, str) else v)
    return out


def _neutralise(text: str) -> str:
    if text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text
