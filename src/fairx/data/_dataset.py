"""`TabularDataset`: a pandas frame plus the schema every fairx layer relies on."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

INTERSECTION_SEP = "|"


class DatasetError(ValueError):
    """Bad input data: the message names the column, value or file and what is allowed."""


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _is_integer_valued(series: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(series):
        return True
    if not pd.api.types.is_float_dtype(series):
        return False
    values = series.dropna().to_numpy()
    return len(values) > 0 and bool(np.all(np.equal(np.mod(values, 1), 0)))


def _infer_positive_label(values: pd.Series, target: str) -> Any:
    classes = sorted(values.dropna().unique().tolist(), key=str)
    if len(classes) < 2:
        raise DatasetError(
            f"target column {target!r} has a single class {classes!r}; a binary target needs two."
        )
    if len(classes) > 2:
        raise DatasetError(
            f"target column {target!r} has {len(classes)} classes ({classes[:10]!r}); "
            "pass positive_label= to binarise it (that class vs the rest)."
        )
    as_set = set(classes)
    for candidate in (1, True, "1", ">50K", "yes", "Yes", "good", "true", "True"):
        if candidate in as_set:
            return candidate
    chosen = classes[-1]
    logger.info("target %r: positive label not given, using %r (sorted last)", target, chosen)
    return chosen


_MAX_GROUPS_LISTED = 8
CONTINUOUS_MIN_VALUES = 20


def sensitive_groups_problem(name: str, column: pd.Series, min_rows: int, where: str = ""
                             ) -> str | None:
    """What is wrong with ``column`` as a sensitive attribute (one short line), or ``None``.

    A numeric column with many distinct values is named as continuous, with the count and a
    binning suggestion, instead of listing every value as a tiny group.
    """
    counts = column.astype(str).value_counts() if column.dtype == object else column.value_counts()
    if len(counts) < 2:
        return (f"sensitive column {name!r} has a single group {counts.index.tolist()[:1]!r}"
                f"{where}; fairness needs at least two groups")
    small = counts[counts < min_rows]
    if not len(small):
        return None
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if numeric and len(counts) >= CONTINUOUS_MIN_VALUES:
        return (f"sensitive column {name!r} looks continuous ({len(counts):,} distinct values from "
                f"{column.min():g} to {column.max():g}){where}; fairness needs a few groups: bin "
                f"it first, e.g. df[{name!r}] = pd.qcut(df[{name!r}], 4).astype(str) (see the "
                "README, 'Bad input')")
    shown = dict(list(small.items())[:_MAX_GROUPS_LISTED])
    more = f" and {len(small) - len(shown):,} more" if len(small) > len(shown) else ""
    return (f"sensitive column {name!r}: group(s) {shown}{more} have fewer than {min_rows} "
            f"rows{where}")


@dataclass
class TabularDataset:
    """A table with its fairness schema.

    Parameters
    ----------
    frame : the rows; every column of the schema, nothing else.
    target : name of the binary target column.
    sensitive : one or more sensitive columns (always categorical).
    positive_label : value of ``target`` that counts as the positive (favourable) outcome.
    categorical, numerical : the column types (target and sensitive are categorical).
    integer : numerical columns whose values are whole numbers (generators round them).
    weights : optional per-row weights (e.g. from Reweighing).
    name : a label for tables and reports.
    meta : provenance (source file, rows dropped while cleaning, ...).
    """

    frame: pd.DataFrame
    target: str
    sensitive: list[str]
    positive_label: Any
    categorical: list[str]
    numerical: list[str]
    integer: list[str] = field(default_factory=list)
    weights: np.ndarray | None = None
    name: str = "custom"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sensitive = _as_list(self.sensitive)
        if not self.sensitive:
            raise DatasetError("at least one sensitive column is required")
        cols = list(self.frame.columns)
        if len(set(cols)) != len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise DatasetError(f"duplicate column names: {dup}")
        for role, names in (
            ("target", [self.target]),
            ("sensitive", self.sensitive),
            ("categorical", self.categorical),
            ("numerical", self.numerical),
        ):
            missing = [c for c in names if c not in self.frame.columns]
            if missing:
                raise DatasetError(
                    f"{role} column(s) {missing} not in the data; columns are {cols}"
                )
        overlap = set(self.categorical) & set(self.numerical)
        if overlap:
            raise DatasetError(f"columns {sorted(overlap)} are both categorical and numerical")
        for col in [self.target, *self.sensitive]:
            if col in self.numerical:
                raise DatasetError(f"column {col!r} is the target or sensitive: it must be categorical")
        untyped = [c for c in cols if c not in self.categorical and c not in self.numerical]
        if untyped:
            raise DatasetError(f"columns {untyped} are neither categorical nor numerical")
        if self.weights is not None:
            self.weights = np.asarray(self.weights, dtype=float)
            if self.weights.shape != (len(self.frame),):
                raise DatasetError(
                    f"weights has shape {self.weights.shape}, expected ({len(self.frame)},)"
                )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        target: str,
        sensitive: str | Sequence[str],
        positive_label: Any = None,
        categorical: Sequence[str] | None = None,
        numerical: Sequence[str] | None = None,
        missing: Literal["drop", "impute"] = "drop",
        name: str = "custom",
        meta: dict[str, Any] | None = None,
        min_group_rows: int = 2,
    ) -> TabularDataset:
        """Validate a raw frame, infer the schema and clean missing values.

        Rows with a missing target are always dropped (and counted). Other missing values are
        dropped (``missing="drop"``) or imputed with the median / most frequent value
        (``missing="impute"``); counts go to the log and to ``meta``.
        A target with more than two classes needs ``positive_label`` (that class vs the rest).
        """
        if not isinstance(frame, pd.DataFrame):
            raise DatasetError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise DatasetError(f"the table {name!r} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns)")
        cols = [str(c) for c in frame.columns]
        if len(set(cols)) != len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise DatasetError(f"duplicate column names in {name!r}: {dup}")
        frame = frame.copy()
        frame.columns = cols
        sensitive = _as_list(sensitive)
        if not sensitive:
            raise DatasetError("at least one sensitive column is required (sensitive=...)")
        for role, names in (("target", [target]), ("sensitive", sensitive),
                            ("categorical", _as_list(categorical)), ("numerical", _as_list(numerical))):
            absent = [c for c in names if c not in frame.columns]
            if absent:
                raise DatasetError(f"{role} column(s) {absent} not found; the columns are {cols}")
        if target in sensitive:
            raise DatasetError(f"column {target!r} cannot be both the target and sensitive")
        if missing not in ("drop", "impute"):
            raise DatasetError(f"missing={missing!r}; allowed: 'drop', 'impute'")
        meta = dict(meta or {})

        n0 = len(frame)
        no_target = frame[target].isna()
        if no_target.any():
            logger.warning("%s: dropped %d rows with a missing target %r", name, int(no_target.sum()), target)
            frame = frame.loc[~no_target]
        meta["dropped_missing_target"] = int(no_target.sum())

        na_cols = {c: int(v) for c, v in frame.isna().sum().items() if v}
        if na_cols and missing == "drop":
            keep = ~frame.isna().any(axis=1)
            logger.warning("%s: dropped %d rows with missing values (per column: %s)",
                           name, int((~keep).sum()), na_cols)
            frame = frame.loc[keep]
            meta["dropped_missing_values"] = int((~keep).sum())
        elif na_cols:
            meta["imputed_values"] = na_cols
        meta.setdefault("dropped_missing_values", 0)
        frame = frame.reset_index(drop=True)
        if len(frame) == 0:
            raise DatasetError(f"{name!r}: no rows left after removing missing values ({n0} before)")

        # --- schema
        user_cat = set(_as_list(categorical))
        user_num = set(_as_list(numerical))
        cat_cols, num_cols = [], []
        for c in frame.columns:
            if c == target or c in sensitive or c in user_cat:
                cat_cols.append(c)
            elif c in user_num or _is_numeric(frame[c]):
                num_cols.append(c)
            else:
                cat_cols.append(c)
        if missing == "impute":
            for c, v in na_cols.items():
                if c in num_cols:
                    frame[c] = frame[c].fillna(frame[c].median())
                else:
                    frame[c] = frame[c].fillna(frame[c].mode().iloc[0])
                logger.warning("%s: imputed %d missing values in %r", name, v, c)
        for c in num_cols:
            if not _is_numeric(frame[c]):
                try:
                    frame[c] = pd.to_numeric(frame[c])
                except (ValueError, TypeError) as exc:
                    raise DatasetError(f"column {c!r} was declared numerical but holds non-numbers: {exc}") from None
        integer = [c for c in num_cols if _is_integer_valued(frame[c])]

        # --- target
        if positive_label is None:
            positive_label = _infer_positive_label(frame[target], target)
        else:
            values = set(frame[target].unique().tolist())
            if positive_label not in values:
                # allow "1" for an integer column and 1 for a string column
                matches = [v for v in values if str(v) == str(positive_label)]
                if not matches:
                    raise DatasetError(
                        f"positive_label {positive_label!r} does not occur in target {target!r}; "
                        f"values are {sorted(values, key=str)[:20]}"
                    )
                positive_label = matches[0]
            if frame[target].nunique() < 2:
                raise DatasetError(f"target column {target!r} has a single class {positive_label!r}")
            if frame[target].nunique() > 2:
                other = "not_" + str(positive_label)
                frame[target] = np.where(frame[target] == positive_label, str(positive_label), other)
                positive_label = str(positive_label)
                logger.info("%s: target %r binarised as %r vs rest", name, target, positive_label)

        for s in sensitive:
            problem = sensitive_groups_problem(s, frame[s], min_group_rows)
            if problem:
                raise DatasetError(problem + "; merge or drop them before loading"
                                   if problem.endswith(" rows") else problem)
        meta.setdefault("rows_raw", n0)
        return cls(frame=frame, target=target, sensitive=sensitive, positive_label=positive_label,
                   categorical=cat_cols, numerical=num_cols, integer=integer, name=name, meta=meta)

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def features(self) -> list[str]:
        """All columns except the target (sensitive columns included)."""
        return [c for c in self.frame.columns if c != self.target]

    @property
    def features_without_sensitive(self) -> list[str]:
        return [c for c in self.features if c not in self.sensitive]

    @property
    def y(self) -> np.ndarray:
        """Binary target: 1 where the row has the positive label."""
        return (self.frame[self.target] == self.positive_label).to_numpy().astype(int)

    @property
    def s(self) -> pd.Series:
        """The sensitive feature; several sensitive columns are joined into their intersection."""
        if len(self.sensitive) == 1:
            return self.frame[self.sensitive[0]].astype(str).rename(self.sensitive[0])
        joined = self.frame[self.sensitive].astype(str).agg(INTERSECTION_SEP.join, axis=1)
        return joined.rename(INTERSECTION_SEP.join(self.sensitive))

    @property
    def sensitive_frame(self) -> pd.DataFrame:
        return self.frame[self.sensitive].astype(str)

    def replace(self, **changes: Any) -> TabularDataset:
        """A copy with some fields changed (e.g. ``frame=``, ``weights=``)."""
        return dataclasses.replace(self, **changes)

    def subset(self, rows: np.ndarray | Sequence[int]) -> TabularDataset:
        """Rows by position, schema kept."""
        rows = np.asarray(rows)
        w = None if self.weights is None else self.weights[rows]
        return self.replace(frame=self.frame.iloc[rows].reset_index(drop=True), weights=w)

    def with_frame(self, frame: pd.DataFrame) -> TabularDataset:
        """Same schema, new rows (weights dropped); used for generated tables."""
        return self.replace(frame=frame.reset_index(drop=True), weights=None)

    def group_summary(self) -> pd.DataFrame:
        """Per sensitive group (and their intersection): size, share, positive rate."""
        y = self.y
        parts = []
        keys = list(self.sensitive) + ([None] if len(self.sensitive) > 1 else [])
        for col in keys:
            s = self.s if col is None else self.frame[col].astype(str)
            label = s.name if col is None else col
            df = pd.DataFrame({"group": s.to_numpy(), "y": y})
            g = df.groupby("group", sort=True)["y"].agg(["size", "mean"]).reset_index()
            g.insert(0, "attribute", label)
            g["share"] = g["size"] / len(df)
            parts.append(g.rename(columns={"mean": "positive_rate"}))
        return pd.concat(parts, ignore_index=True)[["attribute", "group", "size", "share", "positive_rate"]]

    def schema(self) -> dict[str, Any]:
        """JSON-serialisable schema (no rows)."""
        pos = self.positive_label
        if isinstance(pos, np.generic):
            pos = pos.item()
        return {
            "target": self.target,
            "sensitive": list(self.sensitive),
            "positive_label": pos,
            "categorical": list(self.categorical),
            "numerical": list(self.numerical),
            "integer": list(self.integer),
            "columns": list(self.frame.columns),
            "name": self.name,
        }

    def __repr__(self) -> str:
        return (f"TabularDataset(name={self.name!r}, rows={len(self)}, target={self.target!r}, "
                f"sensitive={self.sensitive!r}, positive_label={self.positive_label!r}, "
                f"categorical={len(self.categorical)}, numerical={len(self.numerical)})")
