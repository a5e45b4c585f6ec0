"""The fair VAE of FairDisCo (methods.md §1) as a torch module plus its training loop.

Nothing here knows about datasets: the model sees an encoded feature matrix ``x`` (one-hot
categorical blocks and scaled numericals, *without* s), the one-hot sensitive attribute ``s``
and a block layout ``[(kind, start, stop), ...]`` over ``x``'s columns. One categorical block may
be marked as the label: it is predicted by a head on z alone (never on s), so generated labels
cannot depend on s except through z; every other block is decoded from (z, s).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ..exceptions import TrainingDivergedError
from ._block_losses import BlockLosses
from ._blocks import mlp
from ._distance_covariance import v2_penalty_subsampled
from ._training import EarlyStopping, progress

logger = logging.getLogger(__name__)

Block = tuple[str, int, int]  # (kind "categorical" | "numerical", start, stop)


class FairVAENet(nn.Module):
    """Encoder q(z | x, s), decoder p(x | z, s) and label head p(y | z).

    encoder: ``Linear(x_dim + s_dim, h) → ReLU → Linear(h, 2·z_dim)`` (mean, log-variance);
    decoder: ``Linear(z_dim + s_dim, h) → ReLU → Linear(h, x_dim − y_dim)`` for the non-label
    blocks; label head: ``Linear(z_dim, h) → ReLU → Linear(h, y_dim)``. ``with_encoder=False``
    builds only the generative part (for a distilled student decoder).
    """

    def __init__(self, x_dim: int, s_dim: int, blocks: Sequence[Block], *, label: tuple[int, int] | None,
                 hidden: int = 64, z_dim: int = 8, with_encoder: bool = True,
                 ordinal: Sequence[tuple[int, int]] = ()) -> None:
        super().__init__()
        self.x_dim, self.s_dim, self.z_dim = int(x_dim), int(s_dim), int(z_dim)
        self.blocks = [(str(k), int(a), int(b)) for k, a, b in blocks]
        self.ordinal = [(int(a), int(b)) for a, b in ordinal]  # checked by BlockLosses below
        self.label = None if label is None else (int(label[0]), int(label[1]))
        if self.label is not None and (self.label[0], self.label[1]) not in {(a, b) for _, a, b in self.blocks}:
            raise ValueError(f"label slice {self.label} is not one of the blocks {self.blocks}")
        y_dim = 0 if self.label is None else self.label[1] - self.label[0]
        self.losses = BlockLosses(self.blocks, self.ordinal)
        self.encoder = mlp([self.x_dim + self.s_dim, hidden, 2 * self.z_dim]) if with_encoder else None
        self.decoder = mlp([self.z_dim + self.s_dim, hidden, self.x_dim - y_dim])
        self.label_head = mlp([self.z_dim, hidden, y_dim]) if y_dim else None

    # ------------------------------------------------------------------ parts
    def encode(self, x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.encoder is None:
            raise RuntimeError("this FairVAENet was built without an encoder")
        h = self.encoder(torch.cat([x, s], dim=1))
        return h[:, : self.z_dim], h[:, self.z_dim:]

    def decode(self, z: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Raw outputs in ``x``'s layout: logits for categorical blocks, values for numericals;
        the label block comes from the label head on z alone."""
        feats = self.decoder(torch.cat([z, s], dim=1))
        if self.label is None:
            return feats
        a = self.label[0]  # the label block sits at columns a:b of x, between the features
        return torch.cat([feats[:, :a], self.label_head(z), feats[:, a:]], dim=1)

    def label_logits(self, z: torch.Tensor) -> torch.Tensor:
        if self.label_head is None:
            raise RuntimeError("this FairVAENet has no label block")
        return self.label_head(z)

    # ------------------------------------------------------------------ losses
    def reconstruction(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Σ over categorical blocks of the mean cross-entropy + Σ over numerical columns of the
        mean squared error (+ the ordinal term of :func:`ordinal_bin_loss` for binned columns)."""
        return self.losses.reconstruction(out, x)

    @staticmethod
    def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(μ, σ²) ‖ N(0, I)) summed over dimensions, mean over rows."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()


def reconstruction_loss(out: torch.Tensor, x: torch.Tensor, blocks: Sequence[Block]) -> torch.Tensor:
    """Cross-entropy per categorical block (mean over rows, summed over blocks) + squared error
    per numerical column (mean over rows, summed over columns). ``x`` may hold soft targets."""
    return BlockLosses(blocks).to(out.device).reconstruction(out, x)


def ordinal_bin_loss(out: torch.Tensor, x: torch.Tensor, ordinal: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Squared error between the expected and the true bin position of each binned numerical
    column, positions scaled to unit variance (as a standardised column's squared error).

    Why: the bins' cross-entropy alone does not know that neighbouring bins are close, so a
    decoder that only learned the marginal pays as much as one a bin off. Under the V² penalty
    that left the numerical information out of z on the planted table (docs/measurements.md: "Before the
    switch", and ``benchmarks/fair_latent_planted_knobs.py``); this term gives the decoder the
    same distance signal a Gaussian column has, while the cross-entropy keeps the shape (spikes,
    skew) that sampling draws from."""
    blocks = [("categorical", a, b) for a, b in ordinal]
    return BlockLosses(blocks, ordinal).to(out.device).ordinal(out, x)


def distill_output_loss(student: torch.Tensor, teacher: torch.Tensor, blocks: Sequence[Block]) -> torch.Tensor:
    """KL(teacher ‖ student) per categorical block + MSE per numerical column (raw outputs)."""
    return BlockLosses(blocks).to(student.device).distillation(student, teacher)


@dataclass
class TrainHistory:
    """Per-epoch means of the loss terms (V² is the unweighted penalty)."""

    loss: list[float] = field(default_factory=list)
    reconstruction: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    v2: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stopped_epoch: int | None = None
    #: epochs that hit a non-finite loss and were rerun from the previous epoch's weights at half
    #: the learning rate (see :func:`train_fair_vae`)
    restarts: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("loss", "reconstruction", "kl", "v2", "seconds",
                                              "stopped_epoch", "restarts")}


