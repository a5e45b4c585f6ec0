"""Synthetic-data quality: chunked neighbours vs brute force, and analytic cases.

Tolerances (n = 1200 real and synthetic rows of the planted-bias table, 5 % sampling slack):
a fresh sample of the same distribution gives α-precision ≥ 0.9, density in [0.85, 1.15],
coverage ≥ 0.9 (theory 1 − 2⁻⁵ ≈ 0.97), PRDC precision/recall ≥ 0.9, and β-recall ≈ P(d_rs ≤ d_rr)
= n_s / (n_s + n_r − 1) (0.5 at equal sizes, 2/3 with twice as many synthetic rows) with the
methods.md nearest-real-neighbour radius, ≥ 0.9 with the 5-NN radius (``recall_k=5``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from scipy.stats import contingency, ks_2samp
from threadpoolctl import threadpool_limits

from fairx.data import make_synthetic
from fairx.metrics import (
    alpha_precision_score,
    column_fidelity,
    correlation_similarity,
    cramers_v,
    cross_pass,
    knn,
    knn_self,
    prdc_scores,
    synthetic_quality,
)

FAST = {"c2st_folds": 3}


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def real():
    return make_synthetic(1200, bias=0.8, seed=0)


@pytest.fixture(scope="module")
def fresh():
    return make_synthetic(1200, bias=0.8, seed=1)


@pytest.fixture(scope="module")
def holdout():
    return make_synthetic(1200, bias=0.8, seed=2)


# ------------------------------------------------------------------ neighbours
def test_cross_pass_equals_brute_force():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(157, 6)), rng.normal(size=(203, 6)) + 0.3
    ra, rb = rng.uniform(0.5, 2.0, 157), rng.uniform(0.5, 2.0, 203)
    res = cross_pass(a, b, col_radii=rb, row_radii=ra, chunk_elements=500)  # many small tiles
    d = cdist(a, b)
    np.testing.assert_array_equal(res.row_nn_idx, d.argmin(1))
    np.testing.assert_array_equal(res.col_nn_idx, d.argmin(0))
    np.testing.assert_allclose(res.row_nn_dist, d.min(1), rtol=1e-5)
    np.testing.assert_allclose(res.col_nn_dist, d.min(0), rtol=1e-5)
    np.testing.assert_array_equal(res.row_in_col_balls, (d < rb[None, :]).sum(1))
    np.testing.assert_array_equal(res.col_in_row_balls, (d < ra[:, None]).any(0))
    subset = np.arange(0, 203, 3)
    sub = cross_pass(a, b, col_subset=subset, chunk_elements=700)
    np.testing.assert_array_equal(sub.row_subset_nn_idx, subset[d[:, subset].argmin(1)])
    np.testing.assert_allclose(sub.row_subset_nn_dist, d[:, subset].min(1), rtol=1e-5)


def test_knn_equals_brute_force_and_excludes_self():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 5))
    x[7] = x[3]  # an exact duplicate is a neighbour at distance 0, the row itself is not
    dist, idx = knn_self(x, 4)
    d = cdist(x, x)
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(dist, np.sort(d, axis=1)[:, :4], rtol=1e-6, atol=1e-9)
    assert idx[3, 0] == 7 and idx[7, 0] == 3 and dist[3, 0] == 0.0
    assert not (idx == np.arange(120)[:, None]).any()
    q = rng.normal(size=(30, 5))
    dq, iq = knn(q, x, 2)
    np.testing.assert_allclose(dq, np.sort(cdist(q, x), axis=1)[:, :2], rtol=1e-6)
    # tie-heavy integer rows in small tiles: exact distances, ties to the lowest index
    g = rng.integers(0, 3, (300, 4)).astype(float)
    d = cdist(g, g)
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :6]
    dist, idx = knn_self(g, 6, chunk_elements=2000)
    np.testing.assert_array_equal(dist, np.take_along_axis(d, order, 1))
    np.testing.assert_array_equal(idx, order)
    dist, idx = knn(g[:50], g, 3, chunk_elements=700)
    order = np.argsort(cdist(g[:50], g), axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(idx, order)


def test_tiles_in_threads_give_identical_results():
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 3, (260, 4)).astype(float), rng.integers(0, 3, (310, 4)).astype(float)
    ra, rb = knn_self(a, 5)[0][:, 4], knn_self(b, 5)[0][:, 4]
    kw = dict(col_radii=rb, row_radii=ra, col_subset=np.arange(0, 310, 4), chunk_elements=3000)
    one, two = cross_pass(a, b, n_jobs=1, **kw), cross_pass(a, b, n_jobs=2, **kw)
    for field in ("row_nn_dist", "row_nn_idx", "col_nn_dist", "col_nn_idx", "row_in_col_balls",
                  "col_in_row_balls", "row_subset_nn_dist", "row_subset_nn_idx", "col_has_row_inside"):
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field), err_msg=field)
    d = cdist(a, b)
    np.testing.assert_array_equal(two.col_nn_idx, d.argmin(0))  # ties to the lowest row
    np.testing.assert_array_equal(two.row_in_col_balls, (d < rb[None, :]).sum(1))
    for x, y in zip(knn_self(b, 6, chunk_elements=2000, n_jobs=1), knn_self(b, 6, chunk_elements=2000, n_jobs=2),
                    strict=True):
        np.testing.assert_array_equal(x, y)


def _prdc_reference(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Dense PRDC as in Naeem et al.'s reference code (small data only)."""
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    r_rad = np.sort(rr, axis=1)[:, k]
    f_rad = np.sort(ff, axis=1)[:, k]
    return {
        "prdc_precision": (rf < r_rad[:, None]).any(axis=0).mean(),
        "prdc_recall": (rf < f_rad[None, :]).any(axis=1).mean(),
        "density": (rf < r_rad[:, None]).sum(axis=0).mean() / k,
        "coverage": (rf.min(axis=1) < r_rad).mean(),
    }


