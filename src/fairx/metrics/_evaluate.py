"""`evaluate(real, synthetic)`: fairness, utility and quality of any synthetic table.

The synthetic (and test) table is first checked against the real schema; every problem is
collected and reported at once (:class:`~fairx.data.DatasetError`). Fixable differences are
coerced and noted: column order, integer vs float numericals, numbers stored as text, and
categories stored with another type (``1`` vs ``"1"`` vs ``1.0``).

Unseen categories: a real holdout (``test=``) often holds a rare category that the reference
table lacks (Adult's 'Armed-Forces' in one half of a split). In a feature column such values are
mapped to the explicit code :data:`UNSEEN` (``"<unseen>"``; for integer-coded columns the code
``min(real codes) - 1``), which the downstream one-hot encoders score as "none of the known
categories"; every mapped value is counted in ``attrs["settings"]["notes"]``. In the target or
a sensitive column, and in a *synthetic* table (a generator that invents categories is broken,
not unlucky), an unseen category stays an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..data import DatasetError, TabularDataset, train_test_split
from ..progress import uses_verbosity
from ._fairness import UNDEFINED_RULES, data_parity, ftu, small_groups
from ._info import METRIC_INFO
from ._quality import synthetic_quality
from ._threads import beside, one_openmp_thread, thread_limit
from ._utility import fit_downstream, utility_protocol

logger = logging.getLogger(__name__)

_MAX_LISTED = 8
UNSEEN = "<unseen>"
MIN_SYNTHETIC_ROWS = 50  # fewer rows cannot train the downstream model nor estimate group rates
SMALL_SYNTHETIC_ROWS = 500  # below this every metric is flagged as noisy in the notes


def _listed(values: Sequence[Any]) -> str:
    shown = [str(v) for v in list(values)[:_MAX_LISTED]]
    more = len(values) - len(shown)
    return "[" + ", ".join(repr(v) for v in shown) + (f", ... {more} more" if more > 0 else "") + "]"


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def check_schema(real: TabularDataset, frame: pd.DataFrame, *, role: str = "synthetic",
                 unseen: Literal["error", "map"] = "error"
                 ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Compare ``frame`` with the schema of ``real``.

    Returns ``(coerced frame in the real column order, problems, notes)``. Problems: missing
    and extra columns, missing values, non-numbers in numerical columns, categories the real
    table does not have (with ``unseen="map"``, in feature columns: mapped to :data:`UNSEEN`
    and counted in the notes). Notes: the fixes applied (dtype coercions, unseen codes).
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
            new = sorted(set(as_str.unique()) - set(lookup))
            if new and unseen == "map" and c != real.target and c not in real.sensitive:
                code = _unseen_code(ref)
                n_rows = int(as_str.isin(new).sum())
                notes.append(f"column {c!r}: {n_rows} {role} row(s) with categories not in the "
                             f"real table {_listed(new)} scored as the unseen code {code!r}")
                lookup.update({v: code for v in new})
                new = []
            if new:
                unseen_values = new
                problems.append(f"column {c!r}: categories not in the real table {_listed(unseen_values)}; "
                                f"real categories are {_listed(sorted(map(str, cats)))}")
                continue
            if col.dtype != ref.dtype:
                notes.append(f"column {c!r}: categories stored as {col.dtype} mapped to the real {ref.dtype}")
            out[c] = as_str.map(lookup).astype(ref.dtype)
    return pd.DataFrame(out, columns=[c for c in real_cols if c in out]).reset_index(drop=True), problems, notes


def _unseen_code(ref: pd.Series) -> Any:
    if _is_numeric(ref):
        return ref.min() - 1  # an integer-coded category: a code no real row has
    return UNSEEN


def align_to_schema(real: TabularDataset, data: TabularDataset | pd.DataFrame, *, role: str = "synthetic",
                    unseen: Literal["error", "map"] = "error") -> TabularDataset:
    """``data`` as a dataset with the real schema; raises :class:`DatasetError` listing every
    problem found by :func:`check_schema` (``unseen``: see there)."""
    frame = data.frame if isinstance(data, TabularDataset) else data
    coerced, problems, notes = check_schema(real, frame, role=role, unseen=unseen)
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


def _check_size(synth: TabularDataset, min_group_size: int) -> list[str]:
    """Refuse a synthetic table too small to score; flag a small one (returned notes)."""
    n = len(synth)
    classes = synth.frame[synth.target].nunique()
    if n < MIN_SYNTHETIC_ROWS or classes < 2:
        why = (f"{n} row(s)" if n < MIN_SYNTHETIC_ROWS
               else f"a single class of the target {synth.target!r}")
        raise DatasetError(f"the synthetic table has {why}; scoring needs at least "
                           f"{MIN_SYNTHETIC_ROWS} rows with both target classes (on fewer, "
                           "figures such as dpr = 1.000 mean nothing)")
    notes = []
    if n < SMALL_SYNTHETIC_ROWS:
        notes.append(f"the synthetic table has only {n} rows (< {SMALL_SYNTHETIC_ROWS}): every "
                     "metric below is noisy")
    smallest = synth.s.value_counts()
    if len(smallest) < 2 or smallest.min() < min_group_size:
        notes.append(f"synthetic sensitive groups {smallest.to_dict()}: groups under "
                     f"{min_group_size} rows give unreliable data_* parity figures"
                     + (" (left out of data_dpd/data_dpr; data_*_all counts them)"
                        if len(synth.sensitive) > 1 else ""))
    return notes


def _excluded_groups_note(test: TabularDataset, min_group_size: int) -> list[str]:
    """Name the intersection groups the headline fairness leaves out, with their test rows."""
    if len(test.sensitive) < 2:
        return []
    small = small_groups(test.sensitive_frame, min_group_size)
    if small.empty:
        return []
    items = ", ".join(f"{group} ({size})" for group, size in small.items())
    return [f"intersection groups under {min_group_size} test rows are left out of the headline "
            f"fairness metrics (the *_all metrics count them; --min-group-size changes the "
            f"threshold): {items}"]


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
    undefined: Literal["exclude", "zero"] = "exclude",
    verbose: bool | None = None,
) -> pd.DataFrame:
    """Score a synthetic table against the real one; tidy ``group, metric, value``.

    - ``utility`` / ``fairness``: TSTR — the downstream ``classifier`` trained on the synthetic
      table, tested on ``test``. ``ftu`` always comes from a second model that sees s.
      ``undefined_rate_groups`` > 0 flags that a group had no positives (TPR) or negatives
      (FPR); ``undefined`` says how such a group counts: left out of the TPR/FPR metrics
      (``"exclude"``) or with the rate 0 (``"zero"``, fairlearn's numbers).
    - ``data``: label parity of the synthetic table (:func:`data_parity`).
    - ``quality``: :func:`synthetic_quality` against the real table (``dcr_share`` uses
      ``test`` as the holdout; NaN when no test table is given, since then the generator saw
      every real row).
    - ``reference`` (``reference=True``): TRTR utility/fairness and the real table's parity.

    Without ``test`` the real table is split (``test_size``, stratified, seeded by ``seed``):
    TRTR trains on the real part, both TRTR and TSTR are tested on the held-out part, and
    quality compares with the whole real table. Settings and notes are in ``.attrs``.
    ``n_threads`` caps BLAS/OpenMP/torch threads for the call and restores them afterwards
    (``None``: the free cores, :func:`fairx.metrics.default_threads`). With two or more, the
    TSTR/TRTR fits run in a thread beside the quality suite and the one-class embedding trains
    beside the kNN passes (in a child process when torch is not imported yet); every value is
    the same as with one thread.
    ``verbose``: progress bar of the quality passes (None: on a terminal only).
    """
    if undefined not in UNDEFINED_RULES:
        raise ValueError(f"undefined={undefined!r}; allowed: {list(UNDEFINED_RULES)}")
    with thread_limit(n_threads) as threads:
        return _evaluate(real, synthetic, test=test, target=target, sensitive=sensitive,
                         positive_label=positive_label, classifier=classifier, seed=seed,
                         use_sensitive=use_sensitive, min_group_size=min_group_size, quality=quality,
                         embedding=embedding, max_rows=max_rows, test_size=test_size,
                         reference=reference, quality_options={**(quality_options or {}), "n_threads": threads},
                         undefined=undefined, threads=threads)


def _evaluate(real, synthetic, *, test, target, sensitive, positive_label, classifier, seed,
              use_sensitive, min_group_size, quality, embedding, max_rows, test_size, reference,
              quality_options, undefined, threads) -> pd.DataFrame:
    """:func:`evaluate` inside its thread cap."""
    real_ds = _real_dataset(real, target, sensitive, positive_label)
    synth = align_to_schema(real_ds, synthetic, role="synthetic")
    notes = list(synth.meta.get("coercions", []))
    notes += _check_size(synth, min_group_size)
    if test is not None:
        test_ds = align_to_schema(real_ds, test, role="test", unseen="map")
        notes += list(test_ds.meta.get("coercions", []))
        real_train, holdout = real_ds, test_ds
        split = "given test table"
    else:
        real_train, test_ds = train_test_split(real_ds, test_size=test_size, seed=seed)
        holdout = None
        split = f"real table split {1 - test_size:.0%}/{test_size:.0%} (stratified, seed {seed})"
        notes.append("dcr_share needs real rows unseen by the generator (--test); reported as NaN")
    notes += _excluded_groups_note(test_ds, min_group_size)
    rows: list[tuple[str, str, float]] = []

    def add(group: str | None, values: dict[str, float]) -> None:
        for metric, value in values.items():
            g = group or (METRIC_INFO[metric].group if metric in METRIC_INFO else "quality")
            rows.append((g, metric, float(value)))

    def downstream() -> tuple[dict[str, float], dict[str, float] | None]:
        """TSTR (and TRTR) fits: independent of the quality suite, so with two or more threads
        they run beside it (each lane one core; results do not depend on it)."""
        with one_openmp_thread(threads >= 2):
            return _downstream()

    def _downstream() -> tuple[dict[str, float], dict[str, float] | None]:
        tstr = utility_protocol(synth, test_ds, classifier=classifier, use_sensitive=use_sensitive,
                                seed=seed, mode="TSTR", min_group_size=min_group_size, undefined=undefined)
        if not use_sensitive:
            tstr["ftu"] = ftu(fit_downstream(synth, classifier=classifier, use_sensitive=True, seed=seed),
                              test_ds)
        trtr = None
        if reference:
            trtr = utility_protocol(real_train, test_ds, classifier=classifier, use_sensitive=use_sensitive,
                                    seed=seed, mode="TRTR", min_group_size=min_group_size, undefined=undefined)
            if not use_sensitive:
                trtr["ftu"] = ftu(fit_downstream(real_train, classifier=classifier, use_sensitive=True,
                                                 seed=seed), test_ds)
        return tstr, trtr

    parallel = threads >= 2
    with beside(downstream, enabled=parallel) as downstream_result:
        scores = None
        if quality:
            scores = synthetic_quality(real_ds, synth, holdout=holdout, seed=seed, embedding=embedding,
                                       max_rows=max_rows, **(quality_options or {}))
        tstr, trtr = downstream_result()
    add(None, tstr)
    add("data", data_parity(synth, min_group_size))
    if scores is not None:
        add("quality", scores)
    if trtr is not None:
        add("reference", {**trtr, **data_parity(real_ds, min_group_size)})
    result = pd.DataFrame(rows, columns=["group", "metric", "value"])
    result.attrs["settings"] = {
        "mode": "TSTR", "reference": "TRTR" if reference else None, "classifier": classifier,
        "use_sensitive": use_sensitive, "seed": seed, "split": split, "embedding": embedding,
        "max_rows": max_rows, "n_real": len(real_ds), "n_synthetic": len(synth), "n_test": len(test_ds),
        "target": real_ds.target, "sensitive": list(real_ds.sensitive),
        "positive_label": real_ds.schema()["positive_label"], "undefined": undefined,
        "n_threads": threads, "notes": notes,
    }
    return result
