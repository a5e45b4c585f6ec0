"""Image metrics (methods.md §9): TSTR of a small CNN, its fairness over sensitive groups, the
colour–label dependence of a generated set, and PRDC / α-β in a CNN feature space.

The downstream CNN (:func:`fit_image_classifier`): Conv(C,32,3,p1)–ReLU–MaxPool2–Conv(32,64,3,p1)–
ReLU–MaxPool2–AdaptiveAvgPool(4)–Linear(1024,128)–ReLU (the *feature layer*)–Linear(128,K), Adam
lr 1e-3, cross-entropy; seeded by ``seed`` (init and batch order). The feature space of the
quality metrics is the 128-d feature layer of this CNN trained on the **real training images**
(the image analogue of an Inception embedding), so PRDC / α-β compare what a digit/face
classifier sees.

Fairness of predictions (``dpr``, ``eor``): binary targets use the usual definitions
(DPR = min_g P(ŷ=1|g) / max_g P(ŷ=1|g); EOR = min of the TPR and FPR ratios); for K > 2 classes
each class is scored one-vs-rest and the mean over classes is reported. Groups with fewer than
``min_group_size`` test images are left out.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from ..data.images import PALETTE, ImageDataset
from ._neighbours import cross_pass, knn_self
from ._quality import (
    _embedding,
    _prdc_values,
    alpha_precision_score,
    authenticity_score,
    beta_recall_score,
)
from ._threads import thread_limit

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# the downstream CNN
# --------------------------------------------------------------------------------------------
class ImageClassifier:
    """A fitted small CNN: ``predict(ds)``, ``predict_proba(ds)`` (n, K), ``features(ds)`` (n, 128)."""

    def __init__(self, net: Any, shape: tuple[int, ...], n_classes: int, device: Any) -> None:
        self.net = net
        self.shape = tuple(shape)
        self.n_classes = n_classes
        self.device = device

    def _run(self, ds: ImageDataset, features: bool, batch_size: int = 512) -> np.ndarray:
        # heavy (torch): imported when used, so `import fairx` stays light
        import torch

        if tuple(ds.shape) != self.shape:
            raise ValueError(f"images have shape {ds.shape}; the classifier was trained on {self.shape}")
        out = []
        self.net.eval()
        with torch.no_grad():
            for img, _, _ in ds.batches(batch_size):
                h = self.net[:-1](torch.from_numpy(img).to(self.device))
                out.append((h if features else torch.softmax(self.net[-1](h), 1)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_classes), np.float32)

    def predict_proba(self, ds: ImageDataset) -> np.ndarray:
        return self._run(ds, features=False)

    def predict(self, ds: ImageDataset) -> np.ndarray:
        return self.predict_proba(ds).argmax(1)

    def features(self, ds: ImageDataset) -> np.ndarray:
        return self._run(ds, features=True)


def _cnn(channels: int, n_classes: int) -> Any:
    # heavy (torch): imported when used, so `import fairx` stays light
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(),
        nn.Linear(128, n_classes),
    )


def fit_image_classifier(train: ImageDataset, *, epochs: int = 5, batch_size: int = 128,
                         lr: float = 1e-3, seed: int = 0, device: str = "auto") -> ImageClassifier:
    """Train the small downstream CNN on ``train`` (images → ``y``); seeded, s never used."""
    # heavy (torch): imported when used, so `import fairx` stays light
    import torch
    import torch.nn.functional as F

    # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
    from ..nn import resolve_device, seeded

    if len(train) == 0:
        raise ValueError("cannot train an image classifier on an empty dataset")
    dev = resolve_device(device)
    with seeded(seed):
        net = _cnn(train.shape[0], train.n_classes).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        net.train()
        for epoch in range(epochs):
            for img, y, _ in train.batches(batch_size, shuffle=True, seed=seed * 1000 + epoch):
                loss = F.cross_entropy(net(torch.from_numpy(img).to(dev)),
                                       torch.from_numpy(y).to(dev))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    net.eval()
    return ImageClassifier(net, train.shape, train.n_classes, dev)


# --------------------------------------------------------------------------------------------
# prediction fairness
# --------------------------------------------------------------------------------------------
def _ratio(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan")
    hi = values.max()
    return float(values.min() / hi) if hi > 0 else 1.0


def image_prediction_metrics(y_true: np.ndarray, y_pred: np.ndarray, s: np.ndarray, *,
                             n_classes: int | None = None, min_group_size: int = 30
                             ) -> dict[str, float]:
    """accuracy, balanced_accuracy, dpr, eor of class predictions over the groups of ``s``."""

    y_true, y_pred, s = (np.asarray(a).astype(int) for a in (y_true, y_pred, s))
    k = int(n_classes or max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    groups = [g for g in np.unique(s) if (s == g).sum() >= min_group_size]
    classes = [1] if k == 2 else list(range(k))
    dprs, eors = [], []
    for c in classes:
        pos_pred, pos_true = y_pred == c, y_true == c
        sel = np.array([pos_pred[s == g].mean() for g in groups])
        tpr = np.array([pos_pred[(s == g) & pos_true].mean() if ((s == g) & pos_true).any()
                        else np.nan for g in groups])
        fpr = np.array([pos_pred[(s == g) & ~pos_true].mean() if ((s == g) & ~pos_true).any()
                        else np.nan for g in groups])
        dprs.append(_ratio(sel))
        eors.append(min(_ratio(tpr), _ratio(fpr)))
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "dpr": float(np.nanmean(dprs)) if np.isfinite(dprs).any() else float("nan"),
        "eor": float(np.nanmean(eors)) if np.isfinite(eors).any() else float("nan"),
    }


def image_utility(train: ImageDataset, test: ImageDataset, *, epochs: int = 5, seed: int = 0,
                  batch_size: int = 128, device: str = "auto", min_group_size: int = 30,
                  mode: str = "TSTR") -> dict[str, float]:
    """Train the CNN on ``train`` (generated: TSTR; real: TRTR), score it on real ``test``."""
    if train.shape != test.shape or train.n_classes != test.n_classes:
        raise ValueError(f"train {train.shape}/{train.n_classes} classes and test {test.shape}/"
                         f"{test.n_classes} classes differ")
    clf = fit_image_classifier(train, epochs=epochs, seed=seed, batch_size=batch_size,
                               device=device)
    out = image_prediction_metrics(test.y, clf.predict(test), test.s, n_classes=test.n_classes,
                                   min_group_size=min_group_size)
    logger.info("%s: accuracy %.3f", mode, out["accuracy"])
    return out


# --------------------------------------------------------------------------------------------
# data-level dependence
# --------------------------------------------------------------------------------------------
def painted_colour(images: np.ndarray, palette: np.ndarray | None = None,
                   threshold: float = 0.25) -> np.ndarray:
    """Palette index of the colour each image is *painted* in, read from its pixels: the mean RGB
    of the stroke pixels (max channel > ``threshold``), scaled to max 1, nearest palette colour
    (scaled the same way; grey and white are then the same colour and share the first index).
    For generated images this is the colour they show, whatever s they were decoded with."""

    pal = np.asarray(PALETTE if palette is None else palette, dtype=np.float32)
    pal = pal / pal.max(axis=1, keepdims=True)
    imgs = np.asarray(images, dtype=np.float32)
    mask = imgs.max(axis=1, keepdims=True) > threshold  # (n, 1, H, W)
    count = np.maximum(mask.sum(axis=(1, 2, 3)), 1)
    rgb = (imgs * mask).sum(axis=(2, 3)) / count[:, None]
    rgb = rgb / np.maximum(rgb.max(axis=1, keepdims=True), 1e-6)
    return ((rgb[:, None, :] - pal[None, :, :]) ** 2).sum(-1).argmin(1)


def label_group_dependence(ds: ImageDataset, s: np.ndarray | None = None) -> dict[str, float]:
    """How much the sensitive group (e.g. colour) tells about the label in a dataset.

    ``mutual_information`` I(y; s) in nats (plug-in), ``normalized_mi`` I / min(H(y), H(s))
    (0 = independent, 1 = one determines the other), ``max_label_shift``
    max_{g,k} |P(y=k | s=g) − P(y=k)|, and ``group_is_class_rate`` P(s = y) when groups and
    classes pair up by index (Colored MNIST: the share painted in their class colour).
    ``s`` replaces ``ds.s`` (e.g. :func:`painted_colour` of generated images).
    """
    groups = ds.s if s is None else np.asarray(s, dtype=np.int64)
    joint = np.zeros((ds.n_groups, ds.n_classes))
    np.add.at(joint, (groups, ds.y), 1.0)
    joint /= max(joint.sum(), 1.0)
    ps, py = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / np.outer(ps, py)[nz])).sum())
    h = [float(-(p[p > 0] * np.log(p[p > 0])).sum()) for p in (ps, py)]
    cond = np.divide(joint, ps[:, None], out=np.zeros_like(joint), where=ps[:, None] > 0)
    shift = np.abs(cond - py[None, :])[ps > 0].max() if (ps > 0).any() else 0.0
    out = {"mutual_information": mi,
           "normalized_mi": mi / min(h) if min(h) > 0 else 0.0,
           "max_label_shift": float(shift)}
    if ds.n_groups == ds.n_classes:
        out["group_is_class_rate"] = float((groups == ds.y).mean())
    return out


# --------------------------------------------------------------------------------------------
# quality in a CNN feature space
# --------------------------------------------------------------------------------------------
def image_quality(real: ImageDataset, synthetic: ImageDataset, *, classifier: ImageClassifier | None = None,
                  seed: int = 0, epochs: int = 5, max_rows: int = 2000, nearest_k: int = 5,
                  device: str = "auto") -> dict[str, float]:
    """PRDC (precision, recall, density, coverage; Naeem et al. 2020) and α-precision / β-recall
    (Alaa et al. 2022) of ``synthetic`` against ``real`` in the feature layer of the CNN trained
    on ``real`` (pass ``classifier`` to reuse one). At most ``max_rows`` seeded rows per side."""
    clf = classifier or fit_image_classifier(real, epochs=epochs, seed=seed, device=device)
    rng = np.random.default_rng(seed)
    r_rows = np.sort(rng.permutation(len(real))[:max_rows])
    f_rows = np.sort(rng.permutation(len(synthetic))[:max_rows])
    fr = clf.features(real.subset(r_rows))
    ff = clf.features(synthetic.subset(f_rows))
    return feature_quality(fr, ff, nearest_k=nearest_k, seed=seed)


def feature_quality(real_features: np.ndarray, synthetic_features: np.ndarray, *,
                    nearest_k: int = 5, seed: int = 0, embedding: str = "oneclass"
                    ) -> dict[str, float]:
    """PRDC (k = ``nearest_k``), α-precision, β-recall and authenticity of two feature matrices,
    computed with the tabular building blocks of :mod:`fairx.metrics` (same formulas as
    ``synthetic_quality``; ``embedding`` "oneclass" (Deep-SVDD Φ, seeded) or "naive")."""

    xr = np.asarray(real_features, dtype=np.float32)
    xs = np.asarray(synthetic_features, dtype=np.float32)
    if min(len(xr), len(xs)) <= nearest_k:
        raise ValueError(f"need more than {nearest_k} real and synthetic images; "
                         f"got {len(xr)} and {len(xs)}")
    with thread_limit(None) as threads:  # free cores, torch and BLAS together, restored after
        real_knn, _ = knn_self(xr, nearest_k)
        real_radius, d_rr = real_knn[:, nearest_k - 1], real_knn[:, 0]
        synth_radius = knn_self(xs, nearest_k)[0][:, nearest_k - 1]
        cross = cross_pass(xs, xr, col_radii=real_radius, row_radii=synth_radius)
        out = _prdc_values(cross, nearest_k)
        er, es, centre, _ = _embedding(xr, xs, embedding, seed, 30, threads)
    out["alpha_precision"] = alpha_precision_score(np.linalg.norm(er - centre, axis=1),
                                                   np.linalg.norm(es - centre, axis=1))
    rho = np.linalg.norm(es[cross.col_nn_idx] - es.mean(axis=0), axis=1)
    out["beta_recall"] = beta_recall_score(d_rr, cross.col_nn_dist, rho)
    out["authenticity"] = authenticity_score(cross.row_nn_dist, cross.row_nn_idx, d_rr)
    return out
