"""Synthetic-data quality against the real (train) table (methods.md §8).

Both tables are encoded by one :class:`~fairx.data.TabularEncoder` fitted on the real table
(one-hot + standardised numericals, every column including target and s). Nearest-neighbour
work is chunked (:mod:`._neighbours`). Subsampling (``max_rows``) is random, seeded and the
sizes used are returned as ``n_real``, ``n_synthetic`` and ``n_holdout``.

Where methods.md writes Φ (α-precision radii and the β-recall ρ) the one-class embedding is
used; the nearest-neighbour distances of β-recall and authenticity (d_rr, d_rs, i*(j)) are taken
in the encoded space shared with PRDC, as the formulas there are written.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ..data import DatasetError, TabularDataset, TabularEncoder
from ..progress import progress
from ._neighbours import DEFAULT_CHUNK_ELEMENTS, CrossResult, cross_pass, knn, knn_self
from ._oneclass import CENTRE_VALUE, oneclass_embed, start_oneclass_process
from ._threads import beside, imported, one_openmp_thread, thread_limit

logger = logging.getLogger(__name__)

QUALITY_FAMILIES: dict[str, tuple[str, ...]] = {
    "alpha": ("alpha_precision", "beta_recall", "authenticity"),
    "prdc": ("prdc_precision", "prdc_recall", "density", "coverage"),
    "marginals": ("ks_complement", "tv_complement", "column_fidelity"),
    "correlation": ("correlation_similarity",),
    "detection": ("c2st_auc", "detection_score"),
    "privacy": ("dcr_share",),
}
ALL_QUALITY = tuple(m for ms in QUALITY_FAMILIES.values() for m in ms)
N_STEPS = 30  # α_k, β_k = linspace(0, 1, 30)


# ---------------------------------------------------------------------------- helpers
def _as_dataset(data: TabularDataset | pd.DataFrame, like: TabularDataset, role: str) -> TabularDataset:
    if isinstance(data, TabularDataset):
        frame = data.frame
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise TypeError(f"{role} must be a TabularDataset or DataFrame, got {type(data).__name__}")
    missing = [c for c in like.frame.columns if c not in frame.columns]
    if missing:
        raise DatasetError(f"the {role} table lacks column(s) {missing} of the real table")
    return like.with_frame(frame[list(like.frame.columns)])


def _subsample(ds: TabularDataset, max_rows: int | None, rng: np.random.Generator) -> TabularDataset:
    if max_rows is None or len(ds) <= max_rows:
        return ds
    return ds.subset(np.sort(rng.choice(len(ds), size=max_rows, replace=False)))


def _score_curve(observed: np.ndarray, levels: np.ndarray) -> float:
    """1 − Σ_k |observed_k − level_k| / Σ_k level_k (the α/β curve score)."""
    return float(1.0 - np.abs(observed - levels).sum() / levels.sum())


# ---------------------------------------------------------------------------- α / β / authenticity
def alpha_precision_score(real_radius: np.ndarray, synth_radius: np.ndarray) -> float:
    """α-precision from ‖Φ(x) − c‖ of real and synthetic rows.

    r_α = α-quantile of the real radii; P_α = share of synthetic radii ≤ r_α;
    score = 1 − Σ|P_α − α| / Σα over α = linspace(0, 1, 30).
    """
    alphas = np.linspace(0, 1, N_STEPS)
    radii = np.quantile(real_radius, alphas)
    p = (np.asarray(synth_radius)[:, None] <= radii[None, :]).mean(axis=0)
    return _score_curve(p, alphas)


def beta_recall_score(d_rr: np.ndarray, d_rs: np.ndarray, rho: np.ndarray) -> float:
    """β-recall: R_β = mean_i 1[d_rs(i) ≤ d_rr(i)]·1[ρ(i) ≤ ρ_β], ρ_β = β-quantile of ρ;
    score = 1 − Σ|R_β − β| / Σβ over β = linspace(0, 1, 30)."""
    betas = np.linspace(0, 1, N_STEPS)
    rho_beta = np.quantile(rho, betas)
    close = (np.asarray(d_rs) <= np.asarray(d_rr))[:, None]
    r = (close & (np.asarray(rho)[:, None] <= rho_beta[None, :])).mean(axis=0)
    return _score_curve(r, betas)


def authenticity_score(d_synth_to_real: np.ndarray, nearest_real: np.ndarray, d_rr: np.ndarray) -> float:
    """Authenticity per synthetic row j: 1[‖x̃_j − x_i*(j)‖ > d_rr(i*(j))], averaged."""
    return float(np.mean(np.asarray(d_synth_to_real) > np.asarray(d_rr)[nearest_real]))


def _embedding(xr: np.ndarray, xs: np.ndarray, embedding: str, seed: int, epochs: int,
               n_threads: int | None = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """(Φ(real), Φ(synthetic), centre c, info)."""
    if embedding == "oneclass":
        er, (es,), info = oneclass_embed(xr, [xs], seed=seed, epochs=epochs, n_threads=n_threads)
        return er, es, np.full(xr.shape[1], CENTRE_VALUE), info
    lo, hi = xr.min(axis=0).astype(np.float64), xr.max(axis=0).astype(np.float64)
    span = np.where(hi > lo, hi - lo, 1.0)
    er, es = (xr - lo) / span, (xs - lo) / span
    return er, es, er.mean(axis=0), {}


@contextlib.contextmanager
def _embedding_lane(xr: np.ndarray, xs: np.ndarray, embedding: str, seed: int, epochs: int,
                    threads: int):
    """Yields ``result()`` = (:func:`_embedding`'s tuple, seconds of the embedding's own work).

    The Deep-SVDD net is tiny, so it trains on one torch thread (a second one saves ~15 % wall
    at 32k rows for twice the CPU; the embedding is the same). With two or more threads it
    trains beside the kNN / column / C2ST passes: in a child process when torch is not imported
    yet (its ~1.5 s import and the training's per-step Python then hold no GIL of this process),
    else in a thread. With one thread: in-process, when ``result()`` is called.
    """
    t0 = time.perf_counter()
    if embedding == "oneclass" and threads >= 2 and imported("torch") is None:
        child = start_oneclass_process(xr, [xs], seed=seed, epochs=epochs)
        if child is not None:
            done = False

            def from_child():
                nonlocal done
                er, (es,), info = child()
                done = True
                # the child's own time, start to end (it overlaps the other passes); the
                # in-process fallback has no such figure: the time until its result
                seconds = info.get("process_seconds", time.perf_counter() - t0)
                return (er, es, np.full(xr.shape[1], CENTRE_VALUE), info), seconds

            try:
                yield from_child
            finally:
                if not done:
                    child.cancel()
            return

    def embed():
        t1 = time.perf_counter()
        return _embedding(xr, xs, embedding, seed, epochs, 1), time.perf_counter() - t1

    with beside(embed, enabled=threads >= 2 and embedding == "oneclass") as result:
        yield result


# ---------------------------------------------------------------------------- PRDC
def _prdc_values(cross: CrossResult, k: int) -> dict[str, float]:
    """PRDC from a sweep of synthetic rows against real columns with both k-NN radii."""
    return {
        "prdc_precision": float(np.mean(cross.row_in_col_balls > 0)),
        "prdc_recall": float(np.mean(cross.col_in_row_balls)),
        "density": float(cross.row_in_col_balls.sum() / (k * len(cross.row_nn_idx))),
        "coverage": float(np.mean(cross.col_has_row_inside)),
    }


def prdc_scores(real: np.ndarray, synthetic: np.ndarray, k: int = 5, *,
                chunk_elements: int = DEFAULT_CHUNK_ELEMENTS) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020) of two row matrices.

    Radii are exact k-NN distances to the *other* rows of the same set; "inside a ball" is the
    strict ``d < radius`` of the reference code, decided on exact float64 distances (so a row
    with k duplicates has radius 0 and holds nothing). Chunked: memory O(chunk + n + m).

    Returns
    -------
    dict
        ``prdc_precision``, ``prdc_recall``, ``density``, ``coverage``.
    """
    real_radius = knn_self(real, k)[0][:, k - 1]
    synth_radius = knn_self(synthetic, k)[0][:, k - 1]
    cross = cross_pass(synthetic, real, col_radii=real_radius, row_radii=synth_radius,
                       chunk_elements=chunk_elements)
    return _prdc_values(cross, k)


# ---------------------------------------------------------------------------- column fidelity
def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def _tv_distance(a: pd.Series, b: pd.Series) -> float:
    pa = a.astype(str).value_counts(normalize=True)
    pb = b.astype(str).value_counts(normalize=True)
    pa, pb = pa.align(pb, fill_value=0.0)
    return float(0.5 * np.abs(pa - pb).sum())


def _numeric(frame: pd.DataFrame, col: str, role: str) -> np.ndarray:
    try:
        return pd.to_numeric(frame[col]).to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise DatasetError(f"numerical column {col!r} of the {role} table holds non-numbers") from None


def column_fidelity(real: TabularDataset, synthetic: TabularDataset) -> dict[str, float]:
    """KS complement (numericals), TV complement (categoricals) and their mean over all columns."""
    ks = [1 - _ks_statistic(_numeric(real.frame, c, "real"), _numeric(synthetic.frame, c, "synthetic"))
          for c in real.numerical]
    tv = [1 - _tv_distance(real.frame[c], synthetic.frame[c]) for c in real.categorical]
    return {
        "ks_complement": float(np.mean(ks)) if ks else float("nan"),
        "tv_complement": float(np.mean(tv)) if tv else float("nan"),
        "column_fidelity": float(np.mean(ks + tv)) if ks + tv else float("nan"),
    }


def _codes(real_col: pd.Series, other_col: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    cats = pd.Index(pd.unique(real_col.astype(str)))
    a = cats.get_indexer(real_col.astype(str))
    b = cats.get_indexer(other_col.astype(str))
    k = len(cats)
    b = np.where(b < 0, k, b)  # unseen synthetic categories share one extra code
    return a, b, k + 1


def cramers_v(x: np.ndarray, y: np.ndarray, kx: int, ky: int) -> float:
    """Cramér's V of two integer-coded columns: sqrt(χ²/n / (min(r, c) − 1)) over the
    categories that occur."""
    table = np.bincount(x * ky + y, minlength=kx * ky).reshape(kx, ky).astype(float)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    r, c = table.shape
    if min(r, c) < 2:
        return 0.0
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / n / (min(r, c) - 1)))


