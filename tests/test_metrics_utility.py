"""The downstream utility protocol: known metric values, planted bias, classifiers, modes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from fairx.data import TabularDataset, make_synthetic, train_test_split
from fairx.metrics import fit_downstream, prediction_metrics, utility_protocol


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield


def test_prediction_metrics_hand_computed():
    yt = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    yp = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4, 0.35])
    s = np.array(["a", "b"] * 4)
    m = prediction_metrics(yt, yp, y_score=score, sensitive_features=s)
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert m["auroc"] == pytest.approx(roc_auc_score(yt, score))
    assert np.isnan(prediction_metrics(yt, yp, sensitive_features=s)["auroc"])  # no scores -> NaN
    assert {"dpr", "dpd", "eor", "eod", "eop_ratio", "eop_diff", "fpr_gap"} <= set(m)


def _dpr_at(bias: float) -> float:
    train, test = train_test_split(make_synthetic(3000, bias=bias, seed=0), seed=0)
    return utility_protocol(train, test, seed=0, mode="TRTR")["dpr"]


def test_planted_bias_dpr_moves_to_one_as_bias_vanishes():
    strong, mild, none = _dpr_at(0.8), _dpr_at(0.4), _dpr_at(0.0)
    assert strong < 0.5  # planted rates 0.61 vs 0.12
    assert strong < mild < none
    assert none > 0.8


def test_positive_label_comes_from_the_schema():
    # positive label "no" (not the sorted-last class): y = 1 where hired == "no"
    base = make_synthetic(1200, bias=0.3, seed=1)
    ds = base.replace(positive_label="no")
    train, test = train_test_split(ds, seed=0)
    model = fit_downstream(train, seed=0)
    proba = model.predict_proba(test)
    assert roc_auc_score(test.y, proba) > 0.8  # probabilities of "no", not of "yes"
    assert np.mean(test.y) == pytest.approx(np.mean(test.frame["hired"] == "no"))


@pytest.mark.parametrize("classifier", ["hgb", "logreg", "rf"])
def test_classifiers_learn_the_task(classifier):
    train, test = train_test_split(make_synthetic(1500, bias=0.5, seed=2), seed=0)
    m = utility_protocol(train, test, classifier=classifier, seed=0)
    assert m["auroc"] > 0.85 and m["accuracy"] > 0.75
    assert np.isnan(m["ftu"])  # the model does not see s


def test_xgboost_is_optional():
    train = make_synthetic(300, seed=0)
    if importlib.util.find_spec("xgboost") is None:
        with pytest.raises(ValueError, match="xgboost"):
            fit_downstream(train, classifier="xgboost")
    else:  # pragma: no cover - depends on the environment
        assert fit_downstream(train, classifier="xgboost").predict(train).shape == (300,)
    with pytest.raises(ValueError, match="allowed"):
        fit_downstream(train, classifier="svm")


def test_sensitive_column_in_or_out():
    train, test = train_test_split(make_synthetic(1500, bias=0.8, seed=3), seed=0)
    unaware = fit_downstream(train, use_sensitive=False)
    aware = fit_downstream(train, use_sensitive=True)
    assert "group" not in unaware.feature_names and "group" in aware.feature_names
    m = utility_protocol(train, test, use_sensitive=True)
    assert 0.0 < m["ftu"] < 1.0


def test_sample_weight_changes_the_model():
    train, test = train_test_split(make_synthetic(1500, bias=0.8, seed=4), seed=0)
    w = np.where(train.frame["group"] == "B", 0.0, 1.0)  # train on group A only
    plain = fit_downstream(train, classifier="logreg").predict_proba(test)
    weighted = fit_downstream(train, classifier="logreg", sample_weight=w).predict_proba(test)
    assert np.abs(plain - weighted).mean() > 0.01
    # dataset weights are the default
    same = fit_downstream(train.replace(weights=w), classifier="logreg").predict_proba(test)
    np.testing.assert_allclose(same, weighted)


def test_unseen_test_category_is_ignored_and_one_class_train_is_constant():
    train, test = train_test_split(make_synthetic(800, seed=5), seed=0)
    frame = test.frame.copy()
    frame.loc[0, "region"] = "west"
    model = fit_downstream(train)
    assert model.predict(test.with_frame(frame)).shape == (len(test),)
    only_yes = train.with_frame(train.frame.assign(hired="yes"))
    const = fit_downstream(only_yes)
    assert const.estimator is None
    assert np.all(const.predict_proba(test) == 1.0)


def test_modes():
    ds = make_synthetic(1000, seed=6)
    train, test = train_test_split(ds, seed=0)
    tsts = utility_protocol(train, None, mode="TSTS", seed=0)  # splits train 70/30 itself
    inner_train, inner_test = train_test_split(train, test_size=0.3, seed=0)
    trtr = utility_protocol(inner_train, inner_test, mode="TRTR", seed=0)
    assert {k: v for k, v in tsts.items() if k != "ftu"} == {k: v for k, v in trtr.items() if k != "ftu"}
    with pytest.raises(ValueError, match="mode"):
        utility_protocol(train, test, mode="TSTX")
    with pytest.raises(ValueError, match="needs a test"):
        utility_protocol(train, None, mode="TSTR")


def test_categorical_integer_columns():
    rng = np.random.default_rng(0)
    n = 600
    s = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"s": s, "code": rng.integers(0, 3, n), "x": x,
                          "y": (x + rng.normal(scale=0.5, size=n) > 0).astype(int)})
    ds = TabularDataset.from_frame(frame, target="y", sensitive="s", categorical=["code"])
    train, test = train_test_split(ds, seed=0)
    assert utility_protocol(train, test)["auroc"] > 0.8


def test_hgb_reads_categories_natively_and_copes_with_many_levels():
    """The hgb pipeline splits on category codes (no one-hot); a column with more levels than
    HistGradientBoosting can bin (> 255) is kept as ordered codes instead of failing, and the
    label planted in one category is learned either way."""
    rng = np.random.default_rng(0)
    n = 3000
    few = rng.choice(list("abcdef"), n)
    many = np.array([f"id{v}" for v in rng.integers(0, 400, n)], dtype=object)
    y = ((few == "c") | (rng.random(n) < 0.1)).astype(int)
    frame = pd.DataFrame({"few": few, "many": many, "x": rng.normal(size=n),
                          "s": rng.choice(["p", "q"], n), "y": y})
    ds = TabularDataset.from_frame(frame, target="y", sensitive="s", positive_label=1)
    train, test = train_test_split(ds, seed=0)
    model = fit_downstream(train, seed=0)
    hgb = model.estimator.named_steps["model"]
    assert list(hgb.categorical_features) == [True, False, False]  # few, many, x
    # the Bayes score is the indicator of category "c" (the 10 % label noise is independent)
    bayes = roc_auc_score(test.y, (test.frame["few"] == "c").astype(float))
    assert roc_auc_score(test.y, model.predict_proba(test)) == pytest.approx(bayes, abs=0.02)
