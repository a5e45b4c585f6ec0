"""Causal graphs over table columns for DECAF: validation, order, a learned default and the
edges each debiasing mode cuts. Pure numpy/pandas (no torch)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ...data import DatasetError

Edge = tuple[str, str]


def normalise_edges(edges: Iterable[Sequence[str]], columns: Sequence[str]) -> list[Edge]:
    """Check a user DAG: pairs of known column names, no self-loops, no duplicates, no cycles."""
    out: list[Edge] = []
    known = set(columns)
    for e in edges:
        if isinstance(e, str) or len(e) != 2:
            raise DatasetError(f"DAG edge {e!r} is not a (parent, child) pair of column names")
        p, c = str(e[0]), str(e[1])
        unknown = [v for v in (p, c) if v not in known]
        if unknown:
            raise DatasetError(f"DAG edge ({p!r}, {c!r}) names unknown column(s) {unknown}; "
                               f"the columns are {list(columns)}")
        if p == c:
            raise DatasetError(f"DAG edge ({p!r}, {c!r}) is a self-loop")
        if (p, c) not in out:
            out.append((p, c))
    topological_order(out, columns)  # raises on a cycle
    return out


def parents(edges: Iterable[Edge], node: str) -> list[str]:
    return [p for p, c in edges if c == node]


def topological_order(edges: Sequence[Edge], columns: Sequence[str]) -> list[str]:
    """Kahn's algorithm; ties broken by column order so the result is deterministic."""
    indeg = {c: 0 for c in columns}
    for _, c in edges:
        indeg[c] += 1
    order: list[str] = []
    ready = [c for c in columns if indeg[c] == 0]
    while ready:
        node = ready.pop(0)
        order.append(node)
        for p, c in edges:
            if p == node:
                indeg[c] -= 1
                if indeg[c] == 0:
                    ready.append(c)
        ready.sort(key=list(columns).index)
    if len(order) != len(columns):
        cyclic = sorted(set(columns) - set(order))
        raise DatasetError(f"the DAG has a cycle among {cyclic}")
    return order


def ancestors(edges: Sequence[Edge], node: str) -> set[str]:
    found: set[str] = set()
    frontier = [node]
    while frontier:
        v = frontier.pop()
        for p, c in edges:
            if c == v and p not in found:
                found.add(p)
                frontier.append(p)
    return found


def _discretise(series: pd.Series, bins: int) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and series.nunique() > bins:
        return pd.qcut(series.rank(method="first"), bins, labels=False).to_numpy()
    return pd.factorize(series.astype(str))[0]


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two integer-coded variables."""
    a = np.unique(np.asarray(a), return_inverse=True)[1].ravel()
    b = np.unique(np.asarray(b), return_inverse=True)[1].ravel()
    nb = int(b.max()) + 1 if len(b) else 1
    joint = np.bincount(a * nb + b, minlength=(int(a.max()) + 1 if len(a) else 1) * nb)
    joint = joint.reshape(-1, nb).astype(float)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def chow_liu_dag(frame: pd.DataFrame, root: str, *, bins: int = 10) -> list[Edge]:
    """Chow–Liu tree: the maximum spanning tree of pairwise mutual information (numericals cut
    into ``bins`` quantile bins), oriented away from ``root`` (the sensitive attribute) by a
    breadth-first walk. A tree gives every column at most one parent."""
    columns = list(frame.columns)
    if root not in columns:
        raise DatasetError(f"root column {root!r} not in {columns}")
    codes = {c: _discretise(frame[c], bins) for c in columns}
    k = len(columns)
    mi = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            mi[i, j] = mi[j, i] = mutual_information(codes[columns[i]], codes[columns[j]])
    # Prim's algorithm for the maximum spanning tree, grown from the root (so edges are oriented)
    in_tree = [columns.index(root)]
    edges: list[Edge] = []
    while len(in_tree) < k:
        best = None
        for i in in_tree:
            for j in range(k):
                if j not in in_tree and (best is None or mi[i, j] > mi[best[0], best[1]]):
                    best = (i, j)
        assert best is not None
        edges.append((columns[best[0]], columns[best[1]]))
        in_tree.append(best[1])
    return edges


def edges_to_cut(edges: Sequence[Edge], *, sensitive: Sequence[str], target: str, mode: str,
                 admissible: Sequence[str] = ()) -> list[Edge]:
    """Edges DECAF replaces by batch-permuted parent copies at generation.

    ``none``: nothing. ``ftu``: s → y. ``dp``: every edge s → v where v = y or v is an ancestor
    of y (every edge out of s that lies on a directed path s ⇝ y). ``cf``: as ``dp`` but edges
    into ``admissible`` variables are kept (paths through them are allowed).
    """
    if mode not in ("none", "ftu", "dp", "cf"):
        raise ValueError(f"mode={mode!r}; allowed: 'none', 'ftu', 'dp', 'cf'")
    if mode == "none":
        return []
    sens = set(sensitive)
    if mode == "ftu":
        return [(p, c) for p, c in edges if p in sens and c == target]
    on_path = ancestors(edges, target) | {target}
    keep = set(admissible) if mode == "cf" else set()
    return [(p, c) for p, c in edges if p in sens and c in on_path and c not in keep]
