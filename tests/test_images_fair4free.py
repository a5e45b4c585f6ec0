"""Fair4Free on images (methods.md §4 through the image codec): chain length chosen by latent quality, data-free
two-party distillation from a saved teacher, compact student decoder, student-only files."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fairx.data import load_dataset  # noqa: E402
from fairx.data.images import ImageDataset  # noqa: E402
from fairx.models import get_for  # noqa: E402
from fairx.models.fair_latent.fair4free import Fair4Free  # noqa: E402
from fairx.models.fair_latent.fair_vae import FairVAE  # noqa: E402
from fairx.models.persist import load_method  # noqa: E402
from fairx.nn import count_parameters  # noqa: E402


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    """The data owner's side: a fair conv VAE trained on biased colour digits and saved."""
    train = load_dataset("digits_colored", split="train", bias=0.95, seed=0)
    folder = tmp_path_factory.mktemp("owner") / "teacher"
    get_for(train, "fairdisco", epochs=5, device="cpu", random_state=0).fit(train).save(folder)
    return folder


def _no_image_access(monkeypatch):
    """Any read of image rows from an ImageDataset fails during the block."""
    def refuse(*_, **__):
        raise AssertionError("a dataset was read during data-free distillation")

    for attr in ("to_numpy", "get_images", "batches", "__getitem__", "__post_init__"):
        monkeypatch.setattr(ImageDataset, attr, refuse)


@pytest.fixture(scope="module")
def student(teacher_dir):
    """The second party: only the teacher folder; every way to read images is disabled."""
    with pytest.MonkeyPatch.context() as mp:
        _no_image_access(mp)
        # the fast preset with 30 instead of 75 passes at a higher rate (8e-3 instead of 3e-3):
        # 2.4x less distillation, the same decoder fidelity (mae 0.007 vs 0.005, labels 0.93)
        return Fair4Free.distill(FairVAE.load(teacher_dir), preset="fast", random_state=0,
                                 distill_epochs=30, distill_lr=8e-3)


def test_distill_takes_no_data_argument(teacher_dir):
    assert set(inspect.signature(Fair4Free.distill).parameters) == \
        {"teacher", "chain_steps", "distill_epochs", "random_state", "preset", "params"}
    with pytest.raises(TypeError, match="fitted FairVAE"):
        Fair4Free.distill(load_dataset("digits_colored", split="train", n=50))


def test_chain_length_is_chosen_as_on_tables(teacher_dir, student):
    from fairx.nn._distill import chain_stationarity

    teacher = FairVAE.load(teacher_dir)
    ratios = student.chain_scores_
    assert student.chain_steps_ in range(6) and len(ratios) == 6
    # the tabular rule (shared code): the first stationary step (ratio <= 2), else the least moving
    if min(ratios) > 2.0:
        assert student.chain_steps_ == int(np.argmin(ratios))
    else:
        assert ratios[student.chain_steps_] <= 2.0 and all(r > 2.0 for r in ratios[: student.chain_steps_])
    rng = np.random.default_rng(0)  # one generator: the chain, then the stationarity score
    chain = teacher.latent_chain(student.chain_samples, 6, seed=rng)
    np.testing.assert_allclose(ratios, chain_stationarity(chain, rng))
    entropy = np.array(student.chain_label_entropy_)
    assert entropy.shape == (7,) and np.all((entropy > 0) & (entropy <= np.log(10) + 1e-6))
    fixed = Fair4Free.distill(teacher, chain_steps=2, distill_epochs=5, preset="fast", random_state=0,
                              student_decoder=False)
    assert fixed.chain_steps_ == 2 and len(fixed.chain_scores_) == 2
    with pytest.raises(ValueError, match="chain_steps"):
        Fair4Free.distill(teacher, chain_steps=-1)


def test_student_latents_match_the_teacher_chain(teacher_dir, student):
    chain = FairVAE.load(teacher_dir).latent_chain(2000, student.chain_steps_, seed=5)
    target, z = chain[-1], student.sample_latent(2000, seed=5)
    assert np.abs(z.mean(0) - target.mean(0)).max() < 0.35
    assert np.abs(z.std(0) - target.std(0)).max() < 0.35


def test_student_decoder_reproduces_the_teacher_decoder(teacher_dir, student):
    teacher = FairVAE.load(teacher_dir)
    z = student.sample_latent(1000, seed=7)  # fresh latents, not the distillation batches
    s = np.random.default_rng(0).integers(0, teacher.codec_.n_groups, len(z))
    ours, theirs = student.decode_latent(z, s=s), teacher.decode_latent(z, s=s)
    mae = np.abs(ours.to_numpy() - theirs.to_numpy()).mean()
    # scale of a wrong answer: the teacher's own images for other latents
    other = teacher.decode_latent(z[::-1].copy(), s=s)
    mismatch = np.abs(other.to_numpy() - theirs.to_numpy()).mean()
    assert mae < 0.01 and mae < 0.3 * mismatch  # measured: 0.007 vs 0.044
    assert (ours.y == theirs.y).mean() > 0.85  # label head reproduced (measured 0.93)


def test_student_is_smaller_and_counts_its_parts(student):
    assert student.n_parameters_student_ == count_parameters(student.generator_, student.decoder_)
    assert student.n_parameters_student_ < student.n_parameters_teacher_ / 4
    assert count_parameters(student.decoder_) < student.n_parameters_teacher_decoder_ / 2
    assert int(student.n_parameters_) == student.n_parameters_student_
    assert student.n_parameters_ == student.n_parameters_student_


