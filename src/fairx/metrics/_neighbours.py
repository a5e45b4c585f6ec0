"""Chunked nearest-neighbour work for the quality metrics: never an n×m matrix of full tables.

- :func:`knn` / :func:`knn_self`: k nearest neighbours with scikit-learn's brute-force
  search, which computes distances in fused, chunked GEMM tiles (memory ~ chunk × m).
- :func:`cross_pass`: one sweep over blocks of query rows against all reference rows that
  gathers, from the same distance tile, everything PRDC, β-recall, authenticity and DCR need:
  the nearest reference of each query, the nearest query of each reference, how many reference
  balls hold each query and whether each reference lies in some query ball.

Every decision is taken on exact distances: float64 differences of the input rows
(:func:`pair_distances`, the same arithmetic for every pair, so a duplicate row is at distance
exactly 0 and a pair that ties with a radius compares equal). The float32 GEMM tile
(``[-2a, |a|², 1] · [b, 1, |b|²]`` on centred rows) only preselects candidates: pairs whose
tile value is within a rigorous rounding bound of a radius or of a nearest-neighbour distance
are recomputed exactly, so "distance < radius" follows the strict ``<`` of Naeem et al.'s
reference code even for boundary ties, and nearest-neighbour ties go to the lowest index.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ._threads import current_threads

DEFAULT_CHUNK_ELEMENTS = 1 << 22  # 4.2M float32 = 16 MiB per distance tile
_FAR = 1e38  # tile value of padding columns (float32 max is 3.4e38)
_PAIR_BLOCK = 1 << 14


def _as2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float64)


def _map_tiles(fn, starts, n_jobs: int | None):
    """``fn`` over the tile starts, results in order; ``n_jobs`` tiles at once in threads (numpy
    releases the GIL), each with single-threaded BLAS so that threads stay ≤ ``n_jobs``."""

    starts = list(starts)
    jobs = current_threads() if n_jobs is None else int(n_jobs)
    if jobs <= 1 or len(starts) <= 1:
        yield from map(fn, starts)
        return


    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(min(jobs, len(starts))) as pool:
        yield from pool.map(fn, starts)


def pair_distances(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Exact float64 distances ``‖x[i] − y[j]‖`` for index arrays ``i``, ``j`` (in blocks).

    One formula for every pair (direct differences, one ``einsum`` per row), so equal pairs
    give bit-identical distances wherever they are computed.
    """
    out = np.empty(len(i), dtype=np.float64)
    for s in range(0, len(i), _PAIR_BLOCK):
        diff = x[i[s:s + _PAIR_BLOCK]] - y[j[s:s + _PAIR_BLOCK]]
        out[s:s + _PAIR_BLOCK] = np.sqrt(np.einsum("nd,nd->n", diff, diff))
    return out


