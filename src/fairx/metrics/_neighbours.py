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

from dataclasses import dataclass

import numpy as np

DEFAULT_CHUNK_ELEMENTS = 1 << 24  # 16.8M float32 = 64 MiB per distance tile
_PAIR_BLOCK = 1 << 14


def _as2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float64)


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


def knn(query: np.ndarray, reference: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float64) and indices of the ``k`` nearest ``reference`` rows of each query row."""
    from sklearn.neighbors import NearestNeighbors

    query, reference = _as2d(query, "query"), _as2d(reference, "reference")
    if k > len(reference):
        raise ValueError(f"k={k} but the reference has only {len(reference)} rows")
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(reference.astype(np.float32))
    _, idx = nn.kneighbors(query.astype(np.float32))
    return _exact(query, reference, idx)


def knn_self(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k nearest *other* rows of each row of ``x`` (the row itself excluded by index, so exact
    duplicates count as neighbours at distance 0)."""
    from sklearn.neighbors import NearestNeighbors

    x = _as2d(x, "x")
    if k >= len(x):
        raise ValueError(f"k={k} needs more than {k} rows; got {len(x)}")
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(x.astype(np.float32))
    _, idx = nn.kneighbors()  # X=None: each point's neighbours without itself
    return _exact(x, x, idx)


def _exact(query: np.ndarray, reference: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Recompute the (n, k) neighbour distances exactly and re-sort each row by (distance, index)."""
    rows = np.repeat(np.arange(len(idx)), idx.shape[1])
    dist = pair_distances(query, reference, rows, idx.ravel()).reshape(idx.shape)
    order = np.lexsort((idx, dist), axis=-1)
    return np.take_along_axis(dist, order, 1), np.take_along_axis(idx, order, 1)


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


def _rounding_bound(dim: int) -> float:
    """c with |tile − ‖a − b‖²| ≤ c·(‖a‖² + ‖b‖²) for the float32 augmented GEMM.

    The tile is a dot product of dim + 2 float32 terms whose absolute values sum to at most
    2(‖a‖² + ‖b‖²); inputs are rounded once (relative u = 2⁻²⁴ per factor) and any summation
    order errs by at most γ_n = n·u/(1 − n·u). Doubled for safety.
    """
    u = 2.0 ** -24
    n = dim + 2
    return 2.0 * 2.0 * (n * u / (1 - n * u) + 3 * u)


def cross_pass(
    rows: np.ndarray, cols: np.ndarray, *, col_radii: np.ndarray | None = None,
    row_radii: np.ndarray | None = None, col_subset: np.ndarray | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> CrossResult:
    """One chunked sweep of ``rows`` against ``cols`` (see :class:`CrossResult`).

    ``col_subset`` (column indices) also gives each row's nearest column within that subset
    (``row_subset_nn_*``, indices into ``cols``), e.g. for DCR against a subsample.

    Memory is O(chunk_elements + n + m + candidates): tiles of ``max(1, chunk_elements // m)``
    rows; the candidates (pairs inside a ball or within rounding of a nearest distance) number
    about k·m for balls of k-NN radii.
    """
    a, b = _as2d(rows, "rows"), _as2d(cols, "cols")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"rows have {a.shape[1]} columns but cols have {b.shape[1]}")
    n, m = len(a), len(b)
    centre = b.mean(axis=0)
    ac, bc = a - centre, b - centre
    a_sq, b_sq = (ac ** 2).sum(1), (bc ** 2).sum(1)
    a_aug = np.hstack([-2 * ac, a_sq[:, None], np.ones((n, 1))]).astype(np.float32)
    b_aug_t = np.ascontiguousarray(np.hstack([bc, np.ones((m, 1)), b_sq[:, None]]).astype(np.float32).T)
    c = _rounding_bound(a.shape[1])
    b_sq_max = float(b_sq.max()) if m else 0.0
    col_r = None if col_radii is None else np.asarray(col_radii, dtype=np.float64)
    row_r = None if row_radii is None else np.asarray(row_radii, dtype=np.float64)
    subset = None if col_subset is None else np.asarray(col_subset, dtype=np.int64)

    row_best: list[tuple[np.ndarray, ...]] = []
    sub_best: list[tuple[np.ndarray, ...]] = []
    col_dist = np.full(m, np.inf)
    col_idx = np.zeros(m, dtype=np.int64)
    counts = None if col_r is None else np.zeros(n, dtype=np.int64)
    col_inside = None if col_r is None else np.zeros(m, dtype=bool)
    covered = None if row_r is None else np.zeros(m, dtype=bool)
    step = max(1, int(chunk_elements) // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        tile = a_aug[start:stop] @ b_aug_t  # squared distances (rounded), (stop-start, m)
        tol_row = c * (a_sq[start:stop] + b_sq_max)  # bound on the error of a row's entries
        tol_col = c * (a_sq[start:stop].max() + b_sq)  # ... of a column's entries in this tile
        # nearest column of each row: every entry within twice the bound of the row minimum
        i, j = np.nonzero(tile <= (tile.min(axis=1) + 2 * tol_row)[:, None])
        row_best.append(_first_per_group(i + start, pair_distances(a, b, i + start, j), j))
        if subset is not None:
            sub = tile[:, subset]
            i, js = np.nonzero(sub <= (sub.min(axis=1) + 2 * tol_row)[:, None])
            j = subset[js]
            sub_best.append(_first_per_group(i + start, pair_distances(a, b, i + start, j), j))
        # nearest row of each column within this tile, merged with earlier tiles
        i, j = np.nonzero(tile <= tile.min(axis=0) + 2 * tol_col)
        jj, dd, ii = _first_per_group(j, pair_distances(a, b, i + start, j), i + start)
        better = dd < col_dist[jj]  # strict: on a tie the earlier (lower) row index stays
        col_dist[jj[better]], col_idx[jj[better]] = dd[better], ii[better]
        if col_r is not None:  # pairs possibly inside a column's ball, decided exactly
            i, j = np.nonzero(tile < col_r ** 2 + tol_col)
            inside = pair_distances(a, b, i + start, j) < col_r[j]
            counts[start:stop] += np.bincount(i[inside], minlength=stop - start)
            col_inside[j[inside]] = True
        if row_r is not None:  # pairs possibly inside a row's ball
            r = row_r[start:stop]
            i, j = np.nonzero(tile < (r ** 2 + tol_row)[:, None])
            inside = pair_distances(a, b, i + start, j) < r[i]
            covered[j[inside]] = True

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
