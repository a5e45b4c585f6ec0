"""``fairx models``, ``fairx run`` and ``fairx generate`` through the real CLI app."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairx.cli import app
from fairx.data import make_synthetic

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "250"})


def test_models_lists_the_registry():
    res = invoke("models")
    assert res.exit_code == 0
    for name in ("unmitigated", "reweighing", "threshold_optimizer", "tabfairgan", "decaf-dp"):
        assert name in res.output


def test_run_prints_mean_and_std_over_seeds(tmp_path):
    out = tmp_path / "rows.csv"
    res = invoke("run", "--dataset", "synthetic", "--option", "n_samples=800", "--model",
                 "unmitigated", "--model", "reweighing", "--seeds", "2", "--classifier", "logreg",
                 "--output", str(out))
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(out)
    assert set(rows["method"]) == {"Unmitigated", "Reweighing"} and set(rows["seed"]) == {0, 1}
    acc = rows[(rows.method == "Reweighing") & (rows.metric == "accuracy")]["value"]
    cell = f"{acc.mean():.3f} ± {acc.std(ddof=1):.3f}"
    assert cell in res.output  # the printed figure is computed from the per-seed rows
    assert "mean ± std over 2 seed(s)" in res.output


def test_one_preset_serves_several_models(tmp_path):
    """`--preset fast` with a method that has nothing to size (unmitigated) runs it at its
    defaults, and sizes the method that has the preset (threshold_optimizer's grid)."""
    from fairx.models.presets import UnknownPresetError, preset_params
    from fairx.models.registry import method_class

    assert preset_params(method_class("unmitigated"), "fast") == {}
    fast = preset_params(method_class("threshold_optimizer"), "fast")
    assert fast and fast == method_class("threshold_optimizer").presets["fast"]
    with pytest.raises(UnknownPresetError, match="no preset 'turbo'"):
        preset_params(method_class("unmitigated"), "turbo")
    out = tmp_path / "rows.csv"
    res = invoke("run", "--dataset", "synthetic", "--option", "n_samples=600", "--model",
                 "unmitigated", "--model", "threshold_optimizer", "--preset", "fast", "--seeds", "1",
                 "--classifier", "logreg", "--no-quality", "--output", str(out))
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(out)
    assert set(rows["method"]) >= {"Unmitigated"} and rows["method"].nunique() == 2


def test_run_rejects_unknown_names_and_params():
    res = invoke("run", "--dataset", "synthetic", "--model", "decaff")
    assert res.exit_code == 2 and "Did you mean 'decaf'" in res.output
    res = invoke("run", "--dataset", "synthetic", "--model", "reweighing", "--param", "epochs=3")
    assert res.exit_code == 2 and "no chosen model has such a parameter" in res.output
    res = invoke("run", "--model", "reweighing")
    assert res.exit_code == 2 and "--dataset" in res.output


@pytest.fixture()
def csv_file(tmp_path):
    path = tmp_path / "train.csv"
    make_synthetic(400, seed=1).frame.to_csv(path, index=False)
    return path


def test_generate_save_and_sample_from_saved_model(tmp_path, csv_file):
    out, out2, model_dir = tmp_path / "syn.csv", tmp_path / "syn2.csv", tmp_path / "model"
    res = invoke("generate", str(csv_file), "--target", "hired", "--sensitive", "group",
                 "--model", "decaf-dp", "--param", "epochs=1", "--param", "hidden=8",
                 "-n", "37", "-o", str(out), "--seed", "3", "--save-model", str(model_dir))
    assert res.exit_code == 0, res.output
    syn = pd.read_csv(out)
    real = pd.read_csv(csv_file)
    assert len(syn) == 37 and list(syn.columns) == list(real.columns)
    assert set(syn["group"]) <= {"A", "B"}
    res = invoke("generate", "--model-dir", str(model_dir), "-n", "37", "-o", str(out2),
                 "--seed", "3")
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out2), syn)  # same seed, loaded model


def test_generate_bad_input(tmp_path, csv_file):
    out = str(tmp_path / "x.csv")
    res = invoke("generate", str(csv_file), "--target", "hired", "--sensitive", "group",
                 "--model", "decaf", "-n", "0", "-o", out)
    assert res.exit_code == 2 and "positive integer" in res.output
    res = invoke("generate", str(csv_file), "--target", "hired", "--sensitive", "group",
                 "--model", "reweighing", "-n", "5", "-o", out)
    assert res.exit_code == 2 and "not a generator" in res.output
    res = invoke("generate", "--model-dir", str(tmp_path / "nothing"), "-n", "5", "-o", out)
    assert res.exit_code == 2 and "does not exist" in res.output
