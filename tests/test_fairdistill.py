"""FairDistill (methods.md §3): small student encoder, latent mixture sampler, shared decoder."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from latent_checks import biased_split, check_fair_generator  # noqa: E402

from fairx.models import FairDistill, FairVAE, get  # noqa: E402
from fairx.models.persist import load_method  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return biased_split()


@pytest.fixture(scope="module")
def model(split):
    train, _ = split
    return get("fairdistill", preset="fast", random_state=0).fit(train)


def test_student_is_a_quarter_width_encoder(model):
    layers = [m for m in model.student_ if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in layers] == [16, 2 * model.z_dim_]
    assert model.n_parameters_student_ < model.n_parameters_teacher_ / 3
    assert 1 <= model.gmm_components_ <= 3


def test_parameter_count_is_what_generation_uses(model):
    """Generation = the Gaussian mixture (k weights, k·d means, k·d(d+1)/2 covariance entries)
    + the teacher's decoder and label head; the student encoder is not used to sample."""
    k, d = model.gmm_components_, model.z_dim_
    net = model.teacher_.net_
    decoding = sum(p.numel() for m in (net.decoder, net.label_head) for p in m.parameters())
    assert int(model.n_parameters_) == k + k * d + k * d * (d + 1) // 2 + decoding


def test_student_latent_stays_close_to_the_teacher(model, split):
    train, _ = split
    mu_t, _ = model.teacher_.posterior(train)
    mu_s, _ = model.student_posterior(train)
    # the quality KL pulls the student means to the teacher's: the gap is well under the spread
    # of the teacher's means (an encoder that ignored the teacher would be about 1x or more)
    assert np.mean((mu_s - mu_t) ** 2) < 0.5 * np.mean((mu_t - mu_t.mean(0)) ** 2)


def test_generates_fair_useful_data(model, split):
    train, test = split
    check_fair_generator(model, train, test)


def test_save_load_round_trip_and_prior_option(model, split, tmp_path):
    train, _ = split
    model.save(tmp_path / "fd")
    loaded = load_method(tmp_path / "fd")
    assert isinstance(loaded, FairDistill)
    assert loaded.sample(200, seed=4).frame.equals(model.sample(200, seed=4).frame)
    assert (loaded.n_parameters_, loaded.n_parameters_teacher_, loaded.n_parameters_student_) == (
        model.n_parameters_, model.n_parameters_teacher_, model.n_parameters_student_)
    np.testing.assert_array_equal(loaded.student_posterior(train.subset(np.arange(5)))[0],
                                  model.student_posterior(train.subset(np.arange(5)))[0])
    # a folder saved before the held-out mixture and the temperature loads with the earlier
    # settings (BIC, drawn as fitted), so it samples what it sampled then
    config = json.loads((tmp_path / "fd" / "config.json").read_text())
    for key in ("temperature", "component_selection", "max_components", "gmm_rows"):
        config["params"].pop(key)
    (tmp_path / "fd" / "config.json").write_text(json.dumps(config))
    old = load_method(tmp_path / "fd")
    assert (old.component_selection, old.temperature, old.max_components) == ("bic", 1.0, 10)
    assert old.sample(200, seed=4).frame.equals(model.sample(200, seed=4).frame)
    cooler = load_method(tmp_path / "fd").set_params(temperature=0.5)  # a sampling-time knob
    assert not cooler.sample(200, seed=4).frame.equals(model.sample(200, seed=4).frame)
    prior = FairDistill(sampler="prior", teacher=FairVAE(epochs=2, batch_size=256), distill_epochs=1).fit(train.subset(np.arange(400)))
    assert prior.gmm_components_ == 1 and prior.display_name == "FairDistill (prior)"
    with pytest.raises(ValueError, match="sampler"):
        FairDistill(sampler="kde").fit(train)
