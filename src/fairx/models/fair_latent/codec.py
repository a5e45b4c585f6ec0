"""Codecs: the data side of the fair-latent family, one per modality.

A fair-latent model (:class:`~.fair_vae.FairVAE`, :class:`~.fldgm.FLDGM`,
:class:`~.fairdistill.FairDistill`, :class:`~.fair4free.Fair4Free`) is the same method on a
table and on images; only the way rows become network tensors and back differs. That part is
the codec, chosen by :func:`make_codec` from the type of the training data:

- :class:`TabularCodec` for a :class:`~fairx.data.TabularDataset`: the invertible
  ``TabularEncoder`` (sensitive columns removed, the target kept as a categorical block), the
  MLP fair VAE of :mod:`fairx.nn._fair_vae`, decoding by sampling each categorical block from
  its softmax and adding the training residual noise to numericals (``mode="sample"``) or by
  argmax / mean (``mode="mode"``); ``temperature`` τ divides every softmax's logits before the
  draw (the model's ``decode_temperature``).
- :class:`ImageCodec` for an :class:`~fairx.data.images.ImageDataset`: flattened pixels plus
  the one-hot label, the conv fair VAE of :mod:`fairx.nn._conv_vae`, decoding to pixel
  probabilities sigmoid(D(z, s)) and the label argmax p(y | z) (``mode`` has no effect).

The contract (both classes):

``fit(train)``
    learn the layout, the sensitive groups (``s_levels_``) and their training shares
    (``s_marginal_``).
``tensors(ds, device)``
    ``(x, s)``: the network's input rows and one-hot groups for every row of ``ds``.
``encode(net, ds, device)``
    ``(μ, log σ²)`` of q(z | x, s), numpy.
``sample_s(n, rng, uniform)``, ``resolve_s(s, n, rng, uniform)``, ``onehot(idx, device)``
    sensitive groups of generated rows.
``build_net(...)``, ``build_student_encoder(...)``
    the matching network (teacher, decoder-only student, FairDistill's student encoder).
``calibrate(net, x, s)``
    anything decoding needs from the fitted network (the tables' residual noise).
``reconstruct(net, z, s_idx, rng, mode, device, temperature=1.0)``
    the network input decoded from latents (Fair4Free's prior → decode → re-encode chain).
``decode(net, z, s_idx, rng, mode, device, generator, temperature=1.0)``
    latents + groups → a dataset in the training schema.
``distill_kwargs(student)``
    the decoder-distillation loss for :func:`fairx.nn.distill_decoder`.
``get_state()`` / ``from_state(state)``
    JSON-able state (saved in ``config.json``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...data import TabularDataset, TabularEncoder
from ...data.images import ImageDataset


class Codec:
    """Shared part of the codecs: sensitive groups, their shares and sampling."""

    kind: ClassVar[str] = "tabular"
    s_marginal_: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of sensitive groups seen in training."""
        return len(self.s_marginal_)

    def group_labels(self) -> list[str]:
        """One label per group (indices into ``s_marginal_``)."""
        raise NotImplementedError

    def s_probs(self, uniform: bool = False) -> np.ndarray:
        """P(S) of the training data, or equal shares when ``uniform``."""
        k = self.n_groups
        return np.full(k, 1.0 / k) if uniform else np.asarray(self.s_marginal_)

    def sample_s(self, n: int, rng: np.random.Generator, uniform: bool = False) -> np.ndarray:
        """Group indices for ``n`` generated rows: P(S) of training, or uniform."""
        return rng.choice(self.n_groups, size=n, p=self.s_probs(uniform))

    def resolve_s(self, s: Any, n: int, rng: np.random.Generator, uniform: bool = False
                  ) -> np.ndarray:
        """``s`` as group indices (drawn when ``None``; else one group index or label joined
        with "|" per row)."""
        if s is None:
            return self.sample_s(n, rng, uniform)
        arr = np.asarray(s)
        if arr.shape != (n,):
            raise ValueError(f"s must hold one group per latent row ({n}); got shape {arr.shape}")
        if np.issubdtype(arr.dtype, np.integer):
            if len(arr) and (arr.min() < 0 or arr.max() >= self.n_groups):
                raise ValueError(f"group indices must lie in 0..{self.n_groups - 1}")
            return arr.astype(int)
        labels = self.group_labels()
        lookup = {lab: i for i, lab in enumerate(labels)}
        bad = sorted({str(v) for v in arr if str(v) not in lookup})
        if bad:
            raise ValueError(f"unknown sensitive group(s) {bad[:10]}; known: {labels}")
        return np.array([lookup[str(v)] for v in arr], dtype=int)

    def onehot(self, idx: np.ndarray, device: Any):
        """One-hot group rows (n, n_groups) as a float tensor on ``device``."""
        import torch  # heavy: keeps ``import fairx`` light

        s = torch.zeros(len(idx), self.n_groups, device=device)
        s[torch.arange(len(idx)), torch.as_tensor(idx, device=device)] = 1.0
        return s

    #: rows per encoder pass in ``encode_tensors`` (``None``: all at once)
    encode_batch: ClassVar[int | None] = None

    def encode_tensors(self, net: Any, x: Any, s: Any) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | x, s) for network tensors (``encode_batch`` rows at a time)."""
        import torch  # heavy: keeps ``import fairx`` light

        step = self.encode_batch or max(len(x), 1)
        mus, lvs = [], []
        with torch.no_grad():
            for a in range(0, len(x), step):
                mu, lv = net.encode(x[a:a + step], s[a:a + step])
                mus.append(mu.cpu().numpy())
                lvs.append(lv.cpu().numpy())
        return np.concatenate(mus), np.concatenate(lvs)

    def calibrate(self, net: Any, x: Any, s: Any) -> None:
        """What decoding needs from the fitted network (nothing by default)."""

    def get_state(self) -> dict[str, Any]:  # pragma: no cover - interface
        raise NotImplementedError

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Codec:  # pragma: no cover - interface
        raise NotImplementedError


# ---------------------------------------------------------------------------------- tables
#: bins of each numerical column's empirical CDF under ``numerical="bins"``. A softmax over bins
#: keeps spikes (capital-gain = 0 for 92 % of Adult) and skew that one Gaussian residual per
#: column cannot: with residual noise a zero-spike column decodes to many off-manifold values.
N_BINS = 32


class TabularCodec(Codec):
    """Tables ↔ the MLP fair VAE (:class:`fairx.nn.FairVAENet`).

    Parameters
    ----------
    numerical : scaling of numerical columns in the ``TabularEncoder`` (``"standard"``,
        ``"minmax"``, ``"quantile"``), or ``"bins"``: each numerical column becomes ``n_bins``
        equal-width bins of its empirical CDF, a categorical block for the network (see
        :data:`N_BINS`).
    n_bins : bins per numerical column under ``numerical="bins"``.

    Attributes
    ----------
    encoder_, schema_ : the fitted encoder (sensitive columns removed) and the training schema.
    s_levels_, s_dtypes_, s_marginal_ : sensitive groups (value tuples), their dtypes and shares.
    numerical_noise_ : per numerical column, the std of x − decode(μ) (set by ``calibrate``;
        empty under ``numerical="bins"``, where a decoded value is drawn inside its bin).
    net_blocks_, net_dim_ : the network's blocks ``(kind, start, stop)`` and width.
    """

    kind: ClassVar[str] = "tabular"

    def __init__(self, numerical: str = "standard", n_bins: int = N_BINS) -> None:
        self.numerical = numerical
        self.n_bins = n_bins

    @property
    def binned(self) -> bool:
        """Numerical columns are quantile bins for the network (``numerical="bins"``)."""
        return self.numerical == "bins"

    # ------------------------------------------------------------------ data <-> tensors
    def fit(self, train: TabularDataset) -> TabularCodec:
        """Learn the encoder, schema and sensitive groups of ``train``."""
        allowed = ("standard", "minmax", "quantile", "bins")
        if self.numerical not in allowed:
            raise ValueError(f"numerical={self.numerical!r}; allowed: {', '.join(map(repr, allowed))}")
        if self.binned and (isinstance(self.n_bins, bool) or not isinstance(self.n_bins, (int, np.integer))
                            or self.n_bins < 2):
            raise ValueError(f"n_bins={self.n_bins!r}; it must be an integer >= 2")
        columns = [c for c in train.frame.columns if c not in train.sensitive]
        scaling = "quantile" if self.binned else self.numerical
        self.encoder_ = TabularEncoder(numerical=scaling, columns=columns).fit(train)
        self._set_net_layout()
        self.schema_ = train.schema()
        sf = train.frame[train.sensitive]
        self.s_dtypes_ = {c: str(sf[c].dtype) for c in train.sensitive}
        keys = [tuple(_py(v) for v in row) for row in sf.itertuples(index=False, name=None)]
        levels = sorted(set(keys), key=lambda t: tuple((str(type(v)), v) for v in t))
        self.s_levels_ = [list(t) for t in levels]
        lookup = {t: i for i, t in enumerate(levels)}
        idx = np.array([lookup[k] for k in keys])
        self.s_marginal_ = np.bincount(idx, minlength=len(levels)) / len(idx)
        self.numerical_noise_: dict[str, float] = {}
        return self

    def group_labels(self) -> list[str]:
        return ["|".join(str(v) for v in t) for t in self.s_levels_]

    def s_index(self, ds: TabularDataset) -> np.ndarray:
        """The group index of every row of ``ds`` (clear error for unseen groups)."""
        lookup = {tuple(t): i for i, t in enumerate(self.s_levels_)}
        lookup_str = {tuple(str(v) for v in t): i for i, t in enumerate(self.s_levels_)}
        sens = self.schema_["sensitive"]
        missing = [c for c in sens if c not in ds.frame.columns]
        if missing:
            raise ValueError(f"sensitive column(s) {missing} are missing; the model was trained with {sens}")
        out = []
        for row in ds.frame[sens].itertuples(index=False, name=None):
            key = tuple(_py(v) for v in row)
            i = lookup.get(key, lookup_str.get(tuple(str(v) for v in key), -1))
            if i < 0:
                raise ValueError(f"sensitive value {key} was not seen in training; known: {self.s_levels_}")
            out.append(i)
        return np.asarray(out, dtype=int)

    def _set_net_layout(self) -> None:
        """The network's blocks: the encoder's, each numerical one ``n_bins`` wide when binned."""
        blocks, pos = [], 0
        for b in self.encoder_.blocks_:
            numeric_bins = self.binned and b.kind == "numerical"
            width = int(self.n_bins) if numeric_bins else b.width
            blocks.append(("categorical" if numeric_bins else b.kind, pos, pos + width))
            pos += width
        self.net_blocks_, self.net_dim_ = blocks, pos
        # where each bin's values may be drawn (derived from the stored knots, not saved)
        self._bin_parts_ = {
            b.name: [_bin_parts(self.encoder_.stats_[b.name]["quantiles"], k, int(self.n_bins))
                     for k in range(int(self.n_bins))]
            for b in self.encoder_.numerical_blocks} if self.binned else {}

    def layout(self) -> tuple[list[tuple[str, int, int]], tuple[int, int]]:
        """The network's blocks ``(kind, start, stop)`` and the target's slice."""
        names = [b.name for b in self.encoder_.blocks_]
        _, a, b = self.net_blocks_[names.index(self.schema_["target"])]
        return list(self.net_blocks_), (a, b)

    def to_network(self, matrix: np.ndarray) -> np.ndarray:
        """Encoded rows -> the network's input (one-hot CDF bins for numericals when binned)."""
        if not self.binned:
            return matrix
        out = np.zeros((len(matrix), self.net_dim_), dtype=np.float32)
        rows = np.arange(len(matrix))
        for b, (_, a, stop) in zip(self.encoder_.blocks_, self.net_blocks_, strict=True):
            if b.kind == "numerical":
                out[rows, a + _bin_of(matrix[:, b.start], stop - a)] = 1.0
            else:
                out[:, a:stop] = matrix[:, b.slice]
        return out

    def tensors(self, ds: TabularDataset, device: Any):
        """(x, s): the encoded rows and one-hot groups of ``ds``."""
        import torch  # heavy: keeps ``import fairx`` light

        if not isinstance(ds, TabularDataset):
            raise TypeError(f"this model was trained on a table; got {type(ds).__name__}")
        x = torch.as_tensor(self.to_network(self.encoder_.encode(ds)), dtype=torch.float32,
                            device=device)
        s = self.onehot(self.s_index(ds), device)
        return x, s

    def encode(self, net: Any, ds: TabularDataset, device: Any) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | x, s) for every row of ``ds``."""
        import torch  # heavy: keeps ``import fairx`` light

        x, s = self.tensors(ds, device)
        with torch.no_grad():
            mu, logvar = net.encode(x, s)
        return mu.cpu().numpy(), logvar.cpu().numpy()

    # ------------------------------------------------------------------ networks
    def build_net(self, *, z_dim: int, hidden: int, device: Any, encoder: bool = True,
                  **_image_options: Any):
        """A :class:`fairx.nn.FairVAENet` for the fitted layout (image options are ignored)."""
        from ...nn import FairVAENet  # heavy (torch): keeps ``import fairx`` light

        blocks, label = self.layout()
        return FairVAENet(self.net_dim_, len(self.s_levels_), blocks, label=label,
                          hidden=hidden, z_dim=z_dim, with_encoder=encoder,
                          ordinal=self.ordinal_blocks()).to(device)

    def ordinal_blocks(self) -> list[tuple[int, int]]:
        """The network slices of the binned numerical columns (none unless binned)."""
        if not self.binned:
            return []
        return [(a, stop) for b, (_, a, stop) in zip(self.encoder_.blocks_, self.net_blocks_, strict=True)
                if b.kind == "numerical"]

    def build_student_encoder(self, *, z_dim: int, hidden: int, device: Any, **_image_options: Any):
        """FairDistill's student: ``Linear(x + s, hidden) → ReLU → Linear(hidden, 2·z_dim)``."""
        from ...nn import mlp  # heavy (torch): keeps ``import fairx`` light

        return mlp([self.net_dim_ + len(self.s_levels_), hidden, 2 * z_dim]).to(device)

    def calibrate(self, net: Any, x: Any, s: Any) -> None:
        """Per numerical column, the std of x − decode(μ): the noise ``mode="sample"`` adds
        (none when binned: a value is drawn inside its sampled bin)."""
        import torch  # heavy: keeps ``import fairx`` light

        if self.binned:
            self.numerical_noise_ = {}
            return
        with torch.no_grad():
            mu, logvar = net.encode(x, s)
            out = net.decode(mu, s)
        res = {}
        for b in self.encoder_.numerical_blocks:
            r = (x[:, b.start] - out[:, b.start]).detach().cpu().numpy()
            res[b.name] = float(np.std(r))
        self.numerical_noise_ = res

    def distill_kwargs(self, student: Any) -> dict[str, Any]:
        """:func:`fairx.nn.distill_decoder` options: the per-block loss of the table layout."""
        return {"blocks": self.layout()[0]}

    # ------------------------------------------------------------------ decoding
    def decode_encoded(self, net: Any, z: np.ndarray, s_idx: np.ndarray, rng: np.random.Generator,
                       mode: str, device: Any, temperature: float = 1.0) -> np.ndarray:
        """Decode latents to the encoded feature matrix (one-hot categoricals, scaled numericals),
        sampling (from every softmax at ``temperature``) or taking the mode as ``mode`` says."""
        import torch  # heavy: keeps ``import fairx`` light

        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=device)
            out = net.decode(zt, self.onehot(s_idx, device)).cpu().numpy().astype(np.float64)
        if self.binned:
            return self._decode_binned(out, rng, mode, temperature)
        return finish_decoding(out, self.encoder_, self.numerical_noise_, rng, mode, temperature)

    def _decode_binned(self, out: np.ndarray, rng: np.random.Generator, mode: str,
                       temperature: float = 1.0) -> np.ndarray:
        """Network outputs (logits of every block) -> encoded rows: a category per categorical
        block; per numerical column a CDF bin, then a point inside it (:meth:`_draw_in_bins`),
        which the quantile encoder maps back to a value."""
        matrix = np.zeros((len(out), self.encoder_.dim_))
        rows = np.arange(len(out))
        for b, (_, a, stop) in zip(self.encoder_.blocks_, self.net_blocks_, strict=True):
            idx = _pick(out[:, a:stop], rng, mode, temperature)
            if b.kind == "categorical":
                matrix[rows, b.start + idx] = 1.0
            else:
                matrix[:, b.start] = self._draw_in_bins(b.name, idx, rng, mode)
        return matrix

    def _draw_in_bins(self, name: str, idx: np.ndarray, rng: np.random.Generator,
                      mode: str) -> np.ndarray:
        """A CDF value u inside each row's bin: uniform over the parts of the bin that training
        rows can occupy (the midpoint of the longest part for ``mode="mode"``).

        A value shared by many rows (a spike) has a run of tied quantile knots and encodes to the
        run's middle, so a bin that only overlaps the end of a spike holds no spike rows: drawing
        there would decode to the spike value. Those overlaps are cut from the bin."""
        u = np.empty(len(idx))
        for k in np.unique(idx):
            rows = np.flatnonzero(idx == k)
            parts = self._bin_parts_[name][int(k)]
            lengths = np.array([hi - lo for lo, hi in parts])
            if mode != "sample" or lengths.sum() <= 0:
                lo, hi = parts[int(lengths.argmax())]
                u[rows] = (lo + hi) / 2
                continue
            pick = rng.choice(len(parts), size=len(rows), p=lengths / lengths.sum())
            lo = np.array([p[0] for p in parts])[pick]
            u[rows] = lo + lengths[pick] * rng.random(len(rows))
        return u

    def reconstruct(self, net: Any, z: np.ndarray, s_idx: np.ndarray, rng: np.random.Generator,
                    mode: str, device: Any, temperature: float = 1.0):
        """The encoded rows decoded from ``z`` (a tensor the encoder takes)."""
        import torch  # heavy: keeps ``import fairx`` light

        x_t = self.to_network(self.decode_encoded(net, z, s_idx, rng, mode, device, temperature))
        return torch.as_tensor(x_t, dtype=torch.float32, device=device)

    def decode(self, net: Any, z: np.ndarray, s_idx: np.ndarray, rng: np.random.Generator,
               mode: str, device: Any, generator: str, temperature: float = 1.0) -> TabularDataset:
        """Latents + groups → a ``TabularDataset`` in the training schema."""
        return self.to_dataset(self.decode_encoded(net, z, s_idx, rng, mode, device, temperature),
                               s_idx, generator)

    def to_dataset(self, matrix: np.ndarray, s_idx: np.ndarray, generator: str) -> TabularDataset:
        """Encoded matrix + group indices -> ``TabularDataset`` in the training schema."""
        frame = self.encoder_.decode(matrix)
        for j, col in enumerate(self.schema_["sensitive"]):
            values = pd.Series([self.s_levels_[i][j] for i in s_idx])
            try:
                values = values.astype(self.s_dtypes_[col])
            except (TypeError, ValueError):
                pass
            frame[col] = values
        frame = frame[self.schema_["columns"]]
        sc = self.schema_
        return TabularDataset(frame=frame, target=sc["target"], sensitive=list(sc["sensitive"]),
                              positive_label=sc["positive_label"], categorical=list(sc["categorical"]),
                              numerical=list(sc["numerical"]), integer=list(sc["integer"]),
                              name=f"{sc['name']}-synthetic", meta={"generator": generator})

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> dict[str, Any]:
        return {"encoder": self.encoder_.get_state(), "schema": self.schema_, "s_levels": self.s_levels_,
                "s_dtypes": self.s_dtypes_, "s_marginal": list(map(float, self.s_marginal_)),
                "numerical_noise": self.numerical_noise_, "numerical": self.numerical,
                "n_bins": int(self.n_bins)}

    @classmethod
    def from_state(cls, config: dict[str, Any]) -> TabularCodec:
        encoder = TabularEncoder.from_state(config["encoder"])
        # states saved before numerical="bins" hold the encoder's own scaling
        codec = cls(numerical=config.get("numerical", encoder.numerical),
                    n_bins=int(config.get("n_bins", N_BINS)))
        codec.encoder_ = encoder
        codec.schema_ = config["schema"]
        codec.s_levels_ = [list(t) for t in config["s_levels"]]
        codec.s_dtypes_ = config["s_dtypes"]
        codec.s_marginal_ = np.asarray(config["s_marginal"], dtype=float)
        codec.numerical_noise_ = {k: float(v) for k, v in config["numerical_noise"].items()}
        codec._set_net_layout()
        return codec