def correlation_similarity(real: TabularDataset, synthetic: TabularDataset) -> float:
    """Mean over column pairs of 1 − |ρ_real − ρ_syn| / 2 (Pearson, numerical pairs) and
    1 − |V_real − V_syn| (Cramér's V, categorical pairs); NaN with no pair."""
    scores: list[float] = []
    num = real.numerical
    if len(num) >= 2:
        mats = []
        for ds, role in ((real, "real"), (synthetic, "synthetic")):
            m = np.column_stack([_numeric(ds.frame, c, role) for c in num])
            with np.errstate(invalid="ignore", divide="ignore"):
                mats.append(np.nan_to_num(np.corrcoef(m, rowvar=False), nan=0.0))
        iu = np.triu_indices(len(num), 1)
        scores += list(1 - np.abs(mats[0][iu] - mats[1][iu]) / 2)
    cat = real.categorical
    coded = {c: _codes(real.frame[c], synthetic.frame[c]) for c in cat}
    for i, ci in enumerate(cat):
        for cj in cat[i + 1:]:
            ai, bi, ki = coded[ci]
            aj, bj, kj = coded[cj]
            scores.append(1 - abs(cramers_v(ai, aj, ki, kj) - cramers_v(bi, bj, ki, kj)))
    return float(np.mean(scores)) if scores else float("nan")


