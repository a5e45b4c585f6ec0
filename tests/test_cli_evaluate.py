"""`fairx evaluate` end to end: tables, JSON, and the mismatch report (exit code 2)."""

from __future__ import annotations

import json

import pytest
from threadpoolctl import threadpool_limits
from typer.testing import CliRunner

from fairx.cli import app
from fairx.data import make_synthetic


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("evaluate")
    make_synthetic(700, bias=0.8, seed=0).frame.to_csv(d / "real.csv", index=False)
    make_synthetic(700, bias=0.8, seed=1).frame.to_csv(d / "synth.csv", index=False)
    make_synthetic(300, bias=0.8, seed=2).frame.to_csv(d / "test.csv", index=False)
    bad = make_synthetic(200, seed=3).frame.drop(columns=["proxy"])
    bad["region"] = bad["region"].replace("east", "west")
    bad.to_csv(d / "bad.csv", index=False)
    return d


def test_evaluate_end_to_end(files):
    out = files / "out.json"
    result = CliRunner().invoke(app, [
        "evaluate", "--real", str(files / "real.csv"), "--synthetic", str(files / "synth.csv"),
        "--target", "hired", "--sensitive", "group", "--test", str(files / "test.csv"),
        "--embedding", "naive", "--seed", "0", "--json", str(out)])
    assert result.exit_code == 0, result.output
    for title in ("Fairness", "Utility", "Synthetic-data quality", "Reference"):
        assert title in result.output
    payload = json.loads(out.read_text())
    assert set(payload["metrics"]) == {"utility", "fairness", "data", "quality", "reference"}
    assert payload["metrics"]["fairness"]["dpr"] < 0.5
    assert payload["metrics"]["quality"]["n_real"] == 700
    assert payload["settings"]["positive_label"] == "yes"


def test_evaluate_mismatch_report(files):
    result = CliRunner().invoke(app, [
        "evaluate", "--real", str(files / "real.csv"), "--synthetic", str(files / "bad.csv"),
        "--target", "hired", "--sensitive", "group", "--no-quality"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "2 problem(s)" in text and "missing column(s) ['proxy']" in text and "'west'" in text
    assert "Traceback" not in result.output


def test_evaluate_missing_file(files):
    result = CliRunner().invoke(app, [
        "evaluate", "--real", str(files / "nope.csv"), "--synthetic", str(files / "synth.csv"),
        "--target", "hired", "--sensitive", "group"])
    assert result.exit_code == 2 and "does not exist" in result.output
