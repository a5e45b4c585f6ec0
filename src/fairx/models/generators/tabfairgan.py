"""TabFairGAN (Rajabi & Garibay 2022): a WGAN-GP for tables with a demographic-parity phase."""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np

from ...data import TabularDataset, TabularEncoder
from .._features import check_training_data
from ..base import FairGenerator

logger = logging.getLogger(__name__)


class TabFairGAN(FairGenerator):
    """TabFairGAN as in methods.md §5.

    Encoding: numericals through an empirical-CDF transform to uniform [0, 1]
    (``TabularEncoder(numerical="quantile")``, the QuantileTransformer(uniform) of the paper),
    categoricals (target and sensitive included) one-hot.
    Generator: ``h = ReLU(Linear(d, d)(noise))`` with d-dimensional noise, a numeric head
    ``ReLU(Linear(d, #numericals))`` and one Gumbel-softmax head (τ = ``tau`` = 0.2) per
    categorical block. Critic: ``Linear(d, d)–LeakyReLU(0.2)`` ×2 then ``Linear(d, 1)``.

    Phase 1 (``epochs − fair_epochs`` epochs): WGAN-GP, λ = ``gp_weight`` = 10,
    ``critic_steps`` = 4 critic updates per generator update, Adam(``lr``, betas (0.5, 0.999);
    2e-4 in the paper). Phase 2 (the last ``fair_epochs``): the critic keeps training; the
    generator minimises ``−E[D(G(z))] − λ_f·[P(ŷ=d | s=u) − P(ŷ=d | s=p)]`` with
    Adam(``fair_lr``; 1e-4 in the paper), where
    the probabilities are soft (from the Gumbel-softmax outputs of the batch),
    ``d`` = the positive label, ``u`` = the sensitive group (intersection of all sensitive
    columns) with the lowest positive rate in train and ``p`` = all other groups together
    (so multi-valued s works). Decision: the ratio ``Σ G_u·I_d / Σ G_u`` is used for each
    conditional probability (the original code divided a batch mean by a batch sum).

    Early stopping (``early_stopping``, on by default) ends phase 1 only: ``val_fraction`` of
    the training rows are held out, every ``eval_every`` epochs ``eval_samples`` generated rows
    are scored against them by RBF-kernel MMD² in the encoded space; after ``patience`` checks
    without improvement (or at the end of phase 1) the best generator is restored
    (``best_epoch_``) and phase 2 runs its full ``fair_epochs`` from there.

    Per-dataset defaults of the original runs (epochs / fair_epochs / lambda_f, batch 256):
    Adult 200 / 30 / 0.5; COMPAS 70 / 30 / 2.2; Law 200 / 20 / 2.5; Bank 200 / 5 / 0.75.
    The ``paper`` preset is the Adult setting (Adam 2e-4 / 1e-4, no early stopping).
    ``default`` (the constructor's values) is sized for a full Adult cell on 2 CPU cores: at
    most 30 epochs of which 10 fair, batch 512, Adam 1e-3 / 5e-4 (larger steps for fewer
    epochs), early stopping on. ``fast`` is a small CPU setting for tests.
    The number of generated rows is always the caller's ``n``.
    """

    name: ClassVar[str] = "tabfairgan"
    stage: ClassVar[str] = "generator"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"epochs": 200, "fair_epochs": 30, "lambda_f": 0.5, "batch_size": 256,
                  "lr": 2e-4, "fair_lr": 1e-4, "early_stopping": False},
        "default": {},
        # CPU-sized: fewer epochs, so larger steps (lr 1e-3 / 5e-4) and smaller batches
        "fast": {"epochs": 30, "fair_epochs": 10, "lambda_f": 0.5, "batch_size": 64, "lr": 1e-3,
                 "fair_lr": 5e-4, "early_stopping": False},
    }
    DATASET_DEFAULTS: ClassVar[dict[str, dict[str, float]]] = {
        "adult": {"epochs": 200, "fair_epochs": 30, "lambda_f": 0.5},
        "compas": {"epochs": 70, "fair_epochs": 30, "lambda_f": 2.2},
        "law": {"epochs": 200, "fair_epochs": 20, "lambda_f": 2.5},
        "bank": {"epochs": 200, "fair_epochs": 5, "lambda_f": 0.75},
    }

    def __init__(self, *, epochs: int = 30, fair_epochs: int = 10, lambda_f: float = 0.5,
                 batch_size: int = 512, lr: float = 1e-3, fair_lr: float = 5e-4,
                 critic_steps: int = 4, gp_weight: float = 10.0, tau: float = 0.2,
                 early_stopping: bool = True, patience: int = 3, eval_every: int = 2,
                 val_fraction: float = 0.1, eval_samples: int = 2000,
                 device: str = "auto", random_state: int = 0, verbose: bool | None = None) -> None:
        self.epochs = epochs
        self.fair_epochs = fair_epochs
        self.lambda_f = lambda_f
        self.batch_size = batch_size
        self.lr = lr
        self.fair_lr = fair_lr
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight
        self.tau = tau
        self.early_stopping = early_stopping
        self.patience = patience
        self.eval_every = eval_every
        self.val_fraction = val_fraction
        self.eval_samples = eval_samples
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def display_name(self) -> str:
        return "TabFairGAN"

    @classmethod
    def for_dataset(cls, dataset: str, **params: Any) -> TabFairGAN:
        """The original runs' settings for ``adult``, ``compas``, ``law`` or ``bank`` (the
        ``paper`` preset: batch 256, Adam 2e-4 / 1e-4, no early stopping); ``params`` override
        them."""
        key = dataset.lower()
        if key not in cls.DATASET_DEFAULTS:
            raise ValueError(f"no TabFairGAN defaults for dataset {dataset!r}; known: "
                             f"{', '.join(cls.DATASET_DEFAULTS)}")
        return cls(**{**cls.presets["paper"], **cls.DATASET_DEFAULTS[key], **params})

    # ------------------------------------------------------------------ networks
    def _build(self) -> tuple[Any, Any]:
        # heavy (torch): loaded when used; `import fairx` stays light
        import torch
        from torch import nn

        # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
        from ...nn import block_activation, mlp

        d = self.encoder_.dim_
        blocks = self.encoder_.blocks_
        tau = self.tau

        class Generator(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.hidden = nn.Linear(d, d)
                self.out = nn.Linear(d, d)  # numeric head + one head per categorical block

            def forward(self, z: torch.Tensor) -> torch.Tensor:
                return block_activation(self.out(torch.relu(self.hidden(z))), blocks,
                                        categorical="gumbel", tau=tau, numerical="relu")

        critic = mlp([d, d, d, 1], leaky_slope=0.2)
        return Generator(), critic

    # ------------------------------------------------------------------ fit
    def _fairness_indices(self, train: TabularDataset) -> None:
        y, s = train.y, train.s.to_numpy().astype(str)
        rates = {g: float(y[s == g].mean()) for g in np.unique(s)}
        self.group_rates_ = rates
        self.underprivileged_ = min(rates, key=rates.get)
        values = self.underprivileged_.split("|") if len(train.sensitive) > 1 else [self.underprivileged_]
        self.s_columns_ = []
        for col, value in zip(train.sensitive, values, strict=True):
            block = self.encoder_.block(col)
            idx = [str(c) for c in block.categories].index(value)
            self.s_columns_.append(block.start + idx)
        tb = self.encoder_.block(train.target)
        self.y_column_ = tb.start + [str(c) for c in tb.categories].index(str(train.positive_label))

    def _fair_loss(self, fake: Any) -> Any:
        g_u = fake[:, self.s_columns_].prod(dim=1)
        i_d = fake[:, self.y_column_]
        eps = 1e-8
        p_u = (g_u * i_d).sum() / (g_u.sum() + eps)
        p_p = ((1 - g_u) * i_d).sum() / ((1 - g_u).sum() + eps)
        return -self.lambda_f * (p_u - p_p)

    def fit(self, train: TabularDataset) -> TabFairGAN:
        # heavy (torch): loaded when used; `import fairx` stays light
        import torch

        # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
        from ...nn import (
            count_parameters,
            generator_wasserstein_loss,
            minibatches,
            progress,
            resolve_device,
            seeded,
            wgan_gp_critic_step,
        )

        # heavy (torch via fairx.nn._gan): loaded when used; `import fairx` stays light
        from ...nn._gan import MMDCheckpoint, holdout_rows

        if int(self.epochs) < 1 or not 0 <= int(self.fair_epochs) <= int(self.epochs):
            raise ValueError(f"epochs={self.epochs}, fair_epochs={self.fair_epochs}: need "
                             "epochs >= 1 and 0 <= fair_epochs <= epochs")
        check_training_data(train)
        device = resolve_device(self.device)
        start = time.perf_counter()
        self.encoder_ = TabularEncoder(numerical="quantile").fit(train)
        self.schema_ = train.schema()
        self._fairness_indices(train)
        data = torch.as_tensor(self.encoder_.encode(train), device=device)
        d = self.encoder_.dim_
        steps = int(self.critic_steps)
        with seeded(self.random_state):
            monitor = None
            if self.early_stopping:
                val_rows, train_rows = holdout_rows(len(data), self.val_fraction, device=device)
                monitor = MMDCheckpoint(data[val_rows[: self.eval_samples]], self.patience)
                data = data[train_rows]
            gen, critic = self._build()
            gen.to(device)
            critic.to(device)
            opt_g = torch.optim.Adam(gen.parameters(), lr=self.lr, betas=(0.5, 0.999))
            opt_g_fair = torch.optim.Adam(gen.parameters(), lr=self.fair_lr, betas=(0.5, 0.999))
            opt_c = torch.optim.Adam(critic.parameters(), lr=self.lr, betas=(0.5, 0.999))
            history = []
            epochs, n_fair = int(self.epochs), int(self.fair_epochs)
            plain_epochs = epochs - n_fair
            self.best_epoch_ = plain_epochs - 1
            with progress(epochs, "TabFairGAN", enabled=self.verbose) as advance:
                epoch = 0
                while epoch < plain_epochs + n_fair:
                    fair = epoch >= plain_epochs
                    for rows in minibatches(len(data), self.batch_size, device=device):
                        real = data[rows]
                        with torch.no_grad():  # all critic steps' fakes in one generator call
                            fakes = gen(torch.randn(steps * len(rows), d, device=device))
                        for fake in fakes.split(len(rows)):
                            c_loss = wgan_gp_critic_step(critic, opt_c, real, fake,
                                                         gp_weight=self.gp_weight)
                        fake = gen(torch.randn(len(rows), d, device=device))
                        g_loss = generator_wasserstein_loss(critic, fake)
                        if fair:
                            g_loss = g_loss + self._fair_loss(fake)
                        opt = opt_g_fair if fair else opt_g
                        opt.zero_grad(set_to_none=True)
                        g_loss.backward()
                        opt.step()
                    record = {"epoch": epoch, "critic_loss": c_loss,
                              "generator_loss": float(g_loss.detach()), "fair": fair}
                    stop = False
                    if monitor is not None and not fair and (
                            (epoch + 1) % int(self.eval_every) == 0 or epoch + 1 == plain_epochs):
                        with torch.no_grad():
                            fake = gen(torch.randn(len(monitor.val), d, device=device))
                        stop, record["mmd2"] = monitor.check(gen, fake, epoch)
                    history.append(record)
                    advance(info=f"critic {c_loss:.3f}")
                    epoch += 1
                    if monitor is not None and epoch == plain_epochs or stop:
                        # phase 1 ends (early or not): continue from the best checkpoint
                        monitor.restore(gen)
                        self.best_epoch_ = monitor.best_epoch
                        if stop:
                            logger.info("TabFairGAN: early stop at epoch %d (best %d, MMD² %.4g)",
                                        epoch - 1, monitor.best_epoch, monitor.best_score)
                            plain_epochs = epoch
        self.generator_ = gen.eval()
        self.device_ = device
        self.history_ = history
        self.n_parameters_ = count_parameters(gen, critic)
        self.fit_seconds_ = time.perf_counter() - start
        logger.info("TabFairGAN fitted in %.1fs (%d parameters)", self.fit_seconds_, self.n_parameters_)
        return self

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, *, seed: int | None = None) -> TabularDataset:
        """``n`` rows in the training schema; the same ``seed`` gives the same rows."""
        # heavy (torch): loaded when used; `import fairx` stays light
        import torch

        # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
        from ...nn import seeded

        n = self._check_n(n)
        self._check_fitted("generator_")
        seed = self.random_state if seed is None else seed
        with torch.no_grad(), seeded(seed):
            z = torch.randn(n, self.encoder_.dim_, device=self.device_)
            x = self.generator_(z).cpu().numpy()
        return _dataset_from(self.schema_, self.encoder_.decode(x), name=f"{self.schema_['name']}-tabfairgan")

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
        from ...nn import state_to_numpy

        self._check_fitted("generator_")
        state = {"encoder": self.encoder_.get_state(), "schema": self.schema_,
                 "s_columns": self.s_columns_, "y_column": self.y_column_,
                 "underprivileged": self.underprivileged_, "group_rates": self.group_rates_,
                 "n_parameters": self.n_parameters_}
        return state, state_to_numpy(self.generator_, "generator")

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        # heavy (torch via fairx.nn): loaded when used; `import fairx` stays light
        from ...nn import load_numpy_state, resolve_device

        self.encoder_ = TabularEncoder.from_state(config["encoder"])
        self.schema_ = config["schema"]
        self.s_columns_ = list(config["s_columns"])
        self.y_column_ = int(config["y_column"])
        self.underprivileged_ = config["underprivileged"]
        self.group_rates_ = config["group_rates"]
        self.n_parameters_ = config["n_parameters"]
        gen, _ = self._build()
        load_numpy_state(gen, arrays, "generator")
        self.device_ = resolve_device(self.device)
        self.generator_ = gen.to(self.device_).eval()


def _dataset_from(schema: dict[str, Any], frame: Any, *, name: str) -> TabularDataset:
    """A generated frame with the training schema (shared by the fairx generators)."""
    return TabularDataset(frame=frame, target=schema["target"], sensitive=list(schema["sensitive"]),
                          positive_label=schema["positive_label"], categorical=list(schema["categorical"]),
                          numerical=list(schema["numerical"]), integer=list(schema["integer"]),
                          name=name, meta={"generated": True})
