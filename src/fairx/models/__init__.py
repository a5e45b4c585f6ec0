"""Every fairx method behind one registry: ``fairx.models.get("fair4free", preset="fast")``."""

import importlib

from .base import (
    FairClassifier,
    FairGenerator,
    FairMethod,
    NotFittedError,
    Postprocessor,
    Preprocessor,
)
from .registry import available, get, get_for, method_class, register

__all__ = [
    "FairClassifier", "FairGenerator", "FairMethod", "NotFittedError", "Postprocessor",
    "Preprocessor", "available", "get", "get_for", "method_class", "register",
    "FLDGM", "FairVAE", "FairDistill", "Fair4Free",
]

# torch-backed models are imported on first use so that ``import fairx.models`` stays light
_LAZY = {
    "FairVAE": "fairx.models.fair_latent.fair_vae",
    "FairDistill": "fairx.models.fair_latent.fairdistill",
    "Fair4Free": "fairx.models.fair_latent.fair4free",
    "FLDGM": "fairx.models.fair_latent.fldgm",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fairx.models' has no attribute {name!r}")
