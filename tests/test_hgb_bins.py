"""The hgb pipeline's numeric bin codes (fairx.metrics._hgb_bins): the same model unweighted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from fairx.metrics._hgb_bins import QuantileBinCodes


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.exponential(size=n), rng.integers(0, 20, n).astype(float)])
    x[rng.random(n) < 0.05, 0] = np.nan  # missing values pass through
    y = (np.nan_to_num(x[:, 0]) + 0.5 * x[:, 1] - 0.1 * x[:, 2] + rng.normal(size=n) > 0).astype(int)
    return x, y


def test_codes_give_the_same_unweighted_model():
    """HistGradientBoosting on the codes = HistGradientBoosting on the raw values (same bins)."""
    x, y = _data()
    codes = QuantileBinCodes().fit(x)
    assert codes.thresholds_[2] is None  # 20 distinct values: passed unchanged
    z = codes.transform(x)
    assert np.unique(z[~np.isnan(z[:, 0]), 0]).size <= 255 and np.isnan(z[:, 0]).sum() == np.isnan(x[:, 0]).sum()
    np.testing.assert_array_equal(z[:, 2], x[:, 2])
    raw = HistGradientBoostingClassifier(random_state=0).fit(x, y)
    coded = HistGradientBoostingClassifier(random_state=0).fit(z, y)
    x_new, _ = _data(500, seed=1)
    np.testing.assert_array_equal(raw.predict_proba(x_new), coded.predict_proba(codes.transform(x_new)))


def test_codes_follow_the_bin_rule_at_the_edges():
    x = np.arange(1000, dtype=float)[:, None]
    codes = QuantileBinCodes(max_bins=4).fit(x)
    edges = codes.thresholds_[0]
    assert edges.size == 3
    # t[i-1] < v <= t[i] -> i; below the first edge 0, above the last edge 3
    got = codes.transform(np.array([[-5.0], [edges[0]], [edges[0] + 1e-9], [edges[2] + 1.0], [1e9]]))
    np.testing.assert_array_equal(got[:, 0], [0, 0, 1, 3, 3])


@pytest.mark.parametrize("weighted", [False, True])
def test_hgb_pipeline_runs_with_and_without_weights(weighted):
    import pandas as pd

    from fairx.metrics._utility import _make_estimator

    x, y = _data()
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    model = _make_estimator("hgb", seed=0, categorical=[], numerical=["a", "b", "c"])
    kw = {"model__sample_weight": np.random.default_rng(0).random(len(y)) + 0.5} if weighted else {}
    model.fit(frame, y, **kw)
    assert 0.7 < (model.predict(frame) == y).mean() <= 1.0
