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


def _pairwise_terms(mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """A = Σ_k [(μ_ak − μ_ck)² / v_ack + log v_ack] with v_ack = var_ak + var_ck: (n, n), so that
    log K = −½ (d log 2π + A).

    One latent dimension at a time, into two reused n × n buffers (they stay in cache), from
    contiguous (d, n) copies of μ and σ²: the outer sums of a strided column (``var[:, k]``)
    cannot be vectorised and were the slowest step (``benchmarks/bench_fair_latent_fit.py --what v2``).
    """
    n, d = mu.shape
    acc = mu.new_zeros(n, n)
    v, diff = mu.new_empty(n, n), mu.new_empty(n, n)
    var_t, mu_t = var.T.contiguous(), mu.T.contiguous()
    for k in range(d):
        torch.add(var_t[k, :, None], var_t[k, None, :], out=v)
        torch.sub(mu_t[k, :, None], mu_t[k, None, :], out=diff)
        acc.addcdiv_(diff.square_(), v)
        acc += v.log_()
    return acc


def _pairwise_backward(mu: torch.Tensor, var: torch.Tensor, sym: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂L/∂μ, ∂L/∂σ²) of L through log K, from the symmetric S = G + Gᵀ with G = ∂L/∂log K.

    With r = (μ_a − μ_c) / v (antisymmetric) and r² − 1/v (symmetric), ∂L/∂μ_a = −Σ_c S_ac r_ac
    and ∂L/∂σ²_a = ½ Σ_c S_ac (r²_ac − 1/v_ac). With P = S / v and Q = P / v these are
    Σ_c P_ac μ_c − μ_a Σ_c P_ac and ½ [μ_a² Σ_c Q_ac − 2 μ_a Σ_c Q_ac μ_c + Σ_c Q_ac μ_c² − Σ_c P_ac]:
    two matrix products per dimension against [1, μ, μ²] (P and Q are symmetric, so row sums are
    products from the left) instead of n × n difference matrices. μ is centred per dimension
    first (every r is unchanged), which keeps the expanded squares accurate in float32.
    """
    n, d = mu.shape
    centred = (mu - mu.mean(0)).T.contiguous()  # (d, n)
    var_t = var.T.contiguous()
    p_sums = mu.new_empty(d, 2, n)  # per dimension: Σ_c P_ac, Σ_c P_ac μ_c
    q_sums = mu.new_empty(d, 3, n)  # Σ_c Q_ac, Σ_c Q_ac μ_c, Σ_c Q_ac μ_c²
    ones = mu.new_ones(n)
    inv_v, p_mat = mu.new_empty(n, n), mu.new_empty(n, n)  # reused: they stay in cache
    for k in range(d):
        torch.add(var_t[k, :, None], var_t[k, None, :], out=inv_v).reciprocal_()
        torch.mul(sym, inv_v, out=p_mat)
        m = centred[k]
        powers = torch.stack([ones, m, m * m])
        torch.mm(powers[:2], p_mat, out=p_sums[k])
        torch.mm(powers, p_mat.mul_(inv_v), out=q_sums[k])
    m = centred
    grad_mu = (p_sums[:, 1] - m * p_sums[:, 0]).T
    grad_var = (0.5 * (m * m * q_sums[:, 0] - 2 * m * q_sums[:, 1] + q_sums[:, 2] - p_sums[:, 0])).T
    return grad_mu, grad_var


class _LogGaussianKernel(torch.autograd.Function):
    """The pairwise log-kernel with a hand-written backward pass (:func:`_pairwise_backward`).

    Autograd would keep two n × n temporaries per latent dimension for the backward pass and
    replay a dozen n × n operations each; the analytic gradient needs only μ and σ²
    (``tests/test_fast_losses.py`` checks it against autograd).
    """

    @staticmethod
    def forward(ctx, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(mu, var)
        return -0.5 * (mu.shape[1] * math.log(2 * math.pi) + _pairwise_terms(mu, var))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: D102
        mu, var = ctx.saved_tensors
        return _pairwise_backward(mu, var, grad + grad.T)


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


def _group_weights(s_onehot: torch.Tensor, nominal_batch: int | None, self_pairs: bool) -> torch.Tensor | None:
    """The (G, G) matrix B with V² = Σ_a Σ_c K(a, c) · B[g_a, g_c] (a ≠ c without self-pairs),
    in float64; ``None`` when no group is present (V² = 0).

    With w_g = 1[s = g] / n_g − 1 / n, the bracket of group g is w_gᵀ K w_g, so
    B = (n / b) Σ_g (n_g / n)² w̃_g w̃_gᵀ with w̃_g[h] = 1[h = g] / n_g − 1 / n. Over distinct
    pairs, K̄(B, B) = T / (n(n − 1)), K̄(B_g, B_g) = T_gg / (n_g(n_g − 1)) and K̄(B_g, B) =
    (T_g· + T_·g) / (2 n_g(n − 1)) (K is symmetric), T being sums of K over the distinct pairs.
    """
    s = s_onehot.detach().to(torch.float64)
    n = s.shape[0]
    b = n if nominal_batch is None else int(nominal_batch)
    n_g = s.sum(0)
    present = (n_g > (0 if self_pairs else 1)) & (n_g < n)
    if not bool(present.any()):
        return None
    eye = torch.eye(len(n_g), dtype=torch.float64, device=s.device)[present]  # (P, G): 1[h = g]
    share = (n_g[present] / n) ** 2
    if self_pairs:
        w = eye / n_g[present, None] - 1.0 / n
        weights = torch.einsum("p,pg,ph->gh", share, w, w)
    else:
        m = n_g[present]
        same = torch.einsum("p,pg,ph->gh", share / (m * (m - 1)), eye, eye)
        cross = (share / (m * (n - 1))) @ eye  # (G,): the K̄(B_g, B) coefficient of row group g
        weights = share.sum() / (n * (n - 1)) + same - cross[:, None] - cross[None, :]
    return (n / b) * weights


class _V2(torch.autograd.Function):
    """V² = Σ_{a,c} K(a, c) · B[g_a, g_c] (B: :func:`_group_weights`) and its gradient, fed to
    :func:`_pairwise_backward` directly as S = K ∘ (B + Bᵀ)[g_a, g_c].

    Why one Function: through autograd the value took a dozen more n × n passes (the diagonal
    mask, the shift, exp, the float64 copy and their backward passes). Here the kernel is built
    once and kept in float32 for the backward; only the (G, G) group sums are taken in float64
    (V² is a small difference of kernel means: float32 sums would lose it).
    """

    @staticmethod
    def forward(ctx, mu: torch.Tensor, var: torch.Tensor, s_onehot: torch.Tensor, weights: torch.Tensor,
                log_scale: float, self_pairs: bool) -> torch.Tensor:  # noqa: D102
        d = mu.shape[1]
        acc = _pairwise_terms(mu, var)
        logk = acc.mul_(-0.5).add_(log_scale - 0.5 * d * math.log(2 * math.pi))
        if not self_pairs:
            logk.fill_diagonal_(-math.inf)
        shift = float(logk.max())
        kernel = logk.sub_(shift).exp_()  # entries in [0, 1]; 0 on the diagonal without self-pairs
        s = s_onehot.to(torch.float64)
        sums = s.T @ (kernel.double() @ s)  # (G, G) sums of K over pairs of groups, in float64
        total = float((weights * sums).sum())
        clamped = self_pairs and total < 0.0  # w_gᵀ K w_g ≥ 0: a negative sum is rounding
        value = 0.0 if clamped else total * math.exp(shift)
        ctx.save_for_backward(mu, var, kernel, s_onehot)
        ctx.pair_weights = (weights + weights.T) * (0.0 if clamped else math.exp(shift))
        return mu.new_tensor(value)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: D102
        mu, var, kernel, s_onehot = ctx.saved_tensors
        s = s_onehot.to(kernel.dtype)
        pair = (s @ ctx.pair_weights.to(kernel.dtype)) @ s.T  # (n, n): (B + Bᵀ)[g_a, g_c]
        sym = pair.mul_(kernel).mul_(grad.to(kernel.dtype))
        grad_mu, grad_var = _pairwise_backward(mu, var, sym)
        return grad_mu, grad_var, None, None, None, None


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
    estimate may be slightly negative. ``bandwidth``: the smoothing h of the
    module docstring. One autograd Function (:class:`_V2`) computes the value and its gradient.
    """
    if mu.ndim != 2 or logvar.shape != mu.shape:
        raise ValueError(f"mu and logvar must both be (n, d); got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if s_onehot.ndim != 2 or s_onehot.shape[0] != mu.shape[0]:
        raise ValueError(f"s_onehot must be (n, groups) with n = {mu.shape[0]}; got {tuple(s_onehot.shape)}")
    h2 = _check_bandwidth(bandwidth) ** 2
    if mu.shape[0] < 2:
        return mu.sum() * 0.0
    weights = _group_weights(s_onehot, nominal_batch, self_pairs)
    if weights is None:
        return mu.sum() * 0.0
    var = logvar.exp() + h2  # each of the two variances gains h², so v = σ²_a + σ²_c + 2h²
    log_scale = 0.5 * mu.shape[1] * math.log(2 * math.pi * 2 * h2) if h2 > 0 else 0.0
    return _V2.apply(mu, var, s_onehot, weights, log_scale, self_pairs)


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
