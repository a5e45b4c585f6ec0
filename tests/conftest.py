"""Test setup: offline datasets, one torch thread, headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
os.environ.setdefault("FAIRX_DATA_HOME", str(SHARED_DATA))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    """Keep torch to one thread so parallel test workers do not fight over the 2 cores."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def data_home() -> Path:
    return Path(os.environ["FAIRX_DATA_HOME"])


@pytest.fixture(scope="session")
def biased():
    """The planted-bias synthetic dataset (strong bias), shared by many tests."""
    from fairx.data import make_synthetic

    return make_synthetic(3000, bias=0.8, seed=0)
