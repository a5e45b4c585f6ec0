"""Image datasets (methods.md §9): `ImageDataset`, Colored MNIST, CelebA and a tiny built-in set.

Images are float32 arrays ``(N, C, H, W)`` in [0, 1]. Large sets are *lazy*: the dataset holds an
:class:`ImageSource` that builds or reads the requested rows on access (Colored MNIST keeps the grey
digits as uint8 plus one colour per row; CelebA reads the JPEG files), so 200k faces never sit in
memory at once. No torch here: models convert batches themselves.

Colour bias (Colored MNIST and ``digits_colored``): every target class ``k`` owns a palette
colour. With probability ``bias`` a digit is painted in its class colour, otherwise in a colour
drawn uniformly from the whole palette, so ``P(colour = class colour) = bias + (1 - bias) / K``
and ``bias = 0`` makes colour independent of the label. With ``sd`` set, the painted colour is the
palette colour plus Gaussian jitter of standard deviation ``sd`` per RGB channel (clipped to
[0, 1]), the variant of Kim et al. 2019 / Lee et al. 2021 used in FLDGM's Table 2 (train with
``bias=1``, test with ``bias=0``). ``s`` is the palette index, never the jittered value.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._dataset import DatasetError
from ._download import RemoteFile, fetch_file
from ._download import data_home as _home

logger = logging.getLogger(__name__)

#: RGB palette of the colour-biased sets (index = colour group = class tied to it).
PALETTE = np.array([
    [0.90, 0.10, 0.10],  # red
    [0.10, 0.80, 0.10],  # green
    [0.15, 0.25, 0.95],  # blue
    [0.95, 0.85, 0.10],  # yellow
    [0.85, 0.15, 0.85],  # magenta
    [0.10, 0.85, 0.85],  # cyan
    [1.00, 0.55, 0.05],  # orange
    [0.55, 0.25, 0.05],  # brown
    [0.55, 0.55, 0.55],  # grey
    [1.00, 1.00, 1.00],  # white
], dtype=np.float32)
COLOUR_NAMES = ("red", "green", "blue", "yellow", "magenta", "cyan", "orange", "brown", "grey",
                "white")

# MNIST: file name -> (md5 of the UNCOMPRESSED content, IDX magic, canonical URL).
# The offline train-images .gz was recompressed, so the .gz bytes are not checked.
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}

CELEBA_URLS = (
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive: Img/img_align_celeba.zip, "
    "Anno/list_attr_celeba.txt, Eval/list_eval_partition.txt)"
)


# --------------------------------------------------------------------------------------------
# lazy image sources
# --------------------------------------------------------------------------------------------
class ImageSource:
    """Builds images on request: ``load(rows) -> float32 (k, C, H, W)``; ``take(rows)`` subsets."""

    shape: tuple[int, int, int]

    def __len__(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def load(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def take(self, rows: np.ndarray) -> ImageSource:  # pragma: no cover - interface
        raise NotImplementedError


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) linear resampling matrix: area averaging when shrinking, bilinear when
    enlarging (pixel centres aligned, like ``align_corners=False``)."""
    if n_in == n_out:
        return np.eye(n_in, dtype=np.float32)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    scale = n_in / n_out
    if n_out < n_in:  # box filter: overlap of output cell [i*scale, (i+1)*scale) with each input
        for i in range(n_out):
            lo, hi = i * scale, (i + 1) * scale
            for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
                m[i, j] = min(hi, j + 1) - max(lo, j)
        m /= m.sum(axis=1, keepdims=True)
    else:
        centres = (np.arange(n_out) + 0.5) * scale - 0.5
        centres = np.clip(centres, 0, n_in - 1)
        lo = np.floor(centres).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        w = centres - lo
        m[np.arange(n_out), lo] += 1 - w
        m[np.arange(n_out), hi] += w
    return m.astype(np.float32)


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize ``(..., H, W)`` arrays to ``(..., size, size)`` with separable linear resampling."""
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images.astype(np.float32, copy=False)
    rh, rw = _resize_matrix(h, size), _resize_matrix(w, size)
    out = np.einsum("ih,...hw,jw->...ij", rh, images.astype(np.float32), rw, optimize=True)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


class ColoredSource(ImageSource):
    """Grey images (uint8, (N, H, W)) painted per row with an RGB colour, resized on access."""

    def __init__(self, grey: np.ndarray, colours: np.ndarray, size: int) -> None:
        self.grey = grey
        self.colours = colours.astype(np.float32)
        self.size = int(size)
        self.shape = (3, self.size, self.size)

    def __len__(self) -> int:
        return len(self.grey)

    def load(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows)
        grey = self.grey[rows].astype(np.float32) / 255.0
        grey = resize_images(grey, self.size)
        return (grey[:, None, :, :] * self.colours[rows][:, :, None, None]).astype(np.float32)

    def take(self, rows: np.ndarray) -> ColoredSource:
        rows = np.asarray(rows)
        return ColoredSource(self.grey[rows], self.colours[rows], self.size)


class FileSource(ImageSource):
    """Image files read on access: RGB, centre-cropped to a square, resized to ``size``."""

    def __init__(self, paths: Sequence[str | Path], size: int) -> None:
        self.paths = [str(p) for p in paths]
        self.size = int(size)
        self.shape = (3, self.size, self.size)

    def __len__(self) -> int:
        return len(self.paths)

    def _read(self, path: str) -> np.ndarray:
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - Pillow ships with matplotlib
            raise DatasetError("reading image files needs Pillow (pip install pillow)") from None
        try:
            with Image.open(path) as im:
                im = im.convert("RGB")
                w, h = im.size
                side = min(w, h)
                left, top = (w - side) // 2, (h - side) // 2
                im = im.crop((left, top, left + side, top + side))
                im = im.resize((self.size, self.size), Image.Resampling.BILINEAR, reducing_gap=2.0)
                arr = np.asarray(im, dtype=np.float32) / 255.0
        except FileNotFoundError:
            raise DatasetError(f"image file {path} is missing") from None
        return arr.transpose(2, 0, 1)

    def load(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows))
        out = np.empty((len(rows), *self.shape), dtype=np.float32)
        for k, r in enumerate(rows):
            out[k] = self._read(self.paths[int(r)])
        return out

    def take(self, rows: np.ndarray) -> FileSource:
        return FileSource([self.paths[int(r)] for r in np.asarray(rows)], self.size)


# --------------------------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------------------------
@dataclass
class ImageDataset:
    """Images ``(N, C, H, W)`` in [0, 1] with integer target ``y`` and sensitive group ``s``.

    ``images`` is an ndarray or a lazy :class:`ImageSource`; use :meth:`get_images` /
    :meth:`batches` for rows and :meth:`to_numpy` only for small sets. ``ds[i]`` gives
    ``(image, y, s)`` like a torch ``Dataset``. ``classes`` and ``groups`` name the values of
    ``y`` and ``s``.
    """

    images: np.ndarray | ImageSource
    y: np.ndarray
    s: np.ndarray
    classes: tuple[str, ...]
    groups: tuple[str, ...]
    target: str = "label"
    sensitive: str = "group"
    name: str = "images"
    meta: dict[str, Any] = field(default_factory=dict)

    kind = "image"

    def __post_init__(self) -> None:
        if isinstance(self.images, np.ndarray):
            if self.images.ndim != 4:
                raise DatasetError(
                    f"images must have shape (N, C, H, W); got {self.images.shape}")
            self.images = self.images.astype(np.float32, copy=False)
            if self.images.size and (self.images.min() < 0 or self.images.max() > 1):
                raise DatasetError("image values must lie in [0, 1]; scale them first")
        elif not isinstance(self.images, ImageSource):
            raise DatasetError(f"images must be an ndarray or ImageSource, not {type(self.images)}")
        n = len(self.images)
        self.y = np.asarray(self.y, dtype=np.int64).reshape(-1)
        self.s = np.asarray(self.s, dtype=np.int64).reshape(-1)
        self.classes, self.groups = tuple(self.classes), tuple(self.groups)
        for label, values, names in (("y", self.y, self.classes), ("s", self.s, self.groups)):
            if len(values) != n:
                raise DatasetError(f"{label} has {len(values)} entries but there are {n} images")
            if n and (values.min() < 0 or values.max() >= len(names)):
                raise DatasetError(
                    f"{label} values must be 0..{len(names) - 1} (names {names}); "
                    f"got {values.min()}..{values.max()}")

    # ---- basic protocol ----
    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int, int]:
        return self.get_images(np.array([i]))[0], int(self.y[i]), int(self.s[i])

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(self.images.shape[1:]) if isinstance(self.images, np.ndarray) \
            else tuple(self.images.shape)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def is_lazy(self) -> bool:
        return not isinstance(self.images, np.ndarray)

    def get_images(self, rows: np.ndarray | Sequence[int] | slice) -> np.ndarray:
        """Float32 images of the given rows, ``(k, C, H, W)``."""
        if isinstance(rows, slice):
            rows = np.arange(len(self))[rows]
        rows = np.asarray(rows, dtype=np.int64)
        if isinstance(self.images, np.ndarray):
            return self.images[rows]
        return self.images.load(rows)

    def to_numpy(self, max_bytes: int = 2 * 1024**3) -> np.ndarray:
        """All images as one array (refuses above ``max_bytes``; use :meth:`batches`)."""
        if isinstance(self.images, np.ndarray):
            return self.images
        need = len(self) * int(np.prod(self.shape)) * 4
        if need > max_bytes:
            raise MemoryError(
                f"{self.name}: {len(self)} images need {need / 1e9:.1f} GB; use batches() or "
                "subset() instead of to_numpy()")
        return self.get_images(np.arange(len(self)))

    def batches(self, batch_size: int = 256, *, shuffle: bool = False, seed: int | None = None
                ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(images, y, s)`` batches (seeded order when ``shuffle``)."""
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else np.arange(len(self))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            yield self.get_images(rows), self.y[rows], self.s[rows]

    # ---- derived datasets ----
    def replace(self, **changes: Any) -> ImageDataset:
        return dataclasses.replace(self, **changes)

    def subset(self, rows: np.ndarray | Sequence[int]) -> ImageDataset:
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        images = self.images[rows] if isinstance(self.images, np.ndarray) else self.images.take(rows)
        return self.replace(images=images, y=self.y[rows], s=self.s[rows], meta=dict(self.meta))

    def materialize(self) -> ImageDataset:
        """The same dataset with its images held as one in-memory array."""
        return self if not self.is_lazy else self.replace(images=self.to_numpy())

    def train_test_split(self, *, test_size: float = 0.3, seed: int = 0
                         ) -> tuple[ImageDataset, ImageDataset]:
        """Seeded split stratified by (y, s) (by y alone when a stratum is too small)."""
        return split_images(self, test_size=test_size, seed=seed)

    def group_summary(self) -> pd.DataFrame:
        """Counts of each (group, class) pair: rows = groups, columns = classes."""
        table = np.zeros((self.n_groups, self.n_classes), dtype=int)
        np.add.at(table, (self.s, self.y), 1)
        return pd.DataFrame(table, index=pd.Index(self.groups, name=self.sensitive),
                            columns=pd.Index(self.classes, name=self.target))

    def __repr__(self) -> str:
        c, h, w = self.shape
        lazy = ", lazy" if self.is_lazy else ""
        return (f"ImageDataset({self.name!r}, n={len(self)}, shape=({c}, {h}, {w}){lazy}, "
                f"target={self.target!r} {self.n_classes} classes, "
                f"sensitive={self.sensitive!r} {self.n_groups} groups)")


