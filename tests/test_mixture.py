"""The latent Gaussian mixture (FairDistill's sampler, Fair4Free's default latent generator):
held-out component selection, temperature draws, options named when wrong."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from fairx.models.fair_latent.mixture import (
    draw_mixture,
    fit_mixture,
    heldout_candidates,
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
