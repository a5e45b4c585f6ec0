"""CelebA (methods.md §9): attributes table and lazily read, centre-cropped face images."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._dataset import DatasetError
from .dataset import FileSource, ImageDataset, data_home

logger = logging.getLogger(__name__)


CELEBA_URLS = (
    "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive: Img/img_align_celeba.zip, "
    "Anno/list_attr_celeba.txt, Eval/list_eval_partition.txt)"
)


# --------------------------------------------------------------------------------------------
# lazy image sources
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
