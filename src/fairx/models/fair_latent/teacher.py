"""The teacher of FLDGM, FairDistill and Fair4Free: one nested :class:`FairVAE` parameter.

``FLDGM(teacher=FairVAE(beta=1e5))`` (fairlearn's ``estimator=`` pattern): the model fits a
clone of ``teacher`` (``None``: ``FairVAE()``), so the object the user passed is never changed.
Nested values are set with ``set_params(teacher__epochs=5)`` or ``fairx.models.get(...,
teacher__epochs=5)``. The settings that describe the run rather than the teacher (``device``,
``random_state``, ``verbose``; for the distilled models also ``decode`` and ``s_sampling``) are
the outer model's and are copied onto the teacher.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import clone

from ..presets import preset_params
from .fair_vae import PREVIOUS_DEFAULTS, FairVAE

#: the fair VAE parameters that FairDistill and Fair4Free had as flat parameters before the
#: teacher became one nested estimator (saved folders of that time still load)
FLAT_TEACHER_PARAMS = ("hidden", "z_dim", "beta", "epochs", "batch_size", "lr", "v2_rows",
                       "patience", "numerical",
                       # the conv fair VAE's, flat in ImageFLDGM / ImageFair4Free /
                       # ImageFairDistill folders saved before the codec layer
                       "label_weight", "s_injection", "max_images")


def build_teacher(teacher: FairVAE | None, **settings: Any) -> FairVAE:
    """An unfitted clone of ``teacher`` (``None``: ``FairVAE()``) with ``settings`` set.

    Parameters
    ----------
    teacher : the nested estimator parameter of the outer model.
    **settings : run settings copied from the outer model (``device``, ``random_state``, ...).

    Returns
    -------
    FairVAE
    """
    if teacher is not None and not isinstance(teacher, FairVAE):
        raise TypeError(f"teacher must be a FairVAE (registry 'fairdisco') or None, got "
                        f"{type(teacher).__name__}")
    return clone(FairVAE() if teacher is None else teacher).set_params(**settings)


def teacher_from_flat(params: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Saved parameters with the flat teacher parameters of older releases (``hidden``, ``beta``,
    ``epochs`` …, and ``extra``) folded into ``teacher=FairVAE(...)``."""
    flat = {k: params.pop(k) for k in FLAT_TEACHER_PARAMS + extra if k in params}
    if flat and params.get("teacher") is None:
        params["teacher"] = FairVAE(**{**PREVIOUS_DEFAULTS, **flat})
    return params


def teacher_from_preset(params: dict[str, Any]) -> dict[str, Any]:
    """FLDGM's saved ``vae_preset`` / ``vae_params`` of older releases as ``teacher=FairVAE(...)``."""
    preset, extra = params.pop("vae_preset", None), params.pop("vae_params", None)
    if (preset is not None or extra) and params.get("teacher") is None:
        params["teacher"] = FairVAE(**preset_params(FairVAE, preset), **(extra or {}))
    return params
