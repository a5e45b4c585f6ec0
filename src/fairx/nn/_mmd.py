"""The one MMD estimator of fairx: biased MMD² with a sum of RBF kernels.

Used as a training loss (Fair4Free's latent generator), as a stopping score (the latent models'
early stopping) and as a test statistic (the data-free chain's stationarity rule).
"""

from __future__ import annotations

import numpy as np
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
    in ``x`` and ``y`` (usable as a loss); the bandwidth is never differentiated. Without a
    gradient to record (a test statistic, a stopping score) the kernels are written in place and
    only in the three blocks the estimator reads: the same value bit for bit, about 4× faster
    (``tests/test_perf_equivalence.py``).

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
        med2 = _median_positive(d2.detach())
        if med2 is None:  # every row identical: no positive distance, the samples are equal
            return d2.sum() * 0.0
        widths = [2.0 * s * s * med2 for s in scales]
    else:
        widths = [2.0 * (s * bandwidth) ** 2 for s in scales]
    n = len(x)
    if torch.is_grad_enabled() and (x.requires_grad or y.requires_grad):
        k = sum(torch.exp(-d2 / w) for w in widths)
        return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()
    return _kernel_means_in_place(d2, widths, n)


def _median_positive(d2: torch.Tensor) -> torch.Tensor | None:
    """``torch.median`` (the lower median) of the positive entries of ``d2`` without the masked
    copy and sort: the entries are ≥ 0, so it is one order statistic of the whole matrix, found
    by ``np.partition`` on CPU (≈ 7× faster than torch's selection) or ``kthvalue`` elsewhere.
    ``None`` when no entry is positive."""
    flat = d2.reshape(-1)
    zeros = int((flat <= 0).sum())
    if zeros == flat.numel():
        return None
    j = zeros + (flat.numel() - zeros - 1) // 2
    if flat.device.type == "cpu":
        value = torch.as_tensor(np.partition(flat.numpy(), j)[j])
    else:
        value = torch.kthvalue(flat, j + 1).values
    return value.clamp_min(1e-6)


def _kernel_means_in_place(d2: torch.Tensor, widths: list, n: int) -> torch.Tensor:
    """The estimator from the xx, yy and xy blocks only, kernels written into two buffers."""
    with torch.no_grad():
        k, buf = torch.empty_like(d2), torch.empty_like(d2)
        for blk in ((slice(None, n), slice(None, n)), (slice(n, None), slice(n, None)),
                    (slice(None, n), slice(n, None))):
            for i, w in enumerate(widths):
                out = k[blk] if i == 0 else buf[blk]
                torch.div(d2[blk], -w, out=out)
                out.exp_()
                if i:
                    k[blk] += out
        return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()
