"""A Gaussian mixture over latents, kept as plain arrays (FairDistill's sampler, Fair4Free's
``latent_generator="gmm"``): fitted with scikit-learn, the number of components chosen by held-out
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


def fit_mixture(z: np.ndarray, *, max_components: int, rows: int, seed: int | None,
                selection: str = "bic") -> dict[str, np.ndarray]:
    """A full-covariance Gaussian mixture on ``z`` (at most ``rows`` of them, drawn with ``seed``),
    as ``{"weights", "means", "covariances"}``. ``selection="bic"``: 1..``max_components``
    components, the lowest BIC on all rows. ``"heldout"``: the counts of
    :func:`heldout_candidates` are fitted on 80 % of the rows and scored by mean log-likelihood on
    the other 20 %; the search stops at the first count that scores no better than the one before
    and keeps the best fit (on its 80 %)."""
    from sklearn.mixture import GaussianMixture  # scikit-learn estimator: loaded when used

    check_mixture_options(max_components=max_components, selection=selection, temperature=1.0)
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
        raise ValueError(f"rows={rows!r}; the latent mixture needs a positive integer")
    rng = np.random.default_rng(seed)
    z = np.asarray(z)
    if len(z) > rows:
        z = z[rng.choice(len(z), rows, replace=False)]

    def fit(k: int, rows_: np.ndarray):
        return GaussianMixture(k, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(rows_)

    best, best_score = None, -np.inf
    # EM here is many tiny (d × d) BLAS calls: BLAS threads only wait on each other and on torch's
    # OpenMP threads in the same process (the Fair4Free chain test: 11.7 s with the default BLAS
    # threads on 2 cores, 3.4 s with one, z_dim 16). Same arithmetic, same result.
    with threadpool_limits(limits=1, user_api="blas"):
        if selection == "bic" or len(z) < 10:
            for k in range(1, min(int(max_components), len(z)) + 1):
                gm = fit(k, z)
                score = -gm.bic(z)
                if score > best_score:
                    best, best_score = gm, score
        else:
            order = rng.permutation(len(z))
            cut = len(z) - max(int(round(HELDOUT_SHARE * len(z))), 1)
            train, held = z[order[:cut]], z[order[cut:]]
            for k in heldout_candidates(int(max_components)):
                if k > len(train):
                    break
                gm = fit(k, train)
                score = gm.score(held)
                if score <= best_score:
                    break
                best, best_score = gm, score
    return {"weights": best.weights_, "means": best.means_, "covariances": best.covariances_}


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
