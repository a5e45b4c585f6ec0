"""A small DDPM on a latent space (FLDGM's latent diffusion model, methods.md §2).

- Forward process: x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε with the cosine schedule (Nichol & Dhariwal
  2021): ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, β_t clipped at 0.999.
- v-prediction (Salimans & Ho 2022): the network predicts v = √ᾱ_t ε − √(1−ᾱ_t) x_0 with an
  L2 loss; then x_0 = √ᾱ_t x_t − √(1−ᾱ_t) v and ε = √(1−ᾱ_t) x_t + √ᾱ_t v.
- Denoiser: sinusoidal time embedding (256) → Linear–SiLU–Linear; x → Linear(z_dim, 256); sum;
  two blocks ``BN → Linear(256, 256) → LeakyReLU(0.2) → Dropout(0.2)`` (:class:`FastDropout`);
  Linear(256, z_dim).
- Latents are standardised before training and un-standardised after sampling; nothing is
  clipped (the original clipped to [−1, 1], which cuts real latent mass).
- Sampling: ``sampling_steps=None`` runs faithful ancestral sampling through all T steps.
  ``sampling_steps=k`` runs a strided sampler on k evenly spaced timesteps (DDIM update of
  Song et al. 2021 with ``eta``; eta = 1 on the full grid is exactly ancestral DDPM sampling,
  eta = 0 is deterministic DDIM) — faster, slightly less faithful.
- ``ema`` (option, default none as in the original): sampling and the early-stopping MMD use
  an exponential moving average of the denoiser's weights (Ho et al. 2020 sample from an EMA
  too), updated after every optimiser step; BatchNorm statistics are copied from the trained
  network. Measured (``benchmarks/fair_latent_sampler_diag.py --ddpm``, 5 seeds of Adult, 3 of
  COMPAS): see docs/measurements.md (FLDGM's latent DDPM) — better Adult quality, worse COMPAS × race
  fairness with dropout 0, so no preset uses it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ._blocks import FastDropout
from ._latent_base import LatentModel
from ._torch_utils import count_parameters


def cosine_alpha_bar(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """ᾱ_t for t = 0..T (ᾱ_0 = 1) of the cosine schedule, with β_t = 1 − ᾱ_t/ᾱ_{t−1} ≤ max_beta."""
    t = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = np.clip(1 - ab[1:] / ab[:-1], 0.0, max_beta)
    return np.concatenate([[1.0], np.cumprod(1 - betas)])


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style embedding of integer timesteps: [sin(t·ω_k), cos(t·ω_k)],
    ω_k = 10000^(−k/(dim/2))."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2:
        emb = torch.nn.functional.pad(emb, (0, 1))
    return emb


class Denoiser(nn.Module):
    """v-prediction network of FLDGM's latent DDPM (see the module docstring)."""

    def __init__(self, z_dim: int, hidden: int = 256, dropout: float = 0.2) -> None:
        super().__init__()
        self.hidden = hidden
        self.time_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.inp = nn.Linear(z_dim, hidden)
        block = [nn.BatchNorm1d(hidden), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), FastDropout(dropout)]
        self.blocks = nn.Sequential(*block, *[copy_module(m) for m in block])
        self.out = nn.Linear(hidden, z_dim)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # the time branch depends on t alone: run it once per distinct timestep
        t_unique, inverse = torch.unique(t, return_inverse=True)
        h = self.inp(x) + self.time_mlp(sinusoidal_embedding(t_unique, self.hidden))[inverse]
        return self.out(self.blocks(h))


def copy_module(m: nn.Module) -> nn.Module:
    """A freshly initialised module of the same kind and shape."""
    if isinstance(m, nn.Linear):
        return nn.Linear(m.in_features, m.out_features)
    if isinstance(m, nn.BatchNorm1d):
        return nn.BatchNorm1d(m.num_features)
    if isinstance(m, nn.LeakyReLU):
        return nn.LeakyReLU(m.negative_slope)
    if isinstance(m, (nn.Dropout, FastDropout)):
        return FastDropout(m.p)
    raise TypeError(f"cannot copy {type(m).__name__}")


