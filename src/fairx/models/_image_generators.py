"""Fair latent generators on images (methods.md §9): the registry names ``fairdisco``, ``fldgm``
and ``fair4free`` resolve here when the training set is an :class:`~fairx.data.ImageDataset`.

- :class:`ImageFairVAE` (FairDisCo image variant): the conv fair VAE of :mod:`fairx.nn._conv_vae`
  trained by the shared loop :func:`fairx.nn.train_fair_vae` (BCE + KL + β·V²(z, s) + label CE).
- :class:`ImageFLDGM`: the frozen conv fair VAE plus a latent GAN / DDPM
  (:class:`fairx.nn.LatentGAN`, :class:`fairx.nn.LatentDDPM`) fitted on the posteriors of the
  training images, decoded as above (FLDGM, §2).
- :class:`ImageFair4Free`: data-free distillation (§4) of a fitted :class:`ImageFairVAE`: the
  teacher's own chain z ~ N(0, I) → image D(z, s) → z ~ q(z | image, s) (k times) gives latent
  samples; a small noise → latent generator is fitted to them by MMD + Gaussian moment KL. No
  training image is passed to :meth:`ImageFair4Free.distill`. The teacher decoder is kept
  (no distilled student decoder on images).
- :class:`ImageFairDistill`: a conv student encoder (a quarter of the teacher's width) distilled
  with :func:`fairx.nn.train_student_encoder`; latent Gaussian mixture; teacher decoder.

Generation: z from the latent model, s ~ P(S) of the training set drawn independently of z
(``s_sampling="uniform"`` for equal groups), pixels = sigmoid(decoder(z, s)), label = argmax of
the label head on z alone. Colour then carries no information about the label in generated
data as far as z is free of s. ``counterfactuals`` decodes one z with every s.
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np

from ..data._images import ImageDataset
from ._base import FairGenerator

logger = logging.getLogger(__name__)


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
                 verbose: bool = False) -> None:
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
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name}={v!r}; it must be a positive integer")
        if self.s_sampling not in ("marginal", "uniform"):
            raise ValueError(f"s_sampling={self.s_sampling!r}; allowed: 'marginal', 'uniform'")

    def _fit_vae(self, train: ImageDataset) -> None:
        import torch

        from ..nn import count_parameters, resolve_device, seeded, train_fair_vae
        from ..nn._conv_vae import ConvFairVAENet, flatten_rows

        self._check_params()
        train = _check_image_dataset(train)
        if len(train) > self.max_images:
            raise ValueError(f"{len(train)} training images exceed max_images={self.max_images}; "
                             "pass a subset (ds.subset) or raise max_images")
        self.device_ = resolve_device(self.device)
        self.shape_ = tuple(int(v) for v in train.shape)
        self.n_groups_, self.n_classes_ = train.n_groups, train.n_classes
        self.meta_ = {"classes": list(train.classes), "groups": list(train.groups),
                      "target": train.target, "sensitive": train.sensitive,
                      "name": train.name}
        self.s_marginal_ = np.bincount(train.s, minlength=self.n_groups_) / len(train)
        images = torch.from_numpy(train.to_numpy()).to(self.device_)
        x = flatten_rows(images, torch.from_numpy(_onehot(train.y, self.n_classes_)).to(self.device_))
        s = torch.from_numpy(_onehot(train.s, self.n_groups_)).to(self.device_)
        start = time.perf_counter()
        with seeded(self.random_state):
            self.net_ = ConvFairVAENet(self.shape_, self.n_groups_, self.n_classes_,
                                       z_dim=self.z_dim, s_injection=self.s_injection,
                                       label_weight=self.label_weight).to(self.device_)
            self.history_ = train_fair_vae(self.net_, x, s, beta=float(self.beta),
                                           epochs=self.epochs, batch_size=self.batch_size,
                                           lr=self.lr, v2_rows=self.v2_rows,
                                           patience=self.patience, verbose=self.verbose)
        self.fit_seconds_ = time.perf_counter() - start
        self.z_dim_ = self.z_dim
        self.n_parameters_ = count_parameters(self.net_)

    def fit(self, train: ImageDataset) -> ImageFairVAE:
        """Train the conv fair VAE on the training images."""
        self._fit_vae(train)
        return self

    # ------------------------------------------------------------------ latent <-> images
    def posterior(self, ds: ImageDataset, *, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | image, s) for every image of ``ds``, shape (n, z_dim)."""
        import torch

        self._check_fitted("net_")
        if tuple(ds.shape) != self.shape_:
            raise ValueError(f"images have shape {ds.shape}; the model was trained on {self.shape_}")
        mus, lvs = [], []
        self.net_.eval()
        with torch.no_grad():
            for img, _, s in ds.batches(batch_size):
                st = torch.from_numpy(_onehot(s, self.n_groups_)).to(self.device_)
                mu, lv = self.net_.encode(torch.from_numpy(img).to(self.device_), st)
                mus.append(mu.cpu().numpy())
                lvs.append(lv.cpu().numpy())
        return np.concatenate(mus), np.concatenate(lvs)

    def _draw_s(self, n: int, rng: np.random.Generator) -> np.ndarray:
        p = np.full(self.n_groups_, 1.0 / self.n_groups_) if self.s_sampling == "uniform" \
            else self.s_marginal_
        return rng.choice(self.n_groups_, size=n, p=p)

    def decode_latent(self, z: np.ndarray, *, seed: int | None = None, s: np.ndarray | None = None,
                      batch_size: int = 1024) -> ImageDataset:
        """Images sigmoid(D(z, s)) with labels argmax p(y | z); s ~ P(S) (seeded) when None."""
        import torch

        self._check_fitted("net_")
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_dim_:
            raise ValueError(f"z has shape {z.shape}; expected (n, {self.z_dim_})")
        if s is None:
            s = self._draw_s(len(z), np.random.default_rng(seed))
        s = np.asarray(s, dtype=np.int64)
        if len(s) != len(z) or (len(s) and (s.min() < 0 or s.max() >= self.n_groups_)):
            raise ValueError(f"s must hold {len(z)} group indices in 0..{self.n_groups_ - 1}")
        imgs, ys = [], []
        self.net_.eval()
        with torch.no_grad():
            for a in range(0, len(z), batch_size):
                zt = torch.from_numpy(z[a:a + batch_size]).to(self.device_)
                st = torch.from_numpy(_onehot(s[a:a + batch_size], self.n_groups_)).to(self.device_)
                imgs.append(torch.sigmoid(self.net_.decode_images(zt, st)).cpu().numpy())
                ys.append(self.net_.label_logits(zt).argmax(1).cpu().numpy())
        m = self.meta_
        return ImageDataset(images=np.concatenate(imgs), y=np.concatenate(ys), s=s,
                            classes=tuple(m["classes"]), groups=tuple(m["groups"]),
                            target=m["target"], sensitive=m["sensitive"],
                            name=f"{m['name']}-{self.name}", meta={"generator": self.name})

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        return np.random.default_rng(seed).standard_normal((n, self.z_dim_)).astype(np.float32)

    def sample(self, n: int, *, seed: int | None = None) -> ImageDataset:
        """``n`` generated images (latent from the model's sampler, s ~ P(S) independent of z)."""
        self._check_fitted("net_")
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