def test_prdc_equals_dense_reference(real, fresh):
    from fairx.data import TabularEncoder

    r, f = real.subset(np.arange(300)), fresh.subset(np.arange(250))
    enc = TabularEncoder(handle_unknown="ignore").fit(r)
    ref = _prdc_reference(enc.encode(r).astype(float), enc.encode(f).astype(float), 5)
    got = synthetic_quality(r, f, metrics=["prdc_precision", "prdc_recall", "density", "coverage"])
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_duplicate_rows_have_empty_balls():
    # every row has 5 exact copies: all 5-NN radii are 0 and nothing is strictly inside a ball
    x = np.repeat(np.random.default_rng(0).normal(size=(50, 8)), 6, axis=0)
    assert (knn_self(x, 5)[0] == 0.0).all()
    got = prdc_scores(x, x, k=5, chunk_elements=1000)
    assert got == {"prdc_precision": 0.0, "prdc_recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_tie_heavy_prdc_equals_exact_brute_force_and_prdc_package():
    from prdc import compute_prdc

    # small integer grid: squared distances are exact integers, so thousands of pairs lie exactly
    # on a ball's edge (and every float64 formula, the prdc package's included, is exact here)
    rng = np.random.default_rng(1)
    real, fake = rng.integers(0, 3, (600, 6)).astype(float), rng.integers(0, 3, (500, 6)).astype(float)
    r_rad = np.sort(cdist(real, real), axis=1)[:, 5]
    assert np.isin(cdist(fake, real), r_rad).sum() > 1000  # many boundary ties
    ref = _prdc_reference(real, fake, 5)
    got = prdc_scores(real, fake, k=5, chunk_elements=4000)  # many small tiles
    pkg = compute_prdc(real, fake, nearest_k=5)
    for key, name in [("prdc_precision", "precision"), ("prdc_recall", "recall"), ("density", "density"),
                      ("coverage", "coverage")]:
        assert got[key] == pytest.approx(ref[key], abs=1e-12), key
        assert got[key] == pytest.approx(pkg[name], abs=1e-6), key
    # fractional coordinates with ties: exact float64 brute force (cdist = direct differences)
    grid = rng.integers(0, 4, (400, 5)) * 0.1
    other = rng.integers(0, 4, (350, 5)) * 0.1
    ref = _prdc_reference(grid, other, 5)
    got = prdc_scores(grid, other, k=5, chunk_elements=3000)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_authenticity_does_not_depend_on_recall_k(real, fresh):
    from fairx.data import TabularEncoder

    opts = dict(embedding="naive", metrics=["authenticity", "beta_recall"])
    k1 = synthetic_quality(real, fresh, recall_k=1, **opts)
    k5 = synthetic_quality(real, fresh, recall_k=5, **opts)
    assert k1["authenticity"] == k5["authenticity"]
    assert k5["beta_recall"] > k1["beta_recall"] + 0.2  # recall_k still changes β-recall
    enc = TabularEncoder(handle_unknown="ignore").fit(real)
    xr, xs = enc.encode(real).astype(float), enc.encode(fresh).astype(float)
    rr = cdist(xr, xr)
    np.fill_diagonal(rr, np.inf)
    sr = cdist(xs, xr)
    nearest = sr.argmin(1)
    expected = np.mean(sr.min(1) > rr.min(1)[nearest])  # methods.md §8, nearest other real row
    assert k1["authenticity"] == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------ analytic cases
def test_fresh_sample_of_the_same_distribution(real, fresh, holdout):
    q = synthetic_quality(real, fresh, holdout=holdout, embedding="naive", **FAST)
    assert q["alpha_precision"] >= 0.9
    assert 0.85 <= q["density"] <= 1.15
    assert q["coverage"] >= 0.9
    assert q["prdc_precision"] >= 0.9 and q["prdc_recall"] >= 0.9
    assert q["beta_recall"] == pytest.approx(1200 / 2399, abs=0.05)
    assert 0.4 <= q["authenticity"] <= 0.6
    assert q["column_fidelity"] >= 0.9 and q["correlation_similarity"] >= 0.9
    assert q["c2st_auc"] == pytest.approx(0.5, abs=0.06) and q["detection_score"] >= 0.88
    assert q["dcr_share"] == pytest.approx(0.5, abs=0.05)
    assert (q["n_real"], q["n_synthetic"], q["n_holdout"]) == (1200, 1200, 1200)
    k5 = synthetic_quality(real, fresh, embedding="naive", recall_k=5, metrics=["beta_recall"])
    assert k5["beta_recall"] >= 0.9


def test_different_sizes(real):
    big = make_synthetic(2400, bias=0.8, seed=5)
    q = synthetic_quality(real, big, embedding="naive", metrics=["beta_recall", "density", "coverage",
                                                                 "alpha_precision"])
    assert q["n_synthetic"] == 2400 and q["n_real"] == 1200
    assert q["beta_recall"] == pytest.approx(2400 / 3599, abs=0.05)
    assert 0.85 <= q["density"] <= 1.15 and q["coverage"] >= 0.95 and q["alpha_precision"] >= 0.9
    small = synthetic_quality(real, big.subset(np.arange(300)), embedding="naive", metrics=["density"])
    assert small["n_synthetic"] == 300 and 0.8 <= small["density"] <= 1.2


def test_exact_copies_of_train(real):
    copies = real.subset(np.random.default_rng(0).permutation(len(real)))
    hold = make_synthetic(1200, bias=0.8, seed=3)
    q = synthetic_quality(real, copies, holdout=hold, embedding="naive",
                          metrics=["authenticity", "dcr_share", "prdc_precision", "coverage"])
    assert q["authenticity"] == 0.0
    assert q["dcr_share"] == pytest.approx(1.0)
    assert q["prdc_precision"] == 1.0 and q["coverage"] == 1.0
    # a holdout half the size: real is subsampled to 600 rows, so only half the copies find
    # their original -> share = 1/2 * 1 + 1/2 * 1/2 = 0.75
    half = synthetic_quality(real, copies, holdout=hold.subset(np.arange(600)), embedding="naive",
                             metrics=["dcr_share"])
    assert half["n_holdout"] == 600 and half["dcr_share"] == pytest.approx(0.75, abs=0.04)


def test_disjoint_region(real):
    frame = real.frame.copy()
    for c in ("skill", "test_score", "proxy"):
        frame[c] = frame[c] + 25.0
    far = real.with_frame(frame)
    q = synthetic_quality(real, far, embedding="naive", **FAST)
    assert q["prdc_precision"] == 0.0 and q["coverage"] == 0.0 and q["density"] == 0.0
    assert q["alpha_precision"] == pytest.approx(0.0, abs=0.02)
    assert q["authenticity"] == 1.0
    assert q["c2st_auc"] > 0.99 and q["detection_score"] < 0.02
    assert q["ks_complement"] < 0.5


def test_dcr_is_nan_without_holdout_and_subsampling_is_reported(real, fresh):
    q = synthetic_quality(real, fresh, max_rows=500, seed=3, embedding="naive",
                          metrics=["dcr_share", "density"])
    assert np.isnan(q["dcr_share"]) and q["n_real"] == 500 and q["n_synthetic"] == 500
    again = synthetic_quality(real, fresh, max_rows=500, seed=3, embedding="naive", metrics=["density"])
    assert again["density"] == q["density"]  # seeded subsample


def test_oneclass_embedding_is_seeded_and_faithful(real, fresh):
    opts = dict(embedding="oneclass", oneclass_epochs=4, metrics=["alpha_precision", "beta_recall"])
    a = synthetic_quality(real, fresh, seed=0, **opts)
    b = synthetic_quality(real, fresh, seed=0, **opts)
    assert a == b
    assert a["alpha_precision"] >= 0.85
    frame = real.frame.copy()
    for c in ("skill", "test_score", "proxy", "years"):
        frame[c] = frame[c] * 8.0 + 40.0
    assert synthetic_quality(real, real.with_frame(frame), seed=0, **opts)["alpha_precision"] < 0.3
    import torch

    before = torch.get_num_threads()
    capped = synthetic_quality(real, fresh, seed=0, n_threads=1, **opts)
    assert torch.get_num_threads() == before  # restored
    assert capped["alpha_precision"] == pytest.approx(a["alpha_precision"], abs=1e-6)


def test_oneclass_child_process_is_bit_identical(real, fresh, monkeypatch, caplog):
    pytest.importorskip("torch")
    from fairx.data import TabularEncoder
    from fairx.metrics._oneclass import oneclass_embed, start_oneclass_process

    enc = TabularEncoder(numerical="standard").fit(real)
    xr, xs = enc.encode(real)[:400], enc.encode(fresh)[:300]
    er, (es,), _ = oneclass_embed(xr, [xs], seed=3, epochs=3, n_threads=1)
    child = start_oneclass_process(xr, [xs], seed=3, epochs=3)
    assert child is not None
    cr, (cs,), info = child()
    assert np.array_equal(cr, er) and np.array_equal(cs, es) and info["process_seconds"] > 0
    # a child that fails is logged and redone in-process: same values
    monkeypatch.setattr("sys.executable", "/bin/false")
    failing = start_oneclass_process(xr, [xs], seed=3, epochs=3)
    fr, (fs,), _ = failing()
    assert np.array_equal(fr, er) and np.array_equal(fs, es)
    assert "child process failed" in caplog.text


def test_oneclass_optimizer_is_torch_adamw():
    torch = pytest.importorskip("torch")
    from fairx.metrics._oneclass import _AdamW
    from fairx.nn import mlp

    torch.manual_seed(0)
    a, b = mlp([6, 32, 6], bias=False), mlp([6, 32, 6], bias=False)
    b.load_state_dict(a.state_dict())
    opts = (torch.optim.AdamW(a.parameters(), lr=2e-3, weight_decay=2e-3),
            _AdamW(torch, b.parameters(), lr=2e-3, weight_decay=2e-3))
    x = torch.randn(64, 6)
    for _ in range(50):
        for net, opt in zip((a, b), opts, strict=True):
            loss = ((net(x) - 10.0) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ formulas
def test_alpha_precision_formula():
    radii = np.linspace(0, 1, 1001)
    assert alpha_precision_score(radii, radii) == pytest.approx(1.0, abs=0.01)
    # all synthetic rows at the centre: P_alpha = 1 for every alpha -> 1 - sum(1 - a) / sum(a) = 0
    assert alpha_precision_score(radii, np.zeros(50)) == pytest.approx(0.0)


def test_column_fidelity_and_cramers_v_known_values():
    real = make_synthetic(400, seed=0)
    other = make_synthetic(300, seed=9)
    cf = column_fidelity(real, other)
    ks = [1 - ks_2samp(real.frame[c], other.frame[c]).statistic for c in real.numerical]
    tv = []
    for c in real.categorical:
        p = real.frame[c].value_counts(normalize=True)
        q = other.frame[c].value_counts(normalize=True)
        p, q = p.align(q, fill_value=0)
        tv.append(1 - 0.5 * np.abs(p - q).sum())
    assert cf["ks_complement"] == pytest.approx(np.mean(ks))
    assert cf["tv_complement"] == pytest.approx(np.mean(tv))
    assert cf["column_fidelity"] == pytest.approx(np.mean(ks + tv))
    x, y = pd.factorize(real.frame["group"])[0], pd.factorize(real.frame["hired"])[0]
    table = pd.crosstab(x, y).to_numpy()
    assert cramers_v(x, y, 2, 2) == pytest.approx(contingency.association(table, method="cramer"))
    assert correlation_similarity(real, real) == pytest.approx(1.0)


def test_schema_problems_and_options(real):
    with pytest.raises(ValueError, match="lacks column"):
        synthetic_quality(real, real.frame.drop(columns=["skill"]))
    with pytest.raises(ValueError, match="unknown quality metric"):
        synthetic_quality(real, real, metrics=["fid"])
    with pytest.raises(ValueError, match="embedding"):
        synthetic_quality(real, real, embedding="pca")


def test_import_stays_torch_free(fresh_import_modules):
    # import fairx.metrics, fairx; fairx.evaluate in a fresh interpreter
    assert "torch" not in fresh_import_modules