def split_images(ds: ImageDataset, *, test_size: float = 0.3, seed: int = 0
                 ) -> tuple[ImageDataset, ImageDataset]:
    """Seeded train/test split of an :class:`ImageDataset` stratified by (y, s)."""
    from sklearn.model_selection import train_test_split as _sk_split

    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size={test_size}; it must lie strictly between 0 and 1")
    rows = np.arange(len(ds))
    key = ds.y * ds.n_groups + ds.s
    _, counts = np.unique(key, return_counts=True)
    n_test = int(np.ceil(test_size * len(rows)))
    strata = key if counts.min() >= 2 and len(counts) <= min(n_test, len(rows) - n_test) else ds.y
    _, counts_y = np.unique(strata, return_counts=True)
    if counts_y.min() < 2:
        strata = None
    train_rows, test_rows = _sk_split(rows, test_size=test_size, random_state=seed, stratify=strata)
    return ds.subset(np.sort(train_rows)), ds.subset(np.sort(test_rows))


# --------------------------------------------------------------------------------------------
# colouring
# --------------------------------------------------------------------------------------------
def _check_bias(bias: float, sd: float | None) -> None:
    if not 0.0 <= float(bias) <= 1.0:
        raise DatasetError(f"bias={bias}: it must lie in [0, 1] (probability of the class colour)")
    if sd is not None and not float(sd) >= 0.0:
        raise DatasetError(f"sd={sd}: the colour jitter must be a standard deviation >= 0")


