"""A Gaussian mixture over latents, kept as plain arrays (FairDistill's sampler, Fair4Free's
``latent_generator="gmm"``): fitted by scikit-learn's EM algorithm (:class:`GaussianMixtureEM`,
batched over components), the number of components chosen by held-out
log-likelihood (tables' default) or by BIC (methods.md), drawn with numpy at an optional
temperature, saved as weights / means / covariances (no pickle).

Why held-out likelihood (measured, ``benchmarks/fair_latent_sampler_diag.py``, Adult × sex, one
teacher per seed, 8,000 decoded rows): on the 31,655 sampled posteriors of the training rows BIC
is lowest at 15 components (at 4–5 on 10,000 rows: the earlier default, BIC over 1..10 on
10,000 rows, chose 5), the held-out log-likelihood at 32, and the decoded rows' coverage / density
rise up to about 40 components — 10 components on 10,000 rows 0.897 / 0.747, 40 on 30,000 rows
0.921 / 0.799 (seed 1, 10 → 40 components on 30,000 rows: 0.910 / 0.759 → 0.919 / 0.802). BIC's penalty is for recovering a true component count, which a VAE's aggregate
posterior does not have; what generation needs is the density itself."""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

KEYS = ("weights", "means", "covariances")
#: the mixture settings before held-out selection (methods.md: BIC over 1..10 components, drawn
#: as fitted): the ``paper`` and image presets keep them; saved folders without the newer
#: parameters load with them
EARLIER = {"component_selection": "bic", "max_components": 10, "temperature": 1.0}
SELECTIONS = ("heldout", "bic")
#: share of the rows the held-out selection scores on (the mixture is fitted on the rest)
HELDOUT_SHARE = 0.2


def check_mixture_options(*, max_components: Any, selection: Any, temperature: Any) -> None:
    """Named errors for the mixture's options (the models call it before any training)."""
    if isinstance(max_components, bool) or not isinstance(max_components, (int, np.integer)) \
            or max_components < 1:
        raise ValueError(f"max_components={max_components!r}; the latent mixture needs a positive integer")
    if selection not in SELECTIONS:
        raise ValueError(f"component_selection={selection!r}; allowed: 'heldout' (held-out "
                         "log-likelihood), 'bic'")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)) \
            or not 0 < float(temperature) <= 1:
        raise ValueError(f"temperature={temperature!r}; give a number in (0, 1] (1 draws the fitted "
                         "mixture itself, smaller values draw each component narrower)")


def heldout_candidates(max_components: int) -> list[int]:
    """1, 2, 4, … below ``max_components``, then ``max_components``: each fit costs about twice the
    one before, so the whole search costs about two fits of the largest count it reaches."""
    out, k = [], 1
    while k < max_components:
        out.append(k)
        k *= 2
    return [*out, int(max_components)]


#: EM settings: scikit-learn's ``GaussianMixture`` defaults, which :class:`GaussianMixtureEM`
#: reproduces (``tests/test_mixture.py`` checks the fitted arrays against it)
REG_COVAR, TOL, MAX_ITER = 1e-5, 1e-3, 100


