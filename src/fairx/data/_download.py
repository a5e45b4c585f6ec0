"""A verified download cache for dataset files.

Every file lives at ``<data_home>/<dataset_dir>/<original file name>`` (the layout of the offline
copies, so ``FAIRX_DATA_HOME=../shared/datasets`` works with no network). ``fetch_file`` returns
the cached path after checking its pinned SHA-256; a missing file is downloaded (progress bar,
temporary file, atomic rename); a cached file whose hash does not match is reported and fetched
again, never used. When the download fails the error says which file to put where.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..progress import progress as progress_bar
from ._dataset import DatasetError

logger = logging.getLogger(__name__)

ENV_VAR = "FAIRX_DATA_HOME"
_CHUNK = 1 << 16
_TIMEOUT_S = 60
# (path, size, mtime_ns) -> digest already verified in this process (hashing again is wasted work)
_VERIFIED: dict[tuple[str, int, int, str], str] = {}


@dataclass(frozen=True)
class RemoteFile:
    """A file of a dataset: where it lives in the cache, where it comes from, its checksum.

    ``relpath`` is ``"<dataset_dir>/<file name>"``; ``sha256`` (preferred) or ``md5`` pins the
    content; a file with neither is accepted as downloaded (only for API metadata). When
    ``member`` is set, ``url`` is a zip archive and the file is that member of it.
    """

    relpath: str
    url: str
    sha256: str | None = None
    md5: str | None = None
    member: str | None = None

    @property
    def filename(self) -> str:
        return Path(self.relpath).name


def data_home(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache root: ``path`` if given, else ``$FAIRX_DATA_HOME``, else the user cache dir."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    # heavy (pooch): loaded when used; `import fairx` stays light
    import pooch

    return Path(pooch.os_cache("fairx"))


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _expected(remote: RemoteFile) -> tuple[str, str] | None:
    if remote.sha256:
        return "sha256", remote.sha256.lower()
    if remote.md5:
        return "md5", remote.md5.lower()
    return None


def _matches(path: Path, remote: RemoteFile) -> tuple[bool, str]:
    """(hash ok, actual digest); memoised on path, size and mtime."""
    exp = _expected(remote)
    if exp is None:
        return True, ""
    algo, want = exp
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, algo)
    got = _VERIFIED.get(key)
    if got is None:
        got = file_hash(path, algo)
        if got == want:
            _VERIFIED[key] = got
    return got == want, got


def _where_hint(target: Path, remote: RemoteFile) -> str:
    exp = _expected(remote)
    digest = f" ({exp[0]} {exp[1]})" if exp else ""
    what = f"{remote.member} from the archive {remote.url}" if remote.member else remote.url
    return (f"Download {what} by hand and put it at {target}{digest}, or set "
            f"{ENV_VAR} to a folder that holds {remote.relpath}.")


def _download(url: str, dest: Path, *, progress: bool | None, label: str,
              member: str | None = None) -> Path:
    """Stream ``url`` into a temporary file next to ``dest`` (for an archive, extract ``member``
    into it) and return that file; on failure nothing is left behind. The caller verifies it
    and renames it into place, so ``dest`` never holds a partial or unverified file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    archive = tmp.with_name(tmp.name + ".zip") if member else None
    try:
        with os.fdopen(fd, "wb") as out:
            sink = open(archive, "wb") if archive else out  # noqa: SIM115 (closed below)
            try:
                req = urllib.request.Request(url, headers={"User-Agent": "fairx"})
                with urllib.request.urlopen(req, timeout=_TIMEOUT_S) as resp:  # noqa: S310
                    total = resp.headers.get("Content-Length")
                    total = int(total) if total and total.isdigit() else None
                    written = _copy(resp, sink, total, label, progress)
                    if total is not None and written != total:
                        raise OSError(f"incomplete download: got {written} of {total} bytes")
            finally:
                if archive:
                    sink.close()
            if archive:
                _extract(archive, member, out)
        return tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if archive:
            archive.unlink(missing_ok=True)


def _extract(archive: Path, member: str, out) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            match = [n for n in names if n == member or n.endswith("/" + member)]
            if not match:
                raise ValueError(f"the archive has no member {member!r}; it holds {names[:20]}")
            with zf.open(match[0]) as src:
                shutil.copyfileobj(src, out, _CHUNK)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"not a zip archive ({exc})") from None


def _copy(src, out, total: int | None, label: str, progress: bool | None) -> int:
    """Copy in chunks (with a byte progress bar, see :mod:`fairx.progress`); the byte count."""
    written = 0
    with progress_bar(total, f"downloading {label}", verbose=progress, download=True) as bar:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            out.write(chunk)
            written += len(chunk)
            bar.advance(len(chunk))
    return written


def _prune_empty_dirs(folder: Path, stop: Path) -> None:
    """Remove the empty folders a failed download created, up to (not including) ``stop``."""
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or not ours to remove
            return
        folder = folder.parent


def fetch_file(
    remote: RemoteFile,
    *,
    home: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool | None = None,
) -> Path:
    """The verified local path of ``remote``, downloading it into the cache when needed.

    Parameters
    ----------
    remote : the file (cache path, URL, pinned hash).
    home : cache root (default :func:`data_home`).
    download : when False a missing or corrupted file raises instead of being fetched.
    progress : show a progress bar (None: on a terminal, unless quieted; see
        :mod:`fairx.progress`).

    Raises
    ------
    DatasetError : the file is missing and cannot be downloaded, or the download does not
        match the pinned hash; the message names the full target path and the URL.
    """
    target = data_home(home) / remote.relpath
    if target.is_file():
        ok, got = _matches(target, remote)
        if ok:
            return target
        algo, want = _expected(remote)  # type: ignore[misc]
        logger.warning("cached file %s fails its %s check (expected %s, got %s); fetching it again",
                       target, algo, want, got)
        if not download:
            raise DatasetError(f"cached file {target} is corrupted ({algo} {got}, expected {want}) "
                               f"and download=False. {_where_hint(target, remote)}")
    elif not download:
        raise DatasetError(f"dataset file {remote.relpath} is not in the cache and download=False. "
                           f"{_where_hint(target, remote)}")
    logger.info("downloading %s -> %s", remote.url, target)
    try:
        tmp = _download(remote.url, target, progress=progress, label=remote.filename,
                        member=remote.member)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        _prune_empty_dirs(target.parent, data_home(home))
        raise DatasetError(f"could not download {remote.relpath} from {remote.url} ({reason}). "
                           f"{_where_hint(target, remote)}") from None
    exp = _expected(remote)
    got = file_hash(tmp, exp[0]) if exp else ""
    if exp and got != exp[1]:
        bad = target.with_name(target.name + ".corrupt")
        os.replace(tmp, bad)
        raise DatasetError(f"downloaded {remote.url} but its {exp[0]} is {got}, expected {exp[1]}; "
                           f"kept it as {bad} for inspection and did not use it. "
                           f"{_where_hint(target, remote)}")
    os.replace(tmp, target)
    return target
