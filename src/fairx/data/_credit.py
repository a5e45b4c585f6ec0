"""Default of Credit Card Clients (UCI #350, Yeh & Lien 2009): Taiwan, 2005, 30,000 clients.

The UCI original is ``default of credit card clients.xls``; fairx reads the faithful CSV export
``default of credit card clients.csv`` (BOM, two header lines; read with ``header=1``), pinned
by hash and fetched from the repository it was taken from. ``ID`` is dropped.
Codes become labels: ``SEX`` 1 male / 2 female; ``EDUCATION`` 1 graduate school, 2 university,
3 high school, 0/4/5/6 other (0, 5, 6 are undocumented or "unknown"); ``MARRIAGE`` 1 married,
2 single, 0/3 other. ``AGE_GROUP`` is ``"<25"`` / ``">=25"`` (numeric ``AGE`` stays a feature).
Target ``default payment next month`` (1 = default). The favourable outcome is **no** default,
so the positive label is 0 by default; pass ``positive_label=1`` to model default itself.
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
    "credit_card_default/default of credit card clients.csv",
    "https://raw.githubusercontent.com/JielingChen/credit_card_default_prediction/"
    "173c9fe69060e9962304b6023efa700b70c27489/default%20of%20credit%20card%20clients.csv",
    "848715ec0c4b9671f35005d70b697689de8f9c39330af227e3fd6c7d76918d5d")
UCI_URL = ("https://archive.ics.uci.edu/ml/machine-learning-databases/00350/"
           "default%20of%20credit%20card%20clients.xls")
REMOTE_FILES = (FILE,)
RAW_ROWS = 30000
TARGET = "default payment next month"
SENSITIVE = ("SEX", "AGE_GROUP", "EDUCATION", "MARRIAGE")
SEX = {1: "male", 2: "female"}
EDUCATION = {1: "graduate school", 2: "university", 3: "high school"}
MARRIAGE = {1: "married", 2: "single"}


def load_credit(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    positive_label: int = 0,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Credit card default; sensitive ``SEX`` (default), ``AGE_GROUP``, ``EDUCATION``, ``MARRIAGE``."""
    sensitive = check_sensitive("credit", sensitive, SENSITIVE, ("SEX",))
    target = resolve_target("credit", target, (TARGET,))
    df = pd.read_csv(fetch(FILE, data_home, download), header=1, encoding="utf-8-sig")
    check_rows("credit", FILE.filename, df, RAW_ROWS)
    df = df.drop(columns="ID")
    df["SEX"] = df["SEX"].map(SEX)
    df["EDUCATION"] = df["EDUCATION"].map(EDUCATION).fillna("other")
    df["MARRIAGE"] = df["MARRIAGE"].map(MARRIAGE).fillna("other")
    df.insert(df.columns.get_loc("AGE") + 1, "AGE_GROUP", np.where(df["AGE"] >= 25, ">=25", "<25"))
    meta = {"source": FILE.url, "original": UCI_URL, "rows_raw": RAW_ROWS}
    return finish(df, name="credit", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
