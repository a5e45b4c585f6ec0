"""Fairness metrics: hand-computed values, equality with fairlearn, intersections, FTU, parity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as fl

from fairx.data import make_synthetic
from fairx.metrics import (
    METRIC_INFO,
    bootstrap_ci,
    data_parity,
    dpr,
    eod,
    fairness_by_attribute,
    fairness_metrics,
    ftu,
    group_table,
    worst_pair,
)

# Crafted: group a (4 rows): y=[1,1,0,0], yhat=[1,1,1,0] -> SR 3/4, TPR 1, FPR 1/2
#          group b (4 rows): y=[1,1,0,0], yhat=[1,0,0,0] -> SR 1/4, TPR 1/2, FPR 0
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 0, 0])
Y_PRED = np.array([1, 1, 1, 0, 1, 0, 0, 0])
S = np.array(["a"] * 4 + ["b"] * 4)


def test_hand_computed_values():
    m = fairness_metrics(Y_TRUE, Y_PRED, sensitive_features=S)
    assert m["dpr"] == pytest.approx((1 / 4) / (3 / 4))
    assert m["dpd"] == pytest.approx(0.5)
    assert m["eop_ratio"] == pytest.approx(0.5)
    assert m["eop_diff"] == pytest.approx(0.5)
    assert m["fpr_gap"] == pytest.approx(0.5)
    assert m["eor"] == pytest.approx(0.0)  # FPR ratio 0 / 0.5
    assert m["eod"] == pytest.approx(0.5)
    assert dpr(Y_TRUE, Y_PRED, sensitive_features=S) == pytest.approx(1 / 3)
    table = group_table(Y_TRUE, Y_PRED, sensitive_features=pd.Series(S, name="sex"), min_group_size=30)
    assert list(table.columns) == ["attribute", "group", "size", "selection_rate", "tpr", "fpr", "small"]
    assert table["attribute"].tolist() == ["sex", "sex"]
    assert table["size"].tolist() == [4, 4]
    assert table["selection_rate"].tolist() == pytest.approx([0.75, 0.25])
    assert table["tpr"].tolist() == pytest.approx([1.0, 0.5])
    assert table["fpr"].tolist() == pytest.approx([0.5, 0.0])
    assert table["small"].all()  # flagged, not dropped
    assert not group_table(Y_TRUE, Y_PRED, sensitive_features=S, min_group_size=4)["small"].any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_to_fairlearn_on_random_arrays(seed):
    rng = np.random.default_rng(seed)
    n = 400
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    s = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    m = fairness_metrics(yt, yp, sensitive_features=s)
    kw = {"sensitive_features": s}
    assert m["dpr"] == pytest.approx(fl.demographic_parity_ratio(yt, yp, **kw))
    assert m["dpd"] == pytest.approx(fl.demographic_parity_difference(yt, yp, **kw))
    assert m["eor"] == pytest.approx(fl.equalized_odds_ratio(yt, yp, **kw))
    assert m["eod"] == pytest.approx(fl.equalized_odds_difference(yt, yp, **kw))
    assert m["eop_ratio"] == pytest.approx(fl.equal_opportunity_ratio(yt, yp, **kw))
    assert m["eop_diff"] == pytest.approx(fl.equal_opportunity_difference(yt, yp, **kw))
    assert m["fpr_gap"] == pytest.approx(fl.false_positive_rate_difference(yt, yp, **kw))


def test_intersectional_2x2():
    # sex x race, 4 subgroups of sizes 4, 2, 2, 2 with selection rates 1, 1/2, 1/2, 0
    sex = np.array(["F"] * 6 + ["M"] * 4)
    race = np.array(["w"] * 4 + ["b"] * 2 + ["w"] * 2 + ["b"] * 2)
    yp = np.array([1, 1, 1, 1, 1, 0, 1, 0, 0, 0])
    yt = np.array([1, 1, 0, 0, 1, 0, 1, 0, 1, 0])
    sf = pd.DataFrame({"sex": sex, "race": race})
    table = group_table(yt, yp, sensitive_features=sf, min_group_size=3)
    assert table["attribute"].unique().tolist() == ["sex", "race", "sex|race"]
    inter = table[table["attribute"] == "sex|race"].set_index("group")
    assert inter["size"].to_dict() == {"F|b": 2, "F|w": 4, "M|b": 2, "M|w": 2}
    assert inter["selection_rate"].to_dict() == pytest.approx({"F|b": 0.5, "F|w": 1.0, "M|b": 0.0, "M|w": 0.5})
    assert inter["small"].to_dict() == {"F|b": True, "F|w": False, "M|b": True, "M|w": True}
    # single attributes: sex SR F 5/6, M 1/4; race SR w 5/6, b 1/4
    m = fairness_metrics(yt, yp, sensitive_features=sf)  # headline = intersection
    assert m["dpd"] == pytest.approx(1.0)
    assert m["dpr"] == pytest.approx(0.0)
    by_attr = fairness_by_attribute(yt, yp, sensitive_features=sf).set_index(["attribute", "metric"])["value"]
    assert by_attr[("sex", "dpr")] == pytest.approx((1 / 4) / (5 / 6))
    assert by_attr[("race", "dpd")] == pytest.approx(5 / 6 - 1 / 4)
    wp = worst_pair(yt, yp, sensitive_features=sf)
    assert (wp["group_low"], wp["group_high"]) == ("M|b", "F|w")
    assert wp["difference"] == pytest.approx(1.0) and wp["size_low"] == 2
    # excluding groups under 3 rows leaves F|w (1.0) and ... nothing else -> undefined ratio
    assert np.isnan(fairness_metrics(yt, yp, sensitive_features=sf, min_group_size=3, exclude_small=True)["dpr"])


def test_group_without_positives_gives_nan_tpr():
    yt = np.array([0, 0, 1, 1])
    yp = np.array([1, 0, 1, 0])
    table = group_table(yt, yp, sensitive_features=np.array(["a", "a", "b", "b"]))
    assert np.isnan(table.loc[0, "tpr"]) and table.loc[0, "fpr"] == 0.5
    assert np.isnan(fairness_metrics(yt, yp, sensitive_features=np.array(["a", "a", "b", "b"]))["eop_ratio"])


def test_undefined_group_rates_exclude_or_zero():
    # group b has no positives: its TPR is undefined (fairlearn counts it as 0); TPR_a = 1,
    # FPR_a = 0, FPR_b = 3/4
    yt = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    yp = np.array([1, 0, 1, 0, 1, 1, 0, 1])
    s = np.array(list("aaaabbbb"))
    ex = fairness_metrics(yt, yp, sensitive_features=s)  # default: "exclude"
    assert ex == pytest.approx(fairness_metrics(yt, yp, sensitive_features=s, undefined="exclude"), nan_ok=True)
    assert ex["eod"] == pytest.approx(0.75)  # FPR range only
    assert np.isnan(ex["eop_diff"]) and np.isnan(ex["eop_ratio"])
    assert ex["eor"] == pytest.approx(0.0) and ex["fpr_gap"] == pytest.approx(0.75)
    assert ex["undefined_rate_groups"] == 1.0
    zero = fairness_metrics(yt, yp, sensitive_features=s, undefined="zero")
    kw = {"sensitive_features": s}
    assert zero["eod"] == pytest.approx(1.0) == fl.equalized_odds_difference(yt, yp, **kw)
    assert zero["eor"] == pytest.approx(fl.equalized_odds_ratio(yt, yp, **kw))
    assert zero["eop_diff"] == pytest.approx(1.0) == fl.equal_opportunity_difference(yt, yp, **kw)
    assert zero["eop_ratio"] == pytest.approx(fl.equal_opportunity_ratio(yt, yp, **kw))
    assert zero["undefined_rate_groups"] == 1.0
    assert zero["dpd"] == ex["dpd"] == pytest.approx(0.25)  # selection rates are always defined
    assert eod(yt, yp, sensitive_features=s, undefined="zero") == pytest.approx(1.0)
    wp = worst_pair(yt, yp, sensitive_features=s, rate="tpr", undefined="zero")
    assert (wp["group_low"], wp["difference"]) == ("b", pytest.approx(1.0))
    with pytest.raises(ValueError, match="fewer than two groups"):
        worst_pair(yt, yp, sensitive_features=s, rate="tpr")
    by_attr = fairness_by_attribute(yt, yp, sensitive_features=s, undefined="zero")
    assert by_attr.set_index("metric")["value"]["eod"] == pytest.approx(1.0)
    assert bootstrap_ci(yt, yp, sensitive_features=s, n_boot=20, undefined="zero")["value"].tolist() == [
        zero[m] for m in ("dpr", "dpd", "eor", "eod", "eop_ratio", "eop_diff", "fpr_gap")]
    # every rate defined: no flag and both rules agree
    assert fairness_metrics(Y_TRUE, Y_PRED, sensitive_features=S)["undefined_rate_groups"] == 0.0
    assert fairness_metrics(Y_TRUE, Y_PRED, sensitive_features=S, undefined="zero") == fairness_metrics(
        Y_TRUE, Y_PRED, sensitive_features=S)
    with pytest.raises(ValueError, match="undefined='nan'; allowed: \\['exclude', 'zero'\\]"):
        fairness_metrics(yt, yp, sensitive_features=s, undefined="nan")


@pytest.mark.parametrize("seed", [0, 1])
def test_zero_rule_equals_fairlearn_with_empty_classes(seed):
    rng = np.random.default_rng(seed)
    n = 300
    s = rng.choice(["x", "y", "z", "w"], n, p=[0.4, 0.3, 0.2, 0.1])
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    yt[s == "w"] = 0  # w: no positives (TPR undefined)
    yt[s == "z"] = 1  # z: no negatives (FPR undefined)
    m = fairness_metrics(yt, yp, sensitive_features=s, undefined="zero")
    kw = {"sensitive_features": s}
    assert m["undefined_rate_groups"] == 2.0
    assert m["eod"] == pytest.approx(fl.equalized_odds_difference(yt, yp, **kw))
    assert m["eor"] == pytest.approx(fl.equalized_odds_ratio(yt, yp, **kw))
    assert m["eop_diff"] == pytest.approx(fl.equal_opportunity_difference(yt, yp, **kw))
    assert m["fpr_gap"] == pytest.approx(fl.false_positive_rate_difference(yt, yp, **kw))


def test_bad_labels_are_rejected():
    with pytest.raises(ValueError, match="0/1"):
        fairness_metrics(np.array([0, 2]), np.array([0, 1]), sensitive_features=np.array(["a", "b"]))
    with pytest.raises(ValueError, match="expected 2"):
        fairness_metrics(np.array([0, 1]), np.array([0, 1]), sensitive_features=np.array(["a", "b", "c"]))


def test_bootstrap_interval_brackets_value_and_is_seeded():
    rng = np.random.default_rng(0)
    n = 600
    s = rng.choice(["a", "b"], n)
    yt = rng.integers(0, 2, n)
    yp = (rng.random(n) < np.where(s == "a", 0.6, 0.3)).astype(int)
    ci = bootstrap_ci(yt, yp, sensitive_features=s, n_boot=100, seed=1).set_index("metric")
    assert (ci["lower"] <= ci["value"]).all() and (ci["value"] <= ci["upper"]).all()
    assert ci.loc["dpd", "lower"] > 0.15  # the planted gap is 0.3
    again = bootstrap_ci(yt, yp, sensitive_features=s, n_boot=100, seed=1)
    assert again["lower"].tolist() == ci["lower"].tolist()


def test_data_parity_of_planted_table():
    ds = make_synthetic(4000, bias=0.8, seed=0)
    p = data_parity(ds)
    rates = ds.frame.assign(y=ds.y).groupby("group")["y"].mean()
    assert p["data_dpd"] == pytest.approx(rates["A"] - rates["B"])
    assert p["data_dpr"] == pytest.approx(rates["B"] / rates["A"])
    assert data_parity(make_synthetic(4000, bias=0.0, seed=0))["data_dpr"] > 0.85


class _GroupShiftModel:
    """p = 0.8 for group A, 0.3 for B, regardless of the other columns."""

    uses_sensitive = True

    def predict_proba(self, ds):
        return np.where(ds.frame["group"] == "A", 0.8, 0.3)


def test_ftu_known_answer_and_nan_when_unaware():
    test = make_synthetic(200, seed=3)
    assert ftu(_GroupShiftModel(), test) == pytest.approx(0.5)

    class Unaware(_GroupShiftModel):
        uses_sensitive = False

    assert np.isnan(ftu(Unaware(), test))


def test_metric_info_covers_the_contract():
    names = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "auroc", "dpr", "dpd", "eor",
             "eod", "eop_ratio", "eop_diff", "fpr_gap", "undefined_rate_groups", "ftu", "data_dpd", "data_dpr", "alpha_precision",
             "beta_recall", "authenticity", "prdc_precision", "prdc_recall", "density", "coverage",
             "ks_complement", "tv_complement", "column_fidelity", "correlation_similarity", "c2st_auc",
             "detection_score", "dcr_share"]
    # intersections: the every-group values of the ratio/difference metrics and the count
    names += [f"{m}_all" for m in ("dpr", "dpd", "eor", "eod", "eop_ratio", "eop_diff", "fpr_gap")]
    names += ["data_dpd_all", "data_dpr_all", "n_groups_excluded"]
    assert sorted(METRIC_INFO) == sorted(names)
    assert METRIC_INFO["eod_all"].direction == "lower" and METRIC_INFO["dpr_all"].group == "fairness"
    assert METRIC_INFO["dcr_share"].target == 0.5 and METRIC_INFO["dcr_share"].direction == "target"
    assert METRIC_INFO["dpd"].better(0.1, 0.2) and METRIC_INFO["dpr"].better(0.9, 0.5)
    assert METRIC_INFO["c2st_auc"].better(0.55, 0.3)
