"""Common machinery of the latent generative models (FLDGM's WGAN-GP, LSGAN and DDPM).

A latent model fits on an ``(n, z_dim)`` array of latents — or on Gaussian posteriors
``(mu, logvar)``, in which case every batch is a fresh draw ``z = mu + exp(logvar / 2)·eps`` —
and samples new latents. It knows nothing about datasets.

Early stopping uses a latent-space quality criterion: the squared maximum mean discrepancy

    MMD²(P, Q) = E k(x, x') + E k(y, y') − 2 E k(x, y),   k = Σ_s exp(−‖x − y‖² / (2 (s·h)²))

(biased V-statistic, RBF kernels at bandwidths ``s·h`` for s in {0.5, 1, 2, 4}, h = median
pairwise distance of the held-out latents, fixed once) between ``eval_samples`` generated
latents and held-out latents of the training rows, computed in the standardised latent space.
The checkpoint with the lowest MMD² is kept. A kernel sum over several bandwidths is
sensitive to location, scale and shape at once, which a moment distance is not.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..exceptions import NotFittedError
from ._mmd import median_distance, rbf_mmd2
from ._torch_utils import count_parameters, load_numpy_state, resolve_device, seeded, state_to_numpy
from ._training import EarlyStopping, progress

logger = logging.getLogger(__name__)

class LatentModel:
    """Base of the latent generators: data handling, standardisation, the training loop with
    MMD early stopping and best-checkpoint restore, sampling, state for save/load.

    Subclasses set ``kind`` and implement ``_build``, ``_train_epoch``, ``_generate``
    (in the standardised space) and ``_modules``.
    """

    kind: ClassVar[str] = "latent"
    #: hyper-parameters stored in the JSON config (subclasses extend)
    _param_names: ClassVar[tuple[str, ...]] = (
        "epochs", "batch_size", "lr", "weight_decay", "standardize", "early_stopping",
        "eval_every", "patience", "val_fraction", "eval_samples", "device", "random_state",
        "verbose",
    )

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 512,
        lr: float = 2e-4,
        weight_decay: float = 0.0,
        standardize: bool = True,
        early_stopping: bool = True,
        eval_every: int = 5,
        patience: int | None = 10,
        val_fraction: float = 0.1,
        eval_samples: int = 1000,
        device: str = "auto",
        random_state: int | None = 0,
        verbose: bool | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.early_stopping = early_stopping
        self.eval_every = eval_every
        self.patience = patience
        self.val_fraction = val_fraction
        self.eval_samples = eval_samples
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ subclass hooks
    def _build(self, z_dim: int) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _modules(self) -> dict[str, nn.Module]:  # pragma: no cover - interface
        raise NotImplementedError

    def _sampling_modules(self) -> list[nn.Module]:
        """Modules needed at generation time (for the parameter count)."""
        return list(self._modules().values())

    def _train_epoch(self, batches: Iterator[torch.Tensor]) -> dict[str, float]:  # pragma: no cover
        raise NotImplementedError

    def _generate(self, n: int) -> torch.Tensor:  # pragma: no cover - interface
        """``n`` latents in the standardised space (modules already in eval mode)."""
        raise NotImplementedError

    def _generate_for_eval(self, n: int) -> torch.Tensor:
        return self._generate(n)

    # ------------------------------------------------------------------ helpers
    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names}

    def _check_params(self) -> None:
        for name in ("epochs", "batch_size", "eval_every", "eval_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{name}={value!r}: must be a positive integer")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction={self.val_fraction}: must lie in [0, 1)")
        if self.lr <= 0:
            raise ValueError(f"lr={self.lr}: must be positive")

    def _check_fitted(self) -> None:
        if not hasattr(self, "z_dim_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(z) first")

    @property
    def n_parameters_(self) -> int:
        """Parameters used at generation time (generator / denoiser)."""
        self._check_fitted()
        return count_parameters(*self._sampling_modules())

    @property
    def n_parameters_total_(self) -> int:
        """All trained parameters (including a GAN's critic)."""
        self._check_fitted()
        return count_parameters(*self._modules().values())

    def _set_mode(self, train: bool) -> None:
        for m in self._modules().values():
            m.train(train)

    # ------------------------------------------------------------------ fit
    def fit(self, z: np.ndarray, logvar: np.ndarray | None = None) -> LatentModel:
        """Fit on latents ``z`` (n, z_dim) — or, with ``logvar``, on the posteriors
        N(z, exp(logvar)), resampling ``z + exp(logvar/2)·eps`` for every batch."""
        self._check_params()
        mu = np.asarray(z, dtype=np.float32)
        if mu.ndim != 2 or len(mu) < 2:
            raise ValueError(f"z has shape {mu.shape}; expected (n >= 2, z_dim)")
        if not np.isfinite(mu).all():
            raise ValueError("z contains NaN or infinite values")
        lv = None
        if logvar is not None:
            lv = np.asarray(logvar, dtype=np.float32)
            if lv.shape != mu.shape:
                raise ValueError(f"logvar has shape {lv.shape}; expected {mu.shape} like z")
        self.device_ = resolve_device(self.device)
        n, z_dim = mu.shape
        # moments of the (aggregate) distribution the batches are drawn from
        var = mu.var(axis=0) + (np.exp(lv).mean(axis=0) if lv is not None else 0.0)
        if self.standardize:
            self.mean_ = mu.mean(axis=0).astype(np.float32)
            self.std_ = np.sqrt(np.maximum(var, 1e-12)).astype(np.float32)
        else:
            self.mean_ = np.zeros(z_dim, np.float32)
            self.std_ = np.ones(z_dim, np.float32)
        self.z_dim_ = z_dim
        dev = self.device_
        mean_t, std_t = torch.from_numpy(self.mean_).to(dev), torch.from_numpy(self.std_).to(dev)
        mu_t = (torch.from_numpy(mu).to(dev) - mean_t) / std_t
        sd_t = None if lv is None else torch.exp(0.5 * torch.from_numpy(lv).to(dev)) / std_t
        start = time.perf_counter()
        with seeded(self.random_state):
            perm = torch.randperm(n, device=dev)
            n_val = int(round(self.val_fraction * n)) if self.early_stopping else 0
            if self.early_stopping and n_val < 2:
                raise ValueError(f"early stopping needs held-out latents: val_fraction="
                                 f"{self.val_fraction} of {n} rows leaves {n_val}")
            val_idx, train_idx = perm[:n_val], perm[n_val:]
            val = None
            if n_val:
                val = mu_t[val_idx[: self.eval_samples]]
                if sd_t is not None:
                    val = val + sd_t[val_idx[: self.eval_samples]] * torch.randn_like(val)
                bandwidth = median_distance(val)
            self._build(z_dim)
            for m in self._modules().values():
                m.to(dev)
            self.history_: list[dict[str, float]] = []
            stopper = EarlyStopping(self.patience, mode="min")
            best_state = None
            self.best_epoch_ = self.epochs
            self.best_score_ = math.nan
            m_train = len(train_idx)
            bs = min(self.batch_size, m_train)

            def draw(idx: torch.Tensor) -> torch.Tensor:
                b = mu_t[idx]
                return b if sd_t is None else b + sd_t[idx] * torch.randn_like(b)

            def batches() -> Iterator[torch.Tensor]:
                order = train_idx[torch.randperm(m_train, device=dev)]
                for i in range(0, m_train - bs + 1, bs):  # drop the ragged last batch (BatchNorm)
                    yield draw(order[i: i + bs])

            # extra batches drawn at random (a GAN critic takes several steps per generator step)
            self._random_batch = lambda: draw(train_idx[torch.randint(m_train, (bs,), device=dev)])

            with progress(self.epochs, f"{self.kind}", self.verbose) as advance:
                for epoch in range(1, self.epochs + 1):
                    self._set_mode(True)
                    losses = self._train_epoch(batches())
                    record = {"epoch": float(epoch), **losses}
                    stop = False
                    if val is not None and (epoch % self.eval_every == 0 or epoch == self.epochs):
                        self._set_mode(False)
                        with torch.no_grad():
                            fake = self._generate_for_eval(len(val))
                            score = float(rbf_mmd2(fake, val, bandwidth=bandwidth))
                        record["mmd2"] = score
                        stop = stopper.step(score, epoch)
                        if stopper.improved_last:
                            best_state = {k: copy.deepcopy(m.state_dict())
                                          for k, m in self._modules().items()}
                            self.best_epoch_, self.best_score_ = epoch, score
                    self.history_.append(record)
                    advance(info=" ".join(f"{k}={v:.4g}" for k, v in record.items() if k != "epoch"))
                    if stop:
                        logger.info("%s: early stop at epoch %d (best %d, MMD² %.4g)", self.kind,
                                    epoch, self.best_epoch_, self.best_score_)
                        break
            if best_state is not None:
                for k, m in self._modules().items():
                    m.load_state_dict(best_state[k])
            del self._random_batch
        self.epochs_run_ = len(self.history_)
        self.fit_seconds_ = time.perf_counter() - start
        self._set_mode(False)
        return self

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, *, seed: int | None = None, batch: int = 8192) -> np.ndarray:
        """``n`` new latents (n, z_dim), in the original (un-standardised) scale; no clipping."""
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"n={n!r}: the number of latents must be a positive integer")
        self._set_mode(False)
        out = []
        with seeded(seed), torch.no_grad():
            for i in range(0, int(n), batch):
                out.append(self._generate(min(batch, int(n) - i)).cpu())
        z = torch.cat(out).numpy()
        return (z * self.std_ + self.mean_).astype(np.float32)

    # ------------------------------------------------------------------ state
    def get_state(self, prefix: str = "latent") -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON config, arrays) of the fitted model; inverse of :meth:`from_state`."""
        self._check_fitted()
        config = {"kind": self.kind, "params": self.get_params(), "z_dim": int(self.z_dim_),
                  "best_epoch": int(self.best_epoch_), "epochs_run": int(self.epochs_run_)}
        arrays: dict[str, np.ndarray] = {f"{prefix}.mean": self.mean_, f"{prefix}.std": self.std_}
        for name, m in self._modules().items():
            arrays.update(state_to_numpy(m, f"{prefix}.{name}"))
        return config, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray],
                   prefix: str = "latent") -> LatentModel:
        model = cls(**config["params"])
        model.device_ = resolve_device(model.device)
        model.z_dim_ = int(config["z_dim"])
        model.best_epoch_ = int(config.get("best_epoch", model.epochs))
        model.epochs_run_ = int(config.get("epochs_run", model.epochs))
        model.mean_ = np.asarray(arrays[f"{prefix}.mean"], dtype=np.float32)
        model.std_ = np.asarray(arrays[f"{prefix}.std"], dtype=np.float32)
        model._build(model.z_dim_)
        for name, m in model._modules().items():
            load_numpy_state(m, arrays, f"{prefix}.{name}")
            m.to(model.device_)
        model._set_mode(False)
        return model
