"""TabularDataset, TabularEncoder, splits and the planted-bias generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.data import (
    DatasetError,
    TabularDataset,
    TabularEncoder,
    load_dataset,
    make_synthetic,
    planted_positive_rates,
    train_test_split,
)


def test_planted_rates_match_generator():
    ds = make_synthetic(40000, bias=0.8, seed=1)
    rates = ds.group_summary().set_index("group")["positive_rate"]
    planted = planted_positive_rates(0.8)
    assert rates["A"] == pytest.approx(planted["A"], abs=0.015)
    assert rates["B"] == pytest.approx(planted["B"], abs=0.015)
    unbiased = make_synthetic(40000, bias=0.0, seed=1).group_summary().set_index("group")["positive_rate"]
    assert abs(unbiased["A"] - unbiased["B"]) < 0.02


def test_synthetic_is_seeded():
    a, b = make_synthetic(500, seed=3), make_synthetic(500, seed=3)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert not make_synthetic(500, seed=4).frame.equals(a.frame)


@pytest.mark.parametrize("scaling", ["standard", "minmax", "quantile"])
def test_encoder_round_trip(scaling, biased):
    enc = TabularEncoder(numerical=scaling).fit(biased)
    back = enc.decode(enc.encode(biased))
    pd.testing.assert_frame_equal(back[["group", "region", "hired", "years"]],
                                  biased.frame[["group", "region", "hired", "years"]])
    tol = 1e-4 if scaling != "quantile" else 0.05
    np.testing.assert_allclose(back["skill"], biased.frame["skill"], atol=tol)
    assert sum(b.width for b in enc.blocks_) == enc.dim_ == len(enc.feature_names)


def test_encoder_clips_and_rounds(biased):
    enc = TabularEncoder().fit(biased)
    m = enc.encode(biased.frame.head(5))
    m[:, enc.block("years").start] = [1e3, -1e3, 0.3, 0.1, 0.0]
    out = enc.decode(m)
    assert out["years"].max() == biased.frame["years"].max()
    assert out["years"].min() == biased.frame["years"].min()
    assert out["years"].dtype == biased.frame["years"].dtype


def test_encoder_unknown_category(biased):
    enc = TabularEncoder().fit(biased)
    bad = biased.frame.head(3).copy()
    bad.loc[0, "region"] = "west"
    with pytest.raises(DatasetError, match="region.*west"):
        enc.encode(bad)
    lenient = TabularEncoder(handle_unknown="ignore").fit(biased)
    assert lenient.encode(bad)[0, lenient.block("region").slice].sum() == 0


def test_encoder_state_round_trip(biased):
    enc = TabularEncoder(numerical="quantile").fit(biased)
    import json

    again = TabularEncoder.from_state(json.loads(json.dumps(enc.get_state())))
    np.testing.assert_array_equal(again.encode(biased), enc.encode(biased))


def test_quantile_encoder_keeps_spikes_and_stores_no_single_row_value():
    """Knots are means of ≥ quantile_rows sorted values (plus min / max): a spike shared by many
    rows survives the round trip exactly, and no other stored knot is one row's value."""
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(300) < 0.6, 0.0, rng.lognormal(8, 1, 300))
    frame = pd.DataFrame({"gain": gain, "c": rng.choice(["a", "b"], 300)})
    enc = TabularEncoder(numerical="quantile", quantile_rows=10).fit(frame, categorical=["c"])
    knots = np.asarray(enc.stats_["gain"]["quantiles"])
    assert len(knots) == 300 // 10 + 2
    interior = set(knots[1:-1].round(6)) - {0.0}
    assert not interior & set(gain.round(6))
    back = enc.decode(enc.encode(frame))["gain"].to_numpy()
    np.testing.assert_array_equal(back[gain == 0], 0.0)
    # a decoded value anywhere inside the spike's share of [0, 1] lands exactly on the spike
    m = enc.encode(frame.head(3))
    m[:, enc.block("gain").start] = [0.05, 0.25, 0.45]
    np.testing.assert_array_equal(enc.decode(m)["gain"], 0.0)
    assert np.corrcoef(back, gain)[0, 1] > 0.95


def test_split_is_stratified_and_seeded(biased):
    tr, te = train_test_split(biased, test_size=0.3, seed=5)
    assert len(tr) + len(te) == len(biased)
    assert len(te) == pytest.approx(0.3 * len(biased), abs=2)
    for part in (tr, te):
        rates = part.group_summary().set_index("group")
        full = biased.group_summary().set_index("group")
        np.testing.assert_allclose(rates["positive_rate"], full["positive_rate"], atol=0.01)
    tr2, _ = train_test_split(biased, test_size=0.3, seed=5)
    pd.testing.assert_frame_equal(tr.frame, tr2.frame)


def test_from_frame_infers_schema_and_cleans():
    df = pd.DataFrame({"a": [1.0, 2.0, None, 4.0, 5.0, 6.0], "c": list("xyxyxy"),
                       "s": list("pqpqpq"), "y": [1, 0, 1, None, 0, 1]})
    ds = TabularDataset.from_frame(df, target="y", sensitive="s")
    assert ds.meta["dropped_missing_target"] == 1
    assert ds.meta["dropped_missing_values"] == 1
    assert len(ds) == 4 and ds.positive_label == 1
    assert set(ds.categorical) == {"c", "s", "y"} and ds.numerical == ["a"]
    imputed = TabularDataset.from_frame(df, target="y", sensitive="s", missing="impute")
    assert len(imputed) == 5 and imputed.frame["a"].isna().sum() == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(target="nope", sensitive="s"), "target column.*nope.*not found"),
    (dict(target="y", sensitive="zz"), "sensitive column.*zz"),
    (dict(target="one", sensitive="s"), "single class"),
    (dict(target="multi", sensitive="s"), "positive_label"),
    (dict(target="y", sensitive="const"), "single group"),
])
def test_from_frame_bad_input(kwargs, match):
    df = pd.DataFrame({"y": [0, 1, 0, 1], "s": list("abab"), "one": [1, 1, 1, 1],
                       "multi": list("abcd"), "const": list("kkkk")})
    with pytest.raises(DatasetError, match=match):
        TabularDataset.from_frame(df, **kwargs)


def test_multiclass_target_with_positive_label():
    df = pd.DataFrame({"y": list("abcabc"), "s": list("ababab")})
    ds = TabularDataset.from_frame(df, target="y", sensitive="s", positive_label="a")
    assert ds.y.tolist() == [1, 0, 0, 1, 0, 0]


def test_duplicate_and_empty():
    with pytest.raises(DatasetError, match="duplicate"):
        TabularDataset.from_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]), target="a", sensitive="a")
    with pytest.raises(DatasetError, match="empty"):
        TabularDataset.from_frame(pd.DataFrame(), target="a", sensitive="b")


def test_intersection_of_sensitive_columns():
    df = pd.DataFrame({"y": [0, 1, 0, 1, 1, 0], "s": list("aabbab"), "t": list("xyxyyx")})
    ds = TabularDataset.from_frame(df, target="y", sensitive=["s", "t"])
    assert ds.s.tolist() == ["a|x", "a|y", "b|x", "b|y", "a|y", "b|x"]
    summary = ds.group_summary()
    assert set(summary["attribute"]) == {"s", "t", "s|t"}


def test_unknown_dataset_suggests():
    with pytest.raises(DatasetError, match="synthetic"):
        load_dataset("synthetc")


def test_import_is_light(fresh_import_modules):
    # import fairx, fairx.data, fairx.models; fairx.models.available() in a fresh interpreter
    assert "torch" not in fresh_import_modules
