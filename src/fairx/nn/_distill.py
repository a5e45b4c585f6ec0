"""Latent-space distillation parts for FairDistill (methods.md §3) and Fair4Free (§4).

Tensor-level only: the teacher is a :class:`~fairx.nn.FairVAENet`, data are encoded matrices.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._block_losses import BlockLosses
from ._distance_covariance import v2_penalty_subsampled
from ._fair_vae import Block, FairVAENet
from ._mmd import rbf_mmd2
from ._training import progress

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------- divergences
def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor,
                logvar_p: torch.Tensor) -> torch.Tensor:
    """KL(N(μ_q, σ²_q) ‖ N(μ_p, σ²_p)) for diagonal Gaussians, summed over dims, mean over rows."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp()
                  - 1.0).sum(1).mean()


def categorical_kl(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    """KL(softmax(p) ‖ softmax(q)), mean over rows."""
    lp, lq = F.log_softmax(logits_p, 1), F.log_softmax(logits_q, 1)
    return (lp.exp() * (lp - lq)).sum(1).mean()


def gaussian_moment_kl(x: torch.Tensor, mean_t: torch.Tensor, cov_t: torch.Tensor,
                       jitter: float = 1e-4) -> torch.Tensor:
    """KL(N(mean(x), cov(x)) ‖ N(mean_t, cov_t)) between the batch moments of ``x`` and a target."""
    d = x.shape[1]
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    m = x.mean(0)
    xc = x - m
    cov = xc.T @ xc / max(x.shape[0] - 1, 1) + jitter * eye
    cov_t = cov_t + jitter * eye
    prec_t = torch.linalg.inv(cov_t)
    diff = (mean_t - m)[:, None]
    return 0.5 * (torch.trace(prec_t @ cov) + (diff.T @ prec_t @ diff).squeeze() - d
                  + torch.logdet(cov_t) - torch.logdet(cov))


# ---------------------------------------------------------------------------------- FairDistill
def train_student_encoder(
    student: nn.Module,
    teacher: FairVAENet,
    x: torch.Tensor,
    s: torch.Tensor,
    *,
    z_dim: int,
    beta: float,
    lambda_u: float,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
    v2_rows: int | None = 512,
    v2_bandwidth: float = 0.0,
    verbose: bool | None = None,
) -> list[float]:
    """FairDistill's student: ``student(cat[x, s]) -> (μ, log σ²)`` trained with the teacher frozen on
    KL(q_s ‖ q_t) + λ_u·KL(p_t(y | z_t) ‖ p_t(y | z_s)) + β·V²(z_s, s). Returns epoch losses."""
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    losses: list[float] = []
    n = x.shape[0]
    try:
        with progress(epochs, "FairDistill student", enabled=verbose) as advance:
            for _ in range(epochs):
                perm = torch.randperm(n, device=x.device)
                total, batches = 0.0, 0
                for start in range(0, n, batch_size):
                    idx = perm[start:start + batch_size]
                    xb, sb = x[idx], s[idx]
                    with torch.no_grad():
                        mu_t, lv_t = teacher.encode(xb, sb)
                        z_t = mu_t + (0.5 * lv_t).exp() * torch.randn_like(mu_t)
                        y_t = teacher.label_logits(z_t)
                    h = student(torch.cat([xb, sb], 1))
                    mu_s, lv_s = h[:, :z_dim], h[:, z_dim:]
                    z_s = mu_s + (0.5 * lv_s).exp() * torch.randn_like(mu_s)
                    loss = gaussian_kl(mu_s, lv_s, mu_t, lv_t)
                    if lambda_u > 0 and teacher.label_head is not None:
                        loss = loss + lambda_u * categorical_kl(y_t, teacher.label_logits(z_s))
                    if beta > 0:
                        loss = loss + beta * v2_penalty_subsampled(mu_s, lv_s, sb, batch_size, max_rows=v2_rows,
                                                                 bandwidth=v2_bandwidth)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach())
                    batches += 1
                losses.append(total / batches)
                advance(info=f"loss {losses[-1]:.3g}")
    finally:
        for p in teacher.parameters():
            p.requires_grad_(True)
    return losses


# ---------------------------------------------------------------------------------- Fair4Free
def train_latent_generator(
    generator: nn.Module,
    pool: torch.Tensor,
    *,
    noise_dim: int,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
    moment_weight: float = 1.0,
    verbose: bool | None = None,
) -> list[float]:
    """Fit ``generator(ε)``, ε ~ N(0, I), to the latent sample ``pool``: MMD² (multi-bandwidth RBF)
    + ``moment_weight`` · Gaussian moment KL to the pool's mean and covariance."""
    opt = torch.optim.Adam(generator.parameters(), lr=lr)
    mean_t = pool.mean(0)
    cov_t = torch.cov(pool.T)
    losses: list[float] = []
    n = pool.shape[0]
    with progress(epochs, "Fair4Free latent generator", enabled=verbose) as advance:
        for _ in range(epochs):
            perm = torch.randperm(n, device=pool.device)
            total, batches = 0.0, 0
            for start in range(0, n - batch_size + 1, batch_size):
                target = pool[perm[start:start + batch_size]]
                fake = generator(torch.randn(batch_size, noise_dim, device=pool.device))
                loss = rbf_mmd2(fake, target) + moment_weight * gaussian_moment_kl(fake, mean_t, cov_t)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
                batches += 1
            losses.append(total / max(batches, 1))
            advance(info=f"loss {losses[-1]:.3g}")
    return losses


