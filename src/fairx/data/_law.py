"""Law School Admissions (LSAC bar-passage study, Wightman 1998, as used by Kusner et al. 2017).

Raw file ``law_data.csv`` (21,791 rows; first column an unnamed pandas index, read as the
index). Columns: race (8 values), sex, LSAT, UGPA, region_first, ZFYA, sander_index, first_pf.
Target ``first_pf`` (passed the bar at the first try): 1 (positive) vs 0. ``sex`` is coded 1/2
and the file does not say which is which, so the codes are kept as the strings ``"1"``/``"2"``.
``race="binary"`` maps race to White / non-White. All columns are kept (ZFYA, the first-year
average, is measured before the bar exam).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from ._builtin import check_choice, check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

FILE = RemoteFile("law_school/law_data.csv",
                  "https://www.dropbox.com/s/ca74he84aw6ed3z/law_data.csv?dl=1",
                  "cbf494af5e0ac317015cf64945a20587c08ec77118e183d3ddb0026719956d88")
REMOTE_FILES = (FILE,)
RAW_ROWS = 21791
SENSITIVE = ("race", "sex")


def load_law(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    race: str = "all",
    positive_label: int = 1,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Law school; sensitive ``race`` (default) and/or ``sex``."""
    sensitive = check_sensitive("law", sensitive, SENSITIVE, ("race",))
    target = resolve_target("law", target, ("first_pf",))
    check_choice("law", "race", race, ("all", "binary"))
    df = pd.read_csv(fetch(FILE, data_home, download), index_col=0)
    check_rows("law", FILE.filename, df, RAW_ROWS)
    df["sex"] = df["sex"].astype(int).astype(str)
    df["first_pf"] = df["first_pf"].astype(int)
    if race == "binary":
        df["race"] = df["race"].where(df["race"] == "White", "non-White")
    meta = {"source": FILE.url, "rows_raw": RAW_ROWS, "race": race}
    return finish(df, name="law", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