#: a fair VAE epoch whose loss turns non-finite is rerun from the previous epoch's weights at half
#: the learning rate, at most this many times per fit; then training stops at the last finite
#: epoch (measured: the image preset at β = 1e6, lr 3e-3 on 10,000 Colored MNIST digits went NaN
#: in epoch 26 of 40 on an AVX-512 CPU, and every later epoch and the model were NaN)
MAX_RESTARTS = 3


def _state(net: nn.Module, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    return copy.deepcopy(net.state_dict()), copy.deepcopy(opt.state_dict())


def train_fair_vae(
    net: FairVAENet,
    x: torch.Tensor,
    s: torch.Tensor,
    *,
    beta: float,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
    v2_rows: int | None = 512,
    patience: int | None = None,
    verbose: bool | None = None,
    kl_weight: float = 1.0,
    v2_bandwidth: float = 0.0,
) -> TrainHistory:
    """Adam on reconstruction + kl_weight·KL + β·V² (V² on a ``v2_rows`` sub-batch of each batch; ``None``
    uses the whole batch; ``v2_bandwidth`` is the kernel smoothing h of
    :func:`fairx.nn.v2_penalty`). Call inside :func:`fairx.nn.seeded` for reproducibility.

    ``patience`` stops when the epoch's total loss has not improved for that many epochs.
    An epoch whose loss turns non-finite is rerun from the previous epoch's weights (and Adam
    state) at half the learning rate, up to ``MAX_RESTARTS`` times; after that training stops with
    the last finite epoch's weights (a warning; :class:`TrainingDivergedError` if none finished).
    Runs that stay finite are unchanged (same arithmetic, same random draws).
    """
    if x.shape[0] != s.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but s has {s.shape[0]}")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    stopper = EarlyStopping(patience=patience, min_delta=0.0) if patience else None
    history = TrainHistory()
    n = x.shape[0]
    net.train()
    last_good = _state(net, opt)  # the weights an epoch with a non-finite loss is rerun from
    with progress(epochs, "fair VAE", enabled=verbose) as advance:
        epoch = 0
        while epoch < epochs:
            t0 = time.perf_counter()
            perm = torch.randperm(n, device=x.device)
            sums = [0.0, 0.0, 0.0, 0.0]
            batches = 0
            finite = True
            for start in range(0, n, batch_size):
                idx = perm[start:start + batch_size]
                xb, sb = x[idx], s[idx]
                mu, logvar = net.encode(xb, sb)
                z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
                rec = net.reconstruction(net.decode(z, sb), xb)
                kl = net.kl_standard_normal(mu, logvar)
                loss = rec + kl_weight * kl
                if beta > 0:
                    v2 = v2_penalty_subsampled(mu, logvar, sb, batch_size, max_rows=v2_rows,
                                              bandwidth=v2_bandwidth)
                    loss = loss + beta * v2
                else:
                    v2 = loss.new_zeros(())
                values = [float(v.detach()) for v in (loss, rec, kl, v2)]
                if not math.isfinite(values[0]):
                    finite = False
                    break
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                for i, v in enumerate(values):
                    sums[i] += v
                batches += 1
            if not finite:
                net.load_state_dict(last_good[0])
                opt.load_state_dict(last_good[1])
                if len(history.restarts) == MAX_RESTARTS:
                    break
                history.restarts.append(epoch)
                for group in opt.param_groups:
                    group["lr"] /= 2
                last_good = _state(net, opt)
                logger.warning("fair VAE: the loss was not finite in epoch %d; rerunning it from "
                               "the previous weights at learning rate %.3g", epoch,
                               opt.param_groups[0]["lr"])
                continue
            for i, name in enumerate(("loss", "reconstruction", "kl", "v2")):
                getattr(history, name).append(sums[i] / batches)
            history.seconds.append(time.perf_counter() - t0)
            advance(info=f"loss {history.loss[-1]:.3g} V² {history.v2[-1]:.2e}")
            last_good = _state(net, opt)
            if stopper is not None and stopper.step(history.loss[-1], epoch):
                history.stopped_epoch = epoch
                logger.info("fair VAE: early stop at epoch %d", epoch)
                break
            epoch += 1
        if epoch < epochs and len(history.restarts) == MAX_RESTARTS and history.stopped_epoch is None:
            if not history.loss:
                raise TrainingDivergedError(
                    f"the fair VAE's loss was not finite in its first epoch, also at learning rate "
                    f"{opt.param_groups[0]['lr']:.3g} after {MAX_RESTARTS} halvings of lr={lr}; "
                    f"lower lr or beta (beta={beta})")
            history.stopped_epoch = epoch - 1
            logger.warning("fair VAE: the loss was not finite in epoch %d after %d restarts at "
                           "halved learning rates; training stopped with the weights of epoch %d "
                           "(lower lr or beta=%s)", epoch, MAX_RESTARTS, epoch - 1, beta)
    net.eval()
    return history
