"""Fair4Free: data-free distillation of a fair VAE (methods.md §4): ``Fair4Free`` (``fair4free``).

Two parties, two calls. The data owner trains and saves a teacher::

    teacher = FairVAE(...).fit(train); teacher.save("teacher/")

and anyone holding only the teacher distils a small student, with **no access to rows**::

    student = Fair4Free.distill(FairVAE.load("teacher/"), random_state=0)
    student.sample(1000, seed=0); student.save("student/")

What the student learns from (**Decision**): latent samples the teacher makes by itself — z ~ N(0, I),
x̃ ~ D(z, s) with s ~ P(S), z ~ q(z | x̃, s) by *sampling* (μ + σ·ε, not μ), repeated k times
(``chain_steps``; by default k ∈ {0, …, ``max_chain_steps``} is the first step at which the chain is stationary (data-free): the MMD²
between steps k and k + 1 is at most twice the MMD² between two halves of step k
(:func:`fairx.nn._distill.chain_stationarity`)). What the student should learn is the
teacher's aggregate posterior; the chain moves toward it only through the encoder's
amortisation error — with an encoder equal to the model's posterior it would be a Gibbs sampler
whose stationary latent distribution is the prior itself (docs/measurements.md, "Why the
data-free chain stays near the prior"). On Adult the prior (k = 0) is 5× farther from the real
posteriors in MMD² than k = 1, and the chain's later steps stay short of them. The student is a latent generator fitted on
the chain's latents and a compact decoder distilled from the teacher's decoder and label
head on (generated z, s) pairs (KL per categorical block, MSE per numerical column); fairx's
table default is h = 64 (methods.md: 32, the ``paper`` preset): with the mixture generator the
h = 32 student decoded to coverage 0.804, h = 64 to 0.824, h = 128 to 0.837 against 0.832 through
the teacher's own decoder (same diagnostic).

Latent generator (**Decision**, measured): ``latent_generator="gmm"`` (default for tables) is a
full-covariance Gaussian mixture fitted on the chain's latents (up to 48 components chosen by
held-out log-likelihood — the same sampler as FairDistill's, see
:mod:`.mixture`; the measurement below was made with 1..10 components by BIC);
``"mlp"`` is methods.md §4's g(ε) = ``Linear(8, 32) → ReLU → Linear(32, z_dim)`` fitted by
multi-bandwidth RBF MMD + a Gaussian moment KL (the ``paper`` preset and the image presets keep
it). On Adult × sex (``benchmarks/fair4free_diag.py``, one teacher, 8,000 decoded rows) the
chain's own latents decode to coverage 0.845 (real posteriors: 0.883); the MLP generator fitted on
them loses most of that gap (0.799, latent MMD² to the real posteriors 0.0085 vs the chain's
0.0041; 0.812 at width 128), the mixture keeps it (0.841, MMD² 0.0043) with fewer parameters
(449 vs 552) in 4 s instead of 15.

Generation: x̂ = D_student(z, s) with z from the latent generator and s ~ P(S), the label from
the student's label head on z alone. ``source="data"`` (registry ``fair4free-data``) is the paper-literal ablation in which the
teacher encodes the real training rows for the student: **not data-free**.

One class for tables and images: the teacher's codec (:mod:`.codec`) decodes, re-encodes and
builds the student decoder (an MLP of width ``student_hidden`` for tables; a conv decoder with
``student_width`` × the teacher's channels for images, distilled by per-pixel Bernoulli KL + the
label head's KL). Saved students hold the codec's state, the generator and the decoder only.

What a saved student keeps about the data (``config.json``; the weights are the latent generator
and the student decoder only, no per-row array): the schema (column names, target, sensitive
columns, positive label, column kinds); the category vocabulary of every categorical column (a
category seen once in training is stored like any other); the sensitive groups and their
training shares P(S); per numerical column its dtype, integer flag, mean, standard deviation,
min and max (the clipping range: two training values per column) and, with the quantile
encoder (also under the default ``numerical="bins"``, which bins its CDF), its knots — means of at least ``quantile_rows`` (10) consecutive sorted values, so no
knot is one row's value unless ten or more rows share it (:func:`fairx.data._encoder.pooled_quantiles`);
the residual noise scale per numerical column (std of x − decode(μ)); the chain step k and its
scores; with the mixture generator its weights, means and covariances (fitted on teacher-made
chain latents, never on rows). Tests read the files back and find no training row
(``tests/latent_checks.py``).
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from ..presets import preset_params
from .codec import codec_state
from .fair_vae import FairVAE, saved_codec
from .latent import FairLatentGenerator, Parts, check_decode_temperature
from .mixture import EARLIER, check_mixture_options, draw_mixture, fit_mixture, mixture_parameters
from .mixture import KEYS as MIXTURE_KEYS
from .teacher import build_teacher, teacher_from_flat

logger = logging.getLogger(__name__)

#: the image student as measured (the paper's generator; label head width 32)
_IMAGE_STUDENT = {"latent_generator": "mlp", "student_hidden": 32, **EARLIER}

#: chain latents the mixture generator is fitted on, at most (FairDistill's ``gmm_rows``)
_MIXTURE_ROWS = 32_768

#: the decoding temperature of the data-free chain: the teacher's softmaxes as trained. Measured
#: (``benchmarks/fair_latent_decode_temperature.py --chain 3 --chain-tau 1 0.5``, rows decoded at
#: τ 0.5 from a mixture on chain step 3): chain at τ 0.5 instead of 1 lowered coverage on COMPAS ×
#: sex 0.879 → 0.844 and × race 0.887 → 0.851, and on Adult × sex 0.825 → 0.819
CHAIN_TEMPERATURE = 1.0

#: the student's batch on images (ImageFair4Free's fixed batch before the codec layer)
_IMAGE_BATCH = 256


def _image_student(chain_samples: int, distill_steps: int) -> dict[str, int]:
    """ImageFair4Free's ``distill_steps`` (optimiser steps, batch 256) as ``distill_epochs``."""
    per_epoch = max(chain_samples // min(_IMAGE_BATCH, chain_samples), 1)
    return {"distill_epochs": int(np.ceil(distill_steps / per_epoch)), "distill_batch": _IMAGE_BATCH,
            "chain_samples": chain_samples}

class Fair4Free(FairLatentGenerator):
    """Fair VAE teacher + data-free distilled student (latent generator and compact decoder),
    on tables or images.

    Parameters
    ----------
    teacher : the fair VAE to train (``None``: ``FairVAE()``); a clone is fitted, with this
        model's ``device``, ``random_state``, ``verbose``, ``decode``, ``decode_temperature`` and
        ``s_sampling``.
    source : ``"prior"`` (data-free: the teacher's own chain) or ``"data"`` (ablation: the
        teacher's posteriors of the training rows; not data-free).
    chain_steps : length k of the prior→decode→re-encode chain (``None``: the first stationary
        step in 0..``max_chain_steps``).
    chain_samples : teacher latents per chain step (the student's training set).
    student_hidden, noise_dim : width of the student decoder (images: of its label head) and
        size of the generator's noise.
    latent_generator : ``"gmm"`` (default: a Gaussian mixture on the chain's latents) or
        ``"mlp"`` (methods.md §4: the network
        ``Linear(noise_dim, generator_hidden) → ReLU → Linear(·, z_dim)`` fitted by MMD + moment
        KL). Both are data-free (fitted on teacher-made latents only); see the module docstring.
    generator_hidden, max_components : sizes of the two kinds of latent generator.
    component_selection, temperature : the mixture's component count (``"heldout"``:
        held-out log-likelihood up to ``max_components``; ``"bic"``: BIC over 1..
        ``max_components``) and the temperature τ in (0, 1] of generation (each mixture
        component's spread × τ, as in :class:`FairDistill`; the MLP generator's input noise × τ,
        the truncation trick). The student decoder is distilled on draws at τ = 1.
    student_width : the student conv decoder's channels as a share of the teacher's (images).
    student_decoder : distil a compact decoder (else keep a copy of the teacher's decoder).
    distill_epochs, distill_batch, distill_lr : passes over the latents, batch size, Adam rate.
    moment_weight : weight of the Gaussian moment KL next to the MMD.
    decode, decode_temperature, s_sampling : generation, as in :class:`FairVAE`. The chain
        decodes at τ = 1 whatever ``decode_temperature`` (see :meth:`_latent_pool`).
    device, random_state, verbose : run settings (also the teacher's).

    Attributes
    ----------
    chain_steps_, chain_scores_ : the chain length used and the stationarity ratio per step.
    chain_label_entropy_ : entropy (nats) of the teacher's mean label prediction per chain step
        (a data-free diversity diagnostic, not used to choose the step).
    codec_ : the teacher's codec (what the student decodes with).
    generator_, decoder_ : the student; ``teacher_`` after ``fit`` only.
    n_parameters_ : the student's parameter count (what generation uses);
        ``n_parameters_teacher_`` and ``n_parameters_student_`` beside it.
    """

    name: ClassVar[str] = "fair4free"
    renamed_params: ClassVar[dict[str, str]] = {"k": "chain_steps", "max_k": "max_chain_steps",
                                                "pool_size": "chain_samples",
                                                "student_lr": "distill_lr"}
    nested_params: ClassVar[dict[str, type]] = {"teacher": FairVAE}
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"teacher": FairVAE(**FairVAE.presets["paper"]), "distill_epochs": 200,
                  "decode_temperature": 1.0,
                  "latent_generator": "mlp", "student_hidden": 32, **EARLIER},
        "default": {},
        "fast": {"teacher": FairVAE(**FairVAE.presets["fast"]), "chain_samples": 4096,
                 "distill_epochs": 30, "distill_batch": 512},
    }
    #: the image values: ImageFair4Free's 3000 / 1500 / 300 optimiser steps of batch 256
    image_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"teacher": FairVAE(**FairVAE.image_presets["paper"]), **_image_student(4096, 3000),
                  **_IMAGE_STUDENT},
        "default": {"teacher": FairVAE(**FairVAE.image_presets["default"]),
                    **_image_student(4096, 1500), **_IMAGE_STUDENT},
        "fast": {"teacher": FairVAE(**FairVAE.image_presets["fast"]), **_image_student(1024, 300),
                 **_IMAGE_STUDENT},
    }

    def __init__(self, *, teacher: FairVAE | None = None, source: str = "prior",
                 chain_steps: int | None = None, max_chain_steps: int = 5, chain_samples: int = 16384,
                 student_hidden: int = 64, student_width: float = 0.5,
                 noise_dim: int = 8, latent_generator: str = "gmm", generator_hidden: int = 32,
                 max_components: int = 48, component_selection: str = "heldout",
                 temperature: float = 1.0, student_decoder: bool = True, distill_epochs: int = 20,
                 distill_batch: int = 512, distill_lr: float = 3e-3, moment_weight: float = 1.0,
                 decode: str = "sample", s_sampling: str = "marginal", device: str = "auto",
                 random_state: int | None = 0, verbose: bool | None = None,
                 decode_temperature: float = 0.5) -> None:
        self.teacher = teacher
        self.decode_temperature = decode_temperature
        self.source = source
        self.chain_steps = chain_steps
        self.max_chain_steps = max_chain_steps
        self.chain_samples = chain_samples
        self.student_hidden = student_hidden
        self.student_width = student_width
        self.noise_dim = noise_dim
        self.latent_generator = latent_generator
        self.generator_hidden = generator_hidden
        self.max_components = max_components
        self.component_selection = component_selection
        self.temperature = temperature
        self.student_decoder = student_decoder
        self.distill_epochs = distill_epochs
        self.distill_batch = distill_batch
        self.distill_lr = distill_lr
        self.moment_weight = moment_weight
        self.decode = decode
        self.s_sampling = s_sampling
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def display_name(self) -> str:
        return "Fair4Free" if self.source == "prior" else "Fair4Free (data, not data-free)"

    @classmethod
    def _params_from_saved(cls, params: dict[str, Any]) -> dict[str, Any]:
        params = teacher_from_flat(super()._params_from_saved(params))
        params.setdefault("latent_generator", "mlp")  # the only generator before 2026-12-06
        if "temperature" not in params:  # saved before the held-out mixture: BIC, drawn as fitted
            params = {**EARLIER, **params}
        params.setdefault("decode_temperature", 1.0)  # saved before it: decode as then
        params.setdefault("student_hidden", 32)  # the default before 2026-12-06
        if "student_steps" in params:  # ImageFair4Free's name before "distill_steps"
            params["distill_steps"] = params.pop("student_steps")
        if "distill_steps" in params:  # an ImageFair4Free folder (before the codec layer)
            params.pop("decoder_steps", None)
            params.update(_image_student(int(params.get("chain_samples", 4096)),
                                         int(params.pop("distill_steps"))))
        return params

    def _teacher(self) -> FairVAE:
        return build_teacher(self.teacher, decode=self.decode, s_sampling=self.s_sampling,
                             decode_temperature=self.decode_temperature, device=self.device,
                             random_state=self.random_state,
                             verbose=self.verbose)

    # ------------------------------------------------------------------ the two entry points
    def fit(self, train: Any) -> Fair4Free:
        """Train the teacher on ``train`` and distil the student (both steps, for benchmarks).
        With ``source="prior"`` the distillation itself never sees ``train``.

        Parameters
        ----------
        train : a ``TabularDataset`` or an ``ImageDataset``.

        Returns
        -------
        Fair4Free
            ``self``, fitted (``teacher_`` kept in memory, not saved).
        """
        self._check_options()
        teacher = self._teacher().fit(train)
        self.teacher_ = teacher
        self._distill(teacher, train if self.source == "data" else None)
        return self

    @classmethod
    def distill(cls, teacher: FairVAE, *, chain_steps: int | None = None,
                distill_epochs: int | None = None, random_state: int | None = 0,
                preset: str | None = None, **params: Any) -> Fair4Free:
        """Data-free: a student from a fitted (e.g. loaded) ``teacher`` alone — no rows are passed.

        Parameters
        ----------
        teacher : a fitted :class:`FairVAE` (of a table or of images).
        chain_steps : length of the teacher's prior→decode→re-encode chain (``None``: chosen).
        distill_epochs : passes over the teacher-made latents (``None``: the preset's or default).
        random_state : seeds the chain and the student's training.
        preset, params : the other student options (teacher parameters are copied from
            ``teacher``); the preset's values for the teacher's modality.

        Returns
        -------
        Fair4Free
            The fitted student (no teacher inside; ``save`` writes the student only).
        """
        if not isinstance(teacher, FairVAE):
            raise TypeError(f"teacher must be a fitted FairVAE, got {type(teacher).__name__}")
        teacher._check_fitted("net_")
        if params.get("source", "prior") != "prior":
            raise ValueError("Fair4Free.distill is the data-free path; source='data' needs fit(train)")
        settings = preset_params(cls, preset, kind=teacher.data_kind)
        settings.pop("teacher", None)
        settings.update(params)
        settings["teacher"] = clone(teacher)  # its configuration, for the record (not fitted)
        settings.update(chain_steps=chain_steps, random_state=random_state, source="prior")
        if distill_epochs is not None:
            settings["distill_epochs"] = distill_epochs
        settings.setdefault("device", teacher.device)
        student = cls(**settings)
        student._distill(teacher, None)
        return student

    # ------------------------------------------------------------------ distillation
    def _check_options(self) -> None:
        """Named errors for the student's options, before any training."""
        if self.source not in ("prior", "data"):
            raise ValueError(f"source={self.source!r}; allowed: 'prior' (data-free), 'data' (ablation)")
        if self.latent_generator not in ("gmm", "mlp"):
            raise ValueError(f"latent_generator={self.latent_generator!r}; allowed: 'gmm', 'mlp'")
        check_mixture_options(max_components=self.max_components,
                              selection=self.component_selection, temperature=self.temperature)
        check_decode_temperature(self.decode_temperature)
        if self.chain_steps is not None and not 0 <= int(self.chain_steps) <= 20:
            raise ValueError(f"chain_steps={self.chain_steps!r}; the chain length must lie in 0..20 "
                             "(None chooses from 0..max_chain_steps)")

    def _latent_pool(self, teacher: FairVAE, data: Any, rng: np.random.Generator):
        """Teacher latents the student learns from: the prior→decode→re-encode chain (data-free)
        or, for ``source="data"``, samples of q(z | x, s) on the real rows."""
        import torch  # heavy: keeps ``import fairx`` light

        from ...nn._distill import select_chain_step  # heavy (torch)

        if data is not None:
            mu, logvar = teacher.posterior(data)
            reps = int(np.ceil(self.chain_samples / len(mu)))
            mu = np.tile(mu, (reps, 1))[: self.chain_samples]
            logvar = np.tile(logvar, (reps, 1))[: self.chain_samples]
            z = mu + np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)
            return torch.as_tensor(z, dtype=torch.float32, device=self.device_), None, [], z
        chain, k, ratios = select_chain_step(
            lambda steps: teacher.latent_chain(self.chain_samples, steps, seed=rng,
                                               temperature=CHAIN_TEMPERATURE),
            self.chain_steps, self.max_chain_steps, rng)
        self.chain_label_entropy_ = self._label_entropy(teacher, chain)
        return torch.as_tensor(chain[k], dtype=torch.float32, device=self.device_), k, ratios, None

    def _distill(self, teacher: FairVAE, data: Any) -> None:
        import torch  # heavy: keeps ``import fairx`` light

        from ...nn import (  # heavy (torch)
            count_parameters,
            distill_decoder,
            load_numpy_state,
            mlp,
            seeded,
            state_to_numpy,
            train_latent_generator,
        )

        self._check_options()
        t0 = time.perf_counter()
        rng = np.random.default_rng(self.random_state)
        parts = teacher.decoding_parts()
        self.codec_ = parts.codec
        self.device_ = parts.device
        self.chain_label_entropy_: list[float] = []
        with seeded(self.random_state):
            pool, self.chain_steps_, self.chain_scores_, _ = self._latent_pool(teacher, data, rng)
            if self.latent_generator == "gmm":
                self.generator_ = fit_mixture(pool.cpu().numpy(), max_components=self.max_components,
                                              rows=_MIXTURE_ROWS, seed=self.random_state,
                                              selection=self.component_selection)
                gen_losses: list[float] = []
            else:
                self.generator_ = mlp([self.noise_dim, self.generator_hidden, teacher.z_dim_]).to(self.device_)
                gen_losses = train_latent_generator(
                    self.generator_, pool, noise_dim=self.noise_dim, epochs=self.distill_epochs,
                    batch_size=min(self.distill_batch, len(pool)), lr=self.distill_lr,
                    moment_weight=self.moment_weight, verbose=self.verbose)
                self.generator_.eval()
            if self.student_decoder:
                self.decoder_ = teacher.build_net(self.codec_, hidden=self.student_hidden,
                                                  encoder=False, width=self.student_width)

                def latents(m: int) -> torch.Tensor:
                    if self.latent_generator == "gmm":
                        z = draw_mixture(self.generator_, m, rng)
                        return torch.as_tensor(z, dtype=torch.float32, device=self.device_)
                    return self.generator_(torch.randn(m, self.noise_dim, device=self.device_))

                def groups(m: int) -> torch.Tensor:
                    p = torch.as_tensor(np.asarray(self.codec_.s_marginal_), dtype=torch.float32)
                    return self.codec_.onehot(torch.multinomial(p, m, replacement=True).numpy(),
                                              self.device_)

                steps = self.distill_epochs * max(len(pool) // self.distill_batch, 1)
                dec_losses = distill_decoder(self.decoder_, parts.net, latents, groups,
                                             steps=steps, batch_size=self.distill_batch,
                                             lr=self.distill_lr, verbose=self.verbose,
                                             **self.codec_.distill_kwargs(self.decoder_))
            else:
                self.decoder_ = teacher.build_net(self.codec_, encoder=False)
                arrays = {k: v for k, v in state_to_numpy(parts.net, "t").items()
                          if not k.startswith("t.encoder.")}
                load_numpy_state(self.decoder_, arrays, "t")
                dec_losses = []
        self.decoder_.eval()
        self.decoder_hidden_ = self.student_hidden if self.student_decoder else teacher.hidden
        self.decoder_width_ = self.student_width if self.student_decoder else 1.0
        self.z_dim_ = teacher.z_dim_
        self.distill_seconds_ = time.perf_counter() - t0
        self.history_ = {"generator": gen_losses, "decoder": dec_losses[-50:]}
        self.n_parameters_teacher_ = int(teacher.n_parameters_)
        self.n_parameters_teacher_decoder_ = count_parameters(parts.net) - count_parameters(
            parts.net.encoder)
        self.n_parameters_student_ = self._generator_parameters() + count_parameters(self.decoder_)
        self.n_parameters_ = self.n_parameters_student_  # what generation uses
        logger.info("Fair4Free: chain_steps=%s, teacher %d / student %d parameters", self.chain_steps_,
                    self.n_parameters_teacher_, self.n_parameters_student_)

    @staticmethod
    def _label_entropy(teacher: FairVAE, chain: list[np.ndarray]) -> list[float]:
        """Data-free diversity diagnostic per chain step: entropy (nats) of the mean label-head
        distribution of the step's latents (log(#classes) = balanced classes; a chain drifting
        toward a few classes loses entropy although its stationarity score may improve)."""
        import torch  # heavy: keeps ``import fairx`` light

        p = teacher.decoding_parts()
        out = []
        with torch.no_grad():
            for z in chain:
                zt = torch.as_tensor(np.asarray(z), dtype=torch.float32, device=p.device)
                probs = torch.softmax(p.net.label_logits(zt), 1).mean(0).clamp_min(1e-12)
                out.append(float(-(probs * probs.log()).sum()))
        return out

    # ------------------------------------------------------------------ generation
    def decoding_parts(self) -> Parts:
        self._check_fitted("generator_")
        return Parts(self.codec_, self.decoder_, self.device_, self.decode,
                     self.s_sampling == "uniform", check_decode_temperature(self.decode_temperature))

    def encoding_parts(self) -> Parts:
        if hasattr(self, "teacher_"):
            return self.teacher_.encoding_parts()
        raise ValueError("this Fair4Free student holds no encoder (only the latent generator and "
                         "decoder are distilled or saved); encode with the teacher instead")

    def sample_latent(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` student latents g(ε), ε ~ N(0, I), shape (n, z_dim).

        Parameters
        ----------
        n : number of latents.
        seed : seeds the draw.

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted("generator_")
        return self._draw_latent(self._check_n(n), np.random.default_rng(seed))

    def _generator_parameters(self) -> int:
        from ...nn import count_parameters  # heavy (torch)

        if self.latent_generator == "gmm":
            return mixture_parameters(self.generator_)
        return count_parameters(self.generator_)

    def _draw_latent(self, n: int, rng: np.random.Generator) -> np.ndarray:
        import torch  # heavy: keeps ``import fairx`` light

        if self.latent_generator == "gmm":
            return draw_mixture(self.generator_, n, rng, temperature=self.temperature).astype(np.float32)
        eps = torch.as_tensor(self.temperature * rng.standard_normal((n, self.noise_dim)),
                              dtype=torch.float32, device=self.device_)
        with torch.no_grad():
            return self.generator_(eps).cpu().numpy()

    def sample(self, n: int, *, seed: int | None = None) -> Any:
        """``n`` rows (or images) x̂ = D_student(g(ε), s), s ~ P(S); only the student is used.

        Parameters
        ----------
        n : rows (or images) to generate.
        seed : seeds the latents, the groups and (tables) ``decode="sample"``.

        Returns
        -------
        TabularDataset or ImageDataset
            In the training schema.
        """
        p = self.decoding_parts()
        n = self._check_n(n)
        rng = np.random.default_rng(seed)
        z = self._draw_latent(n, rng)
        s_idx = p.codec.sample_s(n, rng, p.uniform)
        return p.codec.decode(p.net, z, s_idx, rng, p.mode, p.device, self.display_name,
                              temperature=p.temperature)

    # ------------------------------------------------------------------ persistence (student only)
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ...nn import state_to_numpy  # heavy (torch)

        self._check_fitted("generator_")
        state = {"codec": codec_state(self.codec_), "z_dim": self.z_dim_,
                 "chain_steps": self.chain_steps_,
                 "chain_scores": self.chain_scores_,
                 "chain_label_entropy": [float(v) for v in self.chain_label_entropy_],
                 "n_parameters": {"teacher": self.n_parameters_teacher_,
                                  "student": self.n_parameters_student_},
                 "n_parameters_teacher_decoder": int(self.n_parameters_teacher_decoder_),
                 "decoder_hidden": self.decoder_hidden_, "decoder_width": self.decoder_width_,
                 "distill_seconds": float(self.distill_seconds_),
                 "data_free": self.source == "prior"}
        if self.latent_generator == "gmm":
            generator = {f"generator.{k}": np.asarray(self.generator_[k]) for k in MIXTURE_KEYS}
        else:
            generator = state_to_numpy(self.generator_, "generator")
        return state, {**generator, **state_to_numpy(self.decoder_, "decoder")}

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import load_numpy_state, mlp, resolve_device  # heavy (torch)

        self.codec_ = saved_codec(config)
        self.device_ = resolve_device(self.device)
        if "z_dim" not in config:  # an ImageFair4Free folder (before the codec layer)
            config = {**config, "z_dim": config["layout"]["z_dim"],
                      "decoder_hidden": self.student_hidden if self.student_decoder else 64,
                      "decoder_width": self.student_width if self.student_decoder else 1.0}
        self.z_dim_ = int(config["z_dim"])
        self.chain_steps_ = config.get("chain_steps", config.get("k"))  # "k" before 0.2
        self.chain_scores_ = config["chain_scores"]
        self.chain_label_entropy_ = list(config.get("chain_label_entropy", []))
        self.n_parameters_teacher_ = int(config["n_parameters"]["teacher"])
        self.n_parameters_student_ = self.n_parameters_ = int(config["n_parameters"]["student"])
        self.n_parameters_teacher_decoder_ = config.get("n_parameters_teacher_decoder")
        self.distill_seconds_ = float(config.get("distill_seconds", float("nan")))
        if self.latent_generator == "gmm":
            self.generator_ = {k: np.asarray(arrays[f"generator.{k}"]) for k in MIXTURE_KEYS}
        else:
            self.generator_ = mlp([self.noise_dim, self.generator_hidden, self.z_dim_]).to(self.device_)
            load_numpy_state(self.generator_, arrays, "generator")
            self.generator_.eval()
        self.decoder_hidden_ = int(config["decoder_hidden"])
        self.decoder_width_ = float(config.get("decoder_width", 1.0))
        teacher = build_teacher(self.teacher, device=self.device).set_params(z_dim=self.z_dim_)
        self.decoder_ = teacher.build_net(self.codec_, hidden=self.decoder_hidden_, encoder=False,
                                          width=self.decoder_width_)
        load_numpy_state(self.decoder_, arrays, "decoder")
        self.decoder_.eval()
