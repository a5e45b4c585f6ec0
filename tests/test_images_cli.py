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
        "--n", "300", "--epochs", "1", "--clf-epochs", "1", "--output", str(out)])
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
                                   "--output", str(tmp_path / "g.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "g.png").is_file() and "normalized_mi" in res.output


def test_save_distill_and_generate_from_saved_image_models(tmp_path):
    """Data owner: run + --save; second party: distill without data; anyone: generate."""
    import numpy as np

    from fairx.models.persist import load_method

    teacher = tmp_path / "teacher"
    res = CliRunner().invoke(app, [
        "images", "run", "--dataset", "digits_colored", "--model", "fairdisco", "--bias", "0.95",
        "--n", "300", "--epochs", "1", "--clf-epochs", "1", "--save-model", str(teacher)])
    assert res.exit_code == 0, res.output
    assert "saved the model to" in " ".join(res.output.split())
    assert (teacher / "config.json").is_file()
    student = tmp_path / "student"
    res = CliRunner().invoke(app, ["images", "distill", str(teacher), "-o", str(student),
                                   "--preset", "fast", "--epochs", "5", "--k", "1"])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "without training images" in said and "k = 1" in said
    for folder in (teacher, student):
        out = tmp_path / f"{folder.name}.npz"
        res = CliRunner().invoke(app, ["images", "generate", "--model-dir", str(folder),
                                       "-n", "25", "-o", str(out), "--seed", "4"])
        assert res.exit_code == 0, res.output
        got = np.load(out)
        expected = load_method(folder).sample(25, seed=4)
        np.testing.assert_array_equal(got["images"], expected.to_numpy())
        np.testing.assert_array_equal(got["y"], expected.y)
        np.testing.assert_array_equal(got["s"], expected.s)
        assert list(got["groups"]) == list(expected.groups)
    # the generic 'fairx generate --model-dir' handles image generators too
    res = CliRunner().invoke(app, ["generate", "--model-dir", str(student), "-n", "30",
                                   "-o", str(tmp_path / "grid.png")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "grid.png").stat().st_size > 1000
    res = CliRunner().invoke(app, ["generate", "--model-dir", str(student), "-n", "30",
                                   "-o", str(tmp_path / "rows.csv")])
    assert res.exit_code == 2 and not (tmp_path / "rows.csv").exists()
    assert "written as .npz (arrays) or .png" in " ".join(res.output.split())
    # a student is not a teacher
    res = CliRunner().invoke(app, ["images", "distill", str(student), "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "needs a saved image fair VAE" in " ".join(res.output.split())
    # the tabular 'fairx distill' points an image teacher to the images command
    res = CliRunner().invoke(app, ["distill", str(teacher), "-o", str(tmp_path / "y")])
    assert res.exit_code == 2 and "fairx images distill" in " ".join(res.output.split())


def test_images_generate_user_errors(tmp_path):
    from fairx.data import make_synthetic
    from fairx.models import get

    res = CliRunner().invoke(app, ["images", "generate", "--model-dir", str(tmp_path / "none"),
                                   "-n", "5", "-o", str(tmp_path / "a.npz")])
    assert res.exit_code == 2 and "does not exist" in " ".join(res.output.split())
    get("reweighing").fit(make_synthetic(200, seed=0)).save(tmp_path / "rw")
    res = CliRunner().invoke(app, ["images", "generate", "--model-dir", str(tmp_path / "rw"),
                                   "-n", "5", "-o", str(tmp_path / "a.npz")])
    assert res.exit_code == 2 and "not an image generator" in " ".join(res.output.split())
