"""MNIST in the IDX format: verified download (md5 of the uncompressed content) and reading."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
import zlib
from pathlib import Path

import numpy as np

from .._dataset import DatasetError
from .._download import RemoteFile, fetch_file

logger = logging.getLogger(__name__)


# MNIST: file name -> (md5 of the UNCOMPRESSED content, IDX magic, canonical URL).
# The offline train-images .gz was recompressed, so the .gz bytes are not checked.
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}


def _mnist_remote(filename: str) -> RemoteFile:
    return RemoteFile(relpath=f"mnist/{filename}", url=MNIST_URL + filename)


REMOTE_FILES = tuple(_mnist_remote(f) for f in MNIST_FILES)


def verify_files(paths) -> None:
    """Check the uncompressed md5 of downloaded MNIST files (the .gz bytes are not pinned)."""
    for path in paths:
        if Path(path).name in MNIST_FILES:
            read_idx(path, md5=MNIST_FILES[Path(path).name])


def read_idx(path: str | Path, *, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into a uint8 array; verify the md5 of the *uncompressed*
    bytes when ``md5`` is given (the gzip container may legitimately differ)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if md5 is not None:
        got = hashlib.md5(raw).hexdigest()
        if got != md5:
            raise DatasetError(
                f"{path}: uncompressed content md5 {got} != expected {md5}; the file is corrupt or "
                f"not the canonical MNIST file. Delete it and re-download from {MNIST_URL}")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - offset != count:
        raise DatasetError(f"{path}: header says {dims} ({count} bytes) but {len(raw) - offset} follow")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _mnist_path(filename: str) -> Path:
    """Cached path of an MNIST file (downloaded when missing). The .gz bytes are not pinned
    (mirrors recompress them); :func:`read_idx` checks the uncompressed md5 instead."""
    return fetch_file(_mnist_remote(filename))


def _read_mnist_file(filename: str) -> np.ndarray:
    """Read a cached MNIST file; a corrupt one (bad gzip, truncated, wrong md5) is reported,
    moved aside to ``<name>.corrupt`` and fetched again, like the tabular files."""
    path = _mnist_path(filename)
    try:
        return read_idx(path, md5=MNIST_FILES[filename])
    except (OSError, EOFError, zlib.error, DatasetError) as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
    bad = path.with_name(path.name + ".corrupt")
    logger.warning("cached MNIST file %s is corrupt (%s); moved to %s, fetching it again",
                   path, reason, bad)
    os.replace(path, bad)
    try:
        path = _mnist_path(filename)
        return read_idx(path, md5=MNIST_FILES[filename])
    except (OSError, EOFError, zlib.error, DatasetError) as exc:
        again = " ".join(str(exc).split())
        raise DatasetError(f"MNIST file {filename} was corrupt ({reason}; moved to {bad}) and "
                           f"fetching it again failed: {again}") from None


@functools.lru_cache(maxsize=4)
def _load_mnist_cached(folder: str, split: str, mtime: float) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    img_name, lab_name = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
    images = _read_mnist_file(img_name)
    labels = _read_mnist_file(lab_name)
    if len(images) != len(labels):
        raise DatasetError(f"MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Raw MNIST ``(images uint8 (N, 28, 28), labels uint8 (N,))`` of ``split`` ("train"/"test"),
    md5-verified (uncompressed content) and cached in memory."""
    if split not in ("train", "test"):
        raise DatasetError(f"split={split!r}: MNIST has 'train' and 'test'")
    prefix = "train" if split == "train" else "t10k"
    path = _mnist_path(f"{prefix}-images-idx3-ubyte.gz")
    return _load_mnist_cached(str(path.parent), split, path.stat().st_mtime)


# --------------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------------
