"""Custom tables: load_csv / load_parquet with known group sizes and every bad-input error."""

from __future__ import annotations

import pandas as pd
import pytest

from fairx.data import DatasetError, load_csv, load_file, load_parquet

FRAME = pd.DataFrame({
    "sex": ["f", "f", "f", "f", "m", "m", "m", "m", "m", "m"],
    "age": [20, 31, 45, 52, 23, 38, 41, 60, 29, 33],
    "score": [0.5, 1.25, 2.0, 3.5, 0.75, 1.5, 2.25, 3.0, 1.0, 2.5],
    "city": ["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"],
    "hired": ["no", "no", "yes", "no", "yes", "yes", "no", "yes", "yes", "yes"],
})


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_separator_is_sniffed(tmp_path, sep):
    path = tmp_path / "people.csv"
    FRAME.to_csv(path, sep=sep, index=False)
    ds = load_csv(path, target="hired", sensitive="sex")
    pd.testing.assert_frame_equal(ds.frame, FRAME)
    assert ds.positive_label == "yes" and ds.name == "people"
    summary = ds.group_summary().set_index("group")
    assert summary.loc["f", "size"] == 4 and summary.loc["f", "positive_rate"] == pytest.approx(0.25)
    assert summary.loc["m", "size"] == 6 and summary.loc["m", "positive_rate"] == pytest.approx(5 / 6)
    assert ds.numerical == ["age", "score"] and ds.integer == ["age"]


def test_csv_schema_overrides_and_multiclass_target(tmp_path):
    df = FRAME.assign(grade=["A", "B", "C", "A", "B", "C", "A", "B", "C", "A"])
    path = tmp_path / "g.csv"
    df.to_csv(path, index=False)
    ds = load_csv(path, target="grade", sensitive=["sex", "city"], positive_label="A",
                  categorical=["age"])
    assert "age" in ds.categorical and ds.y.sum() == 4
    assert set(ds.frame["grade"]) == {"A", "not_A"}
    with pytest.raises(DatasetError, match="pass positive_label"):
        load_csv(path, target="grade", sensitive="sex")


def test_csv_missing_values_dropped_or_imputed(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("sex,age,hired\nf,20,yes\nf,?,no\nm,,yes\nm,40,no\nf,30,\nm,50,yes\n"
                    "f,60,no\n")
    dropped = load_csv(path, target="hired", sensitive="sex")
    assert len(dropped) == 4
    assert dropped.meta["dropped_missing_target"] == 1
    assert dropped.meta["dropped_missing_values"] == 2
    imputed = load_csv(path, target="hired", sensitive="sex", missing="impute")
    assert len(imputed) == 6  # the missing target row is still dropped
    assert sorted(
        imputed.frame["age"]) == [20, 40, 45, 45, 50, 60]  # median of 20, 40, 50, 60


def test_parquet_round_trip_and_dispatch(tmp_path):
    path = tmp_path / "people.parquet"
    FRAME.to_parquet(path)
    ds = load_parquet(path, target="hired", sensitive="sex")
    pd.testing.assert_frame_equal(ds.frame, FRAME, check_dtype=False)
    assert load_file(path, target="hired", sensitive="sex").frame.shape == (10, 5)
    FRAME.to_csv(tmp_path / "people.csv", index=False)
    assert load_file(tmp_path / "people.csv", target="hired", sensitive="sex").frame.shape == (10, 5)


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(DatasetError, match="nope.csv' does not exist"):
        load_csv(missing, target="y", sensitive="s")
    with pytest.raises(DatasetError, match="does not exist"):
        load_parquet(tmp_path / "nope.parquet", target="y", sensitive="s")
    with pytest.raises(DatasetError, match="is a directory"):
        load_csv(tmp_path, target="y", sensitive="s")


def test_empty_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match="empty.csv' is empty"):
        load_csv(empty, target="y", sensitive="s")
    header_only = tmp_path / "header.csv"
    header_only.write_text("s,y\n")
    with pytest.raises(DatasetError, match="is empty"):
        load_csv(header_only, target="y", sensitive="s")


def test_duplicate_columns(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("s,a,a,y\nf,1,2,yes\nm,3,4,no\n")
    with pytest.raises(DatasetError, match=r"duplicate column names \['a'\]"):
        load_csv(path, target="y", sensitive="s")


def test_unreadable_formats(tmp_path):
    binary = tmp_path / "data.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DatasetError, match="is binary, not CSV text"):
        load_csv(binary, target="y", sensitive="s")
    not_parquet = tmp_path / "t.parquet"
    FRAME.to_csv(not_parquet, index=False)
    with pytest.raises(DatasetError, match="as Parquet"):
        load_parquet(not_parquet, target="hired", sensitive="sex")


def test_missing_columns_are_listed(tmp_path):
    path = tmp_path / "p.csv"
    FRAME.to_csv(path, index=False)
    with pytest.raises(DatasetError, match=r"target column\(s\) \['income'\] not found.*'sex'"):
        load_csv(path, target="income", sensitive="sex")
    with pytest.raises(DatasetError, match=r"sensitive column\(s\) \['race'\]"):
        load_csv(path, target="hired", sensitive="race")