def distill_decoder(
    student: FairVAENet,
    teacher: FairVAENet,
    latent_sampler: Callable[[int], torch.Tensor],
    s_sampler: Callable[[int], torch.Tensor],
    blocks: Sequence[Block],
    *,
    steps: int,
    batch_size: int,
    lr: float = 1e-3,
    verbose: bool | None = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """Train ``student.decode`` to reproduce ``teacher.decode`` on (z, s) drawn from the samplers:
    KL per categorical block (label block included) + MSE per numerical column, or
    ``loss_fn(student_out, teacher_out)`` when given (images: per-pixel Bernoulli KL). Data-free."""
    if loss_fn is None:
        loss_fn = BlockLosses(blocks).to(next(student.parameters()).device).distillation
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    losses: list[float] = []
    with progress(steps, "Fair4Free decoder", enabled=verbose) as advance:
        for _ in range(steps):
            with torch.no_grad():
                z = latent_sampler(batch_size)
                s = s_sampler(batch_size)
                target = teacher.decode(z, s)
            loss = loss_fn(student.decode(z, s), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            advance(info=f"loss {losses[-1]:.3g}")
    return losses


def prior_chain(
    z0: np.ndarray,
    reencode: Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]],
    steps: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """Fair4Free's data-free latent chain (methods.md §4): z_0 = ``z0`` (prior draws), then
    z_{j+1} ~ q(z | D(z_j, s), s) by sampling (μ + σ·ε, never μ alone), for j < ``steps``.

    ``reencode(z, rng) -> (μ, log σ²)`` decodes z with s ~ P(S) and re-encodes (the teacher's
    own round trip). Returns the latents of every step (``steps + 1`` arrays)."""
    chain = [np.asarray(z0)]
    for _ in range(steps):
        mu, logvar = reencode(chain[-1], rng)
        chain.append(mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape))
    return chain


def chain_stationarity(chain: Sequence[np.ndarray], rng: np.random.Generator, rows: int = 2000) -> list[float]:
    """For each step j of a :func:`prior_chain` but the last, MMD²(z_j, z_{j+1}) divided by the
    MMD² between two disjoint halves of z_j (the estimator's noise floor at the same sample size).

    The decode–re-encode chain of a well-fitted VAE has the aggregate posterior as its stationary
    distribution, so a ratio near 1 means the chain has stopped moving: its latents look like the
    ones the encoder produces on data. Measured on a saved Adult teacher (β = 1e7, 200 epochs):
    ratios 15.2, 1.4, 1.5, 1.4, 0.9 for steps 0–4, and MMD² to the *real* aggregate posterior 0.023
    at k = 0 against 0.004–0.005 for k ≥ 1 — an earlier score, the mean log-density
    log q(z_j | D(z_j, s), s), preferred k = 0 on the same chain. Data-free: only the chain is used."""
    ratios = []
    for a, b in zip(chain[:-1], chain[1:], strict=True):
        m = min(rows, len(a) // 2, len(b))
        ia = rng.choice(len(a), 2 * m, replace=False)
        ib = rng.choice(len(b), m, replace=False)
        first = torch.as_tensor(np.asarray(a)[ia[:m]], dtype=torch.float32)
        floor = float(rbf_mmd2(first, torch.as_tensor(np.asarray(a)[ia[m:]], dtype=torch.float32)))
        step = float(rbf_mmd2(first, torch.as_tensor(np.asarray(b)[ib], dtype=torch.float32)))
        ratios.append(step / max(floor, 1e-12))
    return ratios


def choose_stationary_step(ratios: Sequence[float], threshold: float = 2.0) -> int:
    """The first chain step whose :func:`chain_stationarity` ratio is at most ``threshold``
    (the chain has converged there); the step with the smallest ratio when none is."""
    for j, r in enumerate(ratios):
        if r <= threshold:
            return j
    return int(np.argmin(ratios))


def select_chain_step(run_chain: Callable[[int], list[np.ndarray]], k: int | None, max_k: int,
                      rng: np.random.Generator) -> tuple[list[np.ndarray], int, list[float]]:
    """Run a latent chain and pick its step: ``k`` when given, else the first stationary step
    in 0..``max_k`` (judging step j needs step j + 1, so the automatic choice runs max_k + 1
    steps). ``run_chain(steps)`` returns the ``steps + 1`` arrays of :func:`prior_chain`.
    Returns (chain, chosen step, stationarity ratios)."""
    chain = run_chain(max_k + 1 if k is None else int(k))
    ratios = chain_stationarity(chain, rng)
    chosen = choose_stationary_step(ratios[: max_k + 1]) if k is None else int(k)
    return chain, chosen, ratios
