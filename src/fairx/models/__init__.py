"""Every fairx method behind one registry: ``fairx.models.get("fair4free", preset="fast")``."""

from ._base import (
    FairClassifier,
    FairGenerator,
    FairMethod,
    NotFittedError,
    Postprocessor,
    Preprocessor,
)
from ._registry import available, get, method_class, register

__all__ = [
    "FairClassifier", "FairGenerator", "FairMethod", "NotFittedError", "Postprocessor",
    "Preprocessor", "available", "get", "method_class", "register",
]
