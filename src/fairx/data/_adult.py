"""Adult / Census Income (UCI #2, Kohavi 1996): income > 50K from the 1994 US census.

Raw files ``adult.data`` (32,561 rows) and ``adult.test`` (16,281 rows; first line
``|1x3 Cross validator`` skipped, labels end in ``.``). Rows with a ``?`` (workclass, occupation,
native_country) are dropped: 30,162 train + 15,060 test = 45,222 rows. ``fnlwgt`` (a census
sampling weight, not a personal attribute) is dropped unless ``keep_fnlwgt=True``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from ._builtin import check_choice, check_rows, check_sensitive, fetch, finish, resolve_target
from ._dataset import TabularDataset
from ._download import RemoteFile

_BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
FILES = {
    "train": RemoteFile("adult/adult.data", _BASE + "adult.data",
                        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"),
    "test": RemoteFile("adult/adult.test", _BASE + "adult.test",
                       "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"),
}
REMOTE_FILES = tuple(FILES.values())
RAW_ROWS = {"train": 32561, "test": 16281}
CLEAN_ROWS = {"train": 30162, "test": 15060}
COLUMNS = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
           "occupation", "relationship", "race", "sex", "capital_gain", "capital_loss",
           "hours_per_week", "native_country", "income"]
SENSITIVE = ("sex", "race")
POSITIVE = ">50K"


def _read(part: str, data_home, download: bool) -> pd.DataFrame:
    path = fetch(FILES[part], data_home, download)
    frame = pd.read_csv(path, header=None, names=COLUMNS, skipinitialspace=True, na_values=["?"],
                        keep_default_na=False, skiprows=1 if part == "test" else 0)
    check_rows("adult", FILES[part].filename, frame, RAW_ROWS[part])
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def load_adult(
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    *,
    split: str = "all",
    race: str = "all",
    keep_fnlwgt: bool = False,
    positive_label: str = POSITIVE,
    data_home: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TabularDataset:
    """Adult, target ``income`` (positive ``">50K"``), sensitive ``sex`` (default) and/or ``race``.

    ``split``: ``"all"`` (train rows first, then test; ``meta["split_sizes"]`` gives the official
    boundary), ``"train"`` or ``"test"``. ``race="binary"`` maps race to White / non-White.
    """
    sensitive = check_sensitive("adult", sensitive, SENSITIVE, ("sex",))
    target = resolve_target("adult", target, ("income",))
    check_choice("adult", "split", split, ("all", "train", "test"))
    check_choice("adult", "race", race, ("all", "binary"))
    parts = ["train", "test"] if split == "all" else [split]
    frames = [_read(p, data_home, download) for p in parts]
    dropped = {p: int(f.isna().any(axis=1).sum()) for p, f in zip(parts, frames, strict=True)}
    frames = [f.dropna() for f in frames]
    frame = pd.concat(frames, ignore_index=True)
    if not keep_fnlwgt:
        frame = frame.drop(columns="fnlwgt")
    if race == "binary":
        frame["race"] = frame["race"].where(frame["race"] == "White", "non-White")
    meta = {
        "source": [FILES[p].url for p in parts], "split": split,
        "rows_raw": sum(RAW_ROWS[p] for p in parts), "dropped_missing_values": sum(dropped.values()),
        "split_sizes": {p: len(f) for p, f in zip(parts, frames, strict=True)},
    }
    return finish(frame, name="adult", target=target, sensitive=sensitive,
                  positive_label=positive_label, meta=meta)


def load_adult_split(sensitive: str | Sequence[str] | None = None, **options) -> tuple[
        TabularDataset, TabularDataset]:
    """The official (train, test) split: ``adult.data`` and ``adult.test``, cleaned alike."""
    return (load_adult(sensitive, split="train", **options),
            load_adult(sensitive, split="test", **options))
