"""DECAF's graph helpers: validation, order, the learned Chow–Liu default, edges cut per mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairx.data import DatasetError
from fairx.models.generators.dag import (
    chow_liu_dag,
    edges_to_cut,
    mutual_information,
    normalise_edges,
    topological_order,
)

COLS = ["s", "a", "b", "m", "y", "z"]
# s -> a -> y, s -> m -> y, s -> y, s -> z (z is not on a path to y), b -> y
EDGES = [("s", "a"), ("a", "y"), ("s", "m"), ("m", "y"), ("s", "y"), ("s", "z"), ("b", "y")]


def test_topological_order_is_valid_and_deterministic():
    order = topological_order(EDGES, COLS)
    assert order == ["s", "a", "b", "m", "y", "z"]
    for p, c in EDGES:
        assert order.index(p) < order.index(c)


def test_bad_dags_are_rejected():
    with pytest.raises(DatasetError, match="cycle"):
        normalise_edges([("s", "a"), ("a", "s")], COLS)
    with pytest.raises(DatasetError, match="unknown column"):
        normalise_edges([("s", "income")], COLS)
    with pytest.raises(DatasetError, match="self-loop"):
        normalise_edges([("a", "a")], COLS)
    with pytest.raises(DatasetError, match="pair"):
        normalise_edges(["sa"], COLS)
    assert normalise_edges([["s", "a"], ("s", "a")], COLS) == [("s", "a")]


def test_edges_cut_per_mode():
    kw = dict(sensitive=["s"], target="y")
    assert edges_to_cut(EDGES, mode="none", **kw) == []
    assert edges_to_cut(EDGES, mode="ftu", **kw) == [("s", "y")]
    # dp: every edge out of s on a directed path to y; s -> z is kept
    assert edges_to_cut(EDGES, mode="dp", **kw) == [("s", "a"), ("s", "m"), ("s", "y")]
    # cf: the path through the admissible m is kept
    assert edges_to_cut(EDGES, mode="cf", admissible=["m"], **kw) == [("s", "a"), ("s", "y")]
    with pytest.raises(ValueError, match="mode"):
        edges_to_cut(EDGES, mode="fair", **kw)


def test_mutual_information_known_values():
    x = np.array([0, 1] * 500)
    assert mutual_information(x, x) == pytest.approx(np.log(2))
    assert mutual_information(x, np.repeat([0, 1], 500)) == pytest.approx(0.0, abs=1e-12)


def test_chow_liu_recovers_a_chain_oriented_from_the_root():
    rng = np.random.default_rng(0)
    n = 4000
    s = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < 0.9, s, 1 - s)           # s - a strong
    b = np.where(rng.random(n) < 0.85, a, 1 - a)          # a - b
    c = b + 0.3 * rng.standard_normal(n)                  # b - c (numerical)
    frame = pd.DataFrame({"c": c, "b": b.astype(str), "a": a.astype(str), "s": s.astype(str)})
    assert chow_liu_dag(frame, "s") == [("s", "a"), ("a", "b"), ("b", "c")]
