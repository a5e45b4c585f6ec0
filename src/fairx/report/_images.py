"""Pictures of image generators: sample grids per sensitive group and counterfactual swaps.

Figures are drawn with matplotlib's object API (no pyplot state) and saved as PNG.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_path, write_text
from ..data.images import ImageDataset


def tile(images: np.ndarray, ncol: int, pad: int = 1) -> np.ndarray:
    """Tile ``(n, C, H, W)`` images into one ``(rows·H, ncol·W, 3)`` RGB array (grey → RGB;
    empty cells white)."""
    images = np.asarray(images, dtype=np.float32)
    n, c, h, w = images.shape
    if c == 1:
        images = np.repeat(images, 3, axis=1)
    nrow = max(1, int(np.ceil(n / ncol)))
    out = np.ones((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, ncol)
        y0, x0 = pad + r * (h + pad), pad + k * (w + pad)
        out[y0:y0 + h, x0:x0 + w] = images[i, :3].transpose(1, 2, 0)
    return np.clip(out, 0.0, 1.0)


def _save(arr: np.ndarray, path: str | Path, title: str | None, ylabels: Sequence[str] | None,
          cell: int, xlabels: Sequence[str] | None = None) -> Path:
    # heavy (matplotlib): imported when used, so `import fairx` stays light
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = arr.shape[:2]
    scale = max(1.0, 48.0 / cell)  # small images drawn bigger
    fig = Figure(figsize=(max(3.0, w * scale / 60 + 1.2), max(2.0, h * scale / 60 + 0.6)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(arr, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if ylabels is not None:
        step = (h - 1) / len(ylabels)
        ax.set_yticks([step * (i + 0.5) for i in range(len(ylabels))], labels=list(ylabels),
                      fontsize=7)
    if xlabels is not None:
        step = (w - 1) / len(xlabels)
        ax.set_xticks([step * (i + 0.5) for i in range(len(xlabels))], labels=list(xlabels),
                      fontsize=7)
        ax.xaxis.tick_top()
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path


def save_group_grid(ds: ImageDataset, path: str | Path, *, per_group: int = 8, seed: int = 0,
                    title: str | None = None) -> Path:
    """One row per sensitive group with up to ``per_group`` of its images (seeded choice),
    labelled with the group and, above each image, nothing; the title names the dataset."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    c, h, w = ds.shape
    for g, name in enumerate(ds.groups):
        idx = np.flatnonzero(ds.s == g)
        pick = np.sort(rng.permutation(idx)[:per_group])
        imgs = ds.get_images(pick) if len(pick) else np.zeros((0, c, h, w), np.float32)
        if len(imgs) < per_group:  # pad the row with white cells
            imgs = np.concatenate([imgs, np.ones((per_group - len(imgs), c, h, w), np.float32)])
        rows.append(imgs)
        labels.append(f"{name} (n={len(idx)})")
    arr = tile(np.concatenate(rows), per_group)
    return _save(arr, path, title or f"{ds.name}: samples by {ds.sensitive}", labels, h)


def save_counterfactual_grid(images: np.ndarray, groups: Sequence[str], path: str | Path, *,
                             title: str | None = None) -> Path:
    """Counterfactual swaps ``(n, G, C, H, W)`` (same z, every s): one row per z, one column per
    group (see ``FairVAE.counterfactuals``)."""
    images = np.asarray(images)
    if images.ndim != 5 or images.shape[1] != len(groups):
        raise ValueError(f"expected (n, {len(groups)}, C, H, W) images, got {images.shape}")
    n, g = images.shape[:2]
    arr = tile(images.reshape(n * g, *images.shape[2:]), g)
    return _save(arr, path, title or "counterfactuals: same z, each group", None,
                 images.shape[-1], xlabels=list(groups))


def write_image_experiment(experiment: Any, out: str | Path) -> list[Path]:
    """Write an :class:`~fairx.evaluation.images.ImageExperiment` to the folder ``out``: sample
    grids of the real and generated images by group, the generator's counterfactual swaps and
    ``results.json``. Returns the files written (sorted)."""
    out = Path(out)
    exp = experiment
    out.mkdir(parents=True, exist_ok=True)
    name, seed = exp.result["dataset"], exp.result["seed"]
    save_group_grid(exp.train, out / "real_by_group.png", title=f"real {name} (train)")
    save_group_grid(exp.generated, out / "generated_by_group.png",
                    title=f"{exp.method.display_name} samples by {exp.generated.sensitive}")
    cf = exp.method.counterfactuals(None, n=6, seed=seed)
    save_counterfactual_grid(cf, exp.generated.groups, out / "counterfactuals.png")
    write_text(out / "results.json", json.dumps(
        {k: v for k, v in exp.result.items() if k not in ("saved", "gain")}, indent=2,
        default=float))
    return sorted(out.glob("*"))
