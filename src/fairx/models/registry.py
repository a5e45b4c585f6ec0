"""One registry for every method: ``get(name, preset=..., **params)`` and ``available()``.

Entries are lazy (``"module:Class"``) so that listing methods does not import torch. Method
catalogues (``_catalog_*.py``) register their entries when the registry is first used.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
from sklearn.base import clone

from .presets import preset_params

if TYPE_CHECKING:  # the classes are imported lazily, by their "module:Class" strings
    from .base import FairMethod

_CATALOGUES = ("fairx.models.baselines.catalog", "fairx.models.fair_latent.catalog")


@dataclass(frozen=True)
class MethodEntry:
    name: str
    target: str  # "module:Class"
    stage: str
    kind: str  # "tabular", "tabular+image"
    description: str
    fixed: dict[str, Any] = field(default_factory=dict)  # parameters pinned by this name
    image_target: str | None = None  # "module:Class" used for ImageDataset training sets


_ENTRIES: dict[str, MethodEntry] = {}
_loaded = False


def register(name: str, target: str, *, stage: str, description: str, kind: str = "tabular",
             image_target: str | None = None, **fixed: Any) -> None:
    """Add a method. ``fixed`` pins parameters for variants (e.g. ``fldgm-ddpm``);
    ``image_target`` is the class used when the training set is an ``ImageDataset``."""
    _ENTRIES[name] = MethodEntry(name, target, stage, kind, description, dict(fixed), image_target)


# the fair-latent methods that train on images (methods.md §9): the same classes as on tables
# (their codec follows the training data), with the classes' ``image_presets``; used when an
# entry has no image_target of its own
_IMAGE_DEFAULTS = {
    "fairdisco": "fairx.models.fair_latent.fair_vae:FairVAE",
    "fldgm": "fairx.models.fair_latent.fldgm:FLDGM",
    "fldgm-wgan-gp": "fairx.models.fair_latent.fldgm:FLDGM",
    "fldgm-lsgan": "fairx.models.fair_latent.fldgm:FLDGM",
    "fldgm-ddpm": "fairx.models.fair_latent.fldgm:FLDGM",
    "fair4free": "fairx.models.fair_latent.fair4free:Fair4Free",
    "fairdistill": "fairx.models.fair_latent.fairdistill:FairDistill",
}


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for module in _CATALOGUES:
            importlib.import_module(module)
        _loaded = True


def entry(name: str) -> MethodEntry:
    _ensure_loaded()
    candidates = (name.lower(), name.lower().replace("_", "-"), name.lower().replace("-", "_"))
    key = next((k for k in candidates if k in _ENTRIES), name.lower())
    if key not in _ENTRIES:
        close = difflib.get_close_matches(name.lower(), list(_ENTRIES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise KeyError(f"unknown method {name!r}.{hint} Available: {', '.join(sorted(_ENTRIES))}")
    return _ENTRIES[key]


def image_target(name: str) -> str | None:
    """The ``"module:Class"`` that trains ``name`` on images, or None when it has none."""
    e = entry(name)
    return e.image_target or _IMAGE_DEFAULTS.get(e.name)


def method_class(name: str, kind: str = "tabular") -> type[FairMethod]:
    """The class of ``name``; ``kind="image"`` checks that it trains on images (KeyError if
    not) and gives the class that does (the fair-latent classes serve both kinds)."""
    target = entry(name).target
    if kind == "image":
        target = image_target(name)
        if target is None:
            supported = sorted(e.name for e in _ENTRIES.values() if image_target(e.name))
            raise KeyError(f"method {name!r} has no image variant; image methods: {supported}")
    elif kind != "tabular":
        raise ValueError(f"kind={kind!r}; allowed: 'tabular', 'image'")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def get_for(dataset: Any, name: str, preset: str | None = None, **params: Any) -> FairMethod:
    """Like :func:`get`, choosing the image class when ``dataset`` is an ``ImageDataset``."""
    kind = "image" if getattr(dataset, "kind", "tabular") == "image" else "tabular"
    return get(name, preset, kind=kind, **params)


def get(name: str, preset: str | None = None, *, kind: str = "tabular", **params: Any) -> FairMethod:
    """A new, unfitted method. ``preset`` (``"paper"``, ``"default"``, ``"fast"``) applies the
    class's preset overrides; explicit ``params`` win over both preset and variant.
    ``kind="image"`` applies the class's image presets (no preset: the image ``default``), see
    :func:`get_for`."""
    e = entry(name)
    cls = method_class(name, kind)
    merged = preset_params(cls, preset, what=f"method {name!r}", kind=kind)
    valid = parameter_names(cls)
    # a variant's pinned parameters apply to the image class only where it has them
    merged.update(e.fixed if kind == "tabular" else {k: v for k, v in e.fixed.items() if k in valid})
    merged.update(params)
    bad = [k for k in merged if k not in valid]
    if bad:
        renamed = {k: cls.renamed_params[k] for k in bad if k in cls.renamed_params}
        hint = f" (renamed: {renamed})" if renamed else ""
        raise TypeError(f"method {name!r} has no parameter(s) {bad}{hint}; parameters: {sorted(valid)}")
    nested = {k: v for k, v in merged.items() if "__" in k}
    flat = {k: v for k, v in merged.items() if "__" not in k}
    for prefix in {k.split("__", 1)[0] for k in nested}:
        inner = flat.get(prefix)
        flat[prefix] = cls.nested_params[prefix]() if inner is None else clone(inner)
    return cls(**flat).set_params(**nested)


def parameter_names(cls: type[FairMethod]) -> set[str]:
    """The parameters ``get`` accepts for ``cls``: its own and, for nested estimator parameters
    (``teacher``), ``teacher__<name>`` for each of the nested class's."""
    names = set(cls().get_params(deep=False))
    for prefix, inner in getattr(cls, "nested_params", {}).items():
        names.update(f"{prefix}__{k}" for k in inner().get_params(deep=False))
    return names


def available() -> pd.DataFrame:
    """One row per registered method: name, stage, kind, description."""
    _ensure_loaded()
    rows = [{"name": e.name, "stage": e.stage,
             "kind": e.kind + ("+image" if "image" not in e.kind and image_target(e.name) else ""),
             "description": e.description}
            for e in _ENTRIES.values()]
    order = {"reference": 0, "pre": 1, "in": 2, "post": 3, "generator": 4}
    rows.sort(key=lambda r: (order.get(r["stage"], 9), r["name"]))
    return pd.DataFrame(rows, columns=["name", "stage", "kind", "description"])