def finish_decoding(out: np.ndarray, encoder: TabularEncoder, noise: dict[str, float],
                    rng: np.random.Generator, mode: str, temperature: float = 1.0) -> np.ndarray:
    """Raw decoder outputs -> encoded matrix: per categorical block a one-hot row (sampled from
    the softmax at ``temperature``, or the argmax when ``mode="mode"``); numericals plus
    N(0, noise²) when sampling."""
    matrix = np.zeros_like(out)
    for b in encoder.blocks_:
        if b.kind == "categorical":
            matrix[np.arange(len(out)), b.start + _pick(out[:, b.slice], rng, mode, temperature)] = 1.0
        else:
            col = out[:, b.start]
            if mode == "sample":
                col = col + noise.get(b.name, 0.0) * rng.standard_normal(len(out))
            matrix[:, b.start] = col
    return matrix


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------------------- images
class ImageCodec(Codec):
    """Images ↔ the conv fair VAE (:class:`fairx.nn._conv_vae.ConvFairVAENet`).

    Parameters
    ----------
    max_images : refuse to train on more images than this in memory (lazy sets: ``subset``).

    Attributes
    ----------
    shape_ : (C, H, W). n_classes_ : label classes. s_marginal_ : group shares.
    meta_ : class and group names, target and sensitive names, dataset name.
    """

    kind: ClassVar[str] = "image"
    #: encode/decode batch (rows per forward pass)
    batch_size: ClassVar[int] = 1024
    encode_batch: ClassVar[int | None] = 1024

    def __init__(self, max_images: int = 100_000) -> None:
        self.max_images = max_images

    def fit(self, train: ImageDataset) -> ImageCodec:
        """Learn the image shape, classes and sensitive groups of ``train``."""
        if len(train) < 4:
            raise ValueError(f"{len(train)} training images; need at least 4")
        if len(train) > self.max_images:
            raise ValueError(f"{len(train)} training images exceed max_images={self.max_images}; "
                             "pass a subset (ds.subset) or raise max_images")
        self.shape_ = tuple(int(v) for v in train.shape)
        self.n_classes_ = int(train.n_classes)
        self.meta_ = {"classes": list(train.classes), "groups": list(train.groups),
                      "target": train.target, "sensitive": train.sensitive, "name": train.name}
        self.s_marginal_ = np.bincount(train.s, minlength=train.n_groups) / len(train)
        return self

    def group_labels(self) -> list[str]:
        return [str(g) for g in self.meta_["groups"]]

    def _check(self, ds: Any) -> ImageDataset:
        if not isinstance(ds, ImageDataset):
            raise TypeError(f"this model was trained on images; got {type(ds).__name__}")
        if tuple(ds.shape) != self.shape_:
            raise ValueError(f"images have shape {ds.shape}; the model was trained on {self.shape_}")
        return ds

    def tensors(self, ds: ImageDataset, device: Any):
        """(x, s): flattened images followed by the one-hot label, and one-hot groups."""
        import torch  # heavy: keeps ``import fairx`` light

        from ...nn._conv_vae import flatten_rows  # heavy (torch)

        ds = self._check(ds)
        images = torch.from_numpy(ds.to_numpy()).to(device)
        x = flatten_rows(images, torch.from_numpy(_onehot(ds.y, self.n_classes_)).to(device))
        s = torch.from_numpy(_onehot(ds.s, self.n_groups)).to(device)
        return x, s

    def encode(self, net: Any, ds: ImageDataset, device: Any, *, batch_size: int = 512
               ) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | image, s), in batches (lazy sets load one batch at a time)."""
        import torch  # heavy: keeps ``import fairx`` light

        ds = self._check(ds)
        mus, lvs = [], []
        net.eval()
        with torch.no_grad():
            for img, _, s in ds.batches(batch_size):
                st = torch.from_numpy(_onehot(s, self.n_groups)).to(device)
                mu, lv = net.encode(torch.from_numpy(img).to(device), st)
                mus.append(mu.cpu().numpy())
                lvs.append(lv.cpu().numpy())
        return np.concatenate(mus), np.concatenate(lvs)

    def onehot(self, idx: np.ndarray, device: Any):
        import torch  # heavy: keeps ``import fairx`` light

        return torch.from_numpy(_onehot(np.asarray(idx), self.n_groups)).to(device)

    # ------------------------------------------------------------------ networks
    def build_net(self, *, z_dim: int, hidden: int, device: Any, encoder: bool = True,
                  width: float = 1.0, s_injection: str = "output", label_weight: float = 10.0):
        """A :class:`~fairx.nn._conv_vae.ConvFairVAENet` (``width`` scales the decoder's
        channels; ``hidden`` is the label head's width)."""
        from ...nn._conv_vae import ConvFairVAENet  # heavy (torch)

        return ConvFairVAENet(self.shape_, self.n_groups, self.n_classes_, z_dim=z_dim,
                              hidden=hidden, s_injection=s_injection, label_weight=label_weight,
                              width=width, encoder=encoder).to(device)

    def build_student_encoder(self, *, z_dim: int, device: Any, width: float = 0.25,
                              **_table_options: Any):
        """FairDistill's student: a conv encoder ``width`` times the teacher's channels."""
        from ...nn._conv_vae import FlatConvEncoder  # heavy (torch)

        return FlatConvEncoder(self.shape_, self.n_groups, z_dim, width=width).to(device)

    def distill_kwargs(self, student: Any) -> dict[str, Any]:
        """:func:`fairx.nn.distill_decoder` options: per-pixel Bernoulli KL + label KL."""
        return {"blocks": (), "loss_fn": student.distill_loss}

    # ------------------------------------------------------------------ decoding
    def _decode_arrays(self, net: Any, z: np.ndarray, s_idx: np.ndarray, device: Any
                       ) -> tuple[np.ndarray, np.ndarray]:
        import torch  # heavy: keeps ``import fairx`` light

        z = np.asarray(z, dtype=np.float32)
        imgs, ys = [], []
        net.eval()
        with torch.no_grad():
            for a in range(0, len(z), self.batch_size):
                zt = torch.from_numpy(z[a:a + self.batch_size]).to(device)
                st = torch.from_numpy(_onehot(s_idx[a:a + self.batch_size], self.n_groups)).to(device)
                imgs.append(torch.sigmoid(net.decode_images(zt, st)).cpu().numpy())
                ys.append(net.label_logits(zt).argmax(1).cpu().numpy())
        return np.concatenate(imgs), np.concatenate(ys)

    def reconstruct(self, net: Any, z: np.ndarray, s_idx: np.ndarray, rng: np.random.Generator,
                    mode: str, device: Any, temperature: float = 1.0):
        """Pixel probabilities sigmoid(D(z, s)) (a tensor the encoder takes; ``mode`` and
        ``temperature`` unused)."""
        import torch  # heavy: keeps ``import fairx`` light

        return torch.from_numpy(self._decode_arrays(net, z, s_idx, device)[0]).to(device)

    def decode(self, net: Any, z: np.ndarray, s_idx: np.ndarray, rng: np.random.Generator,
               mode: str, device: Any, generator: str, temperature: float = 1.0) -> ImageDataset:
        """Images sigmoid(D(z, s)) with labels argmax p(y | z) (``rng``, ``mode`` and
        ``temperature`` unused)."""
        s_idx = np.asarray(s_idx, dtype=np.int64)
        images, y = self._decode_arrays(net, z, s_idx, device)
        m = self.meta_
        return ImageDataset(images=images, y=y, s=s_idx, classes=tuple(m["classes"]),
                            groups=tuple(m["groups"]), target=m["target"], sensitive=m["sensitive"],
                            name=f"{m['name']}-synthetic", meta={"generator": generator})

    # ------------------------------------------------------------------ persistence
    def get_state(self) -> dict[str, Any]:
        return {"shape": list(self.shape_), "n_groups": int(self.n_groups),
                "n_classes": int(self.n_classes_), "meta": dict(self.meta_),
                "s_marginal": [float(v) for v in self.s_marginal_]}

    @classmethod
    def from_state(cls, layout: dict[str, Any]) -> ImageCodec:
        codec = cls()
        codec.shape_ = tuple(int(v) for v in layout["shape"])
        codec.n_classes_ = int(layout["n_classes"])
        codec.meta_ = dict(layout["meta"])
        codec.s_marginal_ = np.asarray(layout["s_marginal"], dtype=np.float64)
        return codec


def _onehot(idx: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(idx), k), dtype=np.float32)
    out[np.arange(len(idx)), idx] = 1.0
    return out


