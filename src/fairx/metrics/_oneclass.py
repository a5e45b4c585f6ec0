"""The one-class (Deep-SVDD) embedding Φ of α-precision / β-recall (methods.md §8).

Bias-free MLP with 4 hidden layers of 32 ReLU units and output dim = input dim, trained on the
real rows to pull Φ(x) towards the centre c = 10·1 (loss mean ‖Φ(x) − c‖², AdamW lr 2e-3,
weight decay 2e-3), for a fixed epoch budget with early stopping on the epoch loss. Seeded via
:func:`fairx.nn.seeded`. torch is imported here only (``import fairx.metrics`` stays light).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger(__name__)

CENTRE_VALUE = 10.0
HIDDEN = (32, 32, 32, 32)


def oneclass_embed(
    real: np.ndarray, others: Sequence[np.ndarray] = (), *, seed: int = 0, epochs: int = 30,
    batch_size: int = 512, lr: float = 2e-3, weight_decay: float = 2e-3, patience: int = 3,
) -> tuple[np.ndarray, list[np.ndarray], dict[str, float]]:
    """Train Φ on ``real`` and embed ``real`` and each of ``others``.

    Returns ``(Φ(real), [Φ(o) for o in others], info)`` with ``info`` = epochs run and the
    final loss. The centre is ``c = 10·1`` (see :data:`CENTRE_VALUE`).
    """
    import torch

    from ..nn import EarlyStopping, mlp, seeded

    if epochs < 1:
        raise ValueError(f"epochs={epochs}; need at least 1")
    x = torch.as_tensor(np.ascontiguousarray(real, dtype=np.float32))
    n, dim = x.shape
    centre = torch.full((dim,), CENTRE_VALUE)
    batch = max(1, min(batch_size, n))
    stopper = EarlyStopping(patience=patience, min_delta=0.0)
    with seeded(seed):
        net = mlp([dim, *HIDDEN, dim], bias=False)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
        ran, last = 0, float("nan")
        for epoch in range(epochs):
            perm = torch.randperm(n)
            total = 0.0
            for start in range(0, n, batch):
                xb = x[perm[start:start + batch]]
                loss = ((net(xb) - centre) ** 2).sum(dim=1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(xb)
            ran, last = epoch + 1, total / n
            if stopper.step(last, epoch):
                break
    logger.info("one-class embedding: %d epochs, final loss %.4g", ran, last)

    net.eval()

    def embed(a: np.ndarray) -> np.ndarray:
        t = torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32))
        with torch.no_grad():
            return torch.cat([net(t[s:s + 8192]) for s in range(0, len(t), 8192)]).numpy().astype(np.float64)

    return embed(real), [embed(o) for o in others], {"epochs": float(ran), "loss": last}
