"""Chunked nearest-neighbour work for the quality metrics: never an n×m matrix of full tables.

- :func:`knn` / :func:`knn_self`: k nearest neighbours with scikit-learn's brute-force
  search, which computes distances in fused, chunked GEMM tiles (memory ~ chunk × m).
- :func:`cross_pass`: one sweep over blocks of query rows against all reference rows that
  gathers, from the same distance tile, everything PRDC, β-recall, authenticity and DCR need:
  the nearest reference of each query, the nearest query of each reference, how many reference
  balls hold each query and whether each reference lies in some query ball.

Squared distances in a tile come from one float32 GEMM on augmented rows
(``[-2a, |a|², 1] · [b, 1, |b|²]``); the reported nearest-neighbour distances are recomputed
exactly in float64 for the selected pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_CHUNK_ELEMENTS = 1 << 24  # 16.8M float32 = 64 MiB per distance tile


def _as2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {x.shape}")
    return x


def knn(query: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float64) and indices of the ``k`` nearest ``reference`` rows of each query row."""
    from sklearn.neighbors import NearestNeighbors

    query, reference = _as2d(query, "query"), _as2d(reference, "reference")
    if k > len(reference):
        raise ValueError(f"k={k} but the reference has only {len(reference)} rows")
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(reference)
    _, idx = nn.kneighbors(query)
    return _exact(query, reference, idx)


def knn_self(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest *other* rows of each row of ``x`` (the row itself excluded by index, so exact
    duplicates count as neighbours at distance 0)."""
    from sklearn.neighbors import NearestNeighbors

    x = _as2d(x, "x")
    if k >= len(x):
        raise ValueError(f"k={k} needs more than {k} rows; got {len(x)}")
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x)
    _, idx = nn.kneighbors()  # X=None: each point's neighbours without itself
    return _exact(x, x, idx)


def _exact(query: np.ndarray, reference: np.ndarray, idx: np.ndarray, block: int = 4096
           ) -> tuple[np.ndarray, np.ndarray]:
    """Recompute the (n, k) neighbour distances in float64 (in row blocks) and re-sort each
    row by (distance, index)."""
    dist = np.empty(idx.shape, dtype=np.float64)
    for start in range(0, len(idx), block):
        q = query[start:start + block].astype(np.float64)[:, None, :]
        diff = reference[idx[start:start + block]].astype(np.float64) - q
        dist[start:start + block] = np.sqrt(np.einsum("nkd,nkd->nk", diff, diff))
    order = np.lexsort((idx, dist), axis=-1)
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)


@dataclass
class CrossResult:
    """What one sweep of queries (rows) against references (columns) found.

    ``row_nn_*``: nearest reference of each query; ``col_nn_*``: nearest query of each
    reference (exact float64 distances); ``row_in_col_balls``: number of references ``b`` with
    ``d(a, b) < col_radii[b]``; ``col_in_row_balls``: whether some query ``a`` has
    ``d(a, b) < row_radii[a]``.
    """

    row_nn_dist: np.ndarray
    row_nn_idx: np.ndarray
    col_nn_dist: np.ndarray
    col_nn_idx: np.ndarray
    row_in_col_balls: np.ndarray | None
    col_in_row_balls: np.ndarray | None
    row_subset_nn_dist: np.ndarray | None = None
    row_subset_nn_idx: np.ndarray | None = None


def cross_pass(
    rows: np.ndarray, cols: np.ndarray, *, col_radii: np.ndarray | None = None,
    row_radii: np.ndarray | None = None, col_subset: np.ndarray | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> CrossResult:
    """One chunked sweep of ``rows`` against ``cols`` (see :class:`CrossResult`).

    ``col_subset`` (column indices) also gives each row's nearest column within that subset
    (``row_subset_nn_*``, indices into ``cols``), e.g. for DCR against a subsample.

    Memory is O(chunk_elements + n + m): tiles of ``max(1, chunk_elements // m)`` rows.
    """
    a, b = _as2d(rows, "rows"), _as2d(cols, "cols")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"rows have {a.shape[1]} columns but cols have {b.shape[1]}")
    n, m = len(a), len(b)
    centre = b.astype(np.float64).mean(axis=0)
    a64, b64 = a.astype(np.float64) - centre, b.astype(np.float64) - centre
    a_aug = np.hstack([-2 * a64, (a64 ** 2).sum(1, keepdims=True), np.ones((n, 1))]).astype(np.float32)
    b_aug = np.hstack([b64, np.ones((m, 1)), (b64 ** 2).sum(1, keepdims=True)]).astype(np.float32)
    b_aug_t = np.ascontiguousarray(b_aug.T)
    col_r2 = None if col_radii is None else (np.asarray(col_radii, dtype=np.float64) ** 2).astype(np.float32)
    row_r2 = None if row_radii is None else (np.asarray(row_radii, dtype=np.float64) ** 2).astype(np.float32)

    row_idx = np.empty(n, dtype=np.int64)
    col_min = np.full(m, np.inf, dtype=np.float32)
    col_idx = np.zeros(m, dtype=np.int64)
    counts = None if col_r2 is None else np.zeros(n, dtype=np.int64)
    covered = None if row_r2 is None else np.zeros(m, dtype=bool)
    subset = None if col_subset is None else np.asarray(col_subset, dtype=np.int64)
    sub_idx = None if subset is None else np.empty(n, dtype=np.int64)
    step = max(1, int(chunk_elements) // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        tile = a_aug[start:stop] @ b_aug_t  # squared distances, (stop-start, m)
        row_idx[start:stop] = tile.argmin(axis=1)
        if subset is not None:
            sub_idx[start:stop] = subset[tile[:, subset].argmin(axis=1)]
        tile_min = tile.min(axis=0)
        better = tile_min < col_min
        if better.any():
            cols_better = np.flatnonzero(better)
            col_idx[cols_better] = tile[:, cols_better].argmin(axis=0) + start
            col_min[cols_better] = tile_min[cols_better]
        if counts is not None:
            counts[start:stop] = np.count_nonzero(tile < col_r2, axis=1)
        if covered is not None:
            covered |= (tile < row_r2[start:stop, None]).any(axis=0)
    row_dist = np.sqrt(((a64 - b64[row_idx]) ** 2).sum(1))
    col_dist = np.sqrt(((b64 - a64[col_idx]) ** 2).sum(1))
    sub_dist = None if subset is None else np.sqrt(((a64 - b64[sub_idx]) ** 2).sum(1))
    return CrossResult(row_dist, row_idx, col_dist, col_idx, counts, covered, sub_dist, sub_idx)