class GaussianMixtureEM:
    """Full-covariance EM as scikit-learn's ``GaussianMixture(k, covariance_type="full",
    random_state=seed, reg_covar=1e-5)`` computes it — the same k-means start (sklearn's
    ``KMeans``), updates, stopping rule (mean log-likelihood change < 1e-3, at most 100
    iterations) — with every component in one matrix product.

    Why not sklearn's own: its E- and M-steps loop over components with one n × d pass each;
    the held-out search fits up to 48 components on ~26,000 latents of 16 dimensions, and on
    Adult that took 22.5 s, a quarter of a FairDistill fit (docs/measurements.md, "A faster
    latent mixture"). Here both steps read one precomputed matrix of the rows' distinct
    second-moment products x_i x_j (i ≤ j): the M-step's k covariances are one
    (k × n) · (n × d(d+1)/2) product, and the E-step's k quadratic forms
    xᵀΛx − 2(Λμ)ᵀx + μᵀΛμ are one (n × d(d+1)/2) · (d(d+1)/2 × k) product. In float64 the
    cancellation in E[xxᵀ] − μμᵀ is ~1e-15 for latents of order 1, far below ``reg_covar``.
    """

    def __init__(self, x: np.ndarray) -> None:
        self.x = np.asarray(x, dtype=np.float64)
        n, d = self.x.shape
        self.iu = np.triu_indices(d)
        self.pairs = self.x[:, self.iu[0]] * self.x[:, self.iu[1]]  # (n, d(d+1)/2)
        # off-diagonal pairs appear twice in xᵀΛx
        self.twice = np.where(self.iu[0] == self.iu[1], 1.0, 2.0)

    def fit(self, k: int, seed: int | None) -> dict[str, np.ndarray]:
        """The fitted mixture (``weights``, ``means``, ``covariances``) with ``k`` components."""
        from sklearn.cluster import KMeans  # scikit-learn: loaded when used

        n = len(self.x)
        labels = KMeans(n_clusters=k, n_init=1,
                        random_state=np.random.RandomState(seed)).fit(self.x).labels_
        resp = np.zeros((n, k))
        resp[np.arange(n), labels] = 1.0
        mix = self._m_step(resp)
        bound = -np.inf
        for _ in range(MAX_ITER):
            previous = bound
            log_prob, resp = self._e_step(mix)
            mix = self._m_step(resp)
            bound = log_prob
            if abs(bound - previous) < TOL:
                break
        return mix

    def _m_step(self, resp: np.ndarray) -> dict[str, np.ndarray]:
        d = self.x.shape[1]
        nk = resp.sum(0) + 10 * np.finfo(np.float64).eps
        means = resp.T @ self.x / nk[:, None]
        second = resp.T @ self.pairs / nk[:, None]  # E_k[x_i x_j], i ≤ j
        covs = np.empty((len(nk), d, d))
        covs[:, self.iu[0], self.iu[1]] = second
        covs[:, self.iu[1], self.iu[0]] = second
        covs -= means[:, :, None] * means[:, None, :]
        covs[:, np.arange(d), np.arange(d)] += REG_COVAR
        return {"weights": nk / nk.sum(), "means": means, "covariances": covs}

    def _e_step(self, mix: dict[str, np.ndarray]) -> tuple[float, np.ndarray]:
        weighted = component_log_density(mix, self) + np.log(mix["weights"])
        norm = _logsumexp_rows(weighted)
        return float(norm.mean()), np.exp(weighted - norm[:, None])


def _precision_cholesky(covs: np.ndarray) -> np.ndarray:
    """P_k with Λ_k = P_k P_kᵀ (sklearn's ``precisions_cholesky_``), all components at once."""
    try:
        chol = np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        raise ValueError("the latent mixture failed: a component's covariance is not positive "
                         "definite (collapsed latents); lower max_components") from None
    eye = np.broadcast_to(np.eye(covs.shape[1]), covs.shape)
    return np.swapaxes(np.linalg.solve(chol, eye), 1, 2)


def component_log_density(mixture: dict[str, Any], em: GaussianMixtureEM) -> np.ndarray:
    """log N(x_i; μ_k, Σ_k) for every row x_i that ``em`` holds and every component: (n, k)."""
    means = np.asarray(mixture["means"], dtype=np.float64)
    prec_chol = _precision_cholesky(np.asarray(mixture["covariances"], dtype=np.float64))
    precision = prec_chol @ np.swapaxes(prec_chol, 1, 2)  # Λ_k
    lam_mu = np.einsum("kij,kj->ki", precision, means)
    quad = (em.pairs @ (precision[:, em.iu[0], em.iu[1]] * em.twice).T
            - 2.0 * em.x @ lam_mu.T + np.einsum("ki,ki->k", means, lam_mu))
    log_det = np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(1)
    return -0.5 * (em.x.shape[1] * np.log(2 * np.pi) + quad) + log_det


def _logsumexp_rows(a: np.ndarray) -> np.ndarray:
    top = a.max(1)
    return top + np.log(np.exp(a - top[:, None]).sum(1))


