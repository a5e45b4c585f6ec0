"""Fair latent generators on images (methods.md §9): the registry names ``fairdisco``, ``fldgm``,
``fair4free`` and ``fairdistill`` resolve here when the training set is an
:class:`~fairx.data.ImageDataset`.

- :class:`ImageFairVAE` (FairDisCo image variant): the conv fair VAE of :mod:`fairx.nn._conv_vae`
  trained by the shared loop :func:`fairx.nn.train_fair_vae` (BCE + KL + β·V²(z, s) + label CE).
- :class:`ImageFLDGM`: the frozen conv fair VAE plus a latent GAN / DDPM
  (:class:`fairx.nn.LatentGAN`, :class:`fairx.nn.LatentDDPM`) fitted on the posteriors of the
  training images, decoded as above (FLDGM, §2).
- :class:`ImageFair4Free`: data-free distillation (§4) of a fitted :class:`ImageFairVAE` teacher,
  two parties as on tables: ``ImageFair4Free.distill(teacher)`` receives the teacher only. The
  teacher's own chain z ~ N(0, I) → image D(z, s) → z ~ q(z | image, s), k times (k chosen
  from 0…``max_chain_steps`` by the chain-stationarity rule shared with the tabular class), gives latent
  samples; a noise → latent generator is fitted to them by MMD + Gaussian moment KL, and a
  compact conv decoder (half the channels) is distilled on (g(ε), s) pairs to reproduce the
  teacher decoder's pixel probabilities (Bernoulli KL) and label head (KL). Generation and
  ``save`` use the student only.
- :class:`ImageFairDistill`: a conv student encoder (a quarter of the teacher's width) distilled
  with :func:`fairx.nn.train_student_encoder`; latent Gaussian mixture; teacher decoder.

Generation: z from the latent model, s ~ P(S) of the training set drawn independently of z
(``s_sampling="uniform"`` for equal groups), pixels = sigmoid(decoder(z, s)), label = argmax of
the label head on z alone. Colour then carries no information about the label in generated
data as far as z is free of s. ``counterfactuals`` decodes one z with every s.

Persistence: ``save(dir)`` writes JSON (layout, hyper-parameters, small state) and safetensors
(weights, latent-model and mixture arrays); the config records ``"kind": "image"`` so that
:func:`~fairx.models.persist.load_method` picks the image class from the registry.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, ClassVar

import numpy as np

from ...data.images import ImageDataset
from ..base import FairGenerator
from ..presets import preset_params
from .fldgm import make_latent_model

logger = logging.getLogger(__name__)

#: parameters of the conv fair VAE (the Fair4Free teacher's parameters)
_VAE_PARAMS = ("z_dim", "beta", "epochs", "batch_size", "lr", "v2_rows", "label_weight",
               "s_injection", "s_sampling", "patience", "max_images", "device", "random_state",
               "verbose")


def _onehot(idx: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(idx), k), dtype=np.float32)
    out[np.arange(len(idx)), idx] = 1.0
    return out


def _check_image_dataset(train: Any) -> ImageDataset:
    if not isinstance(train, ImageDataset):
        raise TypeError(f"this image model needs an ImageDataset, got {type(train).__name__}; "
                        "tabular data goes to the tabular class of the same registry name")
    if len(train) < 4:
        raise ValueError(f"{len(train)} training images; need at least 4")
    return train


def _positive_int(name: str, value: Any, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r}; it must be an integer >= {minimum}")


class ImageFairVAE(FairGenerator):
    """FairDisCo on images: conv fair VAE with BCE reconstruction, KL, β·V²(z, s), label head.

    Parameters
    ----------
    z_dim : latent size. beta : weight of V² (0 = a conditional VAE with no fairness term).
    epochs, batch_size, lr : Adam training (shared loop :func:`fairx.nn.train_fair_vae`).
    v2_rows : rows of each batch used to estimate V² (``None``: all).
    label_weight : weight of the label head's cross-entropy.
    s_injection : ``"output"`` (s scales/shifts the output channels only: it can colour, not draw;
        default) or ``"input"`` (s concatenated to z at the decoder input, the §9 layout).
    s_sampling : ``"marginal"`` P(S) of the training set, or ``"uniform"``.
    max_images : refuse to train on more images than this in memory (lazy sets: use ``subset``).
    """

    name: ClassVar[str] = "fairdisco"
    data_kind: ClassVar[str] = "image"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"z_dim": 8, "epochs": 200, "batch_size": 256, "beta": 1e6},
        "default": {},
        "fast": {"epochs": 15, "batch_size": 64, "v2_rows": 64},
    }

    def __init__(self, *, z_dim: int = 8, beta: float = 1e6, epochs: int = 40,
                 batch_size: int = 64, lr: float = 3e-3, v2_rows: int | None = 64,
                 label_weight: float = 10.0, s_injection: str = "output",
                 s_sampling: str = "marginal", patience: int | None = None,
                 max_images: int = 100_000, device: str = "auto", random_state: int | None = 0,
                 verbose: bool | None = None) -> None:
        self.z_dim = z_dim
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.v2_rows = v2_rows
        self.label_weight = label_weight
        self.s_injection = s_injection
        self.s_sampling = s_sampling
        self.patience = patience
        self.max_images = max_images
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def display_name(self) -> str:
        return "FairDisCo"

    # ------------------------------------------------------------------ fit
    def _check_params(self) -> None:
        if not np.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"beta={self.beta!r}; it must be a finite number >= 0")
        for name in ("z_dim", "epochs", "batch_size"):
            _positive_int(name, getattr(self, name))
        if self.s_sampling not in ("marginal", "uniform"):
            raise ValueError(f"s_sampling={self.s_sampling!r}; allowed: 'marginal', 'uniform'")

    def _fit_vae(self, train: ImageDataset) -> None:
        import torch

        from ...nn import count_parameters, seeded, train_fair_vae
        from ...nn._conv_vae import flatten_rows

        self._check_params()
        train = _check_image_dataset(train)
        if len(train) > self.max_images:
            raise ValueError(f"{len(train)} training images exceed max_images={self.max_images}; "
                             "pass a subset (ds.subset) or raise max_images")
        self._set_layout_state({
            "shape": list(train.shape), "n_groups": train.n_groups, "n_classes": train.n_classes,
            "meta": {"classes": list(train.classes), "groups": list(train.groups),
                     "target": train.target, "sensitive": train.sensitive, "name": train.name},
            "s_marginal": (np.bincount(train.s, minlength=train.n_groups) / len(train)).tolist(),
            "z_dim": self.z_dim})
        images = torch.from_numpy(train.to_numpy()).to(self.device_)
        x = flatten_rows(images, torch.from_numpy(_onehot(train.y, self.n_classes_)).to(self.device_))
        s = torch.from_numpy(_onehot(train.s, self.n_groups_)).to(self.device_)
        start = time.perf_counter()
        with seeded(self.random_state):
            self.net_ = self._build_net()
            self.history_ = train_fair_vae(self.net_, x, s, beta=float(self.beta),
                                           epochs=self.epochs, batch_size=self.batch_size,
                                           lr=self.lr, v2_rows=self.v2_rows,
                                           patience=self.patience, verbose=self.verbose)
        self.net_.eval()
        self.fit_seconds_ = time.perf_counter() - start
        self.n_parameters_ = count_parameters(self.net_)

    def fit(self, train: ImageDataset) -> ImageFairVAE:
        """Train the conv fair VAE on the training images."""
        self._fit_vae(train)
        return self

    # ------------------------------------------------------------------ layout and networks
    def _layout_state(self) -> dict[str, Any]:
        """What decoding needs besides weights: image shape, groups, classes, names, P(S)."""
        return {"shape": list(self.shape_), "n_groups": int(self.n_groups_),
                "n_classes": int(self.n_classes_), "meta": dict(self.meta_),
                "s_marginal": [float(v) for v in self.s_marginal_], "z_dim": int(self.z_dim_)}

    def _set_layout_state(self, layout: dict[str, Any]) -> None:
        from ...nn import resolve_device

        self.device_ = resolve_device(self.device)
        self.shape_ = tuple(int(v) for v in layout["shape"])
        self.n_groups_, self.n_classes_ = int(layout["n_groups"]), int(layout["n_classes"])
        self.meta_ = dict(layout["meta"])
        self.s_marginal_ = np.asarray(layout["s_marginal"], dtype=np.float64)
        self.z_dim_ = int(layout["z_dim"])

    def _build_net(self, *, width: float = 1.0, hidden: int = 64, encoder: bool = True):
        """A :class:`~fairx.nn._conv_vae.ConvFairVAENet` for the fitted layout, on the device."""
        from ...nn._conv_vae import ConvFairVAENet

        return ConvFairVAENet(self.shape_, self.n_groups_, self.n_classes_, z_dim=self.z_dim_,
                              hidden=hidden, s_injection=self.s_injection,
                              label_weight=self.label_weight, width=width,
                              encoder=encoder).to(self.device_)

    def _decoder(self):
        """The network that turns (z, s) into images and labels."""
        self._check_fitted("net_")
        return self.net_

    def _encoder(self):
        """The network holding q(z | image, s)."""
        self._check_fitted("net_")
        return self.net_

    # ------------------------------------------------------------------ latent <-> images
    def posterior(self, ds: ImageDataset, *, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | image, s) for every image of ``ds``, shape (n, z_dim)."""
        import torch

        net = self._encoder()
        if tuple(ds.shape) != self.shape_:
            raise ValueError(f"images have shape {ds.shape}; the model was trained on {self.shape_}")
        mus, lvs = [], []
        net.eval()
        with torch.no_grad():
            for img, _, s in ds.batches(batch_size):
                st = torch.from_numpy(_onehot(s, self.n_groups_)).to(self.device_)
                mu, lv = net.encode(torch.from_numpy(img).to(self.device_), st)
                mus.append(mu.cpu().numpy())
                lvs.append(lv.cpu().numpy())
        return np.concatenate(mus), np.concatenate(lvs)

    def _s_probs(self) -> np.ndarray:
        return np.full(self.n_groups_, 1.0 / self.n_groups_) if self.s_sampling == "uniform" \
            else self.s_marginal_

    def _draw_s(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(self.n_groups_, size=n, p=self._s_probs())

    def decode_latent(self, z: np.ndarray, *, seed: int | None = None, s: np.ndarray | None = None,
                      batch_size: int = 1024) -> ImageDataset:
        """Images sigmoid(D(z, s)) with labels argmax p(y | z); s ~ P(S) (seeded) when None."""
        import torch

        net = self._decoder()
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_dim_:
            raise ValueError(f"z has shape {z.shape}; expected (n, {self.z_dim_})")
        if s is None:
            s = self._draw_s(len(z), np.random.default_rng(seed))
        s = np.asarray(s, dtype=np.int64)
        if len(s) != len(z) or (len(s) and (s.min() < 0 or s.max() >= self.n_groups_)):
            raise ValueError(f"s must hold {len(z)} group indices in 0..{self.n_groups_ - 1}")
        imgs, ys = [], []
        net.eval()
        with torch.no_grad():
            for a in range(0, len(z), batch_size):
                zt = torch.from_numpy(z[a:a + batch_size]).to(self.device_)
                st = torch.from_numpy(_onehot(s[a:a + batch_size], self.n_groups_)).to(self.device_)
                imgs.append(torch.sigmoid(net.decode_images(zt, st)).cpu().numpy())
                ys.append(net.label_logits(zt).argmax(1).cpu().numpy())
        m = self.meta_
        return ImageDataset(images=np.concatenate(imgs), y=np.concatenate(ys), s=s,
                            classes=tuple(m["classes"]), groups=tuple(m["groups"]),
                            target=m["target"], sensitive=m["sensitive"],
                            name=f"{m['name']}-{self.name}", meta={"generator": self.name})

    def latent_chain(self, n: int, steps: int, *, seed: int | None = 0) -> list[np.ndarray]:
        """The model's self-generated latents (Fair4Free's data-free chain, §4): z_0 ~ N(0, I),
        then ``steps`` times image = sigmoid(D(z, s)), s ~ P(S), z ~ q(z | image, s) (sampled,
        not the mean). Returns every step's latents (:func:`fairx.nn._distill.prior_chain`)."""
        import torch

        from ...nn._distill import prior_chain

        enc, dec = self._encoder(), self._decoder()

        def reencode(z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            s = self._draw_s(len(z), rng)
            mus, lvs = [], []
            with torch.no_grad():
                for a in range(0, len(z), 1024):
                    zt = torch.as_tensor(z[a:a + 1024], dtype=torch.float32, device=self.device_)
                    st = torch.from_numpy(_onehot(s[a:a + 1024], self.n_groups_)).to(self.device_)
                    mu, lv = enc.encode(torch.sigmoid(dec.decode_images(zt, st)), st)
                    mus.append(mu.cpu().numpy())
                    lvs.append(lv.cpu().numpy())
            return np.concatenate(mus), np.concatenate(lvs)

        _positive_int("n", n)
        _positive_int("steps", steps, minimum=0)
        rng = np.random.default_rng(seed)
        z0 = rng.standard_normal((int(n), self.z_dim_)).astype(np.float32)
        return prior_chain(z0, reencode, int(steps), rng)

    def sample_latent(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` latents (n, z_dim) from the model's latent sampler (the prior for FairDisCo, the
        latent model, the student generator or the mixture for the others)."""
        return self._sample_latent(self._check_n(n), seed)

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.z_dim_)).astype(np.float32)

    def sample(self, n: int, *, seed: int | None = None) -> ImageDataset:
        """``n`` generated images (latent from the model's sampler, s ~ P(S) independent of z)."""
        self._decoder()
        n = self._check_n(n)
        z = self._sample_latent(n, seed)
        rng_seed = None if seed is None else int(seed) + 1
        return self.decode_latent(z, seed=rng_seed)

    def counterfactuals(self, z_or_ds: np.ndarray | ImageDataset | None = None, *, n: int = 8,
                        seed: int | None = 0) -> np.ndarray:
        """Same z decoded with every group: images (n, n_groups, C, H, W).

        Pass latents, or an ImageDataset (its first ``n`` images are encoded to their posterior
        means), or nothing sampled: z from the model's sampler with ``seed``.
        """
        if isinstance(z_or_ds, ImageDataset):
            z = self.posterior(z_or_ds.subset(np.arange(min(n, len(z_or_ds)))))[0]
        elif z_or_ds is None:
            z = self._sample_latent(n, seed)
        else:
            z = np.asarray(z_or_ds, dtype=np.float32)
        out = np.empty((len(z), self.n_groups_, *self.shape_), dtype=np.float32)
        for g in range(self.n_groups_):
            out[:, g] = self.decode_latent(z, s=np.full(len(z), g)).to_numpy()
        return out

    def latent_s_accuracy(self, ds: ImageDataset, *, seed: int = 0) -> float:
        """Balanced accuracy of a logistic regression predicting s from the posterior means
        (held-out 30 %): how much of s the latent still carries (1/G = none)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import balanced_accuracy_score
        from sklearn.model_selection import train_test_split

        mu, _ = self.posterior(ds)
        a, b, sa, sb = train_test_split(mu, ds.s, test_size=0.3, random_state=seed, stratify=ds.s)
        clf = LogisticRegression(max_iter=2000).fit(a, sa)
        return float(balanced_accuracy_score(sb, clf.predict(b)))

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ...nn import state_to_numpy

        self._check_fitted("net_")
        history = self.history_.as_dict() if hasattr(self.history_, "as_dict") else self.history_
        state = {"layout": self._layout_state(), "history": history,
                 "fit_seconds": float(self.fit_seconds_)}
        return state, state_to_numpy(self.net_, "net")

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import TrainHistory, count_parameters, load_numpy_state

        self._set_layout_state(config["layout"])
        self.net_ = self._build_net()
        load_numpy_state(self.net_, arrays, "net")
        self.net_.eval()
        self.n_parameters_ = count_parameters(self.net_)
        self.fit_seconds_ = float(config.get("fit_seconds", float("nan")))
        names = {f.name for f in dataclasses.fields(TrainHistory)}
        self.history_ = TrainHistory(**{k: v for k, v in config.get("history", {}).items()
                                        if k in names})


class ImageFLDGM(ImageFairVAE):
    """FLDGM on images: the conv fair VAE, frozen, plus a latent generator fitted on its posteriors.

    Parameters
    ----------
    latent_model : ``"wgan-gp"``, ``"lsgan"`` or ``"ddpm"``.
    latent_preset : the latent model's preset (``"fast"``, ``"default"``, ``"paper"``).
    latent_params : overrides of the latent model's parameters.
    z_dim, beta, epochs, … : the conv fair VAE's, as in :class:`ImageFairVAE`.
    """

    name: ClassVar[str] = "fldgm"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**ImageFairVAE.presets["paper"], "latent_preset": "paper"},
        "default": {"latent_preset": "default"},
        "fast": {**ImageFairVAE.presets["fast"], "latent_preset": "fast"},
    }

    def __init__(self, *, latent_model: str = "ddpm", latent_preset: str = "default",
                 latent_params: dict[str, Any] | None = None, z_dim: int = 8, beta: float = 1e6,
                 epochs: int = 40, batch_size: int = 64, lr: float = 3e-3,
                 v2_rows: int | None = 64, label_weight: float = 10.0,
                 s_injection: str = "output", s_sampling: str = "marginal",
                 patience: int | None = None, max_images: int = 100_000, device: str = "auto",
                 random_state: int | None = 0, verbose: bool | None = None) -> None:
        super().__init__(z_dim=z_dim, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                         v2_rows=v2_rows, label_weight=label_weight, s_injection=s_injection,
                         s_sampling=s_sampling, patience=patience, max_images=max_images,
                         device=device, random_state=random_state, verbose=verbose)
        self.latent_model = latent_model
        self.latent_preset = latent_preset
        self.latent_params = latent_params

    @property
    def display_name(self) -> str:
        return {"wgan-gp": "FLD-WGAN-GP", "lsgan": "FLD-LSGAN", "ddpm": "FLD-DM"}.get(
            self.latent_model, "FLDGM")

    def fit(self, train: ImageDataset) -> ImageFLDGM:
        """Fit the fair VAE, then the latent generator on the training posteriors."""
        latent = make_latent_model(self.latent_model, self.latent_preset, self.latent_params,
                                   device=self.device, random_state=self.random_state,
                                   verbose=self.verbose)  # validates before any training
        self._fit_vae(train)
        mu, logvar = self.posterior(train)
        start = time.perf_counter()
        self.latent_ = latent.fit(mu, logvar)
        self.latent_seconds_ = time.perf_counter() - start
        self.n_parameters_latent_ = int(self.latent_.n_parameters_)
        return self

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        self._check_fitted("latent_")
        return self.latent_.sample(n, seed=seed)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        self._check_fitted("latent_")
        state, arrays = super()._get_state()
        latent_state, latent_arrays = self.latent_.get_state("latent")  # the tabular FLDGM's format
        state.update(latent=latent_state, latent_seconds=float(self.latent_seconds_))
        return state, {**arrays, **latent_arrays}

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import LatentDDPM, LatentGAN

        super()._set_state(config, arrays)
        cls = LatentDDPM if config["latent"]["kind"] == "ddpm" else LatentGAN
        self.latent_ = cls.from_state(config["latent"], arrays, "latent")
        self.latent_seconds_ = float(config.get("latent_seconds", float("nan")))
        self.n_parameters_latent_ = int(self.latent_.n_parameters_)


class ImageFair4Free(ImageFairVAE):
    """Fair4Free on images (methods.md §4): a conv fair VAE teacher distilled data-free into a
    latent generator g(ε) = Linear(8, 32)–ReLU–Linear(32, z_dim) and a compact conv decoder.

    Two parties, as on tables: ``teacher = ImageFairVAE(...).fit(train)`` needs the images;
    ``student = ImageFair4Free.distill(teacher)`` receives only the (possibly loaded) teacher.
    ``fit(train)`` does both (for benchmarks); the distillation never sees ``train``.

    Parameters
    ----------
    chain_steps, max_chain_steps, chain_samples, noise_dim, distill_steps, distill_lr,
    student_decoder, student_width, student_hidden, decoder_steps : the student, below.
    z_dim, beta, epochs, … : the teacher's, as in :class:`ImageFairVAE`.

    Student options: ``chain_steps`` k, the decode → re-encode rounds from the prior (``None``:
    chosen from 0…``max_chain_steps`` as the tabular class does: the first step where the chain is
    stationary, :func:`fairx.nn._distill.chain_stationarity` ratio ≤ 2);
    ``chain_samples`` teacher latents; ``noise_dim`` (8); ``distill_steps`` ≈ optimiser steps of
    the latent generator (shared loop :func:`fairx.nn.train_latent_generator`: MMD + moment KL)
    and, unless ``decoder_steps`` is given, of the decoder; ``student_decoder`` (default on): a
    conv decoder with ``student_width`` × the teacher's channels and a label head of
    ``student_hidden`` units trained on (g(ε), s) pairs (batches of 256) to reproduce the
    teacher's pixel probabilities (Bernoulli KL) and label head (KL); off: the teacher's decoder
    is copied. The other parameters are the teacher's (:class:`ImageFairVAE`).

    Fitted: ``chain_steps_``, ``chain_scores_`` (stationarity ratio MMD²(z_j, z_{j+1}) / noise floor per
    step j), ``chain_label_entropy_`` (entropy of the
    teacher's mean label prediction per k: a data-free diversity diagnostic, not used to choose
    k), ``generator_``, ``decoder_``,
    ``n_parameters_teacher_``, ``n_parameters_student_`` (generator + decoder; also
    ``n_parameters_`` as ``{"teacher", "student"}``), ``teacher_`` after ``fit`` only.
    """

    name: ClassVar[str] = "fair4free"
    renamed_params: ClassVar[dict[str, str]] = {"max_k": "max_chain_steps",
                                                "student_steps": "distill_steps",
                                                "student_lr": "distill_lr"}
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**ImageFairVAE.presets["paper"], "distill_steps": 3000},
        "default": {},
        "fast": {**ImageFairVAE.presets["fast"], "distill_steps": 300, "chain_samples": 1024},
    }

    def __init__(self, *, chain_steps: int | None = None, max_chain_steps: int = 5,
                 chain_samples: int = 4096, noise_dim: int = 8, distill_steps: int = 1500,
                 distill_lr: float = 3e-3, student_decoder: bool = True,
                 student_width: float = 0.5, student_hidden: int = 32,
                 decoder_steps: int | None = None, z_dim: int = 8, beta: float = 1e6,
                 epochs: int = 40, batch_size: int = 64, lr: float = 3e-3,
                 v2_rows: int | None = 64, label_weight: float = 10.0,
                 s_injection: str = "output", s_sampling: str = "marginal",
                 patience: int | None = None, max_images: int = 100_000, device: str = "auto",
                 random_state: int | None = 0, verbose: bool | None = None) -> None:
        super().__init__(z_dim=z_dim, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                         v2_rows=v2_rows, label_weight=label_weight, s_injection=s_injection,
                         s_sampling=s_sampling, patience=patience, max_images=max_images,
                         device=device, random_state=random_state, verbose=verbose)
        self.chain_steps = chain_steps
        self.max_chain_steps = max_chain_steps
        self.chain_samples = chain_samples
        self.noise_dim = noise_dim
        self.distill_steps = distill_steps
        self.distill_lr = distill_lr
        self.student_decoder = student_decoder
        self.student_width = student_width
        self.student_hidden = student_hidden
        self.decoder_steps = decoder_steps

    @property
    def display_name(self) -> str:
        return "Fair4Free"

    # ------------------------------------------------------------------ the two entry points
    def fit(self, train: ImageDataset) -> ImageFair4Free:
        """Train the teacher on ``train``, then distil the student from the teacher alone."""
        self._check_student_params()
        teacher = ImageFairVAE(**{p: getattr(self, p) for p in _VAE_PARAMS}).fit(train)
        self.teacher_ = teacher
        self._distill(teacher)
        return self

    @classmethod
    def distill(cls, teacher: ImageFairVAE, *, chain_steps: int | None = None,
                distill_steps: int | None = None, random_state: int | None = 0,
                preset: str | None = None, **params: Any) -> ImageFair4Free:
        """Data-free: a student from a fitted (e.g. loaded) ``teacher`` alone — no images are
        passed.

        Parameters
        ----------
        teacher : a fitted :class:`ImageFairVAE`.
        chain_steps : length of the teacher's prior→decode→re-encode chain (``None``: chosen).
        distill_steps : optimiser steps of the student (``None``: the preset's or default).
        random_state : seeds the chain and the student's training.
        preset, params : the other student options (the teacher's parameters are copied from
            ``teacher``).

        Returns
        -------
        ImageFair4Free
        """
        if not isinstance(teacher, ImageFairVAE) or isinstance(teacher, ImageFair4Free):
            raise TypeError(f"teacher must be a fitted ImageFairVAE (registry 'fairdisco' on "
                            f"images), got {type(teacher).__name__}")
        teacher._check_fitted("net_")
        settings = preset_params(cls, preset)
        settings.update(params)
        settings.update({p: getattr(teacher, p) for p in _VAE_PARAMS
                         if p not in ("device", "verbose")})
        settings.update(chain_steps=chain_steps, random_state=random_state)
        if distill_steps is not None:
            settings["distill_steps"] = distill_steps
        settings.setdefault("device", teacher.device)
        student = cls(**settings)
        student._check_student_params()
        student._distill(teacher)
        return student

    # ------------------------------------------------------------------ distillation
    def _check_student_params(self) -> None:
        if self.chain_steps is not None:
            _positive_int("chain_steps", self.chain_steps, minimum=0)
            if self.chain_steps > 20:
                raise ValueError(f"chain_steps={self.chain_steps!r}; it must lie in 0..20 "
                                 "(None chooses from 0..max_chain_steps)")
        _positive_int("max_chain_steps", self.max_chain_steps, minimum=0)
        for name in ("chain_samples", "noise_dim", "distill_steps", "student_hidden"):
            _positive_int(name, getattr(self, name))
        if self.decoder_steps is not None:
            _positive_int("decoder_steps", self.decoder_steps)
        if not 0 < self.student_width <= 1:
            raise ValueError(f"student_width={self.student_width!r}; it must lie in (0, 1]")

    def _distill(self, teacher: ImageFairVAE) -> None:
        import torch

        from ...nn import (
            count_parameters,
            distill_decoder,
            load_numpy_state,
            mlp,
            seeded,
            state_to_numpy,
            train_latent_generator,
        )
        from ...nn._distill import select_chain_step

        t0 = time.perf_counter()
        self._set_layout_state(teacher._layout_state())
        # k as the tabular class chooses it: the first stationary step of the chain
        chain, self.chain_steps_, self.chain_scores_ = select_chain_step(
            lambda steps: teacher.latent_chain(self.chain_samples, steps, seed=self.random_state),
            self.chain_steps, self.max_chain_steps, np.random.default_rng(self.random_state))
        self.chain_label_entropy_ = self._label_entropy(teacher, chain)
        pool = torch.as_tensor(chain[self.chain_steps_], dtype=torch.float32, device=self.device_)
        batch = min(256, len(pool))
        epochs = max(1, int(np.ceil(self.distill_steps / max(len(pool) // batch, 1))))
        with seeded(self.random_state):
            self.generator_ = mlp([self.noise_dim, 32, self.z_dim_]).to(self.device_)
            gen_losses = train_latent_generator(
                self.generator_, pool, noise_dim=self.noise_dim, epochs=epochs, batch_size=batch,
                lr=self.distill_lr, verbose=self.verbose)
            self.generator_.eval()
            if self.student_decoder:
                self.decoder_ = self._build_net(width=self.student_width,
                                                hidden=self.student_hidden, encoder=False)
                p_s = torch.as_tensor(self._s_probs(), dtype=torch.float32)
                eye = torch.eye(self.n_groups_, device=self.device_)

                def latents(m: int) -> torch.Tensor:
                    return self.generator_(torch.randn(m, self.noise_dim, device=self.device_))

                def groups(m: int) -> torch.Tensor:
                    return eye[torch.multinomial(p_s, m, replacement=True).to(self.device_)]

                dec_losses = distill_decoder(
                    self.decoder_, teacher.net_, latents, groups, (),
                    steps=self.decoder_steps or self.distill_steps, batch_size=256,
                    lr=self.distill_lr, verbose=self.verbose, loss_fn=self.decoder_.distill_loss)
            else:
                self.decoder_ = self._build_net(encoder=False)
                arrays = {k: v for k, v in state_to_numpy(teacher.net_, "t").items()
                          if not k.startswith("t.encoder.")}
                load_numpy_state(self.decoder_, arrays, "t")
                dec_losses = []
        self.decoder_.eval()
        self.distill_seconds_ = time.perf_counter() - t0
        self.student_history_ = {"generator": gen_losses, "decoder": dec_losses}
        self.n_parameters_teacher_ = int(teacher.n_parameters_)
        self.n_parameters_teacher_decoder_ = count_parameters(teacher.net_) - count_parameters(
            teacher.net_.encoder)
        self.n_parameters_student_ = count_parameters(self.generator_, self.decoder_)
        self.n_parameters_ = self.n_parameters_student_  # what generation uses
        logger.info("image Fair4Free: k=%s (scores %s), teacher %d / student %d parameters",
                    self.chain_steps_, np.round(self.chain_scores_, 2), self.n_parameters_teacher_,
                    self.n_parameters_student_)

    @staticmethod
    def _label_entropy(teacher: ImageFairVAE, chain: list[np.ndarray]) -> list[float]:
        """Data-free diversity diagnostic per chain step: entropy (nats) of the mean label-head
        distribution of the step's latents (log(#classes) = balanced classes; a chain drifting
        toward a few classes loses entropy although its latent-quality score may rise)."""
        import torch

        out = []
        with torch.no_grad():
            for z in chain:
                zt = torch.as_tensor(z, dtype=torch.float32, device=teacher.device_)
                p = torch.softmax(teacher.net_.label_logits(zt), 1).mean(0).clamp_min(1e-12)
                out.append(float(-(p * p.log()).sum()))
        return out

    # ------------------------------------------------------------------ generation (student only)
    def _decoder(self):
        self._check_fitted("decoder_")
        return self.decoder_

    def _encoder(self):
        if hasattr(self, "teacher_"):
            return self.teacher_._encoder()
        raise ValueError("this Fair4Free student holds no encoder (only the latent generator and "
                         "decoder are distilled or saved); encode with the teacher instead")

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        import torch

        from ...nn import seeded

        self._check_fitted("generator_")
        with seeded(seed), torch.no_grad():
            eps = torch.randn(n, self.noise_dim, device=self.device_)
            return self.generator_(eps).cpu().numpy().astype(np.float32)

    # ------------------------------------------------------------------ persistence (student only)
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ...nn import state_to_numpy

        self._check_fitted("generator_")
        state = {"layout": self._layout_state(), "chain_steps": int(self.chain_steps_),
                 "chain_scores": [float(v) for v in self.chain_scores_],
                 "chain_label_entropy": [float(v) for v in self.chain_label_entropy_],
                 "n_parameters": {"teacher": self.n_parameters_teacher_,
                                  "student": self.n_parameters_student_},
                 "n_parameters_teacher_decoder": int(self.n_parameters_teacher_decoder_),
                 "distill_seconds": float(self.distill_seconds_), "data_free": True}
        arrays = {**state_to_numpy(self.generator_, "generator"),
                  **state_to_numpy(self.decoder_, "decoder")}
        return state, arrays

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import load_numpy_state, mlp

        self._set_layout_state(config["layout"])
        self.chain_steps_ = int(config.get("chain_steps", config.get("k")))  # "k" before 0.2
        self.chain_scores_ = list(config["chain_scores"])
        self.chain_label_entropy_ = list(config.get("chain_label_entropy", []))
        self.generator_ = mlp([self.noise_dim, 32, self.z_dim_]).to(self.device_)
        load_numpy_state(self.generator_, arrays, "generator")
        self.decoder_ = self._build_net(width=self.student_width, hidden=self.student_hidden,
                                        encoder=False) if self.student_decoder \
            else self._build_net(encoder=False)
        load_numpy_state(self.decoder_, arrays, "decoder")
        self.generator_.eval()
        self.decoder_.eval()
        self.n_parameters_teacher_ = int(config["n_parameters"]["teacher"])
        self.n_parameters_student_ = self.n_parameters_ = int(config["n_parameters"]["student"])
        self.n_parameters_teacher_decoder_ = int(config["n_parameters_teacher_decoder"])
        self.distill_seconds_ = float(config.get("distill_seconds", float("nan")))


class ImageFairDistill(ImageFairVAE):
    """FairDistill on images (§3): the conv fair VAE teacher, frozen, distilled into a conv
    student encoder ``student_width`` times as wide, with the shared loop
    :func:`fairx.nn.train_student_encoder` (KL(q_s ‖ q_t) + λ_u·KL(p_t(y|z_t) ‖ p_t(y|z_s)) +
    β·V²(z_s, s)); generation: a Gaussian mixture (components by BIC, up to ``max_components``)
    on the student's latent means, decoded by the teacher's decoder. The mixture is kept as
    arrays ``gmm_ = {"weights", "means", "covariances"}`` (saved like the tabular class's).

    Parameters
    ----------
    student_width : the student encoder's channels as a share of the teacher's.
    distill_epochs : the student's training epochs.
    lambda_u : weight of the utility loss.
    max_components : largest mixture tried (by BIC).
    z_dim, beta, epochs, … : the teacher's, as in :class:`ImageFairVAE`.
    """

    name: ClassVar[str] = "fairdistill"
    renamed_params: ClassVar[dict[str, str]] = {"width": "student_width",
                                                "student_epochs": "distill_epochs"}
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**ImageFairVAE.presets["paper"], "distill_epochs": 100},
        "default": {},
        "fast": {**ImageFairVAE.presets["fast"], "distill_epochs": 5, "max_components": 4},
    }

    def __init__(self, *, student_width: float = 0.25, distill_epochs: int = 20, lambda_u: float = 1.0,
                 max_components: int = 10, z_dim: int = 8, beta: float = 1e6, epochs: int = 40,
                 batch_size: int = 64, lr: float = 3e-3, v2_rows: int | None = 64,
                 label_weight: float = 10.0, s_injection: str = "output",
                 s_sampling: str = "marginal", patience: int | None = None,
                 max_images: int = 100_000, device: str = "auto", random_state: int | None = 0,
                 verbose: bool | None = None) -> None:
        super().__init__(z_dim=z_dim, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                         v2_rows=v2_rows, label_weight=label_weight, s_injection=s_injection,
                         s_sampling=s_sampling, patience=patience, max_images=max_images,
                         device=device, random_state=random_state, verbose=verbose)
        self.student_width = student_width
        self.distill_epochs = distill_epochs
        self.lambda_u = lambda_u
        self.max_components = max_components

    @property
    def display_name(self) -> str:
        return "FairDistill"

    def _student_net(self):
        from ...nn._conv_vae import FlatConvEncoder

        return FlatConvEncoder(self.shape_, self.n_groups_, self.z_dim_,
                               width=self.student_width).to(self.device_)

    def fit(self, train: ImageDataset) -> ImageFairDistill:
        import torch
        from sklearn.mixture import GaussianMixture

        from ...nn import seeded, train_student_encoder
        from ...nn._conv_vae import flatten_rows

        self._fit_vae(train)
        images = torch.from_numpy(train.to_numpy()).to(self.device_)
        x = flatten_rows(images, torch.from_numpy(_onehot(train.y, self.n_classes_)).to(self.device_))
        s = torch.from_numpy(_onehot(train.s, self.n_groups_)).to(self.device_)
        with seeded(self.random_state):
            self.student_ = self._student_net()
            self.student_history_ = train_student_encoder(
                self.student_, self.net_, x, s, z_dim=self.z_dim_, beta=float(self.beta),
                lambda_u=self.lambda_u, epochs=self.distill_epochs, batch_size=self.batch_size,
                lr=self.lr, v2_rows=self.v2_rows, verbose=self.verbose)
        self.student_.eval()
        with torch.no_grad():
            mu = torch.cat([self.student_(torch.cat([x[a:a + 1024], s[a:a + 1024]], 1))
                            [:, : self.z_dim_] for a in range(0, len(x), 1024)]).cpu().numpy()
        best, best_bic = None, np.inf
        for k in range(1, self.max_components + 1):
            gm = GaussianMixture(k, covariance_type="full", reg_covar=1e-5,
                                 random_state=self.random_state).fit(mu)
            if gm.bic(mu) < best_bic:
                best, best_bic = gm, gm.bic(mu)
        self.gmm_ = {"weights": best.weights_, "means": best.means_,
                     "covariances": best.covariances_}
        self.gmm_components_ = int(best.n_components)
        self._set_counts()
        return self

    def _set_counts(self) -> None:
        from ...nn import count_parameters

        self.n_parameters_student_ = count_parameters(self.student_)
        self.n_parameters_teacher_encoder_ = count_parameters(self.net_.encoder)

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        self._check_fitted("gmm_")
        rng = np.random.default_rng(seed)
        w, means, covs = (np.asarray(self.gmm_[k]) for k in ("weights", "means", "covariances"))
        comp = rng.choice(len(w), size=n, p=w / w.sum())
        chol = np.linalg.cholesky(covs)
        eps = rng.standard_normal((n, self.z_dim_))
        z = means[comp] + np.einsum("nij,nj->ni", chol[comp], eps)
        return z.astype(np.float32)

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ...nn import state_to_numpy

        self._check_fitted("gmm_")
        state, arrays = super()._get_state()
        state["gmm_components"] = self.gmm_components_
        return state, {**arrays, **state_to_numpy(self.student_, "student"),
                       **{f"gmm.{k}": np.asarray(v) for k, v in self.gmm_.items()}}

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import load_numpy_state

        super()._set_state(config, arrays)
        self.student_ = self._student_net()
        load_numpy_state(self.student_, arrays, "student")
        self.student_.eval()
        self.gmm_ = {k: arrays[f"gmm.{k}"] for k in ("weights", "means", "covariances")}
        self.gmm_components_ = int(config["gmm_components"])
        self._set_counts()


IMAGE_CLASSES = {"fairdisco": ImageFairVAE, "fldgm": ImageFLDGM, "fair4free": ImageFair4Free,
                 "fairdistill": ImageFairDistill}
