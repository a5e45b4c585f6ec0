"""Conv fair VAE and the fair-latent classes on images (tiny 8×8 colour digits): the same
classes as on tables, through the image codec."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fairx.data import load_dataset  # noqa: E402
from fairx.data.images import PALETTE  # noqa: E402
from fairx.metrics._images import label_group_dependence  # noqa: E402
from fairx.models import get  # noqa: E402
from fairx.models.fair_latent.fair4free import Fair4Free  # noqa: E402
from fairx.models.fair_latent.fair_vae import FairVAE  # noqa: E402
from fairx.models.fair_latent.fairdistill import FairDistill  # noqa: E402
from fairx.models.fair_latent.fldgm import FLDGM  # noqa: E402
from fairx.models.registry import get_for, method_class  # noqa: E402
from fairx.nn._conv_vae import ConvFairVAENet, flatten_rows  # noqa: E402


@pytest.fixture(scope="module")
def biased_digits():
    return load_dataset("digits_colored", split="train", bias=0.95, seed=0)


@pytest.fixture(scope="module")
def fitted(biased_digits):
    return get_for(biased_digits, "fairdisco", epochs=10, beta=1e6, lr=3e-3, random_state=0,
                   device="cpu").fit(biased_digits)


@pytest.mark.parametrize("size", [8, 28, 32, 64])
@pytest.mark.parametrize("injection", ["input", "output"])
def test_conv_vae_shapes(size, injection):
    net = ConvFairVAENet((3, size, size), s_dim=4, y_dim=10, z_dim=6, s_injection=injection)
    imgs = torch.rand(5, 3, size, size)
    s = torch.eye(4)[[0, 1, 2, 3, 0]]
    x = flatten_rows(imgs, torch.eye(10)[:5])
    mu, logvar = net.encode(x, s)
    assert mu.shape == logvar.shape == (5, 6)
    out = net.decode(mu, s)
    assert out.shape == (5, 3 * size * size + 10)
    assert net.decode_images(mu, s).shape == (5, 3, size, size)
    loss = net.reconstruction(out, x)
    # BCE summed over pixels is at least 0 and the label CE adds label_weight · CE
    assert loss.item() > 0 and torch.isfinite(loss)


def test_conv_vae_unsupported_size():
    with pytest.raises(ValueError, match="supported"):
        ConvFairVAENet((3, 20, 20), 2, 2)


def test_v2_removes_colour_from_latent():
    # colour independent of the digit: all of the latent's colour information is "unfair"
    ds = load_dataset("digits_colored", split="train", bias=0.0, seed=0)
    acc = {}
    for beta in (0.0, 1e7):
        m = get_for(ds, "fairdisco", epochs=4, beta=beta, lr=1e-3, random_state=0,
                    device="cpu").fit(ds)
        acc[beta] = m.latent_s_accuracy(ds)
        assert m.history_["v2"][-1] >= 0
    assert acc[0.0] > 0.5  # a plain conditional VAE keeps the colour in z
    assert acc[1e7] < 0.25  # chance is 0.10 for 10 colours
    assert acc[1e7] < acc[0.0] - 0.3


def test_registry_dispatch(biased_digits):
    # one class per method; kind="image" picks the image presets (no preset: the image default)
    fldgm = get("fldgm", "fast", kind="image")
    assert type(fldgm) is FLDGM and fldgm.teacher.get_params() == \
        FairVAE(**FairVAE.image_presets["fast"]).get_params()
    assert type(get_for(biased_digits, "fair4free")) is Fair4Free
    vae = get_for(biased_digits, "fairdisco")
    assert type(vae) is FairVAE and (vae.beta, vae.epochs, vae.batch_size) == (1e6, 40, 64)
    assert (FairVAE().beta, FairVAE().batch_size) == (1e5, 2048)  # the tables' values
    variant = get("fldgm-wgan-gp", kind="image")
    assert isinstance(variant, FLDGM) and variant.latent_model == "wgan-gp"
    assert method_class("fairdisco", "image") is FairVAE
    assert method_class("fairdistill", "image") is FairDistill
    with pytest.raises(KeyError, match="image"):
        method_class("reweighing", "image")
    with pytest.raises(TypeError, match="ImageDataset"):
        FairVAE(epochs=1).fit(np.zeros((4, 3, 8, 8)))


def test_sample_is_seeded_and_decouples_colour_from_label(fitted, biased_digits):
    a, b = fitted.sample(300, seed=1), fitted.sample(300, seed=1)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert a.shape == (3, 8, 8) and a.groups == biased_digits.groups and len(a) == 300
    assert 0 <= a.to_numpy().min() and a.to_numpy().max() <= 1
    # s is drawn from P(S) independently of z: colour says (almost) nothing about the label
    real_dep = label_group_dependence(biased_digits)["normalized_mi"]
    gen_dep = label_group_dependence(fitted.sample(1500, seed=2))["normalized_mi"]
    assert real_dep > 0.7 and gen_dep < 0.1


def test_counterfactuals_change_colour_with_s(fitted, biased_digits):
    cf = fitted.counterfactuals(biased_digits, n=6)
    assert cf.shape == (6, 10, 3, 8, 8)
    # the same z decoded with group g takes palette colour g (mean RGB direction; grey and white
    # share a direction, so only the 8 chromatic colours are scored; chance ≈ 1 of 8)
    hits = 0
    for g in range(8):
        rgb = cf[:, g].mean(axis=(0, 2, 3))
        cos = PALETTE @ rgb / (np.linalg.norm(PALETTE, axis=1) * np.linalg.norm(rgb))
        hits += int(np.argmax(cos) == g)
    assert hits >= 4


def test_fldgm_image_latent_generator(biased_digits):
    m = get("fldgm", "fast", kind="image", teacher__epochs=2, latent_model="lsgan",
            latent_params={"epochs": 5, "eval_every": 5}, device="cpu").fit(biased_digits)
    z = m.sample_latent(200, seed=0)
    assert z.shape == (200, m.z_dim_) and np.isfinite(z).all()
    gen = m.sample(50, seed=0)
    assert len(gen) == 50 and gen.shape == biased_digits.shape
    assert m.n_parameters_latent_ > 0


@pytest.mark.slow
def test_fair_generated_beats_real_on_debiased_test():
    """FLDGM Table 2 in miniature: on strongly biased colour digits a CNN trained on the real
    training set fails on colour-debiased test digits; one trained on fair generated digits
    does clearly better."""
    from fairx.metrics._images import image_utility

    train = load_dataset("digits_colored", split="train", bias=0.95, seed=0)
    test = load_dataset("digits_colored", split="test", bias=0.0, seed=0)
    real = image_utility(train, test, epochs=30, min_group_size=10)["accuracy"]
    model = get_for(train, "fairdisco", epochs=40, beta=1e6, random_state=0, device="cpu").fit(train)
    fair = image_utility(model.sample(len(train), seed=0), test, epochs=30,
                         min_group_size=10)["accuracy"]
    assert fair > real + 0.05


def test_fairdistill_image_student(biased_digits):
    m = get_for(biased_digits, "fairdistill", "fast", teacher__epochs=2, distill_epochs=2,
                device="cpu").fit(biased_digits)
    assert isinstance(m, FairDistill) and m.data_kind == "image"
    assert m.n_parameters_student_ < m.n_parameters_teacher_encoder_ / 4
    assert 1 <= m.gmm_components_ <= 4 and m.gmm_["means"].shape == (m.gmm_components_, m.z_dim_)
    gen = m.sample(40, seed=0)
    assert len(gen) == 40 and gen.shape == (3, 8, 8)
