"""Dutch Census 2001 (Kamiran & Calders 2012; Le Quy et al. 2022): 60,420 people, 12 attributes.

Raw file ``dutch_census_2001.arff`` (the ARFF of the fairness-dataset survey; its ``dutch.csv``
is the same table with sex spelled out and occupation as 0/1). ``sex`` code 1 is ``"male"`` and
2 ``"female"`` (checked against ``dutch.csv``). Target ``occupation``: ``"2_1"`` (ISCO major
groups 2 and 1, professionals and managers: the prestigious, positive class; 28,763 rows) vs
``"5_4_9"`` (service, clerical and elementary occupations). ``age`` is an ordinal age-band code
(kept as an integer); the other attributes are census codes (categorical).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ._arff import read_arff
from ._builtin import check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

FILE = RemoteFile(
    "dutch_census/dutch_census_2001.arff",
    "https://raw.githubusercontent.com/tailequy/fairness_dataset/"
    "abb5a18b822ba56a221c5311082e192e85000b95/Dutch_census/dutch_census_2001.arff",
    "0e7e3f32668919c239db820f625815e1ea834c71402cdea595e03ef08c8616ef")
REMOTE_FILES = (FILE,)
RAW_ROWS = 60420
SENSITIVE = ("sex",)
SEX = {"1": "male", "2": "female"}


def load_dutch(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    positive_label: str = "2_1",
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Dutch census; sensitive ``sex``; target ``occupation`` (positive ``"2_1"``)."""
    sensitive = check_sensitive("dutch", sensitive, SENSITIVE, ("sex",))
    target = resolve_target("dutch", target, ("occupation",))
    df, _ = read_arff(fetch(FILE, data_home, download))
    check_rows("dutch", FILE.filename, df, RAW_ROWS)
    df = df.rename(columns={"Marital_status": "marital_status"})
    df["sex"] = df["sex"].map(SEX)
    df["age"] = df["age"].astype(int)
    categorical = [c for c in df.columns if c != "age"]
    meta = {"source": FILE.url, "rows_raw": RAW_ROWS}
    return finish(df, name="dutch", target=target, sensitive=sensitive,
                  positive_label=positive_label, categorical=categorical, meta=meta)
