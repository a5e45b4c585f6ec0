"""FLDGM — Fair Latent Deep Generative Models (Ramachandranpillai et al., ECAI 2023; methods.md §2).

1. Train the fair VAE (:class:`~fairx.models.fair_latent.fair_vae.FairVAE`, §1) and freeze it.
2. Encode the training rows: posteriors N(μ, σ²) of q(z | x, s).
3. Train an ordinary generative model on z = μ + σ·ε, resampled for every batch (no fairness
   term): ``latent_model="wgan-gp"`` | ``"lsgan"`` | ``"ddpm"`` (:mod:`fairx.nn`'s
   ``LatentGAN`` / ``LatentDDPM``; FLDGM architectures, uniform GP interpolation, standardised
   latents, no clipping).
4. Sample z' from the latent model and decode it with the frozen decoder: s ~ P(S), the label
   from the head on z alone, the other columns from (z', s).

One class for tables and images: the teacher's codec (:mod:`.codec`) does the data side; the
image values of the presets are ``FLDGM.image_presets``.

Presets: ``paper`` (fair VAE paper preset; GAN 20000 / DDPM 5000 epochs, batch 2048, no early
stopping — a GPU budget), ``default`` (CPU minutes; the latent model stops early on the MMD
between generated and held-out latents and keeps its best checkpoint), ``fast`` (tests).

The default latent model is the DDPM: on the checks (a Gaussian mixture with a known answer and
the planted-bias table) it matched the latent distribution best (lowest MMD, moments within
tolerance) in the least CPU time; the GANs need many more generator steps on a CPU.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np

from ..presets import LATENT_MODEL_PRESETS, preset_params
from .fair_vae import FairVAE
from .latent import FairLatentGenerator, Parts
from .teacher import build_teacher, teacher_from_flat, teacher_from_preset

logger = logging.getLogger(__name__)

LATENT_MODELS = ("wgan-gp", "lsgan", "ddpm")
_DISPLAY = {"wgan-gp": "FLDGM-WGAN-GP", "lsgan": "FLDGM-LSGAN", "ddpm": "FLDGM-DDPM"}


def make_latent_model(kind: str, preset: str = "default", params: dict[str, Any] | None = None,
                      **common: Any):
    """A ``LatentGAN`` / ``LatentDDPM`` with the named preset, ``params`` overriding it and
    ``common`` (device, random_state, verbose) on top."""
    from ...nn import LatentDDPM, LatentGAN  # heavy (torch): keeps ``import fairx`` light

    if kind not in LATENT_MODELS:
        raise ValueError(f"latent_model={kind!r}; allowed: {', '.join(map(repr, LATENT_MODELS))}")
    merged = {**preset_params(LATENT_MODEL_PRESETS[kind], preset,
                              what=f"the latent model {kind!r} (latent_preset)"),
              **(params or {}), **common}
    try:
        return LatentDDPM(**merged) if kind == "ddpm" else LatentGAN(kind, **merged)
    except TypeError as err:
        raise ValueError(f"latent_params for {kind!r}: {err}") from err


class FLDGM(FairLatentGenerator):
    """Fair VAE (frozen) + a generative model of its latent space, on tables or images.

    Parameters
    ----------
    latent_model : ``"ddpm"`` (default), ``"wgan-gp"`` or ``"lsgan"``.
    teacher : the fair VAE (``None``: ``FairVAE()``), e.g. ``FairVAE(beta=1e5)``; a clone is
        fitted with this model's ``device``, ``random_state`` and ``verbose``.
    latent_preset : preset of the latent model (``"paper"``, ``"default"``, ``"fast"``).
    latent_params : overrides of the latent model's hyper-parameters (e.g. ``{"epochs": 100}``,
        ``{"sampling_steps": 100}`` for a strided DDPM sampler).
    device : ``"auto"``, ``"cpu"`` or ``"cuda"``; random_state seeds both stages.

    Attributes
    ----------
    vae_ : the fitted fair VAE (its codec does the data side). latent_ : the latent model.
    n_parameters_ : generation-time parameters (decoder, label head, latent model);
        ``n_parameters_vae_``, ``n_parameters_latent_``, ``n_parameters_total_`` beside it.
    """

    name: ClassVar[str] = "fldgm"
    nested_params: ClassVar[dict[str, type]] = {"teacher": FairVAE}
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"teacher": FairVAE(**FairVAE.presets["paper"]), "latent_preset": "paper"},
        "default": {"latent_preset": "default"},
        "fast": {"teacher": FairVAE(**FairVAE.presets["fast"]), "latent_preset": "fast"},
    }
    image_presets: ClassVar[dict[str, dict[str, Any]]] = {
        p: {"teacher": FairVAE(**FairVAE.image_presets[p]), "latent_preset": p}
        for p in ("paper", "default", "fast")
    }

    def __init__(self, *, latent_model: str = "ddpm", teacher: FairVAE | None = None,
                 latent_preset: str = "default",
                 latent_params: dict[str, Any] | None = None, device: str = "auto",
                 random_state: int | None = 0, verbose: bool | None = None) -> None:
        self.latent_model = latent_model
        self.teacher = teacher
        self.latent_preset = latent_preset
        self.latent_params = latent_params
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def display_name(self) -> str:
        return _DISPLAY.get(self.latent_model, f"FLDGM-{self.latent_model}")

    @classmethod
    def _params_from_saved(cls, params: dict[str, Any]) -> dict[str, Any]:
        # ImageFLDGM folders (before the codec layer) hold the teacher's parameters flat
        return teacher_from_flat(teacher_from_preset(super()._params_from_saved(params)),
                                 extra=("s_sampling",))

    def _make_vae(self) -> FairVAE:
        return build_teacher(self.teacher, device=self.device, random_state=self.random_state,
                             verbose=self.verbose)

    def _make_latent(self):
        return make_latent_model(self.latent_model, self.latent_preset, self.latent_params,
                                 device=self.device, random_state=self.random_state,
                                 verbose=self.verbose)

    # ------------------------------------------------------------------ fit
    def fit(self, train: Any) -> FLDGM:
        """Fit the fair VAE on ``train``, freeze it, then fit the latent model on its posteriors.

        Parameters
        ----------
        train : a ``TabularDataset`` or an ``ImageDataset``.

        Returns
        -------
        FLDGM
            ``self``, fitted.
        """
        latent = self._make_latent()  # validates latent_model / latent_params before any work
        t0 = time.perf_counter()
        self.vae_ = self._make_vae().fit(train)
        mu, logvar = self.vae_.posterior(train)
        self.latent_ = latent.fit(mu, logvar)
        self.fit_seconds_ = time.perf_counter() - t0
        self._set_counts()
        logger.info("%s fitted in %.1fs (latent model: %d epochs, best %d)", self.display_name,
                    self.fit_seconds_, self.latent_.epochs_run_, self.latent_.best_epoch_)
        return self

    def _set_counts(self) -> None:
        from ...nn import count_parameters  # heavy (torch)

        net = self.vae_.net_
        self.n_parameters_vae_ = int(self.vae_.n_parameters_)
        self.n_parameters_latent_ = int(self.latent_.n_parameters_)
        #: generation-time parameters: the latent generator (or denoiser) + decoder and label head
        self.n_parameters_ = (count_parameters(net) - count_parameters(net.encoder)
                              + self.n_parameters_latent_)
        #: everything trained: full fair VAE + latent model (a GAN's critic included)
        self.n_parameters_total_ = self.n_parameters_vae_ + int(self.latent_.n_parameters_total_)

    # ------------------------------------------------------------------ sample
    def decoding_parts(self) -> Parts:
        self._check_fitted("latent_")
        return self.vae_.decoding_parts()

    def encoding_parts(self) -> Parts:
        self._check_fitted("vae_")
        return self.vae_.encoding_parts()

    @property
    def z_dim_(self) -> int:
        return self.vae_.z_dim_

    def sample_latent(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` latents z' (n, z_dim) from the latent model.

        Parameters
        ----------
        n : number of latents.
        seed : seeds the draw.

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted("latent_")
        return self.latent_.sample(self._check_n(n), seed=seed)

    def sample(self, n: int, *, seed: int | None = None) -> Any:
        """``n`` rows (or images): z' from the latent model, decoded by the frozen fair VAE
        (s ~ P(S)).

        Parameters
        ----------
        n : rows (or images) to generate.
        seed : seeds the latents, the groups and (tables) ``decode="sample"``.

        Returns
        -------
        TabularDataset or ImageDataset
            In the training schema.
        """
        self._check_fitted("latent_")
        n = self._check_n(n)
        rng = np.random.default_rng(seed)
        z_seed, d_seed = (int(v) for v in rng.integers(2**31, size=2))
        z = self.latent_.sample(n, seed=z_seed)
        return self.decode_latent(z, seed=d_seed)

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._check_fitted("latent_")
        vae_state, arrays = self.vae_._get_state()
        latent_state, latent_arrays = self.latent_.get_state("latent")
        overlap = set(arrays) & set(latent_arrays)
        if overlap:  # pragma: no cover - prefixes differ by construction
            raise RuntimeError(f"array names clash: {sorted(overlap)[:5]}")
        arrays.update(latent_arrays)
        state = {"vae": vae_state, "vae_params": self.vae_.get_params(), "latent": latent_state,
                 "fit_seconds": getattr(self, "fit_seconds_", None)}
        return state, arrays

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import LatentDDPM, LatentGAN  # heavy (torch)

        if "layout" in config:  # an ImageFLDGM folder: the teacher's state is the top level
            vae = build_teacher(self.teacher, device=self.device)
            vae._set_state(config, arrays)
        else:
            vae = FairVAE(**FairVAE._params_from_saved(dict(config["vae_params"])))
            vae._set_state(config["vae"], arrays)
        self.vae_ = vae
        cls = LatentDDPM if config["latent"]["kind"] == "ddpm" else LatentGAN
        self.latent_ = cls.from_state(config["latent"], arrays, "latent")
        if config.get("fit_seconds") is not None:
            self.fit_seconds_ = float(config["fit_seconds"])
        self._set_counts()
