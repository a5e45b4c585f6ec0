"""MLP building blocks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(
    dims: Sequence[int],
    *,
    activation: type[nn.Module] | None = nn.ReLU,
    batchnorm: bool = False,
    dropout: float = 0.0,
    leaky_slope: float | None = None,
    final_activation: bool = False,
    bias: bool = True,
) -> nn.Sequential:
    """``Linear`` layers through ``dims`` with an activation between them.

    ``batchnorm`` puts ``BatchNorm1d`` before each hidden ``Linear`` (the FLDGM block order
    ``BN -> Linear -> act``); ``leaky_slope`` switches the activation to LeakyReLU.
    """
    layers: list[nn.Module] = []
    n = len(dims) - 1
    for i in range(n):
        last = i == n - 1
        if batchnorm and not last:
            layers.append(nn.BatchNorm1d(dims[i]))
        layers.append(nn.Linear(dims[i], dims[i + 1], bias=bias))
        if not last or final_activation:
            if leaky_slope is not None:
                layers.append(nn.LeakyReLU(leaky_slope))
            elif activation is not None:
                layers.append(activation())
            if dropout and not last:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
