"""What the four fair-latent models share: decoding latents through their codec.

:class:`FairLatentGenerator` is the base of :class:`~.fair_vae.FairVAE`, :class:`~.fldgm.FLDGM`,
:class:`~.fairdistill.FairDistill` and :class:`~.fair4free.Fair4Free`. Each names the parts it
decodes and encodes with (``decoding_parts`` / ``encoding_parts``); the base turns latents
into a dataset of the training modality (``decode_latent``), posteriors (``posterior``), the
same latent decoded with every group (``counterfactuals``) and a probe of how much of s the
latent carries (``latent_s_accuracy``).

Presets: ``presets`` are the values for tables, ``image_presets`` those for images; both go
through :func:`fairx.models.presets.preset_params` (``kind="image"`` picks the second).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from ...exceptions import NotFittedError
from ..base import FairGenerator
from .codec import Codec


class Parts(NamedTuple):
    """The pieces a fair-latent model decodes (or encodes) with."""

    codec: Codec
    net: Any
    device: Any
    mode: str = "sample"  # decode: "sample" or "mode" (tables)
    uniform: bool = False  # s ~ uniform instead of P(S)
    temperature: float = 1.0  # decode="sample": softmax temperature of every draw (tables)


def check_decode_temperature(value: Any) -> float:
    """``decode_temperature`` as a float in (0, 1], or a named error."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < float(value) <= 1:
        raise ValueError(f"decode_temperature={value!r}; give a number in (0, 1] (1 draws from the "
                         "decoder's softmax as trained, smaller values draw closer to its mode)")
    return float(value)


class FairLatentGenerator(FairGenerator):
    """Base of the fair-latent generators: one class per method for tables and images."""

    #: preset values for image training sets (``presets`` holds the tables' values)
    image_presets: ClassVar[dict[str, dict[str, Any]]] = {}

    @property
    def data_kind(self) -> str:
        """``"tabular"`` or ``"image"``: the modality the model was fitted on (its codec's)."""
        try:
            return self.decoding_parts().codec.kind
        except (NotFittedError, ValueError, AttributeError):  # not fitted (yet)
            return "tabular"

    # ------------------------------------------------------------------ parts (per class)
    def decoding_parts(self) -> Parts:  # pragma: no cover - interface
        """The codec, network, device, decode mode and s sampling that generation uses."""
        raise NotImplementedError

    def encoding_parts(self) -> Parts:  # pragma: no cover - interface
        """The codec, network and device of the encoder q(z | x, s)."""
        raise NotImplementedError

    def sample_latent(self, n: int, *, seed: int | None = None) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def posterior(self, ds: Any) -> tuple[np.ndarray, np.ndarray]:
        """(μ, log σ²) of q(z | x, s) for every row (or image) of ``ds``, each (n, z_dim).

        Parameters
        ----------
        ds : a dataset of the training modality and schema.

        Returns
        -------
        tuple of numpy arrays
        """
        p = self.encoding_parts()
        return p.codec.encode(p.net, ds, p.device)

    def decode_latent(self, z: np.ndarray, *, seed: int | None = None, s: Any = None) -> Any:
        """The dataset decoded from latents ``z``.

        Parameters
        ----------
        z : latents, shape (n, z_dim).
        seed : seeds s ~ P(S) (when ``s`` is None) and, on tables, ``decode="sample"``.
        s : one group per row: indices, or labels joined with "|" (``None``: drawn).

        Returns
        -------
        TabularDataset or ImageDataset
            In the training schema.
        """
        p = self.decoding_parts()
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.z_dim_:
            raise ValueError(f"z must have shape (n, {self.z_dim_}); got {z.shape}")
        rng = np.random.default_rng(seed)
        s_idx = p.codec.resolve_s(s, len(z), rng, p.uniform)
        return p.codec.decode(p.net, z, s_idx, rng, p.mode, p.device, self.display_name,
                              temperature=p.temperature)

    def counterfactuals(self, z_or_ds: Any = None, *, n: int = 8, seed: int | None = 0) -> Any:
        """The same latents decoded with every sensitive group.

        Parameters
        ----------
        z_or_ds : latents (n, z_dim); or a dataset, whose first ``n`` rows are encoded to their
            posterior means; or ``None``: ``n`` latents from the model's sampler with ``seed``.
        n : rows when ``z_or_ds`` is a dataset or ``None``.
        seed : seeds the sampler and the decoding.

        Returns
        -------
        numpy array or list
            Images: an array (n, n_groups, C, H, W). Tables: one dataset per group.
        """
        if z_or_ds is None:
            z = self.sample_latent(n, seed=seed)
        elif hasattr(z_or_ds, "subset") or hasattr(z_or_ds, "frame"):
            rows = np.arange(min(n, len(z_or_ds)))
            part = z_or_ds.subset(rows) if hasattr(z_or_ds, "subset") else \
                z_or_ds.replace(frame=z_or_ds.frame.iloc[rows])
            z = self.posterior(part)[0]
        else:
            z = np.asarray(z_or_ds, dtype=np.float32)
        codec = self.decoding_parts().codec
        decoded = [self.decode_latent(z, s=np.full(len(z), g), seed=seed)
                   for g in range(codec.n_groups)]
        if codec.kind != "image":
            return decoded
        return np.stack([d.to_numpy() for d in decoded], axis=1)

    def latent_s_accuracy(self, ds: Any, *, seed: int = 0) -> float:
        """Balanced accuracy of a logistic regression predicting s from the posterior means
        (held-out 30 %): how much of s the latent still carries (1 / #groups = none).

        Parameters
        ----------
        ds : a dataset of the training modality.
        seed : seeds the split.

        Returns
        -------
        float
        """
        # scikit-learn estimators and metrics: loaded only when the probe runs
        from sklearn.linear_model import LogisticRegression

        p = self.encoding_parts()
        mu, _ = self.posterior(ds)
        s = ds.s if p.codec.kind == "image" else p.codec.s_index(ds)
        a, b, sa, sb = train_test_split(mu, s, test_size=0.3, random_state=seed, stratify=s)
        clf = LogisticRegression(max_iter=2000).fit(a, sa)
        return float(balanced_accuracy_score(sb, clf.predict(b)))
