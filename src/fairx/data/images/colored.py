"""Colour-biased digits (methods.md §9): Colored MNIST and ``digits_colored`` (no files).

Every target class ``k`` owns a palette colour. With probability ``bias`` a digit is painted in
its class colour, otherwise in a colour drawn uniformly from the whole palette, so
``P(colour = class colour) = bias + (1 - bias) / K`` and ``bias = 0`` makes colour independent of
the label. With ``sd`` set, the painted colour is the palette colour plus Gaussian jitter of
standard deviation ``sd`` per RGB channel (clipped to [0, 1]), the variant of Kim et al. 2019 /
Lee et al. 2021 used in FLDGM's Table 2 (train with ``bias=1``, test with ``bias=0``). ``s`` is
the palette index, never the jittered value.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np

from .._dataset import DatasetError
from .dataset import ColoredSource, ImageDataset, ImageSource, _check_names, _split_seed
from .idx import REMOTE_FILES, load_mnist, verify_files  # noqa: F401 - fetched by download_dataset

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
    # heavy (scikit-learn): loaded when used; `import fairx` stays light
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
