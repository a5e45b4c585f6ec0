"""The two-party Fair4Free flow from the shell: generate --save-model, distill, generate --model-dir."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from fairx.cli import app  # noqa: E402
from fairx.data import make_synthetic  # noqa: E402

runner = CliRunner()


@pytest.mark.slow  # end to end from the shell; Fair4Free's chain-step MMDs alone cost ~25 s CPU
def test_train_teacher_distill_without_data_and_sample(tmp_path):
    data = tmp_path / "train.csv"
    make_synthetic(600, bias=0.8, seed=0).frame.to_csv(data, index=False)
    teacher = tmp_path / "teacher"
    res = runner.invoke(app, ["generate", str(data), "--model", "fairdisco", "--preset", "fast",
                              "--target", "hired", "--sensitive", "group", "-n", "20",
                              "-o", str(tmp_path / "t.csv"), "--save-model", str(teacher),
                              "--param", "epochs=5"])
    assert res.exit_code == 0, res.output
    data.unlink()  # the data owner keeps the rows; the distiller never sees them

    student = tmp_path / "student"
    res = runner.invoke(app, ["distill", str(teacher), "-o", str(student), "--preset", "fast",
                              "--epochs", "2", "--seed", "1"])
    assert res.exit_code == 0, res.output
    assert "without training data" in " ".join(res.output.split())
    assert (student / "config.json").is_file()

    out = tmp_path / "syn.csv"
    res = runner.invoke(app, ["generate", "--model-dir", str(student), "-n", "40", "-o", str(out)])
    assert res.exit_code == 0, res.output
    frame = pd.read_csv(out)
    assert len(frame) == 40
    assert list(frame.columns) == ["group", "skill", "test_score", "proxy", "region", "years", "hired"]
    assert set(frame["group"]) <= {"A", "B"}

    # a student is not a teacher: a clear error, exit code 2
    res = runner.invoke(app, ["distill", str(student), "-o", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "needs a saved fair VAE teacher" in " ".join(res.output.split())


def test_distill_missing_teacher_folder(tmp_path):
    res = runner.invoke(app, ["distill", str(tmp_path / "nope"), "-o", str(tmp_path / "s")])
    assert res.exit_code == 2
    assert "does not exist" in " ".join(res.output.split())