def _augmented(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """float32 ``[-2a, |a|², 1]`` and ``[b, 1, |b|²]ᵀ`` (rows centred on b's mean, so that the
    GEMM gives squared distances) and the float64 squared norms of the centred rows."""
    centre = b.mean(axis=0)
    ac, bc = a - centre, b - centre
    a_sq, b_sq = (ac ** 2).sum(1), (bc ** 2).sum(1)
    a_aug = np.hstack([-2 * ac, a_sq[:, None], np.ones((len(a), 1))]).astype(np.float32)
    b_aug_t = np.ascontiguousarray(np.hstack([bc, np.ones((len(b), 1)), b_sq[:, None]]).astype(np.float32).T)
    return a_aug, b_aug_t, a_sq, b_sq


def _rounding_bound(dim: int) -> float:
    """c with |tile − ‖a − b‖²| ≤ c·(‖a‖² + ‖b‖²) for the float32 augmented GEMM.

    The tile is a dot product of dim + 2 float32 terms whose absolute values sum to at most
    2(‖a‖² + ‖b‖²); inputs are rounded once (relative u = 2⁻²⁴ per factor) and any summation
    order errs by at most γ_n = n·u/(1 − n·u). Doubled for safety.
    """
    u = 2.0 ** -24
    n = dim + 2
    return 2.0 * 2.0 * (n * u / (1 - n * u) + 3 * u)


def _tile_rows(chunk_elements: int, m: int) -> int:
    return max(1, int(chunk_elements) // max(m, 1))


def _knn_tiles(query: np.ndarray, reference: np.ndarray, k: int, *, exclude_self: bool,
               chunk_elements: int = DEFAULT_CHUNK_ELEMENTS, block: int = 32, n_jobs: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest references of each query row, sorted by (distance, index).

    Per tile of query rows: the float32 GEMM tile, an upper bound T on each row's k-th smallest
    entry (the k-th smallest of the minima of column groups of ``block``), then every entry
    within the rounding bound of T is a candidate whose distance is recomputed exactly.
    """
    n, m = len(query), len(reference)
    a_aug, b_aug_t, a_sq, b_sq = _augmented(query, reference)
    c, b_sq_max = _rounding_bound(query.shape[1]), float(b_sq.max())
    dist = np.empty((n, k))
    idx = np.empty((n, k), dtype=np.int64)
    # column groups {j : j mod n_groups = g}; the reference is padded with columns whose tile
    # value is _FAR so that the tile reshapes into (rows, per_group, n_groups) without a copy
    n_groups = min(m, max(k + 1, -(-m // block)))
    per_group = -(-m // n_groups)
    pad = np.zeros((b_aug_t.shape[0], n_groups * per_group - m), dtype=np.float32)
    pad[-1] = _FAR  # multiplies the constant 1 of the query rows
    b_aug_t = np.ascontiguousarray(np.hstack([b_aug_t, pad]))
    width = b_aug_t.shape[1]
    step = _tile_rows(chunk_elements, width)

    def sweep(start: int) -> None:
        """The k nearest of one tile of query rows (written to their own rows of dist/idx)."""
        stop = min(n, start + step)
        tile = a_aug[start:stop] @ b_aug_t
        if exclude_self:
            rows = np.arange(stop - start)
            tile[rows, rows + start] = np.inf
        # k distinct groups have minima <= the k-th smallest group minimum: a bound on the k-th
        # smallest entry (no real bound when a group holds only the row itself: all entries)
        mins = tile.reshape(stop - start, per_group, n_groups).min(axis=1)
        kth = np.partition(mins, k - 1, axis=1)[:, k - 1].astype(np.float64)
        thr = np.minimum(kth + 2 * c * (a_sq[start:stop] + b_sq_max), _FAR / 10).astype(np.float32)
        i, j = np.divmod(np.flatnonzero(tile <= thr[:, None]), width)
        del tile
        d = pair_distances(query, reference, i + start, j)
        order = np.lexsort((j, d, i))
        i, d, j = i[order], d[order], j[order]
        first = np.searchsorted(i, np.arange(stop - start))
        rank = np.arange(len(i)) - first[i]
        keep = rank < k
        dist[start + i[keep], rank[keep]] = d[keep]
        idx[start + i[keep], rank[keep]] = j[keep]

    for _ in _map_tiles(sweep, range(0, n, step), n_jobs):
        pass
    return dist, idx


def knn(query: np.ndarray, reference: np.ndarray, k: int, *,
        chunk_elements: int = DEFAULT_CHUNK_ELEMENTS, n_jobs: int | None = None
        ) -> tuple[np.ndarray, np.ndarray]:
    """Exact distances (float64) and indices of the ``k`` nearest ``reference`` rows of each
    query row, sorted by (distance, index)."""
    query, reference = _as2d(query, "query"), _as2d(reference, "reference")
    if query.shape[1] != reference.shape[1]:
        raise ValueError(f"query has {query.shape[1]} columns but reference has {reference.shape[1]}")
    if not 1 <= k <= len(reference):
        raise ValueError(f"k={k} but the reference has only {len(reference)} rows")
    return _knn_tiles(query, reference, k, exclude_self=False, chunk_elements=chunk_elements, n_jobs=n_jobs)


def knn_self(x: np.ndarray, k: int, *, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
             n_jobs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k nearest *other* rows of each row of ``x`` (the row itself excluded by index, so exact
    duplicates count as neighbours at distance 0); exact distances, sorted by (distance, index)."""
    x = _as2d(x, "x")
    if not 1 <= k < len(x):
        raise ValueError(f"k={k} needs more than {k} rows; got {len(x)}")
    return _knn_tiles(x, x, k, exclude_self=True, chunk_elements=chunk_elements, n_jobs=n_jobs)


@dataclass
class CrossResult:
    """What one sweep of queries (rows) against references (columns) found.

    ``row_nn_*``: nearest reference of each query; ``col_nn_*``: nearest query of each
    reference (exact float64 distances, ties to the lowest index); ``row_in_col_balls``:
    number of references ``b`` with ``d(a, b) < col_radii[b]``; ``col_in_row_balls``: whether
    some query ``a`` has ``d(a, b) < row_radii[a]``; ``col_has_row_inside``: whether some query
    ``a`` has ``d(a, b) < col_radii[b]`` (PRDC coverage).
    """

    row_nn_dist: np.ndarray
    row_nn_idx: np.ndarray
    col_nn_dist: np.ndarray
    col_nn_idx: np.ndarray
    row_in_col_balls: np.ndarray | None
    col_in_row_balls: np.ndarray | None
    row_subset_nn_dist: np.ndarray | None = None
    row_subset_nn_idx: np.ndarray | None = None
    col_has_row_inside: np.ndarray | None = None


def _first_per_group(group: np.ndarray, dist: np.ndarray, other: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For pairs (group, other, dist): each group's pair with the smallest (dist, other)."""
    order = np.lexsort((other, dist, group))
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    pick = order[first]
    return group[pick], dist[pick], other[pick]


def cross_pass(
    rows: np.ndarray, cols: np.ndarray, *, col_radii: np.ndarray | None = None,
    row_radii: np.ndarray | None = None, col_subset: np.ndarray | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS, n_jobs: int | None = None,
) -> CrossResult:
    """One chunked sweep of ``rows`` against ``cols`` (see :class:`CrossResult`).

    ``col_subset`` (column indices) also gives each row's nearest column within that subset
    (``row_subset_nn_*``, indices into ``cols``), e.g. for DCR against a subsample.

    ``n_jobs`` tiles run at once in threads (``None``: the thread cap of the enclosing
    :func:`~fairx.metrics.thread_limit`, else 1); results do not depend on it.

    Memory is O(n_jobs · chunk_elements + n + m + candidates): tiles of
    ``max(1, chunk_elements // m)`` rows; the candidates (pairs inside a ball or within rounding of a nearest distance) number
    about k·m for balls of k-NN radii.
    """
    a, b = _as2d(rows, "rows"), _as2d(cols, "cols")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"rows have {a.shape[1]} columns but cols have {b.shape[1]}")
    n, m = len(a), len(b)
    a_aug, b_aug_t, a_sq, b_sq = _augmented(a, b)
    c = _rounding_bound(a.shape[1])
    b_sq_max = float(b_sq.max()) if m else 0.0
    col_r = None if col_radii is None else np.asarray(col_radii, dtype=np.float64)
    row_r = None if row_radii is None else np.asarray(row_radii, dtype=np.float64)
    subset = None if col_subset is None else np.asarray(col_subset, dtype=np.int64)
    in_subset = None
    if subset is not None:
        in_subset = np.zeros(m, dtype=bool)
        in_subset[subset] = True

    row_best: list[tuple[np.ndarray, ...]] = []
    sub_best: list[tuple[np.ndarray, ...]] = []
    col_dist = np.full(m, np.inf)
    col_idx = np.zeros(m, dtype=np.int64)
    counts = None if col_r is None else np.zeros(n, dtype=np.int64)
    col_inside = None if col_r is None else np.zeros(m, dtype=bool)
    covered = None if row_r is None else np.zeros(m, dtype=bool)
    step = _tile_rows(chunk_elements, m)

    def sweep(start: int) -> tuple:
        """Candidates of one tile of rows, decided on exact distances."""
        stop = min(n, start + step)
        tile = a_aug[start:stop] @ b_aug_t  # squared distances (rounded), (stop-start, m)
        tol_row = c * (a_sq[start:stop] + b_sq_max)  # bound on the error of a row's entries
        tol_col = c * (a_sq[start:stop].max() + b_sq)  # ... of a column's entries in this tile
        # candidates: entries within twice the bound of a row's or column's minimum (nearest
        # neighbours), or within the bound of a ball's squared radius; decided exactly below
        row_thr = tile.min(axis=1) + 2 * tol_row
        # a column's entry can only beat (or tie) its best row so far if tile − tol ≤ best²
        # (best so far: any value the merge has written, each an upper bound)
        col_thr = np.minimum(tile.min(axis=0) + 2 * tol_col, col_dist ** 2 + tol_col)
        if subset is not None:
            row_thr = np.maximum(row_thr, tile[:, subset].min(axis=1) + 2 * tol_row)
        if row_r is not None:
            row_thr = np.maximum(row_thr, row_r[start:stop] ** 2 + tol_row)
        if col_r is not None:
            col_thr = np.maximum(col_thr, col_r ** 2 + tol_col)
        mask = tile <= row_thr.astype(np.float32)[:, None]
        mask |= tile <= col_thr.astype(np.float32)
        del tile
        i, j = np.divmod(np.flatnonzero(mask), m)
        i += start
        d = pair_distances(a, b, i, j)
        sub = None
        if subset is not None:
            keep = in_subset[j]
            sub = _first_per_group(i[keep], d[keep], j[keep])
        count = inside_cols = covered_cols = None
        if col_r is not None:  # strictly inside a column's ball
            inside = d < col_r[j]
            count = np.bincount(i[inside] - start, minlength=stop - start)
            inside_cols = j[inside]
        if row_r is not None:  # strictly inside a row's ball
            covered_cols = j[d < row_r[i]]
        return (start, stop, _first_per_group(i, d, j), sub, _first_per_group(j, d, i), count,
                inside_cols, covered_cols)

    for start, stop, best, sub, col_best, count, inside_cols, covered_cols in _map_tiles(
            sweep, range(0, n, step), n_jobs):
        row_best.append(best)
        if sub is not None:
            sub_best.append(sub)
        jj, dd, ii = col_best
        better = dd < col_dist[jj]  # strict, merged in tile order: on a tie the lower row stays
        col_dist[jj[better]], col_idx[jj[better]] = dd[better], ii[better]
        if count is not None:
            counts[start:stop] = count
            col_inside[inside_cols] = True
        if covered_cols is not None:
            covered[covered_cols] = True

    def gather(best: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray]:
        g = np.concatenate([x[0] for x in best])
        dist, idx = np.empty(n), np.empty(n, dtype=np.int64)
        dist[g] = np.concatenate([x[1] for x in best])
        idx[g] = np.concatenate([x[2] for x in best])
        return dist, idx

    row_dist, row_idx = gather(row_best)
    sub_dist, sub_idx = gather(sub_best) if subset is not None else (None, None)
    return CrossResult(row_dist, row_idx, col_dist, col_idx, counts, covered, sub_dist, sub_idx,
                       col_inside)
