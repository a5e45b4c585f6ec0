"""Thread caps of the metric calls: free cores by default, torch and BLAS together, restored."""

from __future__ import annotations

import os

import pytest
from threadpoolctl import threadpool_info

from fairx.data import make_synthetic
from fairx.metrics import default_threads, synthetic_quality, thread_limit
from fairx.metrics._threads import usable_cores


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_default_is_the_free_cores(monkeypatch):
    cores = usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert default_threads() == cores  # quiet machine: every core
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 7.0, 0.0, 0.0))
    assert default_threads() == 1  # busy machine: never more threads than free cores
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 1.0, 0.0, 0.0))
    assert default_threads() == 1
    with pytest.raises(ValueError, match="n_threads=0"):
        with thread_limit(0):
            pass


def test_torch_and_blas_are_capped_together_and_restored():
    torch = pytest.importorskip("torch")
    torch_before, blas_before = torch.get_num_threads(), _blas_threads()
    with thread_limit(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
        assert all(t == 1 for t in _blas_threads())
    assert torch.get_num_threads() == torch_before and _blas_threads() == blas_before
    # a plain call (default threads, one-class embedding in torch) leaves nothing behind
    real, fresh = make_synthetic(300, seed=0), make_synthetic(300, seed=1)
    torch.set_num_threads(2)  # (torch's OpenMP pool is one of threadpoolctl's pools)
    try:
        pools = _blas_threads()
        q = synthetic_quality(real, fresh, metrics=["alpha_precision"], oneclass_epochs=2)
        assert 0 <= q["alpha_precision"] <= 1
        assert torch.get_num_threads() == 2 and _blas_threads() == pools
    finally:
        torch.set_num_threads(torch_before)
