"""The one evaluation path: same split, own predictions for in/post, TSTR for generators."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fairx.data import make_synthetic, train_test_split
from fairx.evaluation.protocol import MethodResult, evaluate_method, mean_std_table, summarize
from fairx.metrics import fit_downstream, ftu, prediction_metrics
from fairx.models import get

CLF = "logreg"
QUALITY = ["alpha_precision", "beta_recall", "density", "coverage", "dcr_share"]


@pytest.fixture(scope="module")
def data():
    return make_synthetic(1500, bias=0.8, seed=0)


@pytest.fixture(scope="module")
def split(data):
    return train_test_split(data, seed=0)


@pytest.fixture(scope="module")
def unmitigated(data, split):
    return evaluate_method("unmitigated", data, seed=0, classifier=CLF, split=split)


def test_unmitigated_row_is_the_downstream_classifier_on_real_train(unmitigated, split):
    train, test = split
    model = fit_downstream(train, classifier=CLF, seed=0)
    expected = prediction_metrics(test.y, model.predict(test), y_score=model.predict_proba(test),
                                  sensitive_features=test.sensitive_frame)
    r = unmitigated
    assert r.method == "Unmitigated" and r.registry_name == "unmitigated" and r.stage == "reference"
    for key in ("accuracy", "auroc", "dpr", "eor", "f1"):
        assert r.metrics[key] == pytest.approx(expected[key], abs=1e-12)
    # ftu comes from a second classifier that sees s; the planted direct effect makes it large
    assert r.metrics["ftu"] == pytest.approx(
        ftu(fit_downstream(train, classifier=CLF, seed=0, use_sensitive=True), test), abs=1e-12)
    assert r.metrics["ftu"] > 0.1
    assert r.metrics["data_dpr"] < 0.3  # the real train split's own parity
    assert r.metrics["fit_seconds"] >= 0
    assert set(r.group_table["group"]) == {"A", "B"} and r.synthetic is None


def test_reweighing_row_improves_dpr(data, split, unmitigated):
    r = evaluate_method("reweighing", data, seed=0, classifier=CLF, split=split)
    assert r.stage == "pre"
    assert r.metrics["dpr"] >= unmitigated.metrics["dpr"] + 0.1  # observed +0.14


def test_threshold_optimizer_utility_comes_from_its_own_predictions(data, split, unmitigated):
    train, test = split
    r = evaluate_method("threshold_optimizer", data, seed=4, preset="fast", classifier=CLF,
                        split=split)
    own = get("threshold_optimizer", preset="fast", classifier=CLF, random_state=4).fit(train)
    pred = own.predict(test)
    assert r.metrics["accuracy"] == pytest.approx(np.mean(pred == test.y), abs=1e-12)
    assert r.metrics["accuracy"] != pytest.approx(unmitigated.metrics["accuracy"], abs=1e-3)
    assert r.metrics["dpr"] >= unmitigated.metrics["dpr"] + 0.4
    assert r.params["random_state"] == 4 and r.method == "ThresholdOpt-DP"
    assert math.isfinite(r.metrics["ftu"])  # its decisions use s, so FTU is defined


def test_generator_row_is_tstr_with_quality(data, split):
    train, test = split
    r = evaluate_method("decaf-dp", data, seed=0, classifier=CLF, split=split, n_synthetic=700,
                        params={"epochs": 2, "hidden": 16, "critic_steps": 1, "device": "cpu"},
                        quality_options={"embedding": "naive", "metrics": QUALITY})
    assert r.method == "DECAF-DP" and r.registry_name == "decaf-dp" and r.stage == "generator"
    assert isinstance(r.synthetic, pd.DataFrame) and len(r.synthetic) == 700
    assert list(r.synthetic.columns) == list(data.frame.columns)
    # TSTR: the downstream classifier trained on the synthetic rows, tested on the real test
    syn = train.with_frame(r.synthetic)
    model = fit_downstream(syn, classifier=CLF, seed=0)
    assert r.metrics["accuracy"] == pytest.approx(np.mean(model.predict(test) == test.y), abs=1e-12)
    for key in ("data_dpr", "alpha_precision", "beta_recall", "density", "coverage",
                "sample_seconds", "n_parameters", "ftu"):
        assert key in r.metrics, key
    assert r.metrics["n_parameters"] > 0
    assert 0 <= r.metrics["coverage"] <= 1 and 0 <= r.metrics["dcr_share"] <= 1


def test_method_instances_are_cloned_and_seeded(data, split):
    base = get("exponentiated_gradient", preset="fast", classifier=CLF, max_iter=3)
    r = evaluate_method(base, data, seed=7, split=split)  # protocol classifier: default hgb
    assert r.params["random_state"] == 7 and not hasattr(base, "model_")
    assert r.params["classifier"] == CLF  # the instance keeps its own configuration
    assert math.isnan(r.metrics["ftu"])  # it does not see s: n/a, not 0


def test_to_frame_and_mean_std_over_seeds():
    results = [MethodResult(method="M", registry_name="m", stage="pre", seed=s,
                            metrics={"accuracy": a, "dpr": d}, group_table=pd.DataFrame())
               for s, a, d in [(0, 0.8, 0.5), (1, 0.9, 0.7), (2, 1.0, 0.6)]]
    tidy = results[0].to_frame()
    assert list(tidy.columns) == ["method", "stage", "seed", "metric", "value"] and len(tidy) == 2
    summary = summarize(results)
    acc = summary.set_index("metric").loc["accuracy"]
    assert acc["mean"] == pytest.approx(0.9) and acc["std"] == pytest.approx(0.1) and acc["n"] == 3
    table = mean_std_table(summary)
    assert table.loc[0, "accuracy"] == "0.900 ± 0.100" and table.loc[0, "n"] == 3
    one = mean_std_table(summarize(results[:1]))
    assert one.loc[0, "dpr"] == "0.500"  # one seed: no std
    other = MethodResult(method="G", registry_name="g", stage="generator", seed=0,
                         metrics={"accuracy": 0.7, "coverage": 0.4}, group_table=pd.DataFrame())
    mixed = mean_std_table(summarize([results[0], other])).set_index("method")
    assert mixed.loc["M", "coverage"] == "n/a" and mixed.loc["G", "coverage"] == "0.400"


def test_bad_method_inputs(data):
    with pytest.raises(KeyError, match="Did you mean 'tabfairgan'"):
        evaluate_method("tabfairgn", data)
    with pytest.raises(TypeError, match="registry name or a FairMethod"):
        evaluate_method(42, data)
    with pytest.raises(KeyError, match="no preset 'huge'"):
        evaluate_method("decaf", data, preset="huge")
