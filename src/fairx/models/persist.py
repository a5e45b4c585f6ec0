"""Save and load fitted methods as ``config.json`` + ``weights.safetensors`` — never pickle.

A saved model from someone else must not be able to run code: JSON holds the registry name,
the hyper-parameters and small state; safetensors holds the arrays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import atomic_path, write_text
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
    # heavy (safetensors): imported when used, so `import fairx` stays light
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
    with atomic_path(path / WEIGHTS) as tmp:
        save_file(arrays, str(tmp))
    write_text(path / CONFIG, json.dumps(config, indent=2, sort_keys=True))
    return path


def read_saved(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON config and arrays of a saved model folder, with clear errors.

    Refused before anything is built: a config that is not a JSON object, a missing, corrupt,
    empty or non-finite (NaN/inf) weights file, negative sizes, and sizes larger than the
    weights could hold.
    """
    # heavy (safetensors): imported when used, so `import fairx` stays light
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model folder {str(path)!r} does not exist")
    if not (path / CONFIG).is_file():
        raise FileNotFoundError(f"{path} is not a saved fairx model: {CONFIG} is missing")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path / CONFIG} is not valid JSON ({exc})") from None
    if not isinstance(config, dict) or not isinstance(config.get("method"), str):
        raise ValueError(f"{path / CONFIG} is not a fairx model config (expected a JSON object "
                         f"with 'method', got {type(config).__name__})")
    for key in ("params", "state"):
        if not isinstance(config.get(key, {}), dict):
            raise ValueError(f"{path / CONFIG}: {key!r} must be a JSON object")
    if not (path / WEIGHTS).is_file():
        raise FileNotFoundError(f"{path} is incomplete: {WEIGHTS} is missing")
    try:
        arrays = load_file(str(path / WEIGHTS))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error type
        raise ValueError(f"{path / WEIGHTS} is not a valid safetensors file "
                         f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    for name, arr in arrays.items():
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            raise ValueError(f"{path / WEIGHTS}: array {name!r} holds NaN or infinite values; "
                             "the model is corrupt")
    _check_sizes(config, arrays, path / CONFIG)
    return config, arrays


def _is_size(name: str) -> bool:
    """Whether a config key names a layer size (``hidden``, ``z_dim``, ``latent_dim``, ``width``,
    ``channels`` …); other integers (``pool_size``, ``epochs``, column minima) are not checked."""
    words = name.split("_")
    return ("dim" in name or name in ("hidden", "k")
            or words[-1] in ("width", "units", "channels", "hidden"))


def _check_sizes(config: dict[str, Any], arrays: dict[str, np.ndarray], where: Path) -> None:
    """Sizes in the config that no network could have: negative, or more than the weights hold."""
    total = sum(int(a.size) for a in arrays.values())

    def walk(value: Any, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}.{k}" if key else str(k))
        elif isinstance(value, list) and len(value) < 64:
            for i, v in enumerate(value):
                walk(v, f"{key}[{i}]")
        elif isinstance(value, int) and not isinstance(value, bool):
            last = key.rsplit(".", 1)[-1].split("[")[0].lower()
            if not _is_size(last):
                return
            if value < 0:
                raise ValueError(f"{where}: {key} = {value}; sizes cannot be negative")
            if total and value > total:
                raise ValueError(f"{where}: {key} = {value:,} does not fit the weights file "
                                 f"({total:,} numbers in all); the config does not match it")

    walk({"params": config.get("params", {}), "state": config.get("state", {})}, "")


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
    try:
        method = cls(**cls._params_from_saved({k: _restore(v) for k, v in config["params"].items()}))
        method._set_state(config["state"], arrays)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError, MemoryError) as err:
        msg = " ".join(str(err).split())[:300] or type(err).__name__
        raise ValueError(f"{path}: {WEIGHTS} does not match {CONFIG} "
                         f"({type(err).__name__}: {msg})") from None
    return method
