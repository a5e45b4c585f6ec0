"""The demo benchmark: the planted-bias table (no downloads), one method per stage and every
fair generator that is registered, ``fast`` presets, 2 seeds."""

from __future__ import annotations

import importlib.util
from typing import Any

from ._spec import BenchmarkSpec, parse_spec

DEMO_BASELINES: list[dict[str, Any]] = [
    {"name": "unmitigated"},
    {"name": "reweighing"},
    {"name": "exponentiated_gradient", "preset": "fast"},
    {"name": "threshold_optimizer"},
]
DEMO_GENERATORS = ("tabfairgan", "decaf", "fairdisco", "fldgm", "fairdistill", "fair4free")

ADULT_EQUIVALENT = "fairx benchmark examples/adult_benchmark.yaml --db adult.db --n-jobs 2"


def _has_shap() -> bool:
    """Whether shap is installed (without importing it: that takes seconds)."""

    try:
        return importlib.util.find_spec("shap") is not None
    except (ImportError, ValueError):
        return False


def demo_spec(n_samples: int = 1200, seeds: tuple[int, ...] = (0, 1)) -> tuple[BenchmarkSpec, list[str]]:
    """The demo spec and notes about methods left out (not registered in this install)."""
    # heavy (sklearn): imported when used, so `import fairx` stays light
    from ..models.registry import entry, method_class

    notes: list[str] = []
    methods: list[dict[str, Any]] = []
    for m in [*DEMO_BASELINES, *({"name": g, "preset": "fast"} for g in DEMO_GENERATORS)]:
        try:
            entry(m["name"])
            cls = method_class(m["name"])
        except (KeyError, ImportError) as exc:
            notes.append(f"note: {m['name']} skipped ({exc.args[0] if exc.args else exc})")
            continue
        if m.get("preset") and m["preset"] not in getattr(cls, "presets", {}):
            m = {k: v for k, v in m.items() if k != "preset"}
        methods.append(m)
    raw = {
        "name": "demo",
        "datasets": [{"name": "synthetic", "sensitive": ["group"],
                      "options": {"n_samples": n_samples, "bias": 0.8, "seed": 0}}],
        "methods": methods,
        "seeds": list(seeds),
        "classifier": "hgb",
        "protocol": {"quality": True, "sample_rows": 300, "explain": _has_shap()},
        "metrics": ["utility", "fairness"],
    }
    return parse_spec(raw), notes