class ImageFLDGM(ImageFairVAE):
    """FLDGM on images: the conv fair VAE, frozen, plus a latent generator fitted on its posteriors.

    ``latent_model``: ``"wgan-gp"``, ``"lsgan"`` or ``"ddpm"``; ``latent_preset``: the latent
    model's preset (``"fast"``, ``"default"``, ``"paper"``); ``latent_params`` override it.
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
                 random_state: int | None = 0, verbose: bool = False) -> None:
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

    def _latent_model(self) -> Any:
        from ..nn import DDPM_PRESETS, LATENT_GAN_PRESETS, LatentDDPM, LatentGAN

        if self.latent_model not in ("wgan-gp", "lsgan", "ddpm"):
            raise ValueError(f"latent_model={self.latent_model!r}; allowed: 'wgan-gp', 'lsgan', 'ddpm'")
        presets = DDPM_PRESETS if self.latent_model == "ddpm" else LATENT_GAN_PRESETS
        if self.latent_preset not in presets:
            raise ValueError(f"latent_preset={self.latent_preset!r}; allowed: {sorted(presets)}")
        params = {**presets[self.latent_preset], **(self.latent_params or {}),
                  "device": self.device, "random_state": self.random_state,
                  "verbose": self.verbose}
        if self.latent_model == "ddpm":
            return LatentDDPM(**params)
        return LatentGAN(loss=self.latent_model, **params)

    def fit(self, train: ImageDataset) -> ImageFLDGM:
        """Fit the fair VAE, then the latent generator on the training posteriors."""
        self._fit_vae(train)
        mu, logvar = self.posterior(train)
        start = time.perf_counter()
        self.latent_ = self._latent_model().fit(mu, logvar)
        self.latent_seconds_ = time.perf_counter() - start
        self.n_parameters_latent_ = int(self.latent_.n_parameters_)
        return self

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        self._check_fitted("latent_")
        return self.latent_.sample(n, seed=seed)


class ImageFair4Free(ImageFairVAE):
    """Fair4Free on images: a fair conv VAE teacher distilled data-free into a small latent
    generator g(ε) = Linear(8, 32)–ReLU–Linear(32, z_dim), decoded by the teacher's decoder.

    ``fit(train)`` = teacher fit (needs data) + :meth:`distill` (does not). ``chain_steps`` k:
    decode–re-encode rounds from the prior (default 1; ``None`` = 1 — unlike the tabular class,
    k is not chosen automatically here); ``student_steps`` ≈ optimiser steps of the latent
    generator (shared loop :func:`fairx.nn.train_latent_generator`: MMD + moment KL).
    """

    name: ClassVar[str] = "fair4free"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**ImageFairVAE.presets["paper"], "student_steps": 3000},
        "default": {},
        "fast": {**ImageFairVAE.presets["fast"], "student_steps": 300, "chain_samples": 1024},
    }

    def __init__(self, *, student_hidden: int = 32, noise_dim: int = 8, chain_steps: int | None = 1,
                 chain_samples: int = 4096, student_steps: int = 1500, student_lr: float = 3e-3,
                 z_dim: int = 8, beta: float = 1e6, epochs: int = 40, batch_size: int = 64,
                 lr: float = 3e-3, v2_rows: int | None = 64, label_weight: float = 10.0,
                 s_injection: str = "output", s_sampling: str = "marginal",
                 patience: int | None = None, max_images: int = 100_000, device: str = "auto",
                 random_state: int | None = 0, verbose: bool = False) -> None:
        super().__init__(z_dim=z_dim, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                         v2_rows=v2_rows, label_weight=label_weight, s_injection=s_injection,
                         s_sampling=s_sampling, patience=patience, max_images=max_images,
                         device=device, random_state=random_state, verbose=verbose)
        self.student_hidden = student_hidden
        self.noise_dim = noise_dim
        self.chain_steps = chain_steps
        self.chain_samples = chain_samples
        self.student_steps = student_steps
        self.student_lr = student_lr

    @property
    def display_name(self) -> str:
        return "Fair4Free"

    def fit(self, train: ImageDataset) -> ImageFair4Free:
        self._fit_vae(train)
        return self.distill()

    def teacher_latents(self, n: int, steps: int, *, seed: int | None = 0) -> np.ndarray:
        """The teacher's self-generated latents: z0 ~ N(0, I), then ``steps`` times
        image = sigmoid(D(z, s)), s ~ P(S); z ~ q(z | image, s) (sampled, not the mean)."""
        import torch

        from ..nn import seeded

        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.z_dim_)).astype(np.float32)
        with seeded(seed), torch.no_grad():
            for _ in range(steps):
                s = torch.from_numpy(_onehot(self._draw_s(n, rng), self.n_groups_)).to(self.device_)
                zt = torch.from_numpy(z).to(self.device_)
                img = torch.sigmoid(self.net_.decode_images(zt, s))
                mu, lv = self.net_.encode(img, s)
                z = (mu + (0.5 * lv).exp() * torch.randn_like(mu)).cpu().numpy()
        return z

    def distill(self) -> ImageFair4Free:
        """Train the student latent generator from the fitted teacher alone (no data argument),
        with the shared Fair4Free loop :func:`fairx.nn.train_latent_generator`."""
        import torch

        from ..nn import count_parameters, mlp, seeded, train_latent_generator

        self._check_fitted("net_")
        steps = 1 if self.chain_steps is None else int(self.chain_steps)
        pool = torch.from_numpy(self.teacher_latents(self.chain_samples, steps,
                                                     seed=self.random_state)).to(self.device_)
        start = time.perf_counter()
        batch = min(256, len(pool))
        epochs = max(1, int(np.ceil(self.student_steps / max(len(pool) // batch, 1))))
        with seeded(self.random_state):
            self.student_ = mlp([self.noise_dim, self.student_hidden, self.z_dim_]).to(self.device_)
            self.student_history_ = train_latent_generator(
                self.student_, pool, noise_dim=self.noise_dim, epochs=epochs, batch_size=batch,
                lr=self.student_lr, verbose=self.verbose)
        self.student_.eval()
        self.distill_seconds_ = time.perf_counter() - start
        self.n_parameters_student_ = count_parameters(self.student_)
        self.n_parameters_teacher_ = self.n_parameters_
        return self

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        import torch

        from ..nn import seeded

        self._check_fitted("student_")
        with seeded(seed), torch.no_grad():
            eps = torch.randn(n, self.noise_dim, device=self.device_)
            return self.student_(eps).cpu().numpy().astype(np.float32)


class ImageFairDistill(ImageFairVAE):
    """FairDistill on images (§3): the conv fair VAE teacher, frozen, distilled into a conv
    student encoder ``width`` times as wide, with the shared loop
    :func:`fairx.nn.train_student_encoder` (KL(q_s ‖ q_t) + λ_u·KL(p_t(y|z_t) ‖ p_t(y|z_s)) +
    β·V²(z_s, s)); generation: a Gaussian mixture (components by BIC, up to ``max_components``)
    on the student's latent means, decoded by the teacher's decoder."""

    name: ClassVar[str] = "fairdistill"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**ImageFairVAE.presets["paper"], "student_epochs": 100},
        "default": {},
        "fast": {**ImageFairVAE.presets["fast"], "student_epochs": 5, "max_components": 4},
    }

    def __init__(self, *, width: float = 0.25, student_epochs: int = 20, lambda_u: float = 1.0,
                 max_components: int = 10, z_dim: int = 8, beta: float = 1e6, epochs: int = 40,
                 batch_size: int = 64, lr: float = 3e-3, v2_rows: int | None = 64,
                 label_weight: float = 10.0, s_injection: str = "output",
                 s_sampling: str = "marginal", patience: int | None = None,
                 max_images: int = 100_000, device: str = "auto", random_state: int | None = 0,
                 verbose: bool = False) -> None:
        super().__init__(z_dim=z_dim, beta=beta, epochs=epochs, batch_size=batch_size, lr=lr,
                         v2_rows=v2_rows, label_weight=label_weight, s_injection=s_injection,
                         s_sampling=s_sampling, patience=patience, max_images=max_images,
                         device=device, random_state=random_state, verbose=verbose)
        self.width = width
        self.student_epochs = student_epochs
        self.lambda_u = lambda_u
        self.max_components = max_components

    @property
    def display_name(self) -> str:
        return "FairDistill"

    def fit(self, train: ImageDataset) -> ImageFairDistill:
        import torch
        from sklearn.mixture import GaussianMixture

        from ..nn import count_parameters, seeded, train_student_encoder
        from ..nn._conv_vae import FlatConvEncoder, flatten_rows

        self._fit_vae(train)
        images = torch.from_numpy(train.to_numpy()).to(self.device_)
        x = flatten_rows(images, torch.from_numpy(_onehot(train.y, self.n_classes_)).to(self.device_))
        s = torch.from_numpy(_onehot(train.s, self.n_groups_)).to(self.device_)
        with seeded(self.random_state):
            self.student_ = FlatConvEncoder(self.shape_, self.n_groups_, self.z_dim_,
                                            width=self.width).to(self.device_)
            self.student_history_ = train_student_encoder(
                self.student_, self.net_, x, s, z_dim=self.z_dim_, beta=float(self.beta),
                lambda_u=self.lambda_u, epochs=self.student_epochs, batch_size=self.batch_size,
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
        self.gmm_ = best
        self.n_parameters_student_ = count_parameters(self.student_)
        self.n_parameters_teacher_encoder_ = count_parameters(self.net_.encoder)
        return self

    def _sample_latent(self, n: int, seed: int | None) -> np.ndarray:
        self._check_fitted("gmm_")
        rng = np.random.default_rng(seed)
        comp = rng.choice(self.gmm_.n_components, size=n, p=self.gmm_.weights_)
        chol = np.linalg.cholesky(self.gmm_.covariances_)
        eps = rng.standard_normal((n, self.z_dim_))
        z = self.gmm_.means_[comp] + np.einsum("nij,nj->ni", chol[comp], eps)
        return z.astype(np.float32)


IMAGE_CLASSES = {"fairdisco": ImageFairVAE, "fldgm": ImageFLDGM, "fair4free": ImageFair4Free,
                 "fairdistill": ImageFairDistill}
