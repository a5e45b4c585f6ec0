"""Output heads over column blocks and one WGAN-GP critic step (shared by TabFairGAN and DECAF).

A *block* is anything with ``kind`` (``"categorical"`` or ``"numerical"``), ``start`` and
``stop`` — e.g. ``fairx.data.ColumnBlock``; this module knows nothing else about datasets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._gan import gradient_penalty, wasserstein_critic_loss

_NUMERIC = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "identity": lambda t: t,
}


def block_activation(
    raw: torch.Tensor,
    blocks: Sequence[Any],
    *,
    categorical: str = "gumbel",
    tau: float = 0.2,
    numerical: str = "relu",
    hard: bool = False,
) -> torch.Tensor:
    """Apply one activation per column block of a generator's raw output.

    ``categorical``: ``"gumbel"`` (Gumbel-softmax with temperature ``tau``, Jang et al. 2017;
    its argmax is a draw from softmax(logits)) or ``"softmax"``; ``hard`` returns one-hot rows
    with straight-through gradients. ``numerical``: ``relu``, ``sigmoid``, ``tanh`` or
    ``identity``. Blocks must tile ``raw``'s columns in order.
    """
    if numerical not in _NUMERIC:
        raise ValueError(f"numerical={numerical!r}; allowed: {', '.join(_NUMERIC)}")
    if categorical not in ("gumbel", "softmax"):
        raise ValueError(f"categorical={categorical!r}; allowed: 'gumbel', 'softmax'")
    parts = []
    for b in blocks:
        x = raw[:, b.start:b.stop]
        if b.kind == "categorical":
            if categorical == "gumbel":
                x = F.gumbel_softmax(x, tau=tau, hard=hard, dim=1)
            else:
                x = torch.softmax(x, dim=1)
                if hard:
                    one_hot = F.one_hot(x.argmax(dim=1), x.shape[1]).to(x.dtype)
                    x = one_hot + x - x.detach()
        else:
            x = _NUMERIC[numerical](x)
        parts.append(x)
    return torch.cat(parts, dim=1)


def wgan_gp_critic_step(
    critic: Callable[[torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    gp_weight: float = 10.0,
) -> float:
    """One critic update of WGAN-GP: minimise ``E[D(fake)] − E[D(real)] + λ·GP``.

    ``fake`` is detached here, so generators may pass their live output. Returns the loss.
    """
    fake = fake.detach()
    optimizer.zero_grad(set_to_none=True)
    loss = wasserstein_critic_loss(critic(real), critic(fake)) + gradient_penalty(
        critic, real, fake, weight=gp_weight)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def generator_wasserstein_loss(critic: Callable[[torch.Tensor], torch.Tensor],
                               fake: torch.Tensor) -> torch.Tensor:
    """The generator's WGAN loss ``−E[D(fake)]``."""
    return -critic(fake).mean()


def minibatches(n_rows: int, batch_size: int, *, device: torch.device | None = None,
                drop_last: bool = True) -> list[torch.Tensor]:
    """Row indices of one shuffled epoch (uses torch's RNG: seed it with ``fairx.nn.seeded``).
    The last short batch is dropped when ``drop_last`` and there is at least one full batch."""
    order = torch.randperm(n_rows, device=device)
    size = min(int(batch_size), n_rows)
    batches = list(torch.split(order, size))
    if drop_last and len(batches) > 1 and len(batches[-1]) < size:
        batches = batches[:-1]
    return batches
