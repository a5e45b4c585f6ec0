"""The one-class (Deep-SVDD) embedding Φ of α-precision / β-recall (methods.md §8).

Bias-free MLP with 4 hidden layers of 32 ReLU units and output dim = input dim, trained on the
real rows to pull Φ(x) towards the centre c = 10·1 (loss mean ‖Φ(x) − c‖², AdamW lr 2e-3,
weight decay 2e-3; torch's AdamW update written out, see :class:`_AdamW`), for a fixed epoch budget (default 20) with early stopping when the epoch loss
improves by less than ``rel_tol`` (1 %) for ``patience`` epochs. Batches of n/32 rows clipped to
[64, 1024] (about 32 steps per epoch on small tables, 1024-row batches on large ones). Seeded via
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
    real: np.ndarray, others: Sequence[np.ndarray] = (), *, seed: int = 0, epochs: int = 20,
    batch_size: int | None = None, lr: float = 2e-3, weight_decay: float = 2e-3, patience: int = 3,
    rel_tol: float = 0.01, n_threads: int | None = None,
) -> tuple[np.ndarray, list[np.ndarray], dict[str, float]]:
    """Train Φ on ``real`` and embed ``real`` and each of ``others``.

    Returns ``(Φ(real), [Φ(o) for o in others], info)`` with ``info`` = epochs run and the
    final loss. The centre is ``c = 10·1`` (see :data:`CENTRE_VALUE`). ``n_threads`` sets
    torch's intra-op threads for this call only (restored afterwards).
    """
    # heavy (torch): imported when used, so `import fairx` stays light
    import torch

    # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
    from ..nn import EarlyStopping

    if epochs < 1:
        raise ValueError(f"epochs={epochs}; need at least 1")
    x = torch.as_tensor(np.ascontiguousarray(real, dtype=np.float32))
    n, dim = x.shape
    centre = torch.full((dim,), CENTRE_VALUE)
    batch = int(np.clip(n // 32, 64, 1024)) if batch_size is None else batch_size
    batch = max(1, min(batch, n))
    stopper = EarlyStopping(patience=patience, min_delta=0.0)
    threads_before = torch.get_num_threads()
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    try:
        net, ran, last = _train(torch, x, centre, batch, stopper, seed, epochs, lr, weight_decay, rel_tol)
        net.eval()

        def embed(a: np.ndarray) -> np.ndarray:
            t = torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32))
            with torch.no_grad():
                parts = [net(t[s:s + 8192]) for s in range(0, len(t), 8192)]
            return torch.cat(parts).numpy().astype(np.float64)

        return embed(real), [embed(o) for o in others], {"epochs": float(ran), "loss": last}
    finally:
        torch.set_num_threads(threads_before)


def _train(torch, x, centre, batch, stopper, seed, epochs, lr, weight_decay, rel_tol):
    """The Deep-SVDD loop (inside :func:`fairx.nn.seeded`); returns (net, epochs run, loss)."""
    # heavy (torch): imported when used, so `import fairx` stays light
    from ..nn import mlp, seeded

    n, dim = x.shape
    with seeded(seed):
        net = mlp([dim, *HIDDEN, dim], bias=False)
        opt = _AdamW(torch, net.parameters(), lr=lr, weight_decay=weight_decay)
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
            stopper.min_delta = rel_tol * last
            if stopper.step(last, epoch):
                break
    logger.info("one-class embedding: %d epochs, final loss %.4g", ran, last)
    return net, ran, last


class _AdamW:
    """``torch.optim.AdamW``'s update (β = (0.9, 0.999), ε = 1e-8, decoupled weight decay,
    bias-corrected moments) written out in the order of torch's single-tensor implementation.

    The first ``torch.optim`` optimizer of a process imports ``torch._dynamo`` (and sympy): about
    2 s of CPU, more than the whole embedding training of an 8k-row table. This class is the same
    arithmetic without that import.
    """

    def __init__(self, torch, params, *, lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.torch = torch
        self.params = list(params)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.lr, self.weight_decay, self.betas, self.eps = lr, weight_decay, betas, eps
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        bias1, bias2_sqrt = 1 - beta1 ** self.t, (1 - beta2 ** self.t) ** 0.5
        with self.torch.no_grad():
            for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq, strict=True):
                if p.grad is None:
                    continue
                g = p.grad
                p.mul_(1 - self.lr * self.weight_decay)
                m.lerp_(g, 1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                denom = (v.sqrt() / bias2_sqrt).add_(self.eps)
                p.addcdiv_(m, denom, value=-self.lr / bias1)
