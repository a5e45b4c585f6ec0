"""FairDisCo's fair VAE as a generator (methods.md §1, §5 and §9): ``FairVAE`` (``fairdisco``).

One class for tables and images: the codec (:mod:`.codec`, chosen from the type of the
training data) turns rows into the network's tensors and back and builds the matching network
(an MLP fair VAE for a ``TabularDataset``, the conv fair VAE for an ``ImageDataset``).

Tables: the encoded table (``TabularEncoder``, sensitive columns removed, the target kept as a
categorical block) goes through q(z | x, s); the loss is reconstruction + KL + β·V²(z, s). The
papers' "α = 7" is the log10 grid: **β = 10^α = 10^7**.

Generation (**Decision**, methods.md §1): z ~ N(0, I) (or any latent the caller passes to
``decode_latent``), s ~ P(S) of the training rows (option ``s_sampling="uniform"``), the label
from the head on z alone, the other columns from (z, s). ``decode="sample"`` (default) draws each
categorical value (and each numerical column's CDF bin) from its softmax and adds the training
residual noise to numericals, which keeps the marginals (and coverage) of the data;
``decode="mode"`` takes the argmax and the mean.

Decoding temperature (**Decision**, measured; ``decode_temperature``, tables' default 0.5, the
``paper`` preset 1): every softmax is drawn at temperature τ, softmax(logits / τ). The decoder
factorises p(x | z, s) over columns, and each column's softmax was trained on z ~ q(z | x, s), so
it also carries the posterior's own noise; a latent drawn from the aggregate posterior already
holds that spread, so drawing every column independently at τ = 1 adds it twice and combines
values that do not occur together (a "Husband" who never married). On Adult × sex (one
teacher, 31,655 rows decoded from the held-out latent mixture; ``benchmarks/
fair_latent_decode_temperature.py``) τ 1 → 0.5 moved coverage 0.873 → 0.887, density 0.744 →
0.858, α-precision 0.917 → 0.968, β-recall 0.506 → 0.528, with TSTR AUROC, DPR and data DPD
unchanged; the price is marginal fidelity and privacy distance (TV complement 0.983 → 0.977,
authenticity 0.569 → 0.507, still the level of a fresh real sample); lower τ trades more of those
(docs/measurements.md, "Decoding temperature").

Images: BCE over pixels + label_weight · CE(label) + KL + β·V²(z, s); generated images are the
pixel probabilities sigmoid(D(z, s)), labels the argmax of the label head on z alone. The
image values of the hyper-parameters are the ``image_presets`` (``fairx.models.get_for(images,
"fairdisco")`` applies their ``default``).

V² is estimated on a random ``v2_rows``-row sub-batch of every batch (default 512 of 2048): the
penalty costs O(n²·z_dim), so this is 16× less work per batch than the full-batch estimator.
Evidence (planted-bias table, 4200 training rows, batch 2048, β = 1e7, 60 epochs,
seeds 0 and 1, full batch vs 512 rows): AUROC of a linear probe for s on sampled z 0.484 vs 0.491,
data-level DPR 0.930 vs 0.918, TSTR AUROC 0.774 vs 0.778, TSTR DPR 0.757 vs 0.691 (per-seed
spread ±0.1, larger than the gap). ``v2_rows=None`` uses the full batch (the paper's estimator,
and the ``paper`` preset).
"""

from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .codec import Codec, TabularCodec, codec_from_state, codec_state, make_codec
from .codec import finish_decoding as finish_decoding  # noqa: F401 - its old import path
from .latent import FairLatentGenerator, Parts, check_decode_temperature

logger = logging.getLogger(__name__)

#: the image values of FairVAE's hyper-parameters (its ``image_presets["default"]``)
IMAGE_DEFAULTS: dict[str, Any] = {"hidden": 64, "z_dim": 8, "beta": 1e6, "epochs": 40,
                                  "batch_size": 64, "lr": 3e-3, "v2_rows": 64, "kl_weight": 1.0,
                                  "v2_bandwidth": 0.0}

