"""Shared plumbing of the built-in dataset loaders (one module per dataset uses it)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._dataset import DatasetError, TabularDataset, _as_list
from ._download import RemoteFile, fetch_file
from ._registry import dataset_info


def fetch(remote: RemoteFile, data_home: str | os.PathLike[str] | None, download: bool):
    """Local verified path of one built-in file (see :func:`fetch_file`)."""
    return fetch_file(remote, home=data_home, download=download)


def resolve_target(dataset: str, target: str | None, allowed: Sequence[str]) -> str:
    """The target column: ``allowed[0]`` by default; anything outside ``allowed`` is an error."""
    if target is None:
        return allowed[0]
    if target not in allowed:
        raise DatasetError(f"dataset {dataset!r} supports target(s) {list(allowed)}, not {target!r}")
    return target


def check_choice(dataset: str, option: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        raise DatasetError(f"dataset {dataset!r}: {option}={value!r}; allowed: {list(allowed)}")


def check_rows(dataset: str, filename: str, frame: pd.DataFrame, expected: int) -> None:
    """Guard against a wrong or truncated file: the raw row count is known."""
    if len(frame) != expected:
        raise DatasetError(f"dataset {dataset!r}: {filename} has {len(frame)} data rows, "
                           f"expected {expected}; the file is not the pinned upstream version")


def check_sensitive(dataset: str, sensitive: str | Sequence[str] | None,
                    allowed: Sequence[str], default: Sequence[str]) -> list[str]:
    chosen = _as_list(sensitive) or list(default)
    unknown = [s for s in chosen if s not in allowed]
    if unknown:
        raise DatasetError(f"dataset {dataset!r} has no sensitive attribute {unknown}; "
                           f"available: {list(allowed)}")
    return chosen


def finish(frame: pd.DataFrame, *, name: str, target: str, sensitive: list[str], positive_label: Any,
           categorical: Sequence[str] = (), meta: dict[str, Any]) -> TabularDataset:
    """Build the dataset: a target that is also asked as sensitive is an error; sensitive and
    ``categorical`` columns are typed categorical, numeric others numerical."""
    if target in sensitive:
        raise DatasetError(f"dataset {name!r}: {target!r} cannot be both the target and sensitive")
    return TabularDataset.from_frame(
        frame.reset_index(drop=True), target=target, sensitive=sensitive,
        positive_label=positive_label, categorical=[c for c in categorical if c in frame.columns],
        missing="drop", name=name, meta=meta)


def download_dataset(name: str, *, data_home: str | os.PathLike[str] | None = None,
                     download: bool = True, progress: bool | None = None) -> list[Path]:
    """Fetch (or verify) every file of built-in dataset ``name`` into the cache; their paths.

    A dataset module lists its files in ``REMOTE_FILES`` (those of ``name`` are the ones named
    in its registry entry); datasets without files (generated ones, local folders) raise.
    A module's ``verify_files(paths)``, when present, checks content the pins cannot (MNIST).
    """
    info = dataset_info(name)
    module = importlib.import_module(info.loader.split(":")[0])
    remotes = [r for r in getattr(module, "REMOTE_FILES", ()) if r.relpath in info.files]
    if not remotes:
        raise DatasetError(f"dataset {info.name!r} has no files to download")
    paths = [fetch_file(r, home=data_home, download=download, progress=progress) for r in remotes]
    verify = getattr(module, "verify_files", None)
    if verify is not None:
        verify(paths)
    return paths