def mixture_log_likelihood(mixture: dict[str, Any], x: np.ndarray | GaussianMixtureEM) -> float:
    """Mean log-density of the rows ``x`` under the mixture (sklearn's ``score``); ``x`` may be a
    :class:`GaussianMixtureEM` holding the rows (their products then computed once)."""
    em = x if isinstance(x, GaussianMixtureEM) else GaussianMixtureEM(x)
    weighted = component_log_density(mixture, em) + np.log(np.asarray(mixture["weights"]))
    return float(_logsumexp_rows(weighted).mean())


def fit_mixture(z: np.ndarray, *, max_components: int, rows: int, seed: int | None,
                selection: str = "bic") -> dict[str, np.ndarray]:
    """A full-covariance Gaussian mixture on ``z`` (at most ``rows`` of them, drawn with ``seed``),
    as ``{"weights", "means", "covariances"}``. ``selection="bic"``: 1..``max_components``
    components, the lowest BIC on all rows. ``"heldout"``: the counts of
    :func:`heldout_candidates` are fitted on 80 % of the rows and scored by mean log-likelihood on
    the other 20 %; the search stops at the first count that scores no better than the one before
    and keeps the best fit (on its 80 %). EM: :class:`GaussianMixtureEM` (sklearn's algorithm)."""
    check_mixture_options(max_components=max_components, selection=selection, temperature=1.0)
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
        raise ValueError(f"rows={rows!r}; the latent mixture needs a positive integer")
    rng = np.random.default_rng(seed)
    z = np.asarray(z, dtype=np.float64)
    if len(z) > rows:
        z = z[rng.choice(len(z), rows, replace=False)]

    best, best_score = None, -np.inf
    # small BLAS products: more BLAS threads only wait on each other and on torch's OpenMP
    # threads in the same process (the Fair4Free chain test: 11.7 s with the default BLAS threads
    # on 2 cores, 3.4 s with one, z_dim 16), and one thread keeps the result thread-independent
    with threadpool_limits(limits=1, user_api="blas"):
        if selection == "bic" or len(z) < 10:
            em = GaussianMixtureEM(z)
            d = z.shape[1]
            for k in range(1, min(int(max_components), len(z)) + 1):
                mix = em.fit(k, seed)
                n_params = k * d * (d + 1) / 2 + k * d + k - 1
                score = 2 * len(z) * mixture_log_likelihood(mix, em) - n_params * np.log(len(z))
                if score > best_score:  # −BIC
                    best, best_score = mix, score
        else:
            order = rng.permutation(len(z))
            cut = len(z) - max(int(round(HELDOUT_SHARE * len(z))), 1)
            train, held = z[order[:cut]], GaussianMixtureEM(z[order[cut:]])
            em = GaussianMixtureEM(train)
            for k in heldout_candidates(int(max_components)):
                if k > len(train):
                    break
                mix = em.fit(k, seed)
                score = mixture_log_likelihood(mix, held)
                if score <= best_score:
                    break
                best, best_score = mix, score
    return best


def standard_normal_mixture(z_dim: int) -> dict[str, np.ndarray]:
    """The prior N(0, I) as a one-component mixture."""
    return {"weights": np.ones(1), "means": np.zeros((1, z_dim)), "covariances": np.eye(z_dim)[None]}


def draw_mixture(mixture: dict[str, Any], n: int, rng: np.random.Generator,
                 temperature: float = 1.0) -> np.ndarray:
    """``n`` draws (n, z_dim) from the mixture; ``temperature`` τ < 1 scales every component's
    spread by τ (covariance τ²Σ_k) around its mean — the truncation trick: draws concentrate where
    the mixture is dense (see the models' ``temperature``)."""
    w, means, covs = (np.asarray(mixture[k]) for k in KEYS)
    comp = rng.choice(len(w), size=n, p=w / w.sum())
    chol = np.linalg.cholesky(covs)
    eps = rng.standard_normal((n, means.shape[1]))
    spread = np.einsum("nij,nj->ni", chol[comp], eps)
    return means[comp] + (spread if temperature == 1 else temperature * spread)


def mixture_parameters(mixture: dict[str, Any]) -> int:
    """Stored parameters: k weights, k·d means, k·d(d+1)/2 distinct covariance entries."""
    k, d = np.asarray(mixture["means"]).shape
    return int(k + k * d + k * d * (d + 1) // 2)
