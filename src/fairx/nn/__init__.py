"""Shared PyTorch parts (MLP blocks, GAN losses, training helpers, the fair VAE, a small DDPM).

Nothing here knows about datasets: inputs are tensors and column-block layouts.
"""

from ._blocks import mlp
from ._gan import gradient_penalty, lsgan_losses, wasserstein_critic_loss
from ._torch_utils import (
    count_parameters,
    load_numpy_state,
    resolve_device,
    seeded,
    state_to_numpy,
)
from ._training import EarlyStopping, progress

__all__ = [
    "EarlyStopping", "count_parameters", "gradient_penalty", "load_numpy_state", "lsgan_losses",
    "mlp", "progress", "resolve_device", "seeded", "state_to_numpy", "wasserstein_critic_loss",
]