class LatentDDPM(LatentModel):
    """DDPM with cosine schedule and v-prediction on latents (see the module docstring).

    Parameters (beyond :class:`LatentModel`'s): ``timesteps`` T (1000), ``hidden`` (256),
    ``dropout`` (0.2), ``sampling_steps`` (None = ancestral over all T; k = strided),
    ``eta`` (1.0; stochasticity of the strided sampler), ``eval_sampling_steps`` (steps of the
    strided sampler used only for the early-stopping MMD, for speed), ``ema`` (None, or the
    decay in (0, 1) of the weight average that samples; see the module docstring).
    """

    kind: ClassVar[str] = "ddpm"
    _param_names = LatentModel._param_names + (
        "timesteps", "hidden", "dropout", "sampling_steps", "eta", "eval_sampling_steps", "ema")

    def __init__(
        self,
        *,
        timesteps: int = 1000,
        hidden: int = 256,
        dropout: float = 0.2,
        sampling_steps: int | None = None,
        eta: float = 1.0,
        eval_sampling_steps: int | None = 100,
        ema: float | None = None,
        epochs: int = 400,
        batch_size: int = 512,
        lr: float = 1e-4,
        weight_decay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                         **kwargs)
        self.timesteps = timesteps
        self.hidden = hidden
        self.dropout = dropout
        self.sampling_steps = sampling_steps
        self.eta = eta
        self.eval_sampling_steps = eval_sampling_steps
        self.ema = ema

    @property
    def kind_name(self) -> str:
        return "ddpm"

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("sampling_steps", "eval_sampling_steps"):
            v = getattr(self, name)
            if v is not None and not 1 <= int(v) <= self.timesteps:
                raise ValueError(f"{name}={v!r}: must be None or in [1, timesteps={self.timesteps}]")
        if self.ema is not None and (isinstance(self.ema, bool) or not isinstance(self.ema, (int, float))
                                     or not 0 < float(self.ema) < 1):
            raise ValueError(f"ema={self.ema!r}: give None (no weight average) or a decay in (0, 1), "
                             "e.g. 0.995")

    def _build(self, z_dim: int) -> None:
        self.denoiser_ = Denoiser(z_dim, self.hidden, self.dropout)
        self.alpha_bar_ = torch.tensor(cosine_alpha_bar(self.timesteps), dtype=torch.float32)
        self.opt_ = torch.optim.Adam(self.denoiser_.parameters(), lr=self.lr,
                                     weight_decay=self.weight_decay)
        if self.ema is not None:
            self.ema_denoiser_ = copy.deepcopy(self.denoiser_).requires_grad_(False)

    def _modules(self) -> dict[str, nn.Module]:
        # the average is saved and checkpointed with the network (a folder without it: ema=None)
        return {"denoiser": self.denoiser_,
                **({"ema": self.ema_denoiser_} if self.ema is not None else {})}

    def _sampler_net(self) -> nn.Module:
        return self.ema_denoiser_ if self.ema is not None else self.denoiser_

    def _sampling_modules(self) -> list[nn.Module]:
        return [self._sampler_net()]

    @property
    def n_parameters_total_(self) -> int:
        """Trained parameters (the average is a copy, not counted twice)."""
        self._check_fitted()
        return count_parameters(self.denoiser_)

    def _update_average(self) -> None:
        avg, net = self.ema_denoiser_, self.denoiser_
        with torch.no_grad():
            for a, p in zip(avg.parameters(), net.parameters(), strict=True):
                a.lerp_(p, 1.0 - float(self.ema))
            for b_avg, b_net in zip(avg.buffers(), net.buffers(), strict=True):
                b_avg.copy_(b_net)

    # ---------------------------------------------------------------- diffusion maths
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε (t in 1..T)."""
        ab = self.alpha_bar_.to(x0.device)[t][:, None]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def v_target(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """v = √ᾱ_t ε − √(1−ᾱ_t) x_0."""
        ab = self.alpha_bar_.to(x0.device)[t][:, None]
        return ab.sqrt() * noise - (1 - ab).sqrt() * x0

    def predict_x0_eps(self, xt: torch.Tensor, t: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_0, ε) from (x_t, v): x_0 = √ᾱ x_t − √(1−ᾱ) v, ε = √(1−ᾱ) x_t + √ᾱ v."""
        ab = self.alpha_bar_.to(xt.device)[t][:, None]
        return ab.sqrt() * xt - (1 - ab).sqrt() * v, (1 - ab).sqrt() * xt + ab.sqrt() * v

    # ---------------------------------------------------------------- training
    def _train_epoch(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:
        losses = []
        for x0 in batches:
            t = torch.randint(1, self.timesteps + 1, (len(x0),), device=x0.device)
            noise = torch.randn_like(x0)
            pred = self.denoiser_(self.q_sample(x0, t, noise), t)
            loss = ((pred - self.v_target(x0, t, noise)) ** 2).mean()
            self.opt_.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_.step()
            if self.ema is not None:
                self._update_average()
            losses.append(loss.item())
        return {"loss": sum(losses) / max(len(losses), 1)}

    # ---------------------------------------------------------------- sampling
    def _timestep_grid(self, steps: int | None) -> list[int]:
        if steps is None or int(steps) >= self.timesteps:
            return list(range(self.timesteps, 0, -1))
        grid = np.unique(np.round(np.linspace(1, self.timesteps, int(steps))).astype(int))
        return grid[::-1].tolist()

    def _run_sampler(self, n: int, steps: int | None, eta: float) -> torch.Tensor:
        dev = self.device_
        ab_all = self.alpha_bar_.to(dev)
        x = torch.randn(n, self.z_dim_, device=dev)
        grid = self._timestep_grid(steps)
        net = self._sampler_net()
        for i, t in enumerate(grid):
            t_prev = grid[i + 1] if i + 1 < len(grid) else 0
            tt = torch.full((n,), t, device=dev, dtype=torch.long)
            x0, eps = self.predict_x0_eps(x, tt, net(x, tt))
            ab, ab_prev = ab_all[t], ab_all[t_prev]
            sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
            x = ab_prev.sqrt() * x0 + torch.sqrt((1 - ab_prev - sigma**2).clamp_min(0)) * eps
            if t_prev > 0:
                x = x + sigma * torch.randn_like(x)
        return x

    def _generate(self, n: int) -> torch.Tensor:
        return self._run_sampler(n, self.sampling_steps, self.eta)

    def _generate_for_eval(self, n: int) -> torch.Tensor:
        steps = self.eval_sampling_steps if self.eval_sampling_steps is not None else self.sampling_steps
        return self._run_sampler(n, steps, self.eta)