def test_student_files_hold_only_the_student(student, tmp_path):
    from safetensors.numpy import load_file

    student.save(tmp_path / "s")
    arrays = load_file(str(tmp_path / "s" / "weights.safetensors"))
    assert arrays and all(k.startswith(("generator.", "decoder.")) for k in arrays)
    assert not any("encoder" in k for k in arrays)
    # every stored number is a student weight: no room for a training image
    assert sum(a.size for a in arrays.values()) == student.n_parameters_student_
    config = json.loads((tmp_path / "s" / "config.json").read_text())
    assert config["state"]["data_free"] and config["state"]["chain_steps"] == student.chain_steps_
    assert len((tmp_path / "s" / "config.json").read_text()) < 8000
    loaded = load_method(tmp_path / "s")
    for seed in (0, 4):
        a, b = student.sample(100, seed=seed), loaded.sample(100, seed=seed)
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_array_equal(a.s, b.s)
    assert loaded.chain_steps_ == student.chain_steps_ and loaded.chain_scores_ == student.chain_scores_
    assert loaded.chain_label_entropy_ == student.chain_label_entropy_
    with pytest.raises(ValueError, match="no encoder"):
        loaded.posterior(load_dataset("digits_colored", split="test", n=20))


@pytest.mark.slow  # end to end: a fresh interpreter / cluster start-up dominates
def test_distill_in_a_fresh_process_without_data_matches(teacher_dir, tmp_path):
    script = textwrap.dedent(f"""
        import torch
        torch.set_num_threads(1)
        from fairx.models.fair_latent.fair4free import Fair4Free
        from fairx.models.fair_latent.fair_vae import FairVAE
        teacher = FairVAE.load({str(teacher_dir)!r})
        Fair4Free.distill(teacher, preset="fast", distill_epochs=10, random_state=3).save(
            {str(tmp_path / 'student')!r})
    """)
    env = {**os.environ, "FAIRX_DATA_HOME": str(tmp_path / "no-data-here")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    remote = load_method(tmp_path / "student")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = Fair4Free.distill(FairVAE.load(teacher_dir), preset="fast", distill_epochs=10,
                                  random_state=3)
    finally:
        torch.set_num_threads(old)
    assert remote.chain_steps_ == local.chain_steps_
    np.testing.assert_array_equal(remote.sample(50, seed=1).to_numpy(),
                                  local.sample(50, seed=1).to_numpy())


def test_without_student_decoder_the_teacher_decoder_is_copied(teacher_dir):
    teacher = FairVAE.load(teacher_dir)
    m = Fair4Free.distill(teacher, distill_epochs=5, preset="fast", student_decoder=False)
    z = m.sample_latent(200, seed=0)
    s = np.arange(200) % teacher.codec_.n_groups
    np.testing.assert_array_equal(m.decode_latent(z, s=s).to_numpy(),
                                  teacher.decode_latent(z, s=s).to_numpy())


def test_fit_is_teacher_fit_then_data_free_distill():
    train = load_dataset("digits_colored", split="train", bias=0.95, seed=0)
    m = get_for(train, "fair4free", teacher__epochs=2, distill_epochs=20, chain_samples=512,
                chain_steps=1, device="cpu").fit(train)
    assert isinstance(m.teacher_, FairVAE) and m.chain_steps_ == 1 and m.distill_batch == 256
    again = Fair4Free.distill(m.teacher_, chain_steps=1, distill_epochs=20, random_state=0,
                              chain_samples=512)
    np.testing.assert_array_equal(m.sample(30, seed=2).to_numpy(),
                                  again.sample(30, seed=2).to_numpy())
    # after fit the in-memory teacher still encodes (counterfactuals of real images)
    assert m.counterfactuals(train, n=3).shape == (3, train.n_groups, *train.shape)


def test_prior_chain_known_answers():
    from fairx.nn._distill import prior_chain

    # re-encoding to q = N(z / 2, I)
    rng = np.random.default_rng(0)
    z0 = rng.standard_normal((400, 3))
    chain = prior_chain(z0, lambda z, _: (z / 2, np.zeros_like(z)), 2, np.random.default_rng(1))
    assert len(chain) == 3 and np.array_equal(chain[0], z0)
    # the next step is sampled (μ + σ·ε), not the mean: it keeps unit noise around z/2
    assert np.std(chain[1] - z0 / 2) == pytest.approx(1.0, abs=0.06)


def test_bernoulli_distill_loss_known_answers():
    from fairx.nn._conv_vae import ConvFairVAENet

    net = ConvFairVAENet((1, 8, 8), 2, 3, z_dim=2, label_weight=2.0, encoder=False)
    t = torch.randn(5, 64 + 3)
    assert net.distill_loss(t, t).item() == pytest.approx(0.0, abs=1e-5)
    u = torch.zeros(5, 64 + 3)  # student: every pixel p = 0.5, uniform label
    p = torch.sigmoid(t[:, :64])
    bern = (p * torch.log(2 * p) + (1 - p) * torch.log(2 * (1 - p))).sum(1).mean()
    lt = torch.log_softmax(t[:, 64:], 1)
    cat = (lt.exp() * (lt + np.log(3))).sum(1).mean()
    assert net.distill_loss(u, t).item() == pytest.approx((bern + 2.0 * cat).item(), rel=1e-4)
