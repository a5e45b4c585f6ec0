"""``fairx images`` commands end to end on the tiny colour digits (seconds)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fairx.cli import app

pytest.importorskip("torch")


def test_images_run_writes_grids_and_results(tmp_path):
    out = tmp_path / "run"
    res = CliRunner().invoke(app, [
        "images", "run", "--dataset", "digits_colored", "--model", "fairdisco", "--bias", "0.95",
        "--n", "300", "--epochs", "1", "--clf-epochs", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "TSTR gain" in res.output
    result = json.loads((out / "results.json").read_text())
    real, gen = result["rows"]
    assert result["n_train"] == 300 and real["train_on"] == "real (biased)"
    # the biased real set ties colour to digit; generated colour is drawn independently of z
    assert real["normalized_mi"] > 0.7 and gen["normalized_mi"] < 0.2
    for name in ("real_by_group.png", "generated_by_group.png", "counterfactuals.png"):
        assert (out / name).stat().st_size > 1000


def test_images_run_user_errors(tmp_path):
    res = CliRunner().invoke(app, ["images", "run", "--dataset", "digits_colored",
                                   "--model", "reweighing", "--n", "50"])
    assert res.exit_code == 2 and "no image variant" in res.output
    res = CliRunner().invoke(app, ["images", "run", "--dataset", "celeba", "--root",
                                   str(tmp_path / "none")])
    assert res.exit_code == 2 and "CelebA not found" in res.output


def test_images_show(tmp_path):
    res = CliRunner().invoke(app, ["images", "show", "--dataset", "digits_colored", "--n", "200",
                                   "--out", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "g.png").is_file() and "normalized_mi" in res.output
