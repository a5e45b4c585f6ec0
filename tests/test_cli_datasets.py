"""``fairx datasets`` and ``fairx datasets show`` through typer's CliRunner."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from fairx.cli import app

runner = CliRunner()
needs_data = pytest.mark.needs_data


def _run(*args: str):
    return runner.invoke(app, ["datasets", *args], env={"COLUMNS": "200"})


def test_bare_datasets_lists_every_builtin():
    result = _run()
    assert result.exit_code == 0, result.output
    for name in ("adult", "compas", "german", "student", "law", "bank", "credit", "dutch",
                 "synthetic"):
        assert f" {name} " in result.output
    assert "two_year_recid" in result.output and "age_group, marital" in result.output


@needs_data("german")
def test_show_builtin_prints_groups_and_base_rates():
    result = _run("show", "german", "-s", "sex", "-s", "age_group")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "german: 1,000 rows, 22 columns" in out
    assert "positive = 'good', base rate 0.700" in out
    # female: 310 rows, 201 good (0.648); male: 690 rows, 499 good (0.723)
    assert "310" in out and "0.648" in out and "690" in out and "0.723" in out
    assert "sex: positive-rate gap (max - min) 0.075, ratio (min / max) 0.897" in out
    assert "age_group" in out and "integer" in out  # column types are listed


@needs_data("adult", "compas")
def test_show_passes_loader_options():
    result = _run("show", "adult", "--option", "split=test", "--sensitive", "sex")
    assert result.exit_code == 0, result.output
    assert "adult: 15,060 rows" in result.output and "raw rows: 16,281" in result.output
    result = _run("show", "compas", "--positive-label", "1")
    assert result.exit_code == 0, result.output
    assert "positive = 1, base rate 0.455" in result.output  # 2,809 / 6,172


def test_show_custom_csv(tmp_path):
    path = tmp_path / "people.csv"
    pd.DataFrame({"sex": ["f"] * 4 + ["m"] * 4, "x": range(8),
                  "hired": ["yes", "no", "no", "no", "yes", "yes", "yes", "no"]}).to_csv(path, index=False)
    result = _run("show", "--csv", str(path), "--target", "hired", "--sensitive", "sex")
    assert result.exit_code == 0, result.output
    assert "people: 8 rows, 3 columns" in result.output
    assert "0.250" in result.output and "0.750" in result.output
    assert "ratio (min / max) 0.333" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (("show", "adlt"), "Did you mean 'adult'"),
    (("show",), "give exactly one of"),
    (("show", "adult", "-s", "age"), "no sensitive attribute ['age']"),
    (("show", "adult", "--option", "split"), "expected KEY=VALUE"),
    (("show", "adult", "--option", "split=dev"), "split='dev'"),
    (("show", "--csv", "/nonexistent/x.csv", "--target", "y", "-s", "s"), "does not exist"),
    (("show", "--csv", "/nonexistent/x.csv", "-s", "s"), "--target is required"),
])
def test_user_errors_are_one_line(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")
    assert "Traceback" not in result.output


@needs_data("german", "student")
def test_fetch_verifies_cached_files(data_home):
    result = _run("fetch", "german", "student")
    assert result.exit_code == 0, result.output
    assert f"german: {data_home / 'german_credit' / 'german.data'} (verified)" in result.output
    assert "student-mat.csv (verified)" in result.output and "student-por.csv" in result.output
    result = _run("fetch", "synthetic")
    assert result.exit_code == 2 and "no files to download" in result.output
    result = _run("download", "german")  # the old name still works
    assert result.exit_code == 0 and "german.data (verified)" in result.output


@needs_data("german")
def test_fetch_prints_each_long_path_on_one_line(data_home, tmp_path, monkeypatch):
    """A cache path longer than the terminal is never broken over lines (CI's longer checkout
    path once split 'student-mat.csv (verified)' in two)."""
    long_home = tmp_path / ("a_long_cache_folder_name_" * 6) / ("and_deeper_" * 6)
    long_home.mkdir(parents=True)
    (long_home / "german_credit").symlink_to(data_home / "german_credit")
    monkeypatch.setenv("FAIRX_DATA_HOME", str(long_home))
    result = _run("fetch", "german")
    assert result.exit_code == 0, result.output
    assert f"german: {long_home / 'german_credit' / 'german.data'} (verified)\n" in result.output
    assert f"cache: {long_home}\n" in result.output


def test_fetch_needs_names_or_all_and_where_prints_the_cache(tmp_path, monkeypatch):
    result = _run("fetch")
    assert result.exit_code == 2 and "or --all" in result.output
    listed = result.output.replace("\n", " ").split("files:")[1]
    assert "adult" in listed and "colored_mnist" in listed and "synthetic" not in listed
    monkeypatch.setenv("FAIRX_DATA_HOME", str(tmp_path))
    result = _run("where")
    assert result.exit_code == 0 and result.output.strip() == str(tmp_path)
