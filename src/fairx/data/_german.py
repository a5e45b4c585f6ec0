"""German Credit (UCI Statlog #144, Hofmann 1994): good or bad credit risk, 1,000 applicants.

Raw file ``german.data`` (space-separated, no header, attribute codes such as ``A11``); column
names follow ``german.doc``. Derived columns: ``sex`` from ``personal_status`` (A91/A93/A94 male,
A92/A95 female) and ``age_group`` (``">=25"`` vs ``"<25"``, as Kamiran & Calders). The numeric
``age`` stays a feature. ``personal_status`` mixes sex with marital status, so it is dropped
(it would leak ``sex``) unless ``keep_personal_status=True``. Target ``credit``: ``"good"``
(code 1, 700 rows, positive) vs ``"bad"`` (code 2, 300 rows). ``foreign_worker`` (a sensitive
option) is spelled ``"yes"`` (A201) / ``"no"`` (A202); the other codes are kept as in the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._builtin import check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

FILE = RemoteFile(
    "german_credit/german.data",
    "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/german/german.data",
    "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871")
REMOTE_FILES = (FILE,)
RAW_ROWS = 1000
COLUMNS = ["checking_status", "duration", "credit_history", "purpose", "credit_amount", "savings",
           "employment_since", "installment_rate", "personal_status", "other_debtors",
           "residence_since", "property", "age", "other_installment_plans", "housing",
           "existing_credits", "job", "num_dependents", "telephone", "foreign_worker", "credit"]
SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}
SENSITIVE = ("sex", "age_group", "foreign_worker")


def load_german(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    age_threshold: int = 25,
    keep_personal_status: bool = False,
    positive_label: str = "good",
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """German credit; sensitive ``sex`` (default), ``age_group``, ``foreign_worker``."""
    sensitive = check_sensitive("german", sensitive, SENSITIVE, ("sex",))
    target = resolve_target("german", target, ("credit",))
    df = pd.read_csv(fetch(FILE, data_home, download), sep=" ", header=None, names=COLUMNS)
    check_rows("german", FILE.filename, df, RAW_ROWS)
    df["credit"] = df["credit"].map({1: "good", 2: "bad"})
    df["foreign_worker"] = df["foreign_worker"].map({"A201": "yes", "A202": "no"})
    sex = df["personal_status"].map(SEX)
    df.insert(df.columns.get_loc("personal_status"), "sex", sex)
    df.insert(df.columns.get_loc("age") + 1, "age_group",
              np.where(df["age"] >= age_threshold, f">={age_threshold}", f"<{age_threshold}"))
    if not keep_personal_status:
        df = df.drop(columns="personal_status")
    meta = {"source": FILE.url, "rows_raw": RAW_ROWS, "age_threshold": age_threshold}
    return finish(df, name="german", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
