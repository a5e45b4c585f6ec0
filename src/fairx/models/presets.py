"""Presets: named sets of hyper-parameter overrides, and the one function that resolves them.

Every method class keeps its own table as the class attribute ``presets`` (``{"paper": {...},
"default": {...}, "fast": {...}}``): ``paper`` = the published settings (often a GPU budget),
``default`` = the constructor defaults (CPU minutes), ``fast`` = seconds, for tests and smoke
runs. The latent models of FLDGM (``torch`` building blocks in :mod:`fairx.nn`, which know
nothing about presets) have theirs here, in :data:`LATENT_MODEL_PRESETS`.

:func:`preset_params` is used by every place that turns a preset name into parameters: the
registry (``fairx.models.get``), the evaluation protocol, ``Fair4Free.distill`` and FLDGM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sklearn.base import clone

PRESET_NAMES = ("paper", "default", "fast")

_DDPM = {
    "paper": {"epochs": 5000, "batch_size": 2048, "lr": 1e-4, "early_stopping": False,
              "sampling_steps": None},
    # patience 4 (was 10): on Adult the held-out MMD² is at its noise level after ~10 epochs
    # (docs/measurements.md, "Training speed": 25 vs 125 epochs, same decoded quality)
    # measured, not adopted: dropout 0 + a weight average (ema 0.995) raised Adult x sex coverage
    # 0.829 -> 0.845 and density 0.680 -> 0.703 (5 seeds) but lowered COMPAS x race TSTR DPR
    # 0.732 -> 0.664, below the unmitigated 0.684 (3 seeds; docs/measurements.md)
    "default": {"epochs": 300, "batch_size": 512, "lr": 1e-3, "early_stopping": True,
                "eval_every": 5, "patience": 4, "eval_sampling_steps": 50, "sampling_steps": 100},
    "fast": {"epochs": 40, "batch_size": 256, "lr": 2e-3, "early_stopping": True,
             "eval_every": 5, "patience": 4, "eval_samples": 500, "eval_sampling_steps": 25,
             "sampling_steps": 50},
}
_GAN = {
    "paper": {"epochs": 20000, "batch_size": 2048, "lr": 2e-4, "betas": (0.9, 0.999),
              "weight_decay": 1e-4, "critic_batchnorm": True, "early_stopping": False},
    "default": {"epochs": 300, "batch_size": 512, "lr": 2e-4, "betas": (0.5, 0.9),
                "weight_decay": 1e-4, "critic_batchnorm": False, "early_stopping": True,
                "eval_every": 5, "patience": 10},
    "fast": {"epochs": 40, "batch_size": 128, "lr": 2e-4, "betas": (0.5, 0.9),
             "weight_decay": 0.0, "critic_batchnorm": False, "early_stopping": True,
             "eval_every": 5, "patience": 4, "eval_samples": 500},
}
#: presets of FLDGM's latent models (:class:`fairx.nn.LatentDDPM`, :class:`fairx.nn.LatentGAN`):
#: ``paper`` = the FLDGM settings (DDPM: Adam 1e-4, batch 2048, 5000 epochs, ancestral sampling;
#: GAN: Adam 2e-4, betas (0.9, 0.999), weight decay 1e-4, batch 2048, 20000 epochs),
#: ``default`` = MMD early stopping on a CPU, ``fast`` = tests.
LATENT_MODEL_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "ddpm": _DDPM, "wgan-gp": _GAN, "lsgan": _GAN,
}


class UnknownPresetError(KeyError, ValueError):
    """A preset name that the method (or latent model) does not define.

    Both a ``KeyError`` (a name looked up in a table) and a ``ValueError`` (a bad parameter
    value), so callers catching either keep working.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def preset_params(owner: Any, preset: str | None, *, what: str | None = None,
                  kind: str = "tabular") -> dict[str, Any]:
    """The hyper-parameter overrides of ``preset``.

    Parameters
    ----------
    owner : a method class (or instance) with a ``presets`` table, or the table itself.
    preset : ``None`` (no overrides), or a name of the table. ``"default"`` is always allowed
        (no overrides when the table lacks it); a method without any preset (nothing to size,
        e.g. ``unmitigated``) takes every standard name (:data:`PRESET_NAMES`) as its defaults,
        so one ``--preset fast`` can serve several methods.
    what : how to name ``owner`` in the error message (default: its class name).
    kind : ``"tabular"`` (the class's ``presets``) or ``"image"`` (its ``image_presets``: the
        fair-latent models' values for images; there ``preset=None`` means ``"default"``,
        the image values of the constructor defaults).

    Returns
    -------
    dict
        A new dict (callers may change it); estimator values (a preset's ``teacher``) are fresh
        clones.

    Raises
    ------
    UnknownPresetError
        When ``preset`` is not in the table; the message lists the allowed names.
    """
    if kind not in ("tabular", "image"):
        raise ValueError(f"kind={kind!r}; allowed: 'tabular', 'image'")
    if preset is None and kind == "image":
        preset = "default"
    if preset is None:
        return {}
    if isinstance(owner, Mapping):
        table, name = owner, what or "this model"
    else:
        cls = owner if isinstance(owner, type) else type(owner)
        attr = "image_presets" if kind == "image" else "presets"
        table, name = getattr(cls, attr, {}), what or cls.__name__
    if preset not in table:
        if preset == "default" or (not table and preset in PRESET_NAMES):
            return {}  # nothing to size (no training budget): every standard name means defaults
        allowed = sorted(set(table) | {"default"})
        raise UnknownPresetError(f"{name} has no preset {preset!r}; presets: {allowed}")
    return {k: clone(v) if hasattr(v, "get_params") else v for k, v in table[preset].items()}
