"""The fair VAE's training loop recovers from a non-finite loss: the epoch is rerun from the
previous epoch's weights at half the learning rate; after three such restarts training stops at the
last finite epoch; with no finite epoch it raises a named error. (Measured case: the image preset
at β = 1e6 went NaN in epoch 26 of 40 on 10,000 Colored MNIST digits and returned a NaN model.)"""

from __future__ import annotations

import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fairx.data import make_synthetic  # noqa: E402
from fairx.exceptions import TrainingDivergedError  # noqa: E402
from fairx.models.fair_latent.fair_vae import FairVAE  # noqa: E402
from fairx.nn import _fair_vae  # noqa: E402

# 200 rows in batches of 128: two V² calls per epoch, so call 4 is the first batch of epoch 2
SETTINGS = {"epochs": 4, "batch_size": 128, "v2_rows": 64, "lr": 2e-3, "beta": 1e3}


@pytest.fixture(scope="module")
def data():
    return make_synthetic(200, seed=0)


def _nan_from(monkeypatch, calls: set[int] | None = None, first: int | None = None) -> None:
    """V² returns NaN on the given call numbers (or on every call from ``first`` on)."""
    real = _fair_vae.v2_penalty_subsampled
    count = [0]

    def penalty(*args, **kwargs):
        i = count[0]
        count[0] += 1
        value = real(*args, **kwargs)
        bad = (calls is not None and i in calls) or (first is not None and i >= first)
        return value * float("nan") if bad else value

    monkeypatch.setattr(_fair_vae, "v2_penalty_subsampled", penalty)


def _finite_weights(model: FairVAE) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.net_.parameters())


def test_one_bad_epoch_is_rerun_at_half_the_learning_rate(data, monkeypatch, caplog):
    _nan_from(monkeypatch, calls={4})
    with caplog.at_level(logging.WARNING, logger="fairx.nn._fair_vae"):
        model = FairVAE(**SETTINGS, random_state=0).fit(data)
    h = model.history_
    assert h["restarts"] == [2] and h["stopped_epoch"] is None
    assert len(h["loss"]) == 4 and np.isfinite(h["loss"]).all() and _finite_weights(model)
    assert "epoch 2" in caplog.text and "learning rate 0.001" in caplog.text
    assert np.isfinite(model.sample(50, seed=0).frame.select_dtypes("number").to_numpy()).all()


def test_persistent_divergence_stops_at_the_last_finite_epoch(data, monkeypatch, caplog):
    reference = FairVAE(**{**SETTINGS, "epochs": 2}, random_state=0).fit(data)
    _nan_from(monkeypatch, first=4)
    with caplog.at_level(logging.WARNING, logger="fairx.nn._fair_vae"):
        model = FairVAE(**SETTINGS, random_state=0).fit(data)
    h = model.history_
    assert h["restarts"] == [2, 2, 2] and h["stopped_epoch"] == 1 and len(h["loss"]) == 2
    assert "training stopped with the weights of epoch 1" in caplog.text
    # the kept weights are exactly those after epoch 1 (the same run without the failure)
    for a, b in zip(model.net_.parameters(), reference.net_.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_no_finite_epoch_is_a_named_error(data, monkeypatch):
    _nan_from(monkeypatch, first=0)
    with pytest.raises(TrainingDivergedError, match=r"first epoch.*lower lr or beta \(beta=1000"):
        FairVAE(**SETTINGS, random_state=0).fit(data)
