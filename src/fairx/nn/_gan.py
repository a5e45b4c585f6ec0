"""GAN losses shared by TabFairGAN, DECAF and FLDGM."""

from __future__ import annotations

from collections.abc import Callable

import torch


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    weight: float = 10.0,
) -> torch.Tensor:
    """WGAN-GP penalty ``weight · E[(‖∇D(x̂)‖ − 1)²]`` at x̂ = t·real + (1−t)·fake, t ~ U(0, 1)
    per row (uniform interpolation, as in Gulrajani et al.; the FLDGM code used a Gaussian)."""
    t = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    x_hat = (t * real + (1 - t) * fake).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return weight * ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def wasserstein_critic_loss(real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    return fake_score.mean() - real_score.mean()


def lsgan_losses(real_score: torch.Tensor, fake_score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares GAN (Mao et al.): (discriminator loss, generator loss) with targets 1/0."""
    d = 0.5 * ((real_score - 1) ** 2).mean() + 0.5 * (fake_score**2).mean()
    g = 0.5 * ((fake_score - 1) ** 2).mean()
    return d, g