#: FairVAE's table defaults before 2026-12-06 (the paper's encoding): what a saved folder without
#: a value for them was trained with
PREVIOUS_DEFAULTS: dict[str, Any] = {"hidden": 64, "numerical": "standard", "kl_weight": 1.0,
                                     "decode_temperature": 1.0,
                                     "v2_bandwidth": 0.0}


class FairVAE(FairLatentGenerator):
    """FairDisCo: a VAE whose latent is made independent of s by the V² penalty.

    Works on a ``TabularDataset`` (MLP) or an ``ImageDataset`` (conv net); the codec is chosen
    from the type of the training data.

    Parameters
    ----------
    hidden : encoder/decoder width (tables; paper 64, fairx 128, see below); the label head's
        width (images).
    z_dim : latent size (paper: 8; fairx tables 16, images 8).
    beta : weight of V² (paper: 1e7 with its kernel; fairx tables 1e5 with ``v2_bandwidth`` 1;
        images 1e6; β = 0 is a plain conditional VAE).
    epochs, batch_size, lr : Adam training (paper: 1000, 2048, 1e-3; fairx 100 epochs at 2e-3 —
        on Adult × sex, seeds 0 and 1, as good as 200 at 1e-3 in half the time, docs/measurements.md
        "Training speed").
    v2_rows : rows of each batch used to estimate V² (``None``: all of them).
    v2_bandwidth : smoothing h of V²'s kernel (0: the paper's; see ``fairx.nn.v2_penalty``): each
        posterior variance gains h² and the kernel is scaled to peak 1, so β is comparable
        across z_dim. Needed for a wide latent, where the paper's kernel stops acting.
    patience : early stopping on the epoch loss (``None``: train all epochs).
    decode : ``"sample"`` or ``"mode"`` (tables; see the module docstring).
    decode_temperature : softmax temperature τ in (0, 1] of ``decode="sample"`` (tables; 0.5,
        the ``paper`` preset 1; see the module docstring).
    s_sampling : ``"marginal"`` (P(S) of the training rows) or ``"uniform"``.
    numerical : ``"bins"`` (default; ``"standard"`` is the paper's one Gaussian per column) or
        another ``TabularEncoder`` scaling. Bins: each numerical column as 32 bins of its
        empirical CDF, decoded by a softmax over bins and a uniform draw inside the bin (keeps
        spikes and skew; see ``codec.N_BINS``); trained with cross-entropy plus an ordinal term
        on the bin position (``fairx.nn._fair_vae.ordinal_bin_loss``).
    kl_weight : weight of the KL term (1: the VAE of the paper; fairx 0.3: keeps more of the data
        in z, which FLDGM / FairDistill / Fair4Free sample as the aggregate posterior).

    The table defaults (``numerical="bins"``, ``kl_weight=0.3``, ``hidden=128``, 100 epochs at
    lr 2e-3, ``z_dim=16`` with ``v2_bandwidth=1`` and ``beta=1e5``) differ from the paper's
    (``preset="paper"`` keeps those): docs/measurements.md's decoder diagnostic
    (``benchmarks/fair_latent_decoder_diag.py``, Adult × sex) measured coverage 0.63 → 0.73 from
    the prior and 0.67 → 0.87 from a latent sampler, α-precision 0.50 → 0.70, s-probe at chance
    for the encoding; the wider latent then raised the decoded real rows' own posteriors from
    coverage / density 0.91 / 0.75 to 0.96 / 0.91 and a latent sampler's α-precision from 0.77 to
    0.87, with a lower s-probe (docs/measurements.md, "A wider latent"; the 5-seed table "Adult × sex with
    today's defaults" has the full protocol).
    label_weight : weight of the label head's cross-entropy (images).
    s_injection : ``"output"`` (s scales/shifts the output channels: it can colour, not draw)
        or ``"input"`` (s concatenated to z at the decoder input, the §9 layout) (images).
    max_images : refuse to train on more images than this in memory (images).
    device : ``"auto"``, ``"cpu"`` or ``"cuda"``; random_state seeds init, batches and noise.

    Attributes
    ----------
    codec_ : the fitted :class:`~.codec.TabularCodec` or :class:`~.codec.ImageCodec`.
    net_ : the fair VAE network. z_dim_, history_, n_parameters_, fit_seconds_.
    """

    name: ClassVar[str] = "fairdisco"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {"hidden": 64, "z_dim": 8, "batch_size": 2048, "lr": 1e-3, "epochs": 1000, "beta": 1e7,
                  "v2_rows": None, "numerical": "standard", "kl_weight": 1.0, "v2_bandwidth": 0.0,
                  "decode_temperature": 1.0},
        "default": {},
        "fast": {"epochs": 30, "batch_size": 256, "lr": 1e-3, "v2_rows": 256},
    }
    image_presets: ClassVar[dict[str, dict[str, Any]]] = {
        "paper": {**IMAGE_DEFAULTS, "epochs": 200, "batch_size": 256},
        "default": dict(IMAGE_DEFAULTS),
        "fast": {**IMAGE_DEFAULTS, "epochs": 15, "batch_size": 64, "v2_rows": 64},
    }

    def __init__(self, *, hidden: int = 128, z_dim: int = 16, beta: float = 1e5, epochs: int = 100,
                 batch_size: int = 2048, lr: float = 2e-3, v2_rows: int | None = 512,
                 patience: int | None = None, decode: str = "sample", s_sampling: str = "marginal",
                 numerical: str = "bins", label_weight: float = 10.0,
                 s_injection: str = "output", max_images: int = 100_000, device: str = "auto",
                 random_state: int | None = 0, verbose: bool | None = None,
                 kl_weight: float = 0.3, v2_bandwidth: float = 1.0,
                 decode_temperature: float = 0.5) -> None:
        self.kl_weight = kl_weight
        self.decode_temperature = decode_temperature
        self.v2_bandwidth = v2_bandwidth
        self.hidden = hidden
        self.z_dim = z_dim
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.v2_rows = v2_rows
        self.patience = patience
        self.decode = decode
        self.s_sampling = s_sampling
        self.numerical = numerical
        self.label_weight = label_weight
        self.s_injection = s_injection
        self.max_images = max_images
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @property
    def display_name(self) -> str:
        return "FairDisCo"

    @classmethod
    def _params_from_saved(cls, params: dict[str, Any]) -> dict[str, Any]:
        """A folder saved before ``kl_weight`` existed was trained with the defaults of then
        (``PREVIOUS_DEFAULTS``) wherever it holds no value; one saved before ``v2_bandwidth``
        with the paper's kernel (0); one saved before ``decode_temperature`` decodes as it did
        then (1)."""
        saved = super()._params_from_saved(params)
        saved = saved if "kl_weight" in saved else {**PREVIOUS_DEFAULTS, **saved}
        return {"v2_bandwidth": 0.0, "decode_temperature": 1.0, **saved}

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.decode not in ("sample", "mode"):
            raise ValueError(f"decode={self.decode!r}; allowed: 'sample', 'mode'")
        check_decode_temperature(self.decode_temperature)
        if self.s_sampling not in ("marginal", "uniform"):
            raise ValueError(f"s_sampling={self.s_sampling!r}; allowed: 'marginal', 'uniform'")
        if not np.isfinite(self.kl_weight) or self.kl_weight < 0:
            raise ValueError(f"kl_weight={self.kl_weight!r}; it must be a finite number ≥ 0 (VAE: 1)")
        if not np.isfinite(self.beta) or self.beta < 0:
            raise ValueError(f"beta={self.beta!r}; it must be a finite number ≥ 0 (paper: 1e7)")
        bw = self.v2_bandwidth
        if isinstance(bw, bool) or not isinstance(bw, (int, float, np.floating, np.integer)) \
                or not np.isfinite(bw) or bw < 0:
            raise ValueError(f"v2_bandwidth={bw!r}; it must be a finite number ≥ 0 (paper: 0)")
        for name in ("hidden", "z_dim", "epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name}={v!r}; it must be a positive integer")

    # ------------------------------------------------------------------ networks
    def build_net(self, codec: Codec, *, hidden: int | None = None, encoder: bool = True,
                  width: float = 1.0):
        """This configuration's network for a fitted ``codec`` (``encoder=False``: the
        generative half only, e.g. a distilled student decoder).

        Parameters
        ----------
        codec : a fitted codec (its kind picks the MLP or the conv net).
        hidden : width (``None``: ``self.hidden``).
        encoder : build the encoder too.
        width : the conv decoder's channels as a share of the full net's (images).

        Returns
        -------
        torch.nn.Module
        """
        from ...nn import resolve_device  # heavy (torch): keeps ``import fairx`` light

        return codec.build_net(z_dim=self.z_dim, hidden=self.hidden if hidden is None else hidden,
                               device=resolve_device(self.device), encoder=encoder, width=width,
                               s_injection=self.s_injection, label_weight=self.label_weight)

    # ------------------------------------------------------------------ fit
    def fit(self, train: Any) -> FairVAE:
        """Train the fair VAE.

        Parameters
        ----------
        train : a ``TabularDataset`` or an ``ImageDataset``.

        Returns
        -------
        FairVAE
            ``self``, fitted.
        """
        from ...nn import count_parameters, resolve_device, seeded, train_fair_vae  # heavy (torch)

        self._check_params()
        self.device_ = resolve_device(self.device)
        self.codec_ = make_codec(train, numerical=self.numerical, max_images=self.max_images)
        x, s = self.codec_.tensors(train, self.device_)
        t0 = time.perf_counter()
        with seeded(self.random_state):
            self.net_ = self.build_net(self.codec_)
            history = train_fair_vae(self.net_, x, s, beta=float(self.beta), epochs=self.epochs,
                                     batch_size=self.batch_size, lr=self.lr, v2_rows=self.v2_rows,
                                     patience=self.patience, verbose=self.verbose,
                                     kl_weight=float(self.kl_weight),
                                     v2_bandwidth=float(self.v2_bandwidth))
            self.codec_.calibrate(self.net_, x, s)
        self.net_.eval()
        self.history_ = history.as_dict()
        self.fit_seconds_ = time.perf_counter() - t0
        self.z_dim_ = self.z_dim
        self.n_parameters_ = count_parameters(self.net_)
        return self

    # ------------------------------------------------------------------ latent
    def _parts(self) -> Parts:
        self._check_fitted("net_")
        return Parts(self.codec_, self.net_, self.device_, self.decode, self.s_sampling == "uniform",
                     check_decode_temperature(self.decode_temperature))

    decoding_parts = encoding_parts = _parts

    def transform(self, ds: Any, *, sample: bool = False, seed: int | None = None) -> pd.DataFrame:
        """The fair representation, columns ``z0 … z{d-1}``: posterior means, or with
        ``sample=True`` draws z = μ + σ·ε. V² constrains the distribution of z; latent
        dimensions the VAE leaves unused (σ ≈ 1) can still carry faint s information in their
        means, so audits of s-predictability should use ``sample=True``."""
        mu, logvar = self.posterior(ds)
        if sample:
            mu = mu + np.exp(0.5 * logvar) * np.random.default_rng(seed).standard_normal(mu.shape)
        index = ds.frame.index if hasattr(ds, "frame") else None
        return pd.DataFrame(mu, columns=[f"z{i}" for i in range(mu.shape[1])], index=index)

    def sample_latent(self, n: int, *, seed: int | None = None) -> np.ndarray:
        """``n`` latents z ~ N(0, I), shape (n, z_dim).

        Parameters
        ----------
        n : number of latents.
        seed : seeds the draw.

        Returns
        -------
        numpy.ndarray
        """
        self._check_fitted("net_")
        n = self._check_n(n)
        return np.random.default_rng(seed).standard_normal((n, self.z_dim_)).astype(np.float32)

    def latent_chain(self, n: int, steps: int, *, seed: Any = 0,
                     temperature: float = 1.0) -> list[np.ndarray]:
        """The model's self-generated latents (Fair4Free's data-free chain, methods.md §4):
        z_0 ~ N(0, I), then ``steps`` times x̃ = D(z, s) with s ~ P(S), z ~ q(z | x̃, s)
        (sampled, not the mean).

        Parameters
        ----------
        n, steps : latents per step and number of steps.
        seed : an int, ``None`` or a ``numpy.random.Generator`` (used as is).
        temperature : the decoding temperature of x̃ (1: the softmaxes as trained, what
            Fair4Free's chain uses, whatever this model's ``decode_temperature``).

        Returns
        -------
        list of numpy arrays
            The ``steps + 1`` arrays of every step.
        """
        from ...nn._distill import prior_chain  # heavy (torch)

        p = self._parts()
        tau = check_decode_temperature(temperature)
        for name, value, low in (("n", n, 1), ("steps", steps, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}={value!r}; it must be an integer >= {low}")
        rng = np.random.default_rng(seed)

        def reencode(z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            s_idx = p.codec.sample_s(len(z), rng, p.uniform)
            x_t = p.codec.reconstruct(p.net, z, s_idx, rng, p.mode, p.device, tau)
            return p.codec.encode_tensors(p.net, x_t, p.codec.onehot(s_idx, p.device))

        z0 = rng.standard_normal((int(n), self.z_dim_))
        return prior_chain(z0, reencode, int(steps), rng)

    def sample(self, n: int, *, seed: int | None = None) -> Any:
        """``n`` rows (or images) decoded from z ~ N(0, I).

        Parameters
        ----------
        n : rows (or images) to generate.
        seed : seeds the latents, the groups and (tables) ``decode="sample"``.

        Returns
        -------
        TabularDataset or ImageDataset
            In the training schema.
        """
        self._check_fitted("net_")
        n = self._check_n(n)
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.z_dim_)).astype(np.float32)
        return self.decode_latent(z, seed=int(rng.integers(2**31)))

    # ------------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        from ...nn import state_to_numpy  # heavy (torch)

        self._check_fitted("net_")
        state = {"codec": codec_state(self.codec_)}
        state.update({"z_dim": self.z_dim_, "n_parameters": self.n_parameters_,
                      "fit_seconds": getattr(self, "fit_seconds_", None),
                      "history": {k: v for k, v in self.history_.items() if k != "seconds"}})
        return state, state_to_numpy(self.net_, "vae")

    def _set_state(self, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        from ...nn import count_parameters, load_numpy_state, resolve_device  # heavy (torch)

        self.device_ = resolve_device(self.device)
        self.codec_ = saved_codec(config)
        if "layout" in config:  # an image model saved as ImageFairVAE (before the codec layer)
            config = {**config, "z_dim": config["layout"]["z_dim"], "n_parameters": None}
            arrays = {"vae." + k[len("net."):]: v for k, v in arrays.items() if k.startswith("net.")}
        self.z_dim_ = int(config["z_dim"])
        self.net_ = self.build_net(self.codec_)
        load_numpy_state(self.net_, arrays, "vae")
        self.net_.eval()
        self.n_parameters_ = int(config["n_parameters"] or count_parameters(self.net_))
        self.history_ = config.get("history", {})
        if config.get("fit_seconds") is not None:
            self.fit_seconds_ = float(config["fit_seconds"])


def saved_codec(state: dict[str, Any], key: str = "codec") -> Codec:
    """The codec of a saved model's state: ``state[key]``, or the layouts written before the
    codec layer (a table's encoder at the top level or under ``"layout"``; an image model's
    ``"layout"`` of ImageFairVAE and its subclasses)."""
    if key in state:
        return codec_from_state(state[key])
    layout = state.get("layout", state)
    if "shape" in layout:
        return codec_from_state({"kind": "image", **layout})
    return TabularCodec.from_state(layout)
