"""The closed-form distance-covariance penalty V²(z, s) of FairDisCo (methods.md §1).

For Gaussian posteriors q(z | x_i, s_i) = N(μ_i, diag(σ²_i)) in a batch B of n rows,

    K(a, c) = ∫ N(z; μ_a, σ²_a) N(z; μ_c, σ²_c) dz = N(μ_a − μ_c; 0, diag(σ²_a + σ²_c)),

and with K̄(P, Q) the mean of K over P × Q (self-pairs included),

    V²(z, s) = (n / b) · Σ_g (n_g / n)² · [K̄(B, B) + K̄(B_g, B_g) − 2 K̄(B_g, B)]
             = (n / b) · Σ_g (n_g / n)² · ‖q(z | s = g) − q(z)‖²₂ ,

summed over the groups present with 0 < n_g < n (b = nominal batch size). Each bracket is the
quadratic form w_gᵀ K w_g with w_g = 1[s = g] / n_g − 1 / n, so one n × n kernel matrix and one
(n × G) weight matrix give every group at once. The kernel is built in log-space and shifted by
its maximum before exponentiation; the quadratic forms are taken in float64, so the penalty is
finite (and ≥ 0) for any variances and for many-valued s, and its gradient stays finite at
β = 10⁷.

``bandwidth`` h > 0 (fairx, not in the paper) smooths both densities by N(0, h²I) before the L2
distance: every variance gains h², i.e. K(a, c) = N(μ_a − μ_c; 0, diag(σ²_a + σ²_c + 2h²)), divided
by its peak N(0; 0, 2h²I) so that β means the same for any z_dim. It is still zero exactly when
z ⟂ s (Gaussian smoothing is injective on distributions). Why: the h = 0 kernel's width is the
posteriors' own σ, so in 16 latent dimensions the kernels of distinct rows rarely overlap, the
estimate is noise around 0 and the penalty stops acting (Adult × sex, z_dim 16: s-probe 0.68 at
β = 1e7 and at 1e8, as without V²; docs/measurements.md, "A wider latent").
"""

from __future__ import annotations

import math

import torch


class _LogGaussianKernel(torch.autograd.Function):
    """The pairwise log-kernel with a hand-written backward pass.

    Autograd would keep two n × n temporaries per latent dimension for the backward pass and
    replay a dozen n × n operations each; the analytic gradient needs only μ and σ² and about
    ten n × n passes per dimension (``tests/test_fast_losses.py`` checks it against autograd).
    With r = (μ_a − μ_c) / v and v = σ²_a + σ²_c (per dimension k) and G = ∂L/∂log K:
    ∂L/∂μ_a = Σ_c (G_ca − G_ac)·r_ac = −Σ_c (G_ac + G_ca)·r_ac (r is antisymmetric) and
    ∂L/∂σ²_a = ½ Σ_c (G_ac + G_ca)(r²_ac − 1/v_ac).
    """

    @staticmethod
    def forward(ctx, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(mu, var)
        n, d = mu.shape
        acc = mu.new_zeros(n, n)
        for k in range(d):  # one dimension at a time: every temporary is n × n and stays in cache
            v = var[:, k, None] + var[None, :, k]
            diff = mu[:, k, None] - mu[None, :, k]
            acc.addcdiv_(diff.square_(), v)  # in place: two n × n temporaries per k, not five
            acc += v.log_()
        return -0.5 * (d * math.log(2 * math.pi) + acc)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: D102
        mu, var = ctx.saved_tensors
        grad_mu = torch.empty_like(mu)
        grad_var = torch.empty_like(var)
        # r is antisymmetric and r² − 1/v symmetric in (a, c), so both sums over c of G and of
        # Gᵀ are one row sum against S = G + Gᵀ: ∂L/∂μ_a = −Σ_c S_ac r_ac and
        # ∂L/∂σ²_a = ½ Σ_c S_ac (r²_ac − 1/v_ac) (no column sums, two fewer n × n passes per k)
        sym = grad + grad.T
        for k in range(mu.shape[1]):
            inv_v = (var[:, k, None] + var[None, :, k]).reciprocal_()
            r = (mu[:, k, None] - mu[None, :, k]).mul_(inv_v)
            grad_mu[:, k] = -(sym * r).sum(1)
            grad_var[:, k] = 0.5 * (sym * r.square_().sub_(inv_v)).sum(1)
        return grad_mu, grad_var


def log_gaussian_kernel(mu: torch.Tensor, logvar: torch.Tensor, bandwidth: float = 0.0) -> torch.Tensor:
    """``log N(μ_a − μ_c; 0, diag(σ²_a + σ²_c))`` for all pairs: an (n, n) matrix; with
    ``bandwidth`` h > 0, ``log N(μ_a − μ_c; 0, diag(σ²_a + σ²_c + 2h²)) − log N(0; 0, 2h²I)``.

    Accumulated one latent dimension at a time: every temporary is n × n (it stays in cache)
    instead of n × n × d, with the analytic backward of :class:`_LogGaussianKernel`.
    """
    h2 = float(bandwidth) ** 2
    if h2 == 0.0:
        return _LogGaussianKernel.apply(mu, logvar.exp())
    # each of the two variances gains h², so v = σ²_a + σ²_c + 2h²
    return (_LogGaussianKernel.apply(mu, logvar.exp() + h2)
            + 0.5 * mu.shape[1] * math.log(2 * math.pi * 2 * h2))


def _check_bandwidth(bandwidth: float) -> float:
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float)) or not bandwidth >= 0 \
            or not math.isfinite(bandwidth):
        raise ValueError(f"V² bandwidth={bandwidth!r}; it must be a finite number >= 0 (0: the paper's kernel)")
    return float(bandwidth)


