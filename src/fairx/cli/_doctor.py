"""``fairx doctor``: what a bug report needs — versions, torch build, extras, data cache."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import typer

from .._version import __version__
from ..data import available_datasets, data_home, dataset_info
from ._common import console

CORE = ("numpy", "pandas", "scikit-learn", "scipy", "fairlearn", "rich", "typer", "pooch",
        "safetensors", "matplotlib")
#: optional extras of pyproject: extra name -> distributions it brings
EXTRAS = {"explain": ("shap",), "dask": ("distributed",), "parquet": ("pyarrow",),
          "xgboost": ("xgboost",), "dev": ("pytest", "ruff")}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _torch_line() -> str:
    try:
        # heavy (torch): imported when the command runs, so `fairx --help` stays fast
        import torch
    except ImportError:
        return "not installed (needed by the torch models: pip install -c constraints.txt -e .)"
    cuda = torch.version.cuda
    if cuda is None:
        return f"{torch.__version__} (CPU build)"
    found = torch.cuda.is_available()
    gpus = f"{torch.cuda.device_count()} GPU(s) visible" if found else "no GPU visible"
    return f"{torch.__version__} (CUDA {cuda} build, {gpus})"


def _cache_lines() -> list[str]:


    home = data_home()
    source = "$FAIRX_DATA_HOME" if os.environ.get("FAIRX_DATA_HOME") else "user cache dir"
    lines = [f"data cache: {home} ({source}{'' if home.is_dir() else ', not created yet'})"]
    present, missing = [], []
    for name in available_datasets()["name"]:
        files = dataset_info(name).files
        if not files or any(f.endswith("/") for f in files):
            continue
        (present if all((home / f).is_file() for f in files) else missing).append(name)
    lines.append(f"datasets in the cache: {', '.join(present) or 'none'}")
    if missing:
        lines.append(f"not fetched yet: {', '.join(missing)} (fairx datasets fetch NAME | --all)")
    return lines


def doctor() -> None:
    """Versions of fairx, Python, torch (CPU/CUDA build), the libraries and optional extras, and
    the dataset cache: paste this into a bug report."""
    rows = [("fairx", __version__),
            ("python", f"{platform.python_version()} ({sys.executable})"),
            ("platform", platform.platform()),
            ("torch", _torch_line())]
    rows += [(dist, _version(dist)) for dist in CORE]
    for extra, dists in EXTRAS.items():
        rows.append((f"[{extra}]", ", ".join(f"{d} {_version(d)}" for d in dists)))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        console.print(f"{key:<{width}}  {value}", highlight=False, markup=False, soft_wrap=True)
    for line in _cache_lines():
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``fairx doctor``."""
    app.command("doctor")(doctor)