# ---------------------------------------------------------------------------- detection
def c2st_auc(real: TabularDataset, synthetic: TabularDataset, *, seed: int = 0, folds: int = 5) -> float:
    """Cross-validated AUC of a HistGradientBoosting classifier telling real (0) from
    synthetic (1) rows; categoricals as native categorical codes (real categories; unseen = missing)."""
    # heavy (sklearn): imported when used, so `import fairx` stays light
    from sklearn.ensemble import HistGradientBoostingClassifier

    cols, is_cat = [], []
    for c in real.frame.columns:
        if c in real.categorical:
            cats = pd.Index(pd.unique(real.frame[c].astype(str)))
            codes = [cats.get_indexer(ds.frame[c].astype(str)).astype(float) for ds in (real, synthetic)]
            col = np.concatenate(codes)
            col[col < 0] = np.nan
            cols.append(col)
            is_cat.append(len(cats) <= 255)
        else:
            cols.append(np.concatenate([_numeric(real.frame, c, "real"), _numeric(synthetic.frame, c, "synthetic")]))
            is_cat.append(False)
    x = np.column_stack(cols)
    y = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(x, y):
        clf = HistGradientBoostingClassifier(categorical_features=np.array(is_cat), random_state=seed)
        clf.fit(x[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.predict_proba(x[test])[:, 1]))
    return float(np.mean(aucs))


