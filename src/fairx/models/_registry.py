"""One registry for every method: ``get(name, preset=..., **params)`` and ``available()``.

Entries are lazy (``"module:Class"``) so that listing methods does not import torch. Method
catalogues (``_catalog_*.py``) register their entries when the registry is first used.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._base import FairMethod

_CATALOGUES = ("fairx.models._catalog_baselines", "fairx.models._catalog_latent")


@dataclass(frozen=True)
class MethodEntry:
    name: str
    target: str  # "module:Class"
    stage: str
    kind: str  # "tabular", "tabular+image"
    description: str
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters pinned by this name


_ENTRIES: dict[str, MethodEntry] = {}
_loaded = False


def register(name: str, target: str, *, stage: str, description: str, kind: str = "tabular",
             **fixed: Any) -> None:
    """Add a method. ``fixed`` pins parameters for variants (e.g. ``fldgm-ddpm``)."""
    _ENTRIES[name] = MethodEntry(name, target, stage, kind, description, dict(fixed))


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in _CATALOGUES:
            importlib.import_module(module)
        _loaded = True


def entry(name: str) -> MethodEntry:
    _ensure_loaded()
    key = name.lower().replace("_", "-") if name.lower().replace("_", "-") in _ENTRIES else name.lower()
    if key not in _ENTRIES:
        close = difflib.get_close_matches(name.lower(), list(_ENTRIES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown method {name!r}.{hint} Available: {', '.join(sorted(_ENTRIES))}")
    return _ENTRIES[key]


def method_class(name: str) -> type[FairMethod]:
    module, cls = entry(name).target.split(":")
    return getattr(importlib.import_module(module), cls)


def get(name: str, preset: str | None = None, **params: Any) -> FairMethod:
    """A new, unfitted method. ``preset`` (``"paper"``, ``"default"``, ``"fast"``) applies the
    class's preset overrides; explicit ``params`` win over both preset and variant."""
    e = entry(name)
    cls = method_class(name)
    merged: dict[str, Any] = {}
    if preset is not None:
        presets = getattr(cls, "presets", {})
        if preset not in presets and preset != "default":
            raise KeyError(f"method {name!r} has no preset {preset!r}; presets: {sorted(presets) or ['default']}")
        merged.update(presets.get(preset, {}))
    merged.update(e.fixed)
    merged.update(params)
    valid = cls().get_params()
    bad = [k for k in merged if k not in valid]
    if bad:
        raise TypeError(f"method {name!r} has no parameter(s) {bad}; parameters: {sorted(valid)}")
    return cls(**merged)


def available() -> pd.DataFrame:
    """One row per registered method: name, stage, kind, description."""
    _ensure_loaded()
    rows = [{"name": e.name, "stage": e.stage, "kind": e.kind, "description": e.description}
            for e in _ENTRIES.values()]
    order = {"reference": 0, "pre": 1, "in": 2, "post": 3, "generator": 4}
    rows.sort(key=lambda r: (order.get(r["stage"], 9), r["name"]))
    return pd.DataFrame(rows, columns=["name", "stage", "kind", "description"])
