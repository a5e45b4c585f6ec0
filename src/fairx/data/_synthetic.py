"""A seeded synthetic table with a planted, tunable bias (no files needed).

Generative story (``c = +1/2`` for group A, ``-1/2`` for group B, all noise standard normal):

- ``group`` ∈ {A, B}: A with probability ``privileged_share``; the sensitive attribute.
- ``merit`` ~ N(0, 1), independent of the group; it is latent (not a column).
- ``skill`` = merit + 0.6·ε — a fair signal.
- ``test_score`` = merit + 0.6·ε + bias·c — a signal shifted by group.
- ``proxy`` = 2·bias·c + 0.7·ε — carries the group and nothing else.
- ``region`` ∈ {north, south, east}: east with probability 0.2, otherwise north with
  probability 1/2 + 0.4·min(bias, 1)·sign(c) — a categorical proxy.
- ``years`` = clip(round(8 + 3·merit + 2·ε), 0, 25) — an integer column.
- ``hired`` = "yes" iff merit + 2·bias·c + 0.5·ε > 0.5 — the label, shifted by group.

So ``bias = 0`` makes the group independent of every column (parity ≈ 1) and larger ``bias``
lowers the positive rate of B relative to A: with ``bias = 0.8`` the planted rates are
P(yes | A) ≈ 0.61 and P(yes | B) ≈ 0.12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr  # the standard normal CDF

from ._dataset import TabularDataset


def planted_positive_rates(bias: float) -> dict[str, float]:
    """Exact P(hired = yes | group) implied by the generative story above."""
    scale = float(np.sqrt(1.0 + 0.25))
    return {g: float(ndtr(-(0.5 - 2 * bias * c) / scale)) for g, c in (("A", 0.5), ("B", -0.5))}


def make_synthetic(
    n_samples: int = 4000, *, bias: float = 0.8, seed: int = 0, privileged_share: float = 0.5
) -> TabularDataset:
    """Draw ``n_samples`` rows of the planted-bias table (see the module docstring)."""
    if n_samples < 10:
        raise ValueError(f"n_samples={n_samples}; need at least 10 rows")
    if not 0.0 <= bias <= 2.0:
        raise ValueError(f"bias={bias}; allowed range is [0, 2]")
    if not 0.0 < privileged_share < 1.0:
        raise ValueError(f"privileged_share={privileged_share}; it must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    n = n_samples
    is_a = rng.random(n) < privileged_share
    c = np.where(is_a, 0.5, -0.5)
    merit = rng.standard_normal(n)
    skill = merit + 0.6 * rng.standard_normal(n)
    test_score = merit + 0.6 * rng.standard_normal(n) + bias * c
    proxy = 2 * bias * c + 0.7 * rng.standard_normal(n)
    p_north = 0.5 + 0.4 * min(bias, 1.0) * np.sign(c)
    region = np.where(rng.random(n) < p_north, "north", "south")
    region = np.where(rng.random(n) < 0.2, "east", region)
    years = np.clip(np.round(8 + 3 * merit + 2 * rng.standard_normal(n)), 0, 25).astype(int)
    hired = np.where(merit + 2 * bias * c + 0.5 * rng.standard_normal(n) > 0.5, "yes", "no")
    frame = pd.DataFrame({
        "group": np.where(is_a, "A", "B"),
        "skill": skill.round(4),
        "test_score": test_score.round(4),
        "proxy": proxy.round(4),
        "region": region,
        "years": years,
        "hired": hired,
    })
    meta = {"source": "fairx synthetic generator", "bias": bias, "seed": seed,
            "planted_positive_rates": planted_positive_rates(bias), "proxies": ["proxy", "region", "test_score"]}
    return TabularDataset(
        frame=frame, target="hired", sensitive=["group"], positive_label="yes",
        categorical=["group", "region", "hired"], numerical=["skill", "test_score", "proxy", "years"],
        integer=["years"], name="synthetic", meta=meta,
    )
