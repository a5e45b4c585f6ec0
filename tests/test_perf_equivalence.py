"""Fast paths equal the plain computations they replace, bit for bit (issue #13)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("case", ["shifted", "scaled", "shared rows", "identical", "odd sizes"])
def test_no_grad_mmd_equals_rbf_mmd2_bit_for_bit(case):
    """rbf_mmd2's in-place path (no gradient to record) equals its differentiable path, and
    the partition median equals torch's masked median."""
    from fairx.nn._mmd import _median_positive, rbf_mmd2

    rng = np.random.default_rng(len(case))
    x = torch.as_tensor(rng.standard_normal((300, 6)), dtype=torch.float32)
    y = torch.as_tensor(rng.standard_normal((300, 6)), dtype=torch.float32)
    if case == "shifted":
        y = y + 0.4
    elif case == "scaled":
        x, y = 3.0 * x, 0.5 * y
    elif case == "shared rows":
        y[:40] = x[:40]  # exact zero distances off the diagonal are left out of the median
    elif case == "identical":
        y = x.clone()
    else:
        x, y = x[:257], y[:131]
    expected = float(rbf_mmd2(x.clone().requires_grad_(), y).detach())  # the loss path
    assert float(rbf_mmd2(x, y)) == expected
    if case == "identical":
        assert expected == 0.0
    d2 = torch.cdist(torch.cat([x, y]), torch.cat([x, y])).pow(2)
    assert _median_positive(d2) == d2[d2 > 0].median().clamp_min(1e-6)


def test_mmd_of_constant_rows_is_zero():
    from fairx.nn._mmd import rbf_mmd2

    x = torch.ones(20, 3)
    assert float(rbf_mmd2(x, x.clone())) == 0.0
    assert float(rbf_mmd2(x.clone().requires_grad_(), x.clone()).detach()) == 0.0


def test_chain_stationarity_known_ratios():
    """A chain whose first step moves (shifted mean) and then stays: ratio far above 2 at step 0,
    near the noise floor (about 1) afterwards."""
    from fairx.nn._distill import chain_stationarity, choose_stationary_step

    rng = np.random.default_rng(0)
    chain = [rng.standard_normal((800, 4)) + (1.0 if j == 0 else 0.0) for j in range(4)]
    ratios = chain_stationarity(chain, np.random.default_rng(1), rows=400)
    assert ratios[0] > 10 and all(r < 2.5 for r in ratios[1:])
    assert choose_stationary_step(ratios) == 1