def _pick(logits: np.ndarray, rng: np.random.Generator, mode: str,
          temperature: float = 1.0) -> np.ndarray:
    """One index per row: drawn from softmax(logits / temperature) (``mode="sample"``) or the
    argmax."""
    if mode != "sample":
        return logits.argmax(1)
    if temperature != 1:
        logits = logits / temperature
    p = np.exp(logits - logits.max(1, keepdims=True))
    cdf = np.cumsum(p / p.sum(1, keepdims=True), axis=1)
    u = rng.random((len(logits), 1))
    return np.minimum((cdf < u).sum(1), logits.shape[1] - 1)


def _bin_parts(quantiles: list[float], k: int, n_bins: int) -> list[tuple[float, float]]:
    """The parts of CDF bin ``k`` that encoded training values can fall in: the bin minus every
    run of tied knots (a spike) whose middle, where the spike's rows encode (as
    ``TabularEncoder._scale`` maps them), lies outside it.
    Never empty: a bin wholly inside a foreign run keeps its centre as a zero-length part."""
    q = np.asarray(quantiles, dtype=float)
    levels = np.linspace(0, 1, len(q))
    _, first, counts = np.unique(q, return_index=True, return_counts=True)
    a, b = k / n_bins, (k + 1) / n_bins
    parts = [(a, b)]
    for f, c in zip(first, counts, strict=True):
        lo, hi = levels[f], levels[f + c - 1]
        mid = (lo + hi) / 2
        if c < 2 or (a <= mid < b) or (k == n_bins - 1 and mid == b):
            continue
        parts = [piece for p0, p1 in parts
                 for piece in ((p0, min(p1, lo)), (max(p0, hi), p1)) if piece[1] > piece[0]]
    return parts or [((a + b) / 2, (a + b) / 2)]


