"""`evaluate(real, synthetic)`: fairness, utility and quality of any synthetic table.

The synthetic (and test) table is first checked against the real schema; every problem is
collected and reported at once (:class:`~fairx.data.DatasetError`). Fixable differences are
coerced and noted: column order, integer vs float numericals, numbers stored as text, and
categories stored with another type (``1`` vs ``"1"`` vs ``1.0``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data import DatasetError, TabularDataset, train_test_split
from ..progress import uses_verbosity
from ._fairness import data_parity, ftu
from ._info import METRIC_INFO
from ._quality import synthetic_quality
from ._utility import fit_downstream, utility_protocol

logger = logging.getLogger(__name__)

_MAX_LISTED = 8


def _listed(values: Sequence[Any]) -> str:
    shown = [str(v) for v in list(values)[:_MAX_LISTED]]
    more = len(values) - len(shown)
    return "[" + ", ".join(repr(v) for v in shown) + (f", ... {more} more" if more > 0 else "") + "]"


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def check_schema(real: TabularDataset, frame: pd.DataFrame, *, role: str = "synthetic"
                 ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Compare ``frame`` with the schema of ``real``.

    Returns ``(coerced frame in the real column order, problems, notes)``. Problems: missing
    and extra columns, missing values, non-numbers in numerical columns, categories the real
    table does not have. Notes: the fixes applied (dtype coercions).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"the {role} table must be a DataFrame, got {type(frame).__name__}")
    problems: list[str] = []
    notes: list[str] = []
    real_cols = list(real.frame.columns)
    cols = [str(c) for c in frame.columns]
    missing = [c for c in real_cols if c not in cols]
    extra = [c for c in cols if c not in real_cols]
    if missing:
        problems.append(f"missing column(s) {_listed(missing)}")
    if extra:
        problems.append(f"extra column(s) {_listed(extra)} not in the real table")
    frame = frame.copy()
    frame.columns = cols
    out: dict[str, pd.Series] = {}
    for c in real_cols:
        if c not in frame.columns:
            continue
        col, ref = frame[c], real.frame[c]
        n_na = int(col.isna().sum())
        if n_na:
            problems.append(f"column {c!r}: {n_na} missing value(s)")
            continue
        if c in real.numerical:
            if not _is_numeric(col):
                converted = pd.to_numeric(col, errors="coerce")
                bad = col[converted.isna()]
                if len(bad):
                    problems.append(f"column {c!r} is numerical in the real table ({ref.dtype}) but holds "
                                    f"non-numbers such as {_listed(pd.unique(bad.astype(str)))}")
                    continue
                notes.append(f"column {c!r}: numbers stored as {col.dtype} converted")
                col = converted
            if pd.api.types.is_integer_dtype(ref) and not pd.api.types.is_integer_dtype(col):
                values = col.to_numpy(dtype=float)
                if np.all(np.equal(np.mod(values, 1), 0)):
                    col = col.astype(ref.dtype)
                    notes.append(f"column {c!r}: whole-number floats converted to {ref.dtype}")
                else:
                    notes.append(f"column {c!r}: fractional values in an integer column kept as float")
            out[c] = col
        else:
            cats = pd.unique(ref).tolist()
            lookup: dict[str, Any] = {}
            for v in cats:
                lookup[str(v)] = v
                if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                    lookup.setdefault(str(float(v)), v)
            as_str = col.astype(str)
            unseen = sorted(set(as_str.unique()) - set(lookup))
            if unseen:
                problems.append(f"column {c!r}: categories not in the real table {_listed(unseen)}; "
                                f"real categories are {_listed(sorted(map(str, cats)))}")
                continue
            if col.dtype != ref.dtype:
                notes.append(f"column {c!r}: categories stored as {col.dtype} mapped to the real {ref.dtype}")
            out[c] = pd.Series([lookup[v] for v in as_str], index=col.index).astype(ref.dtype)
    return pd.DataFrame(out, columns=[c for c in real_cols if c in out]).reset_index(drop=True), problems, notes


def align_to_schema(real: TabularDataset, data: TabularDataset | pd.DataFrame, *, role: str = "synthetic"
                    ) -> TabularDataset:
    """``data`` as a dataset with the real schema; raises :class:`DatasetError` listing every
    problem found by :func:`check_schema`."""
    frame = data.frame if isinstance(data, TabularDataset) else data
    coerced, problems, notes = check_schema(real, frame, role=role)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DatasetError(f"the {role} table does not match the real table's schema "
                           f"({len(problems)} problem(s)):\n{lines}")
    for note in notes:
        logger.info("%s table: %s", role, note)
    if len(coerced) == 0:
        raise DatasetError(f"the {role} table has no rows")
    ds = real.with_frame(coerced)
    return ds.replace(name=getattr(data, "name", role) if isinstance(data, TabularDataset) else role,
                      meta={"coercions": notes})


def _real_dataset(real: TabularDataset | pd.DataFrame, target: str | None, sensitive: Any,
                  positive_label: Any) -> TabularDataset:
    if isinstance(real, TabularDataset):
        sens = [sensitive] if isinstance(sensitive, str) else sensitive
        if target is not None and target != real.target:
            raise ValueError(f"target={target!r} but the real dataset's target is {real.target!r}")
        if sens is not None and list(sens) != list(real.sensitive):
            raise ValueError(f"sensitive={sens!r} but the real dataset's sensitive columns are {real.sensitive!r}")
        return real
    if isinstance(real, pd.DataFrame):
        if target is None or sensitive is None:
            raise ValueError("a real DataFrame needs target= and sensitive= (column names)")
        return TabularDataset.from_frame(real, target=target, sensitive=sensitive,
                                         positive_label=positive_label, name="real")
    raise TypeError(f"real must be a TabularDataset or DataFrame, got {type(real).__name__}")


@uses_verbosity
def evaluate(
    real: TabularDataset | pd.DataFrame,
    synthetic: TabularDataset | pd.DataFrame,
    *,
    test: TabularDataset | pd.DataFrame | None = None,
    target: str | None = None,
    sensitive: str | Sequence[str] | None = None,
    positive_label: Any = None,
    classifier: str = "hgb",
    seed: int = 0,
    use_sensitive: bool = False,
    min_group_size: int = 30,
    quality: bool = True,
    embedding: Literal["oneclass", "naive"] = "oneclass",
    max_rows: int | None = None,
    test_size: float = 0.3,
    reference: bool = True,
    quality_options: dict[str, Any] | None = None,
    n_threads: int | None = None,
    verbose: bool | None = None,
) -> pd.DataFrame:
    """Score a synthetic table against the real one; tidy ``group, metric, value``.

    - ``utility`` / ``fairness``: TSTR — the downstream ``classifier`` trained on the synthetic
      table, tested on ``test``. ``ftu`` always comes from a second model that sees s.
    - ``data``: label parity of the synthetic table (:func:`data_parity`).
    - ``quality``: :func:`synthetic_quality` against the real table (``dcr_share`` uses
      ``test`` as the holdout; NaN when no test table is given, since then the generator saw
      every real row).
    - ``reference`` (``reference=True``): TRTR utility/fairness and the real table's parity.

    Without ``test`` the real table is split (``test_size``, stratified, seeded by ``seed``):
    TRTR trains on the real part, both TRTR and TSTR are tested on the held-out part, and
    quality compares with the whole real table. Settings and notes are in ``.attrs``.
    ``n_threads`` caps BLAS/OpenMP/torch threads for the call (``None``: library defaults).
    ``verbose``: progress bar of the quality passes (None: on a terminal only).
    """
    if n_threads is not None:
        from threadpoolctl import threadpool_limits

        opts = {**(quality_options or {}), "n_threads": n_threads}
        with threadpool_limits(limits=n_threads):
            return evaluate(real, synthetic, test=test, target=target, sensitive=sensitive,
                            positive_label=positive_label, classifier=classifier, seed=seed,
                            use_sensitive=use_sensitive, min_group_size=min_group_size, quality=quality,
                            embedding=embedding, max_rows=max_rows, test_size=test_size,
                            reference=reference, quality_options=opts)
    real_ds = _real_dataset(real, target, sensitive, positive_label)
    synth = align_to_schema(real_ds, synthetic, role="synthetic")
    notes = list(synth.meta.get("coercions", []))
    if test is not None:
        test_ds = align_to_schema(real_ds, test, role="test")
        real_train, holdout = real_ds, test_ds
        split = "given test table"
    else:
        real_train, test_ds = train_test_split(real_ds, test_size=test_size, seed=seed)
        holdout = None
        split = f"real table split {1 - test_size:.0%}/{test_size:.0%} (stratified, seed {seed})"
        notes.append("dcr_share needs real rows unseen by the generator (--test); reported as NaN")
    rows: list[tuple[str, str, float]] = []

    def add(group: str | None, values: dict[str, float]) -> None:
        for metric, value in values.items():
            g = group or (METRIC_INFO[metric].group if metric in METRIC_INFO else "quality")
            rows.append((g, metric, float(value)))

    tstr = utility_protocol(synth, test_ds, classifier=classifier, use_sensitive=use_sensitive, seed=seed,
                            mode="TSTR", min_group_size=min_group_size)
    if not use_sensitive:
        tstr["ftu"] = ftu(fit_downstream(synth, classifier=classifier, use_sensitive=True, seed=seed), test_ds)
    add(None, tstr)
    add("data", data_parity(synth))
    if quality:
        add("quality", synthetic_quality(real_ds, synth, holdout=holdout, seed=seed, embedding=embedding,
                                         max_rows=max_rows, **(quality_options or {})))
    if reference:
        trtr = utility_protocol(real_train, test_ds, classifier=classifier, use_sensitive=use_sensitive,
                                seed=seed, mode="TRTR", min_group_size=min_group_size)
        if not use_sensitive:
            trtr["ftu"] = ftu(fit_downstream(real_train, classifier=classifier, use_sensitive=True, seed=seed),
                              test_ds)
        add("reference", {**trtr, **data_parity(real_ds)})
    result = pd.DataFrame(rows, columns=["group", "metric", "value"])
    result.attrs["settings"] = {
        "mode": "TSTR", "reference": "TRTR" if reference else None, "classifier": classifier,
        "use_sensitive": use_sensitive, "seed": seed, "split": split, "embedding": embedding,
        "max_rows": max_rows, "n_real": len(real_ds), "n_synthetic": len(synth), "n_test": len(test_ds),
        "target": real_ds.target, "sensitive": list(real_ds.sensitive),
        "positive_label": real_ds.schema()["positive_label"], "notes": notes,
    }
    return result