# ---------------------------------------------------------------------------- main entry
def synthetic_quality(
    real: TabularDataset,
    synthetic: TabularDataset | pd.DataFrame,
    *,
    holdout: TabularDataset | pd.DataFrame | None = None,
    seed: int = 0,
    embedding: Literal["oneclass", "naive"] = "oneclass",
    max_rows: int | None = None,
    metrics: Sequence[str] | None = None,
    k: int = 5,
    recall_k: int = 1,
    oneclass_epochs: int = 20,
    c2st_folds: int = 3,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    timings: dict[str, float] | None = None,
    n_threads: int | None = None,
    verbose: bool | None = None,
) -> dict[str, float]:
    """Quality of ``synthetic`` against ``real`` (methods.md §8); a flat dict of floats.

    Parameters
    ----------
    holdout : real rows the generator did not see; needed for ``dcr_share`` (NaN without).
        The larger of real / holdout is subsampled (seeded) to the size of the smaller, so
        0.5 stays the ideal; with a holdout of m < n real rows, pure copying then reads
        m/n + (1 − m/n)/2 (0.71 for a 70/30 split) rather than 1.
    embedding : ``"oneclass"`` (Deep-SVDD Φ) or ``"naive"`` (min-max scaled rows, centre =
        real mean) for α-precision / β-recall.
    max_rows : cap on the rows of each table (random, seeded subsample); sizes are reported
        as ``n_real``, ``n_synthetic``, ``n_holdout``.
    metrics : names from METRIC_INFO's quality group (default: all).
    k : neighbours for PRDC (Naeem et al.: 5).
    recall_k : which real neighbour defines d_rr in β-recall (methods.md: 1, the nearest other
        real row; the paper's k-NN radius variant uses larger k). Authenticity always uses
        the nearest other real row, whatever ``recall_k``.
    timings : optional dict that receives seconds per metric family.
    n_threads : BLAS/OpenMP/torch threads for this call, restored afterwards (``None``: the
        free cores, see :func:`fairx.metrics.default_threads`).
        With two or more the one-class embedding trains beside the kNN passes (a child
        process while torch is not imported, else a thread; one torch thread either way) and
        C2ST fits use one OpenMP thread; values do not depend on it.
    verbose : progress bar over the passes (None: on a terminal only; see :mod:`fairx.progress`).

    Returns
    -------
    dict
        The wanted metrics plus ``n_real``, ``n_synthetic`` (and ``n_holdout`` with DCR).
    """
    # for this call only: threads capped, one progress bar over the passes
    with thread_limit(n_threads) as threads, _pass_bar(metrics, holdout, verbose, timings) as passes:
        return _quality(real, synthetic, holdout=holdout, seed=seed, embedding=embedding,
                        max_rows=max_rows, metrics=metrics, k=k, recall_k=recall_k,
                        oneclass_epochs=oneclass_epochs, c2st_folds=c2st_folds,
                        chunk_elements=chunk_elements, timings=passes, threads=threads)