def v2_penalty(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    s_onehot: torch.Tensor,
    nominal_batch: int | None = None,
    *,
    self_pairs: bool = True,
    bandwidth: float = 0.0,
) -> torch.Tensor:
    """V²(z, s) for the posteriors ``(mu, logvar)`` (n, d) and one-hot ``s_onehot`` (n, G).

    ``nominal_batch`` is b in the (n / b) factor (the configured batch size, so a short last
    batch weighs less); ``None`` means b = n. Returns a scalar tensor in ``mu``'s dtype.
    Groups absent from the batch, or holding every row, contribute nothing.

    ``self_pairs=True`` is the paper's estimator (every K̄ includes a = c). Its self-pair terms
    K(a, a) = N(0; 0, 2σ²_a) add about Σ_g (n_g/n)² (1/n_g − 1/n)·K̄_self > 0 even when z ⟂ s, a
    bias that grows as the batch shrinks (≈ 4× on 512 rows vs 2048) and that pushes every σ
    up. ``self_pairs=False`` takes each K̄ over distinct pairs only (a U-statistic: zero in
    expectation when z ⟂ s, for any n); groups with fewer than two rows are skipped, and the
    estimate may be slightly negative. ``bandwidth``: the smoothing h of the module docstring.
    """
    if mu.ndim != 2 or logvar.shape != mu.shape:
        raise ValueError(f"mu and logvar must both be (n, d); got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if s_onehot.ndim != 2 or s_onehot.shape[0] != mu.shape[0]:
        raise ValueError(f"s_onehot must be (n, groups) with n = {mu.shape[0]}; got {tuple(s_onehot.shape)}")
    bandwidth = _check_bandwidth(bandwidth)
    n = mu.shape[0]
    b = n if nominal_batch is None else int(nominal_batch)
    if n < 2:
        return mu.sum() * 0.0
    logk = log_gaussian_kernel(mu, logvar, bandwidth)  # float32 is accurate enough here
    if not self_pairs:
        logk = logk.masked_fill(torch.eye(n, dtype=torch.bool, device=logk.device), -math.inf)
    shift = logk.detach().max()
    kernel = (logk - shift).exp().double()  # entries in [0, 1]; the quadratic forms in float64
    s = s_onehot.to(kernel.dtype)
    n_g = s.sum(0)  # (G,)
    present = (n_g > (0 if self_pairs else 1)) & (n_g < n)
    if not bool(present.any()):
        return mu.sum() * 0.0
    s, n_g = s[:, present], n_g[present]
    if self_pairs:
        weights = s / n_g - 1.0 / n  # (n, G): w_g
        brackets = ((kernel @ weights) * weights).sum(0).clamp_min(0.0)  # w_gᵀ K w_g per group
    else:  # K̄ over distinct pairs: K̄(B,B) + K̄(B_g,B_g) − 2 K̄(B_g,B) with the diagonal zeroed
        k_rows = kernel.sum(1)  # (n,)
        brackets = (k_rows.sum() / (n * (n - 1))
                    + ((kernel @ s) * s).sum(0) / (n_g * (n_g - 1))
                    - 2.0 * (s * k_rows[:, None]).sum(0) / (n_g * (n - 1)))
    value = (n / b) * ((n_g / n) ** 2 * brackets).sum() * shift.double().exp()
    return value.to(mu.dtype)


def v2_penalty_subsampled(
    mu: torch.Tensor,
    logvar: torch.Tensor,
    s_onehot: torch.Tensor,
    nominal_batch: int | None = None,
    *,
    max_rows: int | None = 512,
    generator: torch.Generator | None = None,
    bandwidth: float = 0.0,
) -> torch.Tensor:
    """V² on a uniformly drawn sub-batch of at most ``max_rows`` rows (``None``: all rows).

    The kernel matrix costs O(n² d); a 512-row sub-batch of a 2048-row batch is 16 times
    cheaper and estimates the same group-wise L2 distances. Self-pairs are dropped (see
    :func:`v2_penalty`): with them the estimate would depend on the sub-batch size (about 4×
    larger on 512 rows than on 2048 when z ⟂ s). The (n / b) factor is taken from the full
    batch, so a short last batch still weighs less. ``bandwidth``: see :func:`v2_penalty`.
    """
    n = mu.shape[0]
    if max_rows is None or n <= max_rows:
        return v2_penalty(mu, logvar, s_onehot, nominal_batch, self_pairs=False, bandwidth=bandwidth)
    idx = torch.randperm(n, generator=generator, device=mu.device)[:max_rows]
    scale = 1.0 if nominal_batch is None else n / int(nominal_batch)
    return scale * v2_penalty(mu[idx], logvar[idx], s_onehot[idx], None, self_pairs=False,
                              bandwidth=bandwidth)
