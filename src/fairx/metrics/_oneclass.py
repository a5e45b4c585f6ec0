"""The one-class (Deep-SVDD) embedding Φ of α-precision / β-recall (methods.md §8).

Bias-free MLP with 4 hidden layers of 32 ReLU units and output dim = input dim, trained on the
real rows to pull Φ(x) towards the centre c = 10·1 (loss mean ‖Φ(x) − c‖², AdamW lr 2e-3,
weight decay 2e-3; torch's AdamW update written out, see :class:`_AdamW`), for a fixed epoch budget (default 20) with early stopping when the epoch loss
improves by less than ``rel_tol`` (1 %) for ``patience`` epochs. Batches of n/32 rows clipped to
[64, 1024] (about 32 steps per epoch on small tables, 1024-row batches on large ones). Seeded as
:func:`fairx.nn.seeded` does (the caller's torch RNG state is restored). torch is imported here
only (``import fairx.metrics`` stays light).

This module imports nothing of fairx: :func:`start_oneclass_process` runs it as a script in a
child process (numpy + torch only, ~1.5 s of imports instead of ~3.5 s for fairx + torch), so
that a metric call can train the embedding on the second core while the GIL-bound passes
(pandas, HistGradientBoosting) run here. Same code, same single torch thread: the embedding is
bit-identical to :func:`oneclass_embed` in-process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence

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

    if epochs < 1:
        raise ValueError(f"epochs={epochs}; need at least 1")
    x = torch.as_tensor(np.ascontiguousarray(real, dtype=np.float32))
    n, dim = x.shape
    centre = torch.full((dim,), CENTRE_VALUE)
    batch = int(np.clip(n // 32, 64, 1024)) if batch_size is None else batch_size
    batch = max(1, min(batch, n))
    stopper = _EarlyStopping(patience=patience)
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
    """The Deep-SVDD loop (seeded, the caller's RNG restored); returns (net, epochs run, loss)."""
    n, dim = x.shape
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):  # as fairx.nn.seeded
        torch.manual_seed(int(seed))
        net = _mlp(torch, [dim, *HIDDEN, dim])
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


def _mlp(torch, dims: Sequence[int]):
    """Bias-free ``Linear`` layers with ReLU between them (``fairx.nn.mlp(dims, bias=False)``,
    built in the same order, so the seeded initialisation is the same)."""
    layers = []
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1], bias=False))
        if i < len(dims) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class _EarlyStopping:
    """``fairx.nn.EarlyStopping`` (mode "min"): stop when the value has not improved by
    ``min_delta`` for ``patience`` epochs."""

    def __init__(self, patience: int) -> None:
        self.patience, self.min_delta = patience, 0.0
        self.best, self.bad = float("inf"), 0

    def step(self, value: float, step: int = 0) -> bool:
        if float(value) < self.best - self.min_delta:
            self.best, self.bad = float(value), 0
            return False
        self.bad += 1
        return self.bad >= self.patience


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


# ---------------------------------------------------------------------------- child process
def start_oneclass_process(real: np.ndarray, others: Sequence[np.ndarray], *, seed: int = 0,
                           epochs: int = 20) -> Callable[[], tuple[np.ndarray, list[np.ndarray], dict]] | None:
    """Start :func:`oneclass_embed` (one torch thread) in a child process; returns ``result()``
    (waits, then returns what :func:`oneclass_embed` returns, bit-identical), or None when no
    child could be started. A child that fails is logged and redone in-process by ``result()``.
    Call ``result()`` (it also removes the temporary files) or ``result.cancel()``.
    """
    tmp = tempfile.TemporaryDirectory(prefix="fairx-oneclass-")
    arrays = [np.ascontiguousarray(a, dtype=np.float32) for a in (real, *others)]
    try:
        for i, a in enumerate(arrays):
            np.save(os.path.join(tmp.name, f"in{i}.npy"), a)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        code = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
        started = time.time()
        proc = subprocess.Popen([sys.executable, "-c", code, os.path.abspath(__file__), tmp.name,
                                 str(len(arrays)), str(int(seed)), str(int(epochs))],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
    except (OSError, ValueError, TypeError) as exc:  # e.g. no usable sys.executable
        logger.info("one-class embedding: no child process (%s); training in-process", exc)
        tmp.cleanup()
        return None

    def cancel() -> None:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        tmp.cleanup()

    def result() -> tuple[np.ndarray, list[np.ndarray], dict]:
        try:
            _, err = proc.communicate()
            if proc.returncode == 0:
                with open(os.path.join(tmp.name, "info.json")) as fh:
                    info = json.load(fh)
                # seconds from the start of the child to its end (imports included)
                info["process_seconds"] = max(0.0, info.pop("finished") - started)
                out = [np.load(os.path.join(tmp.name, f"out{i}.npy")).astype(np.float64)
                       for i in range(len(arrays))]
                return out[0], out[1:], info
            tail = err.decode(errors="replace").strip().splitlines()[-3:]
            logger.warning("one-class embedding: the child process failed (exit %s: %s); "
                           "training in-process", proc.returncode, " / ".join(tail))
        finally:
            tmp.cleanup()
        return oneclass_embed(real, list(others), seed=seed, epochs=epochs, n_threads=1)

    result.cancel = cancel  # type: ignore[attr-defined]
    return result


def _worker(folder: str, n_arrays: int, seed: int, epochs: int) -> None:
    """The child: read in*.npy, train on in0, write out*.npy (float32, as computed) + info."""
    arrays = [np.load(os.path.join(folder, f"in{i}.npy")) for i in range(n_arrays)]
    t0 = time.perf_counter()
    real, others, info = oneclass_embed(arrays[0], arrays[1:], seed=seed, epochs=epochs, n_threads=1)
    info = {**info, "train_seconds": time.perf_counter() - t0}
    for i, a in enumerate([real, *others]):
        np.save(os.path.join(folder, f"out{i}.npy"), a.astype(np.float32))
    with open(os.path.join(folder, "info.json"), "w") as fh:
        json.dump({**info, "finished": time.time()}, fh)


if __name__ == "__main__":
    _worker(sys.argv[1], *(int(v) for v in sys.argv[2:5]))