def _quality(real, synthetic, *, holdout, seed, embedding, max_rows, metrics, k, recall_k,
             oneclass_epochs, c2st_folds, chunk_elements, timings, threads) -> dict[str, float]:
    """:func:`synthetic_quality` inside its thread cap."""
    if not isinstance(real, TabularDataset):
        raise TypeError(f"real must be a TabularDataset, got {type(real).__name__}")
    wanted = list(ALL_QUALITY if metrics is None else metrics)
    unknown = [m for m in wanted if m not in ALL_QUALITY]
    if unknown:
        raise ValueError(f"unknown quality metric(s) {unknown}; allowed: {list(ALL_QUALITY)}")
    if embedding not in ("oneclass", "naive"):
        raise ValueError(f"embedding={embedding!r}; allowed: 'oneclass', 'naive'")
    if max_rows is not None and max_rows < 20:
        raise ValueError(f"max_rows={max_rows}; use at least 20 rows")
    families = {f for f, ms in QUALITY_FAMILIES.items() if any(m in wanted for m in ms)}
    timings = {} if timings is None else timings
    synth = _as_dataset(synthetic, real, "synthetic")
    hold = None if holdout is None else _as_dataset(holdout, real, "holdout")
    rng = np.random.default_rng(seed)
    real_s, synth_s = _subsample(real, max_rows, rng), _subsample(synth, max_rows, rng)
    hold_s = None if hold is None else _subsample(hold, max_rows, rng)
    n_r, n_s = len(real_s), len(synth_s)
    min_rows = k + 1 if "prdc" in families else recall_k + 1
    if n_r < min_rows or n_s < min_rows:
        raise DatasetError(f"quality metrics need at least {min_rows} real and synthetic rows; "
                           f"got {n_r} and {n_s}")
    out: dict[str, float] = {m: float("nan") for m in wanted}
    out.update({"n_real": float(n_r), "n_synthetic": float(n_s)})

    def tick(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - t0
        return now

    with contextlib.ExitStack() as lanes:
        t = time.perf_counter()
        need_nn = families & {"alpha", "prdc", "privacy"}
        if need_nn:
            enc = TabularEncoder(numerical="standard", handle_unknown="ignore").fit(real_s)
            xr, xs = enc.encode(real_s), enc.encode(synth_s)
            t = tick("encode", t)
        embedded = None
        if "alpha" in families:
            embedded = lanes.enter_context(_embedding_lane(xr, xs, embedding, seed, oneclass_epochs, threads))
        real_radius = synth_radius = d_rr = None
        cross = None
        # DCR compares equal-sized real and holdout sets: the larger one is subsampled (seeded)
        dcr_rows = None
        if "privacy" in families and hold_s is not None:
            m = min(n_r, len(hold_s))
            r_rows = np.arange(n_r) if m == n_r else np.sort(rng.choice(n_r, m, replace=False))
            h_rows = np.arange(len(hold_s)) if m == len(hold_s) else np.sort(rng.choice(len(hold_s), m, replace=False))
            dcr_rows = (r_rows, h_rows)
        if families & {"alpha", "prdc"}:
            kk = max(k if "prdc" in families else 1, recall_k if "alpha" in families else 1)
            real_knn, _ = knn_self(xr, kk)
            real_radius = real_knn[:, k - 1] if "prdc" in families else None
            d_rr = real_knn[:, recall_k - 1] if "alpha" in families else None  # β-recall radius
            d_nn = real_knn[:, 0]  # nearest other real row: authenticity, whatever recall_k
            t = tick("knn_real", t)
            if "prdc" in families:
                synth_radius = knn_self(xs, k)[0][:, k - 1]
                t = tick("knn_synthetic", t)
            subset = None if dcr_rows is None or len(dcr_rows[0]) == n_r else dcr_rows[0]
            cross = cross_pass(xs, xr, col_radii=real_radius, row_radii=synth_radius, col_subset=subset,
                               chunk_elements=chunk_elements)
            t = tick("cross_pass", t)
        if "prdc" in families:
            out.update(_prdc_values(cross, k))
        if dcr_rows is not None:
            r_rows, h_rows = dcr_rows
            if cross is None:
                d_train = knn(xs, xr[r_rows], 1)[0][:, 0]
            elif len(r_rows) == n_r:
                d_train = cross.row_nn_dist
            else:
                d_train = cross.row_subset_nn_dist
            d_hold = knn(xs, enc.encode(hold_s)[h_rows], 1)[0][:, 0]
            out["dcr_share"] = float(np.mean(d_train < d_hold) + 0.5 * np.mean(d_train == d_hold))
            out["n_holdout"] = float(len(h_rows))
            t = tick("dcr", t)
        elif "privacy" in families:
            logger.info("dcr_share needs a holdout table; reported as NaN")
        if "marginals" in families:
            out.update({m: v for m, v in column_fidelity(real_s, synth_s).items() if m in wanted})
            t = tick("marginals", t)
        if "correlation" in families:
            out["correlation_similarity"] = correlation_similarity(real_s, synth_s)
            t = tick("correlation", t)
        if "detection" in families:
            with one_openmp_thread(threads >= 2):
                auc = c2st_auc(real_s, synth_s, seed=seed, folds=c2st_folds)
            out.update({"c2st_auc": auc, "detection_score": 1 - 2 * abs(auc - 0.5)})
            t = tick("detection", t)
        if "alpha" in families:
            (er, es, centre, info), seconds = embedded()
            timings["embedding"] = timings.get("embedding", 0.0) + seconds  # the lane's own time
            t = time.perf_counter()
            out["alpha_precision"] = alpha_precision_score(np.linalg.norm(er - centre, axis=1),
                                                           np.linalg.norm(es - centre, axis=1))
            rho = np.linalg.norm(es[cross.col_nn_idx] - es.mean(axis=0), axis=1)
            out["beta_recall"] = beta_recall_score(d_rr, cross.col_nn_dist, rho)
            out["authenticity"] = authenticity_score(cross.row_nn_dist, cross.row_nn_idx, d_nn)
            t = tick("alpha_beta", t)
    return {key: value for key, value in out.items() if key in wanted or key.startswith("n_")}


class _PassTimings(dict):
    """``timings`` of one call: each recorded pass also moves the progress bar (and is copied
    into the caller's own ``timings`` dict, if any)."""

    def __init__(self, bar, user: dict[str, float] | None) -> None:
        super().__init__()
        self.bar, self.user = bar, user

    def __setitem__(self, name: str, seconds: float) -> None:
        super().__setitem__(name, seconds)
        if self.user is not None:
            self.user[name] = seconds
        self.bar.advance(last_pass=name)


def _n_passes(metrics: Sequence[str] | None, holdout: object) -> int:
    """How many timed passes :func:`synthetic_quality` makes for ``metrics``."""
    wanted = set(ALL_QUALITY if metrics is None else metrics)
    fams = {f for f, ms in QUALITY_FAMILIES.items() if wanted & set(ms)}
    n = int(bool(fams & {"alpha", "prdc", "privacy"}))  # encode
    n += 2 * bool(fams & {"alpha", "prdc"}) + ("prdc" in fams) + 2 * ("alpha" in fams)
    n += int("privacy" in fams and holdout is not None)
    return n + sum(f in fams for f in ("marginals", "correlation", "detection"))


@contextlib.contextmanager
def _pass_bar(metrics, holdout, verbose, timings):

    with progress(_n_passes(metrics, holdout), "quality metrics", verbose=verbose) as bar:
        yield _PassTimings(bar, timings)

