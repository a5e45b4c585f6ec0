"""The dataset registry: one entry per built-in dataset, loaded lazily by name."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from ._dataset import DatasetError, TabularDataset, _as_list


@dataclass(frozen=True)
class DatasetInfo:
    """What a built-in dataset offers. ``loader`` is ``"module:function"``, imported on use;
    it is called as ``loader(sensitive=[...], target=..., **options)``."""

    name: str
    loader: str
    target: str
    sensitive: tuple[str, ...]
    default_sensitive: tuple[str, ...]
    description: str
    kind: Literal["tabular", "image"] = "tabular"
    files: tuple[str, ...] = ()


_REGISTRY: dict[str, DatasetInfo] = {}


def register_dataset(info: DatasetInfo) -> None:
    _REGISTRY[info.name] = info


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; unknown names get close-match suggestions."""
    key = name.lower().replace("-", "_")
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise DatasetError(
            f"unknown dataset {name!r}.{hint} Available: {', '.join(sorted(_REGISTRY))}; "
            "for your own table use load_csv / load_parquet."
        )
    return _REGISTRY[key]


def load_dataset(
    name: str,
    *,
    sensitive: str | Sequence[str] | None = None,
    target: str | None = None,
    **options: Any,
) -> TabularDataset:
    """Load a built-in dataset by name, e.g. ``load_dataset("adult", sensitive="sex")``.

    ``sensitive`` may name one or several of the dataset's sensitive attributes (default: the
    dataset's usual one); ``options`` go to the dataset's loader (see ``fairx datasets show``).
    """
    info = dataset_info(name)
    chosen = _as_list(sensitive) or list(info.default_sensitive)
    unknown = [s for s in chosen if s not in info.sensitive]
    if unknown:
        raise DatasetError(
            f"dataset {info.name!r} has no sensitive attribute {unknown}; "
            f"available: {list(info.sensitive)}"
        )
    module, func = info.loader.split(":")
    loader = getattr(importlib.import_module(module), func)
    return loader(sensitive=chosen, target=target, **options)


def available_datasets() -> pd.DataFrame:
    """One row per built-in dataset: name, kind, target, sensitive attributes, description."""
    rows = [
        {"name": i.name, "kind": i.kind, "target": i.target,
         "sensitive": ", ".join(i.sensitive), "default_sensitive": ", ".join(i.default_sensitive),
         "description": i.description}
        for i in sorted(_REGISTRY.values(), key=lambda i: i.name)
    ]
    return pd.DataFrame(rows)


def _load_synthetic(sensitive: list[str], target: str | None, **options: Any) -> TabularDataset:
    from ._synthetic import make_synthetic

    if target not in (None, "hired"):
        raise DatasetError(f"dataset 'synthetic' has target 'hired', not {target!r}")
    return make_synthetic(**options)


register_dataset(DatasetInfo(
    name="synthetic", loader="fairx.data._registry:_load_synthetic", target="hired",
    sensitive=("group",), default_sensitive=("group",),
    description="Seeded table with a planted, tunable bias (options: n_samples, bias, seed); no files.",
))
