"""Test setup: the dataset cache, one torch thread, headless matplotlib.

Tests that read a real dataset file carry ``@pytest.mark.needs_data(NAME_OR_FILE, ...)``: the
file is looked up in the same cache as users get (``$FAIRX_DATA_HOME``, else the user cache
dir); when it is not there the test is skipped with a reason naming the file and how to fetch
it (``fairx datasets fetch NAME``). Everything else runs with no files at all.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _missing(item: str, home: Path) -> str | None:
    """None when ``item`` (a built-in dataset name or a cache-relative file) is in the cache,
    else the skip reason."""
    from fairx.data import DatasetError, dataset_info

    try:
        files = dataset_info(item).files
    except DatasetError:  # a file of the offline copy, not a registry dataset
        if (home / item).exists():
            return None
        return (f"needs {item} in the dataset cache {home}; it comes only with the offline copy: "
                "set FAIRX_DATA_HOME to that folder (CI uses ../shared/datasets)")
    absent = [f for f in files if not (home / f).exists()]
    if not absent:
        return None
    return (f"needs {absent[0]} in the dataset cache {home}: run 'fairx datasets fetch {item}' "
            "(or set FAIRX_DATA_HOME to a folder that holds it)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    from fairx.data import data_home

    for mark in item.iter_markers("needs_data"):
        for name in mark.args:
            reason = _missing(name, data_home())
            if reason:
                pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    """Keep torch, BLAS and OpenMP to one thread each so parallel test workers do not fight over
    the 2 cores (with BLAS at its default 2 threads per worker, the fair-data tests of FairDisCo
    and Fair4Free took 12-14 s instead of 5-7 s)."""
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:  # pragma: no cover
        with threadpool_limits(limits=1):
            yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def data_home() -> Path:
    """The dataset cache the tests read (the users' one)."""
    from fairx.data import data_home

    return data_home()


@pytest.fixture(scope="session")
def biased():
    """The planted-bias synthetic dataset (strong bias), shared by many tests."""
    from fairx.data import make_synthetic

    return make_synthetic(3000, bias=0.8, seed=0)


HEAVY_MODULES = ("torch", "shap", "dask", "matplotlib")


@pytest.fixture(scope="session")
def fresh_import_modules() -> set[str]:
    """Which of ``HEAVY_MODULES`` a fresh interpreter holds after the light entry points:
    ``import fairx, fairx.data, fairx.models, fairx.metrics``, ``fairx.models.available()`` and
    the ``fairx.evaluate`` attribute. One subprocess for every "import stays light" test: a
    module absent after all of these is absent after any subset of them."""
    import json
    import subprocess
    import sys

    code = ("import json, sys, fairx, fairx.data, fairx.models, fairx.metrics\n"
            "fairx.models.available(); fairx.evaluate\n"
            f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))
