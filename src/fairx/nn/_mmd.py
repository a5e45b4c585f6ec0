"""The one MMD estimator of fairx: biased MMD² with a sum of RBF kernels.

Used as a training loss (Fair4Free's latent generator), as a stopping score (the latent models'
early stopping) and as a test statistic (the data-free chain's stationarity rule).
"""

from __future__ import annotations

import torch

MMD_SCALES = (0.5, 1.0, 2.0, 4.0)


def median_distance(x: torch.Tensor, max_rows: int = 2000) -> float:
    """Median pairwise Euclidean distance between distinct rows of ``x`` (first ``max_rows``).

    Parameters
    ----------
    x : tensor (n, d).
    max_rows : only the first ``max_rows`` rows are used (the cost is quadratic).

    Returns
    -------
    float
        The median distance, at least 1e-6.
    """
    x = x[:max_rows]
    d = torch.cdist(x, x)
    iu = torch.triu_indices(len(x), len(x), offset=1, device=x.device)
    return float(d[iu[0], iu[1]].median().clamp_min(1e-6))


def rbf_mmd2(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    bandwidth: float | None = None,
    scales: tuple[float, ...] = MMD_SCALES,
) -> torch.Tensor:
    """Biased MMD² between samples ``x`` and ``y`` with a sum of RBF kernels.

    The kernel is ``sum_s exp(-‖a - b‖² / (2 (s·h)²))`` over ``s`` in ``scales``. Differentiable
    in ``x`` and ``y`` (usable as a loss); the bandwidth is never differentiated.

    Parameters
    ----------
    x, y : tensors (n, d) and (m, d).
    bandwidth : h; default: the median pairwise distance of the pooled sample (the median of
        its non-zero squared distances, square-rooted), recomputed on every call.
    scales : multipliers of h, one kernel each.

    Returns
    -------
    torch.Tensor
        A scalar: 0 for identical samples, larger the more the distributions differ.
    """
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x has {x.shape[1]} columns and y has {y.shape[1]}; they must match")
    xy = torch.cat([x, y], 0)
    d2 = torch.cdist(xy, xy).pow(2)
    if bandwidth is None:
        pooled = d2.detach()
        med2 = pooled[pooled > 0].median().clamp_min(1e-6)
        k = sum(torch.exp(-d2 / (2.0 * s * s * med2)) for s in scales)
    else:
        k = sum(torch.exp(-d2 / (2.0 * (s * bandwidth) ** 2)) for s in scales)
    n = len(x)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()
