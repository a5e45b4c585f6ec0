"""Student Performance (UCI #320, Cortez & Silva 2008): Portuguese secondary-school students.

Raw files ``student-por.csv`` (649 rows, default) and ``student-mat.csv`` (395 rows), ``;``-separated.
Default target ``G3`` binarised: ``"pass"`` when the final grade G3 >= 10 (positive), else
``"fail"``. The period grades ``G1`` and ``G2`` are dropped unless ``keep_grades=True``: they
are near copies of G3 and leak the target. ``target="Pstatus"`` gives FairX's variant (parents
living together ``"T"`` (positive) vs apart ``"A"``); G3 then stays a numeric feature.
Sensitive ``sex`` (default), ``age_group`` (``"<18"`` / ``">=18"``) and ``address`` (U/R).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._builtin import check_choice, check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/00320/student.zip"
FILES = {
    "por": RemoteFile("student_performance/student-por.csv", _URL,
                      "a7594a11d7771c0efe1a740824e0e833da9c4cad07c39a9766a874575563fb3f",
                      member="student-por.csv"),
    "mat": RemoteFile("student_performance/student-mat.csv", _URL,
                      "e47f9ee225e1ee6e69b7564e6dac7123e80b8486677fe111f351964cef5dec80",
                      member="student-mat.csv"),
}
REMOTE_FILES = tuple(FILES.values())
RAW_ROWS = {"por": 649, "mat": 395}
SENSITIVE = ("sex", "age_group", "address")
PASS_MARK = 10


def load_student(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    subject: str = "por",
    keep_grades: bool = False,
    positive_label: str | None = None,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Student performance; ``subject="por"`` (Portuguese) or ``"mat"`` (Maths)."""
    sensitive = check_sensitive("student", sensitive, SENSITIVE, ("sex",))
    target = resolve_target("student", target, ("G3", "Pstatus"))
    check_choice("student", "subject", subject, ("por", "mat"))
    df = pd.read_csv(fetch(FILES[subject], data_home, download), sep=";")
    check_rows("student", FILES[subject].filename, df, RAW_ROWS[subject])
    df.insert(df.columns.get_loc("age") + 1, "age_group", np.where(df["age"] >= 18, ">=18", "<18"))
    if not keep_grades:
        df = df.drop(columns=["G1", "G2"])
    if target == "G3":
        df["G3"] = np.where(df["G3"] >= PASS_MARK, "pass", "fail")
        positive_label = positive_label or "pass"
    else:
        positive_label = positive_label or "T"
    meta = {"source": FILES[subject].url, "subject": subject, "rows_raw": RAW_ROWS[subject],
            "pass_mark": PASS_MARK}
    return finish(df, name="student", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
