"""Save and load fitted methods as ``config.json`` + ``weights.safetensors`` — never pickle.

A saved model from someone else must not be able to run code: JSON holds the registry name,
the hyper-parameters and small state; safetensors holds the arrays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._version import __version__
from .registry import method_class

if TYPE_CHECKING:  # base imports this module (FairMethod.save / load)
    from .base import FairMethod

CONFIG = "config.json"
WEIGHTS = "weights.safetensors"


_NESTED = "fairx_method"  # marks a nested estimator parameter (e.g. a teacher) in config.json


def _jsonable(value: Any) -> Any:
    if hasattr(value, "get_params") and hasattr(value, "name"):  # a nested fairx method
        return {_NESTED: value.name, "kind": getattr(value, "data_kind", "tabular"),
                "params": _jsonable(value.get_params(deep=False))}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _restore(value: Any) -> Any:
    """Inverse of :func:`_jsonable` for nested methods: rebuilt through the registry by name."""
    if isinstance(value, dict) and _NESTED in value:
        cls = method_class(value[_NESTED], value.get("kind", "tabular"))
        return cls(**cls._params_from_saved({k: _restore(v) for k, v in value["params"].items()}))
    return value


def save_method(method: FairMethod, path: str | Path) -> Path:
    from safetensors.numpy import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state, arrays = method._get_state()
    config = {
        "fairx_version": __version__,
        "method": method.name,
        # which of the registry's classes for ``method`` (tabular or image variant) to rebuild;
        # loading resolves it through the registry, never by importing the "class" string
        "kind": getattr(method, "data_kind", "tabular"),
        "class": f"{type(method).__module__}:{type(method).__name__}",
        "params": _jsonable(method.get_params(deep=False)),
        "state": _jsonable(state),
    }
    arrays = {k: np.ascontiguousarray(np.asarray(v)) for k, v in arrays.items()}
    tmp = path / (WEIGHTS + ".tmp")
    save_file(arrays, str(tmp))
    tmp.replace(path / WEIGHTS)
    (path / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))
    return path


def read_saved(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON config and arrays of a saved model folder, with clear errors."""
    from safetensors.numpy import load_file

    path = Path(path)
    if not (path / CONFIG).is_file():
        raise FileNotFoundError(f"{path} is not a saved fairx model: {CONFIG} is missing")
    config = json.loads((path / CONFIG).read_text())
    arrays = load_file(str(path / WEIGHTS)) if (path / WEIGHTS).is_file() else {}
    return config, arrays


def load_method(path: str | Path, expected: type[FairMethod] | None = None) -> FairMethod:
    config, arrays = read_saved(path)
    kind = config.get("kind", "tabular")  # files written before "kind" existed are tabular
    try:
        cls = method_class(config["method"], kind)
    except (KeyError, ValueError) as err:
        msg = err.args[0] if err.args else str(err)
        raise ValueError(f"{Path(path) / CONFIG}: cannot load method {config.get('method')!r} "
                         f"of kind {kind!r}: {msg}") from err
    if expected is not None and not issubclass(cls, expected):
        raise TypeError(f"{path} holds a {cls.__name__}, not a {expected.__name__}")
    method = cls(**cls._params_from_saved({k: _restore(v) for k, v in config["params"].items()}))
    method._set_state(config["state"], arrays)
    return method