def assign_colours(y: np.ndarray, n_colours: int, *, bias: float, sd: float | None,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Colour group ``s`` and RGB colour per row: class colour with probability ``bias``, else a
    uniform palette colour; plus N(0, sd²) jitter per channel when ``sd`` is set."""
    if n_colours > len(PALETTE):
        raise DatasetError(f"at most {len(PALETTE)} colours are available, not {n_colours}")
    keep = rng.random(len(y)) < bias
    s = np.where(keep, y, rng.integers(0, n_colours, size=len(y))).astype(np.int64)
    rgb = PALETTE[s].copy()
    if sd:
        rgb = np.clip(rgb + rng.normal(0.0, float(sd), size=rgb.shape), 0.0, 1.0)
    return s, rgb.astype(np.float32)


def _target_from_digits(labels: np.ndarray, digits: Sequence[int] | None, binary: bool
                        ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Rows kept, target values and class names for a digit subset / binary task.

    ``binary``: target 1 for the upper half of the chosen digits (``digit >= 5`` by default).
    """
    chosen = list(range(10)) if digits is None else sorted({int(d) for d in digits})
    if not chosen or any(d < 0 or d > 9 for d in chosen) or len(chosen) < 2:
        raise DatasetError(f"digits={digits!r}: pick at least two distinct digits from 0..9")
    keep = np.flatnonzero(np.isin(labels, chosen))
    kept = labels[keep]
    if binary:
        upper = chosen[len(chosen) // 2:]
        y = np.isin(kept, upper).astype(np.int64)
        names = (f"digit in {chosen[:len(chosen) // 2]}", f"digit in {upper}")
    else:
        lookup = np.full(10, -1)
        lookup[chosen] = np.arange(len(chosen))
        y = lookup[kept].astype(np.int64)
        names = tuple(str(d) for d in chosen)
    return keep, y, names


def _split_seed(seed: int, split: str) -> int:
    return int(seed) * 7919 + {"train": 0, "test": 1, "all": 2}.get(split, 3)


# --------------------------------------------------------------------------------------------
# MNIST IDX files
# --------------------------------------------------------------------------------------------
def data_home() -> Path:
    """The dataset cache folder (``FAIRX_DATA_HOME``, else the user cache dir)."""
    return Path(_home())


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
    return fetch_file(RemoteFile(relpath=f"mnist/{filename}", url=MNIST_URL + filename))


@functools.lru_cache(maxsize=4)
def _load_mnist_cached(folder: str, split: str, mtime: float) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    img_name, lab_name = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
    images = read_idx(_mnist_path(img_name), md5=MNIST_FILES[img_name])
    labels = read_idx(_mnist_path(lab_name), md5=MNIST_FILES[lab_name])
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
def _check_names(dataset: str, sensitive: Sequence[str] | None, target: str | None,
                 allowed_s: Sequence[str], allowed_t: Sequence[str]) -> None:
    bad_s = [s for s in (sensitive or []) if s not in allowed_s]
    if bad_s or (sensitive is not None and len(sensitive) > 1):
        raise DatasetError(f"dataset {dataset!r}: sensitive must be one of {list(allowed_s)}, "
                           f"got {list(sensitive)}")
    if target not in (None, *allowed_t):
        raise DatasetError(f"dataset {dataset!r}: target must be one of {list(allowed_t)}, "
                           f"got {target!r}")


def _colour_dataset(grey: np.ndarray, labels: np.ndarray, *, name: str, bias: float | None,
                    sd: float | None, size: int, digits: Sequence[int] | None, binary: bool,
                    n: int | None, seed: int, split: str, lazy: bool) -> ImageDataset:
    bias = (1.0 if sd is not None else 0.99) if bias is None else float(bias)
    _check_bias(bias, sd)
    if size not in (8, 28, 32, 64) and not (isinstance(size, int) and 4 <= size <= 256):
        raise DatasetError(f"size={size!r}: use 28 or 64 (any int in 4..256 works)")
    keep, y, class_names = _target_from_digits(labels, digits, binary)
    rng = np.random.default_rng(_split_seed(seed, split))
    if n is not None:
        if int(n) <= 0:
            raise DatasetError(f"n={n}: must be a positive number of images")
        pick = np.sort(rng.permutation(len(keep))[: int(n)])
        keep, y = keep[pick], y[pick]
    s, rgb = assign_colours(y, len(class_names), bias=bias, sd=sd, rng=rng)
    source = ColoredSource(grey[keep], rgb, size)
    images: np.ndarray | ImageSource = source if lazy else source.load(np.arange(len(source)))
    return ImageDataset(
        images=images, y=y, s=s, classes=class_names, groups=COLOUR_NAMES[: len(class_names)],
        target="digit", sensitive="colour", name=name,
        meta={"bias": bias, "sd": sd, "split": split, "size": size, "seed": seed,
              "digits": None if digits is None else [int(d) for d in digits],
              "binary": bool(binary), "p_class_colour": bias + (1 - bias) / len(class_names)},
    )


def load_colored_mnist(*, sensitive: Sequence[str] | None = None, target: str | None = None,
                       bias: float | None = None, sd: float | None = None, split: str = "train",
                       size: int = 28, digits: Sequence[int] | None = None, binary: bool = False,
                       n: int | None = None, seed: int = 0) -> ImageDataset:
    """Colored MNIST from the MNIST IDX files (lazy: colours are applied on access).

    ``bias`` (default 0.99, or 1.0 when ``sd`` is set): probability of the class colour, else a
    uniform palette colour. ``sd``: Gaussian colour jitter (Kim et al. 2019 / FLDGM Table 2;
    their debiased test set is ``split="test", bias=0``). ``size`` 28 or 64; ``digits`` a subset
    (target = index in it), ``binary`` target = upper half of the digits; ``n`` a seeded random
    subset; ``split`` "train" (60k) or "test" (10k). ``s`` = colour index, ``y`` = digit.
    """
    _check_names("colored_mnist", sensitive, target, ("colour",), ("digit",))
    grey, labels = load_mnist(split)
    return _colour_dataset(grey, labels, name="colored_mnist", bias=bias, sd=sd, size=size,
                           digits=digits, binary=binary, n=n, seed=seed, split=split, lazy=True)


@functools.lru_cache(maxsize=1)
def _sk_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    grey = np.round(d.images / 16.0 * 255.0).astype(np.uint8)
    return grey, d.target.astype(np.uint8)


def load_digits_colored(*, sensitive: Sequence[str] | None = None, target: str | None = None,
                        bias: float | None = None, sd: float | None = None, split: str = "all",
                        size: int = 8, digits: Sequence[int] | None = None, binary: bool = False,
                        n: int | None = None, seed: int = 0) -> ImageDataset:
    """scikit-learn's 1797 8×8 digits painted with a planted colour bias (no files; in memory).

    Same options as :func:`load_colored_mnist`. ``split``: "all", or "train"/"test" of a fixed
    70/30 partition (permutation seeded with 0, independent of ``seed``), so a biased training set
    and a colour-debiased test set (``bias=0``) never share images.
    """
    _check_names("digits_colored", sensitive, target, ("colour",), ("digit",))
    grey, labels = _sk_digits()
    if split not in ("all", "train", "test"):
        raise DatasetError(f"split={split!r}: use 'all', 'train' or 'test'")
    if split != "all":
        perm = np.random.default_rng(0).permutation(len(labels))
        cut = int(round(0.7 * len(labels)))
        rows = np.sort(perm[:cut] if split == "train" else perm[cut:])
        grey, labels = grey[rows], labels[rows]
    return _colour_dataset(grey, labels, name="digits_colored", bias=bias, sd=sd, size=size,
                           digits=digits, binary=binary, n=n, seed=seed, split=split, lazy=False)


# --------------------------------------------------------------------------------------------
# CelebA
# --------------------------------------------------------------------------------------------
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones",
    "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin",
    "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair",
    "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)
_CELEBA_SPLITS = {"train": 0, "valid": 1, "test": 2}


def read_celeba_attributes(path: str | Path) -> pd.DataFrame:
    """``list_attr_celeba.txt`` as a frame indexed by file name with 0/1 columns (±1 → 0/1)."""
    path = Path(path)
    with open(path) as fh:
        lines = fh.read().splitlines()
    try:
        int(lines[0].strip())
        names = lines[1].split()
        body = lines[2:]
    except (ValueError, IndexError):
        raise DatasetError(f"{path}: expected a count line, a header of attribute names, then "
                           "'file.jpg ±1 ±1 ...' rows (the official list_attr_celeba.txt)") from None
    files, values = [], []
    for k, line in enumerate(body):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1:
            raise DatasetError(f"{path} line {k + 3}: {len(parts) - 1} values for {len(names)} "
                               "attributes")
        files.append(parts[0])
        values.append([int(v) for v in parts[1:]])
    arr = (np.asarray(values, dtype=np.int64).reshape(-1, len(names)) > 0).astype(np.int64)
    return pd.DataFrame(arr, index=pd.Index(files, name="image_id"), columns=names)


def load_celeba(*, sensitive: Sequence[str] | None = None, target: str | None = None,
                root: str | Path | None = None, split: str = "train", size: int = 64,
                n: int | None = None, seed: int = 0) -> ImageDataset:
    """CelebA from a local folder, read lazily (files are opened per batch).

    ``root`` (default ``data_home()/celeba``) must hold ``img_align_celeba/`` and
    ``list_attr_celeba.txt``; ``list_eval_partition.txt`` gives the official splits (without it
    a seeded 80/10/10 split is used). ``target`` (default ``Smiling``) and one ``sensitive``
    attribute (default ``Male``) by name; images centre-cropped and resized to ``size``.
    """
    target = target or "Smiling"
    sens = list(sensitive or ["Male"])
    if len(sens) != 1:
        raise DatasetError(f"celeba: pass one sensitive attribute, got {sens}")
    root = Path(root) if root is not None else data_home() / "celeba"
    attr_file, img_dir = root / "list_attr_celeba.txt", root / "img_align_celeba"
    if not attr_file.is_file() or not img_dir.is_dir():
        missing = [str(p) for p in (attr_file, img_dir) if not p.exists()]
        raise DatasetError(
            f"CelebA not found: missing {', '.join(missing)}. Download img_align_celeba.zip "
            f"(unzip to {img_dir}/), list_attr_celeba.txt and optionally list_eval_partition.txt "
            f"from {CELEBA_URLS} into {root} (or pass root=...). CelebA's license forbids "
            "redistribution, so fairx cannot fetch it for you.")
    attrs = read_celeba_attributes(attr_file)
    for role, col in (("target", target), ("sensitive", sens[0])):
        if col not in attrs.columns:
            raise DatasetError(f"celeba: {role} attribute {col!r} unknown; available: "
                               f"{list(attrs.columns)}")
    if split not in (*_CELEBA_SPLITS, "all"):
        raise DatasetError(f"split={split!r}: use 'train', 'valid', 'test' or 'all'")
    part_file = root / "list_eval_partition.txt"
    if split != "all":
        if part_file.is_file():
            part = pd.read_csv(part_file, sep=r"\s+", header=None, names=["image_id", "p"],
                               index_col=0)["p"].reindex(attrs.index)
            if part.isna().any():
                raise DatasetError(f"{part_file}: no partition for {int(part.isna().sum())} images")
            mask = part.to_numpy() == _CELEBA_SPLITS[split]
        else:
            logger.info("celeba: %s missing; using a seeded 80/10/10 split", part_file)
            u = np.random.default_rng(0).random(len(attrs))
            code = np.where(u < 0.8, 0, np.where(u < 0.9, 1, 2))
            mask = code == _CELEBA_SPLITS[split]
        attrs = attrs[mask]
    if n is not None:
        pick = np.sort(np.random.default_rng(seed).permutation(len(attrs))[: int(n)])
        attrs = attrs.iloc[pick]
    source = FileSource([img_dir / f for f in attrs.index], size)
    return ImageDataset(
        images=source, y=attrs[target].to_numpy(), s=attrs[sens[0]].to_numpy(),
        classes=(f"not {target}", target), groups=(f"not {sens[0]}", sens[0]),
        target=target, sensitive=sens[0], name="celeba",
        meta={"root": str(root), "split": split, "size": size,
              "official_partition": part_file.is_file()},
    )
