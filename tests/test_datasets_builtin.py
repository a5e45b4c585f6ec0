"""Every built-in dataset loads from the offline copies (FAIRX_DATA_HOME) with known counts.

The expected numbers are counted from the raw files with the documented cleaning (e.g. Adult
32,561 + 16,281 raw rows, 30,162 + 15,060 after dropping rows with '?'; ProPublica's 6,172).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.data import (
    DatasetError,
    TabularEncoder,
    dataset_info,
    download_dataset,
    load_adult,
    load_adult_split,
    load_bank,
    load_compas,
    load_credit,
    load_dataset,
    load_dutch,
    load_german,
    load_law,
    load_student,
)

needs_data = pytest.mark.needs_data
NAMES = ["adult", "compas", "german", "student", "law", "bank", "credit", "dutch"]
BUILTINS = [pytest.param(n, marks=needs_data(n)) for n in NAMES]


def _sizes(ds, column):
    return ds.frame[column].value_counts().to_dict()


@needs_data("adult")
def test_adult_counts_and_split():
    ds = load_adult(["sex", "race"])
    assert ds.meta["rows_raw"] == 32561 + 16281
    assert ds.meta["split_sizes"] == {"train": 30162, "test": 15060}
    assert ds.meta["dropped_missing_values"] == 48842 - 45222
    assert len(ds) == 45222 and ds.positive_label == ">50K" and ds.y.sum() == 11208
    assert _sizes(ds, "sex") == {"Male": 30527, "Female": 14695}
    assert _sizes(ds, "race")["Black"] == 4228
    assert set(ds.frame["income"]) == {"<=50K", ">50K"}  # the test file's trailing '.' is gone
    assert "fnlwgt" not in ds.frame and not ds.frame.isna().any().any()
    train, test = load_adult_split("sex")
    assert (len(train), len(test)) == (30162, 15060)
    assert train.y.sum() == 7508 and test.y.sum() == 11208 - 7508
    assert _sizes(test, "sex") == {"Male": 10147, "Female": 4913}
    pd.testing.assert_frame_equal(ds.frame.iloc[:30162].reset_index(drop=True), train.frame)
    same = load_dataset("adult", sensitive="sex", split="train")
    pd.testing.assert_frame_equal(same.frame, train.frame)
    binary = load_adult("race", race="binary", keep_fnlwgt=True)
    assert _sizes(binary, "race") == {"White": 38903, "non-White": 6319}
    assert "fnlwgt" in binary.frame


@needs_data("compas")
def test_compas_propublica_filter():
    ds = load_compas(["race", "sex"])
    assert ds.meta["rows_raw"] == 7214 and len(ds) == 6172
    assert _sizes(ds, "race") == {"African-American": 3175, "Caucasian": 2103, "Hispanic": 509,
                                  "Other": 343 + 31 + 11}
    assert _sizes(ds, "sex") == {"Male": 4997, "Female": 1175}
    assert ds.positive_label == 0 and ds.y.sum() == 3363  # favourable: no recidivism
    assert "decile_score" not in ds.frame and "length_of_stay" in ds.frame
    recid = load_compas(positive_label=1, include_score=True)
    assert recid.y.sum() == 2809 and {"decile_score", "score_text"} <= set(recid.frame)
    binary = load_compas(race="binary")
    assert len(binary) == 3175 + 2103
    assert set(binary.frame["race"]) == {"African-American", "Caucasian"}


@needs_data("german")
def test_german_sex_from_personal_status():
    ds = load_german(["sex", "age_group"])
    assert len(ds) == 1000 and ds.positive_label == "good" and ds.y.sum() == 700
    assert _sizes(ds, "sex") == {"male": 690, "female": 310}
    assert _sizes(ds, "age_group") == {">=25": 851, "<25": 149}
    assert "personal_status" not in ds.frame and "age" in ds.numerical
    full = load_german(keep_personal_status=True)
    female = full.frame["personal_status"].isin(["A92", "A95"])
    assert (full.frame.loc[female, "sex"] == "female").all()
    assert (full.frame.loc[~female, "sex"] == "male").all()
    assert _sizes(load_german("foreign_worker"), "foreign_worker") == {"yes": 963, "no": 37}


@needs_data("student")
def test_student_subjects_and_targets():
    por = load_student()
    assert len(por) == 649 and por.positive_label == "pass" and por.y.sum() == 549
    assert _sizes(por, "sex") == {"F": 383, "M": 266}
    assert "G1" not in por.frame and "G2" not in por.frame
    mat = load_student(["sex", "address"], subject="mat", keep_grades=True)
    assert len(mat) == 395 and mat.y.sum() == 265
    assert _sizes(mat, "address") == {"U": 307, "R": 88} and "G1" in mat.frame
    fairx_variant = load_student(target="Pstatus")
    assert fairx_variant.positive_label == "T" and fairx_variant.y.sum() == 569
    assert "G3" in fairx_variant.numerical  # the grade is a plain feature then


@needs_data("law")
def test_law_codes_kept():
    ds = load_law(["race", "sex"])
    assert len(ds) == 21791 and ds.positive_label == 1 and ds.y.sum() == 19360
    assert _sizes(ds, "sex") == {"2": 12254, "1": 9537}
    assert len(_sizes(ds, "race")) == 8 and _sizes(ds, "race")["White"] == 18285
    assert _sizes(load_law(race="binary"), "race") == {"White": 18285, "non-White": 21791 - 18285}


@needs_data("bank")
def test_bank_age_group():
    ds = load_bank(["age_group", "marital"])
    assert len(ds) == 45211 and ds.positive_label == "yes" and ds.y.sum() == 5289
    assert _sizes(ds, "age_group") == {"25-60": 43214, "<25 or >60": 1997}
    assert _sizes(ds, "marital") == {"married": 27214, "single": 12790, "divorced": 5207}
    assert "duration" not in ds.frame and "duration" in load_bank(keep_duration=True).frame


@needs_data("credit")
def test_credit_labels_and_favourable_outcome():
    ds = load_credit(["SEX", "EDUCATION"])
    assert len(ds) == 30000 and "ID" not in ds.frame
    assert ds.positive_label == 0 and ds.y.sum() == 23364  # favourable: no default
    assert load_credit(positive_label=1).y.sum() == 6636
    assert _sizes(ds, "SEX") == {"female": 18112, "male": 11888}
    assert _sizes(ds, "EDUCATION") == {"university": 14030, "graduate school": 10585,
                                       "high school": 4917, "other": 468}
    assert _sizes(load_credit("MARRIAGE"), "MARRIAGE") == {"single": 15964, "married": 13659,
                                                           "other": 377}


@needs_data("dutch", "dutch_census/dutch.csv")
def test_dutch_arff_matches_the_authors_csv(data_home):
    ds = load_dutch()
    assert len(ds) == 60420 and ds.positive_label == "2_1" and ds.y.sum() == 28763
    assert _sizes(ds, "sex") == {"female": 30273, "male": 30147}
    csv = pd.read_csv(data_home / "dutch_census" / "dutch.csv")
    assert (ds.frame["sex"].to_numpy() == csv["sex"].to_numpy()).all()
    assert (ds.y == csv["occupation"].to_numpy()).all()
    assert (ds.frame["age"].to_numpy() == csv["age"].to_numpy()).all()


@pytest.mark.parametrize("name", BUILTINS)
def test_encoder_round_trip_on_builtin(name):
    ds = load_dataset(name, sensitive=list(dataset_info(name).sensitive))
    enc = TabularEncoder().fit(ds)
    back = enc.decode(enc.encode(ds))
    assert list(back.columns) == list(ds.frame.columns)
    pd.testing.assert_frame_equal(back[ds.categorical], ds.frame[ds.categorical])
    pd.testing.assert_frame_equal(back[ds.integer], ds.frame[ds.integer])
    for c in ds.numerical:
        assert back[c].dtype == ds.frame[c].dtype
        scale = float(ds.frame[c].std()) or 1.0
        np.testing.assert_allclose(back[c], ds.frame[c], rtol=0, atol=1e-5 * scale, err_msg=c)


@pytest.mark.parametrize("name", BUILTINS)
def test_registry_entry_matches_loader(name, data_home):
    info = dataset_info(name)
    ds = load_dataset(name)
    assert ds.target == info.target and ds.sensitive == list(info.default_sensitive)
    assert ds.name == name and info.files
    assert all((data_home / f).is_file() for f in info.files)
    # the registry's file list is the loader module's REMOTE_FILES (the registry stays import-free)
    paths = download_dataset(name, download=False)
    assert [str(p.relative_to(data_home)) for p in paths] == list(info.files)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: load_dataset("adult", sensitive="age"), "no sensitive attribute"),
    (lambda: load_dataset("adult", target="sex"), "supports target"),
    (lambda: load_adult(split="validation"), "split='validation'"),
    (lambda: load_compas(race="three"), "allowed"),
    (lambda: load_student(subject="physics"), "subject"),
    (lambda: load_student("sex", target="sex"), "supports target"),
    pytest.param(lambda: load_credit(positive_label=7), "does not occur",
                 marks=needs_data("credit")),
    (lambda: load_dataset("adlt"), "Did you mean 'adult'"),
])
def test_bad_options_are_named(call, message):
    with pytest.raises(DatasetError, match=message):
        call()


def test_missing_file_error_names_the_place(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_german(data_home=tmp_path, download=False)
    assert str(tmp_path / "german_credit" / "german.data") in str(err.value)
