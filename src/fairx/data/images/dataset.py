"""Image datasets (methods.md §9): :class:`ImageDataset`, its lazy image sources, splits.

Images are float32 arrays ``(N, C, H, W)`` in [0, 1]. Large sets are *lazy*: the dataset holds an
:class:`ImageSource` that builds or reads the requested rows on access (Colored MNIST keeps the grey
digits as uint8 plus one colour per row; CelebA reads the JPEG files), so 200k faces never sit in
memory at once. No torch here: models convert batches themselves.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split as _sk_split

from .._dataset import DatasetError
from .._download import data_home as _home

logger = logging.getLogger(__name__)


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
            # heavy (Pillow): loaded when used; `import fairx` stays light
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
def _split_seed(seed: int, split: str) -> int:
    return int(seed) * 7919 + {"train": 0, "test": 1, "all": 2}.get(split, 3)


# --------------------------------------------------------------------------------------------
# MNIST IDX files
# --------------------------------------------------------------------------------------------
def data_home() -> Path:
    """The dataset cache folder (``FAIRX_DATA_HOME``, else the user cache dir)."""
    return Path(_home())


def _check_names(dataset: str, sensitive: Sequence[str] | None, target: str | None,
                 allowed_s: Sequence[str], allowed_t: Sequence[str]) -> None:
    bad_s = [s for s in (sensitive or []) if s not in allowed_s]
    if bad_s or (sensitive is not None and len(sensitive) > 1):
        raise DatasetError(f"dataset {dataset!r}: sensitive must be one of {list(allowed_s)}, "
                           f"got {list(sensitive)}")
    if target not in (None, *allowed_t):
        raise DatasetError(f"dataset {dataset!r}: target must be one of {list(allowed_t)}, "
                           f"got {target!r}")