def _bin_of(u: np.ndarray, n_bins: int) -> np.ndarray:
    """The equal-width bin of each CDF value u in [0, 1] (u = 1 falls in the last bin)."""
    return np.clip((np.asarray(u) * n_bins).astype(int), 0, n_bins - 1)


# ---------------------------------------------------------------------------------- choice
CODECS: dict[str, type[Codec]] = {"tabular": TabularCodec, "image": ImageCodec}


def make_codec(train: Any, *, numerical: str = "standard", max_images: int = 100_000) -> Codec:
    """The codec for ``train``'s type, fitted on it.

    Parameters
    ----------
    train : a ``TabularDataset`` or an ``ImageDataset``.
    numerical : ``TabularEncoder`` scaling (tables only).
    max_images : the largest training set held in memory (images only).

    Returns
    -------
    Codec
        A fitted :class:`TabularCodec` or :class:`ImageCodec`.
    """
    if isinstance(train, TabularDataset):
        return TabularCodec(numerical=numerical).fit(train)
    if isinstance(train, ImageDataset):
        return ImageCodec(max_images=max_images).fit(train)
    raise TypeError(f"fit expects a TabularDataset or an ImageDataset, got {type(train).__name__}")


def codec_from_state(state: dict[str, Any]) -> Codec:
    """A codec rebuilt from ``{"kind": ..., **get_state()}`` (see :func:`codec_state`)."""
    state = dict(state)
    return CODECS[state.pop("kind", "tabular")].from_state(state)


def codec_state(codec: Codec) -> dict[str, Any]:
    """``codec.get_state()`` with its ``kind``, for ``config.json``."""
    return {"kind": codec.kind, **codec.get_state()}
