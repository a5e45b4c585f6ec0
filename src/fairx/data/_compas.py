"""COMPAS recidivism (ProPublica, Larson et al. 2016): two-year recidivism in Broward County.

Raw file ``compas-scores-two-years.csv`` (7,214 rows). The ProPublica filter keeps 6,172 rows:
``days_b_screening_arrest`` in [-30, 30], ``is_recid != -1``, ``c_charge_degree != "O"`` and a
COMPAS ``score_text`` present. Columns kept: sex, age, age_cat, race, juv_fel_count,
juv_misd_count, juv_other_count, priors_count, c_charge_degree, length_of_stay (days from
``c_jail_in`` to ``c_jail_out``), two_year_recid; the COMPAS outputs ``decile_score`` and
``score_text`` only with ``include_score=True`` (they are the tool under audit, not a feature).

Target ``two_year_recid`` (0/1): the favourable outcome is **no** recidivism, so the default
positive label is 0; pass ``positive_label=1`` to model recidivism itself.
``race="all"`` keeps every race with Asian (31) and Native American (11) merged into Other;
``race="binary"`` keeps only African-American (3,175) and Caucasian (2,103) rows (5,278 rows).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from ._builtin import check_choice, check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

FILE = RemoteFile(
    "compas/compas-scores-two-years.csv",
    "https://raw.githubusercontent.com/propublica/compas-analysis/"
    "bafff5da3f2e45eca6c2d5055faad269defd135a/compas-scores-two-years.csv",
    "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d")
REMOTE_FILES = (FILE,)
RAW_ROWS = 7214
FILTERED_ROWS = 6172
SENSITIVE = ("race", "sex", "age_cat")
FEATURES = ["sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
            "priors_count", "c_charge_degree", "length_of_stay"]
SMALL_RACES = ("Asian", "Native American")


def load_compas(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    race: str = "all",
    include_score: bool = False,
    positive_label: int = 0,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """COMPAS with the ProPublica filter; sensitive ``race`` (default), ``sex``, ``age_cat``."""
    sensitive = check_sensitive("compas", sensitive, SENSITIVE, ("race",))
    target = resolve_target("compas", target, ("two_year_recid",))
    check_choice("compas", "race", race, ("all", "binary"))
    raw = pd.read_csv(fetch(FILE, data_home, download))
    check_rows("compas", FILE.filename, raw, RAW_ROWS)
    keep = (raw["days_b_screening_arrest"].between(-30, 30) & (raw["is_recid"] != -1)
            & (raw["c_charge_degree"] != "O") & raw["score_text"].notna()
            & (raw["score_text"] != "N/A"))
    df = raw.loc[keep].copy()
    df["length_of_stay"] = (pd.to_datetime(df["c_jail_out"]) - pd.to_datetime(df["c_jail_in"])).dt.days
    cols = FEATURES + (["decile_score", "score_text"] if include_score else []) + [target]
    df = df[cols]
    if race == "all":
        df["race"] = df["race"].where(~df["race"].isin(SMALL_RACES), "Other")
    else:
        df = df[df["race"].isin(["African-American", "Caucasian"])]
    meta = {"source": FILE.url, "rows_raw": RAW_ROWS, "rows_after_propublica_filter": int(keep.sum()),
            "race": race}
    return finish(df, name="compas", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)
