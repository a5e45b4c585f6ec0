"""Shared PyTorch parts (MLP blocks, GAN losses, training helpers, the fair VAE, a small DDPM).

Nothing here knows about datasets: inputs are tensors and column-block layouts.
"""

from ._blocks import mlp
from ._ddpm import LatentDDPM, cosine_alpha_bar
from ._distance_covariance import log_gaussian_kernel, v2_penalty, v2_penalty_subsampled
from ._distill import (
    categorical_kl,
    distill_decoder,
    gaussian_kl,
    gaussian_moment_kl,
    train_latent_generator,
    train_student_encoder,
)
from ._fair_vae import (
    FairVAENet,
    TrainHistory,
    distill_output_loss,
    reconstruction_loss,
    train_fair_vae,
)
from ._gan import gradient_penalty, lsgan_losses, wasserstein_critic_loss
from ._heads import block_activation, generator_wasserstein_loss, minibatches, wgan_gp_critic_step
from ._latent_base import LatentModel
from ._latent_gan import LatentGAN
from ._mmd import median_distance, rbf_mmd2
from ._torch_utils import (
    count_parameters,
    load_numpy_state,
    resolve_device,
    seeded,
    state_to_numpy,
)
from ._training import EarlyStopping, progress

__all__ = [
    "EarlyStopping", "block_activation", "count_parameters", "generator_wasserstein_loss", "gradient_penalty", "load_numpy_state", "lsgan_losses",
    "minibatches", "mlp", "progress", "resolve_device", "seeded", "state_to_numpy", "wasserstein_critic_loss",
    "wgan_gp_critic_step",
    "FairVAENet", "TrainHistory", "distill_output_loss", "log_gaussian_kernel", "reconstruction_loss",
    "train_fair_vae", "v2_penalty", "v2_penalty_subsampled", "categorical_kl", "distill_decoder",
    "gaussian_kl", "gaussian_moment_kl", "train_latent_generator", "train_student_encoder",
    "LatentDDPM", "LatentGAN", "LatentModel", "cosine_alpha_bar",
    "median_distance", "rbf_mmd2",
]
