"""Intersections with a tiny group: the headline leaves it out, *_all keeps it, methods that
cannot fit a tiny group (ThresholdOptimizer) pool it instead of failing (issue #17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.data import TabularDataset
from fairx.metrics import fairness_metrics, headline_fairness, prediction_metrics, small_groups
from fairx.protocol import evaluate_method


def _planted_predictions():
    """Three large groups with selection rates 0.5, 0.5, 0.4 and a 3-row group selected never.

    All groups: DPR = 0 / 0.5 = 0, DPD = 0.5. Groups with >= 30 rows: DPR = 0.4 / 0.5 = 0.8,
    DPD = 0.1.
    """
    parts = []
    for (sex, race), n, rate in ((("M", "A"), 100, 0.5), (("M", "B"), 100, 0.5),
                                 (("F", "A"), 100, 0.4), (("F", "B"), 3, 0.0)):
        k = int(round(n * rate))
        parts.append(pd.DataFrame({"sex": sex, "race": race, "y": np.arange(n) % 2,
                                   "pred": [1] * k + [0] * (n - k)}))
    return pd.concat(parts, ignore_index=True)


def test_headline_leaves_tiny_intersection_group_out():
    t = _planted_predictions()
    out = headline_fairness(t["y"].to_numpy(), t["pred"].to_numpy(),
                            sensitive_features=t[["sex", "race"]], min_group_size=30)
    assert out["dpr"] == pytest.approx(0.8)
    assert out["dpd"] == pytest.approx(0.1)
    assert out["dpr_all"] == pytest.approx(0.0)
    assert out["dpd_all"] == pytest.approx(0.5)
    assert out["n_groups_excluded"] == 1
    # a threshold of 1 keeps every group: the headline equals the all-groups value
    same = headline_fairness(t["y"].to_numpy(), t["pred"].to_numpy(),
                             sensitive_features=t[["sex", "race"]], min_group_size=1)
    assert same["dpr"] == same["dpr_all"] == pytest.approx(0.0)
    assert same["n_groups_excluded"] == 0


def test_single_column_counts_every_group():
    t = _planted_predictions()
    out = headline_fairness(t["y"], t["pred"], sensitive_features=t[["sex"]], min_group_size=30)
    assert out == fairness_metrics(t["y"], t["pred"], sensitive_features=t[["sex"]])
    assert "dpr_all" not in out and "n_groups_excluded" not in out


def test_prediction_metrics_use_the_headline_rule():
    """What `fairx.evaluate` and the protocol report: the rule lives in one place."""
    t = _planted_predictions()
    out = prediction_metrics(t["y"], t["pred"], sensitive_features=t[["sex", "race"]])
    assert out["dpr"] == pytest.approx(0.8) and out["dpr_all"] == pytest.approx(0.0)
    assert small_groups(t[["sex", "race"]], 30).to_dict() == {"F|B": 3}
    # fewer than two large groups: the headline falls back to every group (nothing else defined)
    few = headline_fairness(t["y"], t["pred"], sensitive_features=t[["sex", "race"]],
                            min_group_size=101)
    assert few["dpr"] == few["dpr_all"] and few["n_groups_excluded"] == 4


def _tiny_group_table(n: int = 600, seed: int = 0) -> TabularDataset:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["M", "F"], n).astype(object)
    race = np.where(rng.random(n) < 0.5, "A", "B").astype(object)
    x = rng.standard_normal(n)
    y = (x + 0.8 * (sex == "M") + 0.3 * rng.standard_normal(n) > 0.4).astype(int)
    race[:8] = "Other"          # a tiny group, all of one label: fairlearn calls it degenerate
    sex[:8] = "F"
    y[:8] = 0
    frame = pd.DataFrame({"x": x.round(4), "z": rng.standard_normal(n).round(4),
                          "sex": sex, "race": race, "y": np.where(y == 1, "yes", "no")})
    return TabularDataset.from_frame(frame, target="y", sensitive=["sex", "race"],
                                     positive_label="yes", name="tiny")


def test_threshold_optimizer_pools_tiny_group_instead_of_failing():
    from fairx.models.baselines.threshold_optimizer import ThresholdOptimizer

    ds = _tiny_group_table()
    model = ThresholdOptimizer(grid_size=50, min_group_size=30).fit(ds)
    assert model.merged_ == ["F|Other"]
    assert model.n_groups_merged_ == 1
    # a pool of 8 single-label rows cannot stand alone: it joins the largest group
    s = ds.s.to_numpy().astype(str)
    largest = pd.Series(s).value_counts().index[0]
    assert set(model._pooled(s)[:8]) == {largest}
    pred = model.predict(ds)
    assert pred.shape == (len(ds),) and set(np.unique(pred)) <= {0, 1}


def test_merge_small_groups_pools_into_one_group():
    from fairx.models.baselines.threshold_optimizer import MERGED_GROUP, _merge_small_groups

    s = np.array(["a"] * 50 + ["b"] * 50 + ["c"] * 20 + ["d"] * 20)
    y = np.tile([0, 1], 70)
    merged, target = _merge_small_groups(s, y, 30)
    assert merged == ["c", "d"] and target == MERGED_GROUP  # 40 rows, both labels
    merged, target = _merge_small_groups(s, y, 10)
    assert merged == []


def test_threshold_optimizer_without_pooling_fails_on_the_tiny_group():
    """The mechanism matters: fairlearn itself refuses the single-label group."""
    from fairlearn.postprocessing import ThresholdOptimizer as FairlearnTO
    from sklearn.linear_model import LogisticRegression

    ds = _tiny_group_table()
    to = FairlearnTO(estimator=LogisticRegression(), prefit=False, predict_method="predict_proba")
    with pytest.raises(ValueError, match="Degenerate labels"):
        to.fit(ds.frame[["x", "z"]], ds.y, sensitive_features=ds.s.to_numpy().astype(str))


def test_evaluate_method_reports_headline_all_and_excluded():
    ds = _tiny_group_table()
    res = evaluate_method("threshold_optimizer", ds, seed=0, preset="fast", min_group_size=30,
                          classifier="logreg")
    m = res.metrics
    assert m["n_groups_merged"] == 1
    assert m["n_groups_excluded"] >= 1
    inter = res.group_table[res.group_table["attribute"] == "sex|race"]
    small = inter[inter["small"]]
    assert "F|Other" in set(small["group"])
    assert small["size"].dtype.kind == "i"
    # the headline is computed over the large groups only
    big = inter[~inter["small"]]["selection_rate"]
    assert m["dpr"] == pytest.approx(big.min() / big.max())
    assert np.isfinite(m["dpr_all"])


def test_min_group_size_in_spec(tmp_path):
    from fairx.benchmark import SpecError, loads_spec

    spec = loads_spec("datasets: [synthetic]\nmethods: [unmitigated]\n"
                      "protocol: {min_group_size: 5}\n")
    assert spec.protocol.min_group_size == 5
    with pytest.raises(SpecError, match="min_group_size"):
        loads_spec("datasets: [synthetic]\nmethods: [unmitigated]\n"
                   "protocol: {min_group_size: 0}\n")


def test_cli_run_lists_excluded_groups_and_does_not_fail(tmp_path):
    from typer.testing import CliRunner

    from fairx.cli import app

    path = tmp_path / "tiny.csv"
    _tiny_group_table().frame.to_csv(path, index=False)
    res = CliRunner().invoke(app, ["run", "--csv", str(path), "-t", "y", "-s", "sex", "-s", "race",
                                   "-m", "threshold_optimizer", "--preset", "fast", "--seeds", "1",
                                   "--classifier", "logreg", "--min-group-size", "30"],
                             terminal_width=200)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "fewer than 30 test rows" in text and "F|Other (" in text
    assert "…" not in res.output  # no truncated cell


def test_evaluate_reports_the_headline_and_names_the_excluded_group():
    """`fairx.evaluate` (and `fairx evaluate`) use the same rule as benchmarks: the 8-row group
    is left out of dpr/eor, kept in dpr_all, and named in the notes with its test-row count."""
    from fairx.metrics import evaluate

    ds = _tiny_group_table(n=800)
    result = evaluate(ds, ds.frame, test=ds.frame, quality=False, reference=False, seed=0)
    values = result.set_index("metric")["value"]
    groups = result.set_index("metric")["group"]
    assert values["n_groups_excluded"] == 1
    assert groups["dpr_all"] == "fairness" and groups["n_groups_excluded"] == "fairness"
    # the same downstream model's predictions, scored over the large groups / every group
    from fairx.metrics import fit_downstream

    pred = (fit_downstream(ds, seed=0).predict_proba(ds) >= 0.5).astype(int)
    sens = ds.sensitive_frame
    large = (sens["race"] != "Other").to_numpy()
    kept = fairness_metrics(ds.y[large], pred[large], sensitive_features=sens[large])
    assert values["dpr"] == pytest.approx(kept["dpr"])
    assert values["dpr_all"] == pytest.approx(
        fairness_metrics(ds.y, pred, sensitive_features=sens)["dpr"])
    assert values["dpr"] != pytest.approx(values["dpr_all"])
    note = [n for n in result.attrs["settings"]["notes"] if "left out of the headline" in n]
    assert note and "F|Other (8)" in note[0]
    # a threshold of 1 switches the rule off: headline = every group, nothing excluded
    every = evaluate(ds, ds.frame, test=ds.frame, quality=False, reference=False, seed=0,
                     min_group_size=1).set_index("metric")["value"]
    assert every["dpr"] == pytest.approx(every["dpr_all"]) == pytest.approx(values["dpr_all"])
    assert every["n_groups_excluded"] == 0


def test_data_parity_follows_the_same_rule():
    """Label parity of a table: the 8-row all-negative group decides data_dpr = 0 over every
    group; with the rule it is left out (data_*_all keep it), and a threshold of 1 switches the
    rule off."""
    from fairx.metrics import data_parity

    ds = _tiny_group_table(n=800)
    rates = pd.Series(ds.y).groupby(ds.s.to_numpy()).mean()
    large = rates[pd.Series(ds.s).value_counts().reindex(rates.index) >= 30]
    out = data_parity(ds, 30)
    assert out["data_dpr_all"] == 0.0 and out["data_dpd_all"] == pytest.approx(rates.max() - rates.min())
    assert out["data_dpr"] == pytest.approx(large.min() / large.max())
    assert out["data_dpd"] == pytest.approx(large.max() - large.min())
    assert data_parity(ds, 1)["data_dpr"] == 0.0
    assert set(data_parity(ds)) == {"data_dpd", "data_dpr"}  # no threshold: every group, as before
