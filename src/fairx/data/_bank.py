"""Bank Marketing (UCI #222, Moro et al. 2014): did the client subscribe a term deposit?

Raw file ``bank-full.csv`` (45,211 rows, ``;``-separated, 2008-2010 release; member of the UCI
``bank.zip``). Target ``y``: ``"yes"`` (positive) vs ``"no"``. Sensitive ``age_group``
(default; ``"25-60"`` vs ``"<25 or >60"``, as in Le Quy et al. 2022) and ``marital``; the numeric
``age`` stays a feature. ``duration`` (call length) is known only after the call and decides the
outcome, so it is dropped unless ``keep_duration=True`` (the UCI notes say the same).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._builtin import check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

FILE = RemoteFile("bank_marketing/bank-full.csv",
                  "https://archive.ics.uci.edu/ml/machine-learning-databases/00222/bank.zip",
                  "d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d",
                  member="bank-full.csv")
REMOTE_FILES = (FILE,)
RAW_ROWS = 45211
SENSITIVE = ("age_group", "marital")


def load_bank(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    keep_duration: bool = False,
    positive_label: str = "yes",
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Bank marketing; sensitive ``age_group`` (default) and/or ``marital``."""
    sensitive = check_sensitive("bank", sensitive, SENSITIVE, ("age_group",))
    target = resolve_target("bank", target, ("y",))
    df = pd.read_csv(fetch(FILE, data_home, download), sep=";")
    check_rows("bank", FILE.filename, df, RAW_ROWS)
    df.insert(1, "age_group", np.where(df["age"].between(25, 60), "25-60", "<25 or >60"))
    if not keep_duration:
        df = df.drop(columns="duration")
    meta = {"source": FILE.url, "rows_raw": RAW_ROWS}
    return finish(df, name="bank", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
