"""Image metrics (known answers) and the PNG pictures."""

from __future__ import annotations

import numpy as np
import pytest

from fairx.data import load_dataset
from fairx.data.images import ImageDataset
from fairx.metrics._images import (
    feature_quality,
    image_prediction_metrics,
    label_group_dependence,
)
from fairx.report._images import save_counterfactual_grid, save_group_grid, tile


def _ds(y, s, k=2, g=2):
    n = len(y)
    return ImageDataset(np.zeros((n, 1, 2, 2), np.float32), y, s,
                        tuple(str(i) for i in range(k)), tuple(f"g{i}" for i in range(g)))


def test_label_group_dependence_known_answers():
    indep = _ds([0, 1, 0, 1], [0, 0, 1, 1])
    d = label_group_dependence(indep)
    assert d["mutual_information"] == pytest.approx(0.0, abs=1e-12)
    assert d["max_label_shift"] == pytest.approx(0.0) and d["group_is_class_rate"] == 0.5
    same = _ds([0, 1, 0, 1], [0, 1, 0, 1])
    d = label_group_dependence(same)
    assert d["mutual_information"] == pytest.approx(np.log(2))
    assert d["normalized_mi"] == pytest.approx(1.0) and d["max_label_shift"] == pytest.approx(0.5)
    assert d["group_is_class_rate"] == 1.0


def test_dependence_tracks_colour_bias():
    weak = label_group_dependence(load_dataset("digits_colored", bias=0.0, seed=0))
    strong = label_group_dependence(load_dataset("digits_colored", bias=0.95, seed=0))
    assert weak["normalized_mi"] < 0.05 < 0.7 < strong["normalized_mi"]
    assert strong["group_is_class_rate"] == pytest.approx(0.955, abs=0.02)


def test_prediction_metrics_binary_known_answer():
    # group 0: 40 rows, predicted positive rate 0.5; group 1: 40 rows, rate 0.25
    s = np.repeat([0, 1], 40)
    y_true = np.tile([1, 0], 40)
    y_pred = np.concatenate([np.tile([1, 0], 20), np.tile([1, 0, 0, 0], 10)])
    m = image_prediction_metrics(y_true, y_pred, s, n_classes=2)
    assert m["dpr"] == pytest.approx(0.25 / 0.5)
    # TPR: group 0 = 1.0, group 1 = 0.5; FPR = 0 in both groups -> ratio 0/0 treated as 1
    assert m["eor"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx((40 + 30) / 80)
    # a perfect, group-blind predictor is fair
    assert image_prediction_metrics(y_true, y_true, s)["dpr"] == pytest.approx(1.0)


def test_prediction_metrics_small_groups_left_out():
    s = np.array([0] * 40 + [1] * 3)
    y = np.array([1, 0] * 20 + [1, 1, 1])
    m = image_prediction_metrics(y, y, s, min_group_size=30)
    assert np.isnan(m["dpr"])  # a single group left: no ratio


def test_feature_quality_identical_and_shifted():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 8)).astype(np.float32)
    same = feature_quality(real, real.copy(), embedding="naive")
    assert same["prdc_precision"] == 1.0 and same["coverage"] == 1.0
    assert same["prdc_recall"] == 1.0
    far = feature_quality(real, real + 10.0, embedding="naive")
    assert far["prdc_precision"] == 0.0 and far["coverage"] == 0.0 and far["density"] == 0.0


def test_pictures(tmp_path):
    ds = load_dataset("digits_colored", bias=0.9, n=200)
    path = save_group_grid(ds, tmp_path / "grid.png", per_group=4)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    arr = tile(ds.get_images(np.arange(6)), 3)
    assert arr.shape == (2 * 9 + 1, 3 * 9 + 1, 3)
    cf = np.random.default_rng(0).random((3, ds.n_groups, 3, 8, 8)).astype(np.float32)
    assert save_counterfactual_grid(cf, ds.groups, tmp_path / "cf.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="expected"):
        save_counterfactual_grid(cf[:, :2], ds.groups, tmp_path / "bad.png")


@pytest.fixture(scope="module")
def colour_cnn():
    pytest.importorskip("torch")
    from fairx.metrics._images import fit_image_classifier

    train = load_dataset("digits_colored", split="train", bias=1.0, seed=0)
    return train, fit_image_classifier(train, epochs=15, seed=0, device="cpu")


def test_real_biased_classifier_fails_on_debiased_test(colour_cnn):
    train, clf = colour_cnn
    biased_test = load_dataset("digits_colored", split="test", bias=1.0, seed=0)
    debiased_test = load_dataset("digits_colored", split="test", bias=0.0, seed=0)
    acc_biased = (clf.predict(biased_test) == biased_test.y).mean()
    acc_debiased = (clf.predict(debiased_test) == debiased_test.y).mean()
    assert acc_biased > 0.85  # colour is a perfect shortcut on biased test digits
    assert acc_debiased < 0.5  # ...and fails once colour is random
    m = image_prediction_metrics(debiased_test.y, clf.predict(debiased_test), debiased_test.s,
                                 min_group_size=10)
    assert m["dpr"] < 0.2  # predictions follow the colour group


def test_image_quality_in_cnn_feature_space(colour_cnn):
    from fairx.metrics._images import image_quality

    train, clf = colour_cnn
    other = load_dataset("digits_colored", split="test", bias=1.0, seed=0)
    good = image_quality(train, other, classifier=clf, max_rows=400)
    noise = other.replace(images=np.random.default_rng(0).random((len(other), 3, 8, 8),
                                                                 dtype=np.float32))
    bad = image_quality(train, noise, classifier=clf, max_rows=400)
    assert good["prdc_precision"] > 0.7 and good["coverage"] > 0.5
    assert bad["prdc_precision"] < 0.2 and bad["coverage"] < good["coverage"]
    assert 0 <= good["alpha_precision"] <= 1 and 0 <= good["beta_recall"] <= 1


def test_painted_colour_reads_palette_from_pixels():
    from fairx.metrics._images import painted_colour

    ds = load_dataset("digits_colored", bias=0.5, seed=1)
    est = painted_colour(ds.to_numpy())
    chromatic = ds.s < 8  # grey (8) and white (9) share a direction
    assert (est[chromatic] == ds.s[chromatic]).mean() > 0.97
    assert set(est[~chromatic]) <= {8, 9}
