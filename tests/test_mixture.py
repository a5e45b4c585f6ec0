"""The latent Gaussian mixture (FairDistill's sampler, Fair4Free's default latent generator):
held-out component selection, temperature draws, options named when wrong."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from fairx.models.fair_latent.mixture import (
    GaussianMixtureEM,
    draw_mixture,
    fit_mixture,
    heldout_candidates,
    mixture_log_likelihood,
)

#: six well-separated unit clusters in 2-D (a known density)
CENTRES = np.array([[0, 0], [8, 0], [0, 8], [8, 8], [16, 0], [16, 8]], dtype=float)


def planted(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return CENTRES[rng.integers(len(CENTRES), size=n)] + rng.standard_normal((n, 2))


def true_loglik(x: np.ndarray) -> float:
    dens = np.mean([multivariate_normal(c, np.eye(2)).pdf(x) for c in CENTRES], axis=0)
    return float(np.log(dens).mean())


def mixture_loglik(mix: dict, x: np.ndarray) -> float:
    dens = sum(w * multivariate_normal(m, c).pdf(x)
               for w, m, c in zip(mix["weights"], mix["means"], mix["covariances"], strict=True))
    return float(np.log(dens).mean())


def test_candidates_double_up_to_the_maximum():
    assert heldout_candidates(1) == [1]
    assert heldout_candidates(10) == [1, 2, 4, 8, 10]
    assert heldout_candidates(48) == [1, 2, 4, 8, 16, 32, 48]


def test_heldout_selection_finds_the_density_where_a_small_bic_search_cannot():
    """Six clusters: held-out likelihood over 1, 2, 4, 8, 16 stops after 16 scores no better than
    8 and keeps a mixture whose likelihood on fresh rows is within 0.02 nats of the true
    density's; BIC capped at 4 components (too few) is far below it."""
    x, fresh = planted(3000, 0), planted(4000, 1)
    held = fit_mixture(x, max_components=16, rows=10_000, seed=0, selection="heldout")
    assert len(held["weights"]) == 8
    assert mixture_loglik(held, fresh) > true_loglik(fresh) - 0.02
    small = fit_mixture(x, max_components=4, rows=10_000, seed=0, selection="bic")
    assert mixture_loglik(small, fresh) < true_loglik(fresh) - 0.3


@pytest.mark.parametrize("k", [1, 3, 8])
def test_em_is_sklearns_gaussian_mixture(k):
    """fairx's batched EM reproduces sklearn's ``GaussianMixture(full, reg_covar=1e-5)`` on the same
    rows and seed — same k-means start, updates and stopping — to float64 rounding, and its
    log-likelihood is sklearn's ``score``."""
    from sklearn.mixture import GaussianMixture

    x = planted(2000, 2) @ np.array([[1.0, 0.3], [0.0, 0.5]])  # correlated components
    ref = GaussianMixture(k, covariance_type="full", random_state=0, reg_covar=1e-5).fit(x)
    mix = GaussianMixtureEM(x).fit(k, 0)
    np.testing.assert_allclose(mix["weights"], ref.weights_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(mix["means"], ref.means_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(mix["covariances"], ref.covariances_, rtol=0, atol=1e-9)
    fresh = planted(500, 3)
    assert mixture_log_likelihood(mix, fresh) == pytest.approx(ref.score(fresh), abs=1e-9)
    assert mixture_log_likelihood(mix, fresh) == pytest.approx(mixture_loglik(mix, fresh), abs=1e-9)


def test_bic_selection_is_sklearns():
    """``selection="bic"`` keeps the component count whose sklearn fit has the lowest BIC."""
    from sklearn.mixture import GaussianMixture

    x = planted(2000, 2) @ np.array([[1.0, 0.3], [0.0, 0.5]])
    bic = [GaussianMixture(j, covariance_type="full", random_state=0, reg_covar=1e-5).fit(x).bic(x)
           for j in range(1, 9)]
    assert len(fit_mixture(x, max_components=8, rows=10_000, seed=0)["weights"]) == int(np.argmin(bic)) + 1


def test_a_collapsed_component_is_named():
    """A component of identical rows keeps covariance ``reg_covar``·I (invertible); a covariance
    that is not positive definite is named with its remedy, not a LinAlgError."""
    x = np.repeat(np.array([[0.0, 0.0], [1e3, 1e3]]), 50, axis=0)
    mix = GaussianMixtureEM(x).fit(2, 0)  # reg_covar keeps identical rows invertible
    np.testing.assert_allclose(mix["covariances"][0], 1e-5 * np.eye(2), atol=1e-12)
    bad = {**mix, "covariances": np.zeros((2, 2, 2))}
    with pytest.raises(ValueError, match="not positive definite.*lower max_components"):
        mixture_log_likelihood(bad, x)


def test_temperature_narrows_every_component_around_its_mean():
    """A one-component mixture N(m, Σ): draws at τ have mean m and covariance τ²Σ; τ = 1 is the
    fitted mixture draw for draw (same generator state)."""
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    mix = {"weights": np.ones(1), "means": np.array([[1.0, -2.0]]), "covariances": cov[None]}
    z = draw_mixture(mix, 200_000, np.random.default_rng(0), temperature=0.5)
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.01)
    np.testing.assert_allclose(np.cov(z.T), 0.25 * cov, atol=0.01)
    np.testing.assert_array_equal(draw_mixture(mix, 50, np.random.default_rng(3)),
                                  draw_mixture(mix, 50, np.random.default_rng(3), temperature=1.0))


@pytest.mark.parametrize("model", ["fairdistill", "fair4free"])
def test_bad_mixture_options_are_named_before_any_training(model):
    pytest.importorskip("torch")
    from latent_checks import biased_split

    from fairx.models import get

    train, _ = biased_split()
    for params, match in (({"component_selection": "aic"}, "component_selection='aic'.*'heldout'"),
                          ({"temperature": 0.0}, r"temperature=0.0; give a number in \(0, 1\]"),
                          ({"temperature": 1.5}, "temperature=1.5"),
                          ({"max_components": 0}, "max_components=0")):
        with pytest.raises(ValueError, match=match):
            get(model, preset="fast", **params).fit(train)
