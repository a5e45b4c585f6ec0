"""A Gaussian mixture over latents, kept as plain arrays (FairDistill's sampler, Fair4Free's
``latent_generator="gmm"``): fitted with scikit-learn, components chosen by BIC, drawn with numpy,
saved as weights / means / covariances (no pickle)."""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

KEYS = ("weights", "means", "covariances")


def fit_mixture(z: np.ndarray, *, max_components: int, rows: int, seed: int | None) -> dict[str, np.ndarray]:
    """A full-covariance Gaussian mixture on ``z`` (at most ``rows`` of them, drawn with ``seed``),
    with 1..``max_components`` components chosen by BIC, as ``{"weights", "means", "covariances"}``."""
    from sklearn.mixture import GaussianMixture  # scikit-learn estimator: loaded when used

    for name, value in (("max_components", max_components), ("rows", rows)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name}={value!r}; the latent mixture needs a positive integer")
    z = np.asarray(z)
    if len(z) > rows:
        z = z[np.random.default_rng(seed).choice(len(z), rows, replace=False)]
    best, best_bic = None, np.inf
    # EM here is many tiny (d × d) BLAS calls: BLAS threads only wait on each other and on torch's
    # OpenMP threads in the same process (the Fair4Free chain test: 11.7 s with the default BLAS
    # threads on 2 cores, 3.4 s with one, z_dim 16). Same arithmetic, same result.
    with threadpool_limits(limits=1, user_api="blas"):
        for k in range(1, min(int(max_components), len(z)) + 1):
            gm = GaussianMixture(k, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(z)
            bic = gm.bic(z)
            if bic < best_bic:
                best, best_bic = gm, bic
    return {"weights": best.weights_, "means": best.means_, "covariances": best.covariances_}


def standard_normal_mixture(z_dim: int) -> dict[str, np.ndarray]:
    """The prior N(0, I) as a one-component mixture."""
    return {"weights": np.ones(1), "means": np.zeros((1, z_dim)), "covariances": np.eye(z_dim)[None]}


def draw_mixture(mixture: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws (n, z_dim) from the mixture."""
    w, means, covs = (np.asarray(mixture[k]) for k in KEYS)
    comp = rng.choice(len(w), size=n, p=w / w.sum())
    chol = np.linalg.cholesky(covs)
    eps = rng.standard_normal((n, means.shape[1]))
    return means[comp] + np.einsum("nij,nj->ni", chol[comp], eps)


def mixture_parameters(mixture: dict[str, Any]) -> int:
    """Stored parameters: k weights, k·d means, k·d(d+1)/2 distinct covariance entries."""
    k, d = np.asarray(mixture["means"]).shape
    return int(k + k * d + k * d * (d + 1) // 2)
