"""`fairx.evaluate`: schema checks with a full problem report, coercions, the tidy result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

import fairx
from fairx.data import DatasetError, make_synthetic
from fairx.metrics import METRIC_INFO, check_schema, evaluate

FAST = {"quality_options": {"c2st_folds": 3}, "embedding": "naive"}


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def real():
    return make_synthetic(900, bias=0.8, seed=0)


def test_every_problem_is_listed(real):
    bad = make_synthetic(300, seed=1).frame.drop(columns=["proxy"])
    bad["extra"] = 1
    bad.loc[0, "region"] = "west"
    bad["skill"] = bad["skill"].astype(str)
    bad.loc[3, "skill"] = "abc"
    bad.loc[5, "years"] = np.nan
    _, problems, _ = check_schema(real, bad)
    assert len(problems) == 5
    with pytest.raises(DatasetError) as err:
        evaluate(real, bad)
    msg = str(err.value)
    for needle in ("missing column(s) ['proxy']", "extra column(s) ['extra']", "'west'", "'abc'",
                   "'years': 1 missing"):
        assert needle in msg


def test_fixable_differences_are_coerced(real):
    syn = make_synthetic(300, seed=1).frame
    syn = syn[list(reversed(syn.columns))]  # other column order
    syn["years"] = syn["years"].astype(float)  # int stored as float
    syn["proxy"] = syn["proxy"].astype(str)  # numbers stored as text
    coerced, problems, notes = check_schema(real, syn)
    assert problems == []
    assert list(coerced.columns) == list(real.frame.columns)
    assert coerced["years"].dtype == real.frame["years"].dtype
    assert coerced["proxy"].dtype.kind == "f"
    assert len(notes) == 2


def test_integer_coded_categories_match_across_types():
    from fairx.data import TabularDataset

    base = make_synthetic(600, seed=2).frame
    frame = base.assign(hired=(base["hired"] == "yes").astype(int))
    ds = TabularDataset.from_frame(frame, target="hired", sensitive="group")
    syn = frame.assign(hired=frame["hired"].astype(float))  # 1.0 / 0.0
    coerced, problems, _ = check_schema(ds, syn)
    assert problems == [] and coerced["hired"].tolist() == frame["hired"].tolist()
    assert check_schema(ds, frame.assign(hired=frame["hired"].astype(str)))[1] == []


def test_tidy_result_and_known_relations(real):
    syn = make_synthetic(900, bias=0.8, seed=1).frame
    test = make_synthetic(400, bias=0.8, seed=2)
    out = fairx.evaluate(real, syn, test=test, **FAST)
    assert list(out.columns) == ["group", "metric", "value"]
    assert set(out["group"]) == {"utility", "fairness", "data", "quality", "reference"}
    for _, row in out[out["group"].isin(["utility", "fairness", "data"])].iterrows():
        assert METRIC_INFO[row["metric"]].group == row["group"]
    v = out.set_index(["group", "metric"])["value"]
    assert v[("fairness", "dpr")] < 0.5  # the planted bias is copied by a faithful sample
    assert 0 < v[("fairness", "ftu")] < 1  # from a second model that sees s
    assert v[("quality", "dcr_share")] == pytest.approx(0.5, abs=0.1)
    assert v[("quality", "detection_score")] > 0.8
    assert v[("data", "data_dpr")] == pytest.approx(v[("reference", "data_dpr")], abs=0.15)
    assert out.attrs["settings"]["split"] == "given test table"
    # every group has positives and negatives: the undefined-rate flag is 0 in both blocks
    assert v[("fairness", "undefined_rate_groups")] == 0 and v[("reference", "undefined_rate_groups")] == 0
    assert out.attrs["settings"]["undefined"] == "exclude"


def test_two_threads_give_the_same_values(real):
    # with two threads the downstream fits run beside the quality passes and the one-class
    # embedding trains beside the kNN passes (a thread, or a child process before torch is
    # imported); every value is the same as on one thread
    syn = make_synthetic(600, bias=0.8, seed=1).frame
    test = make_synthetic(300, bias=0.8, seed=2)
    opts = {"quality_options": {"c2st_folds": 3, "oneclass_epochs": 2}}
    one = fairx.evaluate(real, syn, test=test, n_threads=1, **opts)
    two = fairx.evaluate(real, syn, test=test, n_threads=2, **opts)
    assert two.attrs["settings"]["n_threads"] == 2
    pd.testing.assert_frame_equal(one, two)


def test_undefined_rule_reaches_the_fairness_rows(real):
    # a test table where one group has no positive rows: TPR of that group is undefined
    test = make_synthetic(400, bias=0.8, seed=2)
    frame = test.frame.copy()
    groups = frame["group"].unique()
    frame.loc[frame["group"] == groups[0], "hired"] = frame["hired"][frame["hired"] != test.positive_label].iloc[0]
    test = test.with_frame(frame)
    syn = make_synthetic(900, bias=0.8, seed=1).frame
    kw = dict(test=test, quality=False, reference=False)
    ex = evaluate(real, syn, **kw).set_index("metric")["value"]
    zero = evaluate(real, syn, undefined="zero", **kw).set_index("metric")["value"]
    assert ex["undefined_rate_groups"] == zero["undefined_rate_groups"] == 1
    assert np.isnan(ex["eop_diff"]) and not np.isnan(zero["eop_diff"])
    assert zero["eod"] >= ex["eod"]
    with pytest.raises(ValueError, match="undefined="):
        evaluate(real, syn, undefined="skip", **kw)


def test_without_test_table_the_real_table_is_split(real):
    syn = make_synthetic(600, bias=0.0, seed=4)
    out = evaluate(real.frame, syn, target="hired", sensitive="group", quality=False, seed=1)
    v = out.set_index(["group", "metric"])["value"]
    assert "quality" not in set(out["group"])
    # a classifier trained on an unbiased table is fairer on the real test rows than TRTR
    # (not fully fair: the real test rows still carry the shifted test_score/proxy columns)
    assert v[("reference", "dpr")] < 0.5
    assert v[("fairness", "dpr")] > v[("reference", "dpr")] + 0.2
    settings = out.attrs["settings"]
    assert settings["n_test"] == 270 and "70%/30%" in settings["split"]
    with pytest.raises(ValueError, match="target= and sensitive="):
        evaluate(real.frame, syn)
