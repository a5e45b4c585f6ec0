"""The convolutional fair VAE (FairDisCo image variant, methods.md §9).

Architectures by image size (``c`` channels, ``G`` groups of s, ``z`` latent size):

- 64×64 (§9): encoder Conv(c+G,32,4,2,1)–ReLU–Conv(32,32,4,2,1)–ReLU–Conv(32,64,4,2,1)–ReLU–
  Conv(64,64,4,2,1)–ReLU–Conv(64,256,4,1)–ReLU–Conv(256,2z,1); decoder the mirror with
  ConvTranspose from a 1×1 map of (z, s).
- 32×32: the same without the second 32-channel stage; 28×28: Conv(c+G,32,4,2,1)→14,
  Conv(32,64,4,2,1)→7, Conv(64,64,3,2,1)→4, Conv(64,256,4)→1, Conv(256,2z,1); 8×8: Conv(c+G,32,3,1,1),
  Conv(32,64,4,2,1)→4, Conv(64,128,4)→1, Conv(128,2z,1). Decoders mirror them.

s enters the encoder as G constant one-hot planes. In the decoder (``s_injection``) it is either
concatenated to z at the input (``"input"``, the §9 layout) or used only at the last layer as a
per-channel scale and shift of the output logits (``"output"``): then s can set the colour of
an image but cannot draw its shape, so the shape has to come from z. Under a strong colour–label
bias this keeps the digit in z while V² removes the colour.

The model plugs into :func:`fairx.nn.train_fair_vae` unchanged: rows of ``x`` are the flattened
image followed by the one-hot label, :meth:`ConvFairVAENet.decode` returns image logits followed by
the label head's logits (on z alone), and :meth:`reconstruction` is the pixel-wise binary
cross-entropy (summed over pixels, mean over rows) plus ``label_weight`` × the label cross-entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._blocks import mlp

#: per image size: encoder (out_channels, kernel, stride, padding) stages before the 2z head
_ENCODERS: dict[int, list[tuple[int, int, int, int]]] = {
    64: [(32, 4, 2, 1), (32, 4, 2, 1), (64, 4, 2, 1), (64, 4, 2, 1), (256, 4, 1, 0)],
    32: [(32, 4, 2, 1), (64, 4, 2, 1), (64, 4, 2, 1), (256, 4, 1, 0)],
    28: [(32, 4, 2, 1), (64, 4, 2, 1), (64, 3, 2, 1), (256, 4, 1, 0)],
    8: [(32, 3, 1, 1), (64, 4, 2, 1), (128, 4, 1, 0)],
}
SUPPORTED_SIZES = tuple(sorted(_ENCODERS))


def conv_stages(size: int) -> list[tuple[int, int, int, int]]:
    """The encoder stages chosen from the image size (see the module docstring)."""
    if size not in _ENCODERS:
        raise ValueError(f"image size {size}×{size} is not supported by the conv fair VAE; "
                         f"supported: {list(SUPPORTED_SIZES)} (resize the images)")
    return _ENCODERS[size]


def _scaled(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


def conv_encoder(in_channels: int, size: int, out_dim: int, width: float = 1.0) -> nn.Sequential:
    """Conv stack (ReLU between stages) mapping (in_channels, size, size) to (out_dim, 1, 1);
    ``width`` scales every stage's channels (a FairDistill student uses 0.25)."""
    layers: list[nn.Module] = []
    c = in_channels
    for out, k, st, p in conv_stages(size):
        out = _scaled(out, width)
        layers += [nn.Conv2d(c, out, k, st, p), nn.ReLU()]
        c = out
    layers.append(nn.Conv2d(c, out_dim, 1))
    return nn.Sequential(*layers)


def conv_decoder(in_dim: int, size: int, out_channels: int, width: float = 1.0) -> nn.Sequential:
    """Mirror of :func:`conv_encoder`: (in_dim, 1, 1) to (out_channels, size, size) logits;
    ``width`` scales the hidden channels (a Fair4Free student decoder uses 0.5)."""
    stages = conv_stages(size)
    chans = [_scaled(out, width) for out, *_ in stages]
    layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, chans[-1], 1), nn.ReLU()]
    for i in range(len(stages) - 1, -1, -1):
        _, k, st, p = stages[i]
        c_in = chans[i]
        c_out = chans[i - 1] if i > 0 else out_channels
        if st == 1 and p > 0:  # a same-size stage mirrors as a plain conv
            layers.append(nn.Conv2d(c_in, c_out, k, 1, p))
        else:
            layers.append(nn.ConvTranspose2d(c_in, c_out, k, st, p))
        if i > 0:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ConvFairVAENet(nn.Module):
    """q(z | image, s), p(image | z, s) (Bernoulli logits) and the label head p(y | z).

    ``shape`` = (C, H, W) with H = W in :data:`SUPPORTED_SIZES`; ``s_dim`` groups; ``y_dim``
    classes (0 = no label head); ``hidden`` width of the label head; ``width`` scales the
    decoder's channels; ``encoder=False`` builds the generative half only (a Fair4Free student
    decoder).
    """

    def __init__(self, shape: tuple[int, int, int], s_dim: int, y_dim: int, *, z_dim: int = 16,
                 hidden: int = 64, s_injection: str = "input", label_weight: float = 1.0,
                 width: float = 1.0, encoder: bool = True) -> None:
        super().__init__()
        c, h, w = (int(v) for v in shape)
        if h != w:
            raise ValueError(f"images must be square; got {h}×{w}")
        if s_injection not in ("input", "output"):
            raise ValueError(f"s_injection={s_injection!r}; allowed: 'input', 'output'")
        self.shape = (c, h, w)
        self.s_dim, self.y_dim, self.z_dim = int(s_dim), int(y_dim), int(z_dim)
        self.n_pixels = c * h * w
        self.s_injection = s_injection
        self.label_weight = float(label_weight)
        self.encoder = conv_encoder(c + self.s_dim, h, 2 * self.z_dim) if encoder else None
        dec_in = self.z_dim + (self.s_dim if s_injection == "input" else 0)
        self.decoder = conv_decoder(dec_in, h, c, width)
        # "output": per-channel scale and shift of the logits from s (zero init = no effect)
        self.s_film = nn.Linear(self.s_dim, 2 * c) if s_injection == "output" else None
        if self.s_film is not None:
            nn.init.zeros_(self.s_film.weight)
            nn.init.zeros_(self.s_film.bias)
        self.label_head = mlp([self.z_dim, hidden, self.y_dim]) if self.y_dim else None

    # ------------------------------------------------------------------ parts
    def images_of(self, x: torch.Tensor) -> torch.Tensor:
        """The image part of a flattened row batch, as (n, C, H, W)."""
        return x[:, : self.n_pixels].reshape(-1, *self.shape)

    def encode(self, x: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z | image, s); ``x`` flattened rows or (n, C, H, W) images."""
        if self.encoder is None:
            raise RuntimeError("this ConvFairVAENet is a decoder only (encoder=False)")
        img = x if x.ndim == 4 else self.images_of(x)
        planes = s[:, :, None, None].expand(-1, -1, *self.shape[1:])
        h = self.encoder(torch.cat([img, planes.to(img.dtype)], dim=1)).flatten(1)
        return h[:, : self.z_dim], h[:, self.z_dim:]

    def decode_images(self, z: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Image logits (n, C, H, W) from (z, s)."""
        if self.s_film is None:
            inp = torch.cat([z, s.to(z.dtype)], dim=1)
            return self.decoder(inp[:, :, None, None])
        logits = self.decoder(z[:, :, None, None])
        scale, shift = self.s_film(s.to(z.dtype)).chunk(2, dim=1)
        return logits * (1 + scale[:, :, None, None]) + shift[:, :, None, None]

    def decode(self, z: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """Flattened image logits followed by the label logits (label from z alone)."""
        out = self.decode_images(z, s).flatten(1)
        if self.label_head is None:
            return out
        return torch.cat([out, self.label_head(z)], dim=1)

    def label_logits(self, z: torch.Tensor) -> torch.Tensor:
        if self.label_head is None:
            raise RuntimeError("this ConvFairVAENet has no label head")
        return self.label_head(z)

    # ------------------------------------------------------------------ losses
    def reconstruction(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """BCE over pixels (sum per image, mean over rows) + label_weight · CE(label)."""
        n = self.n_pixels
        bce = F.binary_cross_entropy_with_logits(out[:, :n], x[:, :n], reduction="none")
        loss = bce.sum(1).mean()
        if self.label_head is not None and self.label_weight > 0:
            ce = -(x[:, n:] * F.log_softmax(out[:, n:], dim=1)).sum(1).mean()
            loss = loss + self.label_weight * ce
        return loss

    def distill_loss(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        """Data-free decoder distillation: KL(Bern(σ(t)) ‖ Bern(σ(u))) per pixel (sum per image,
        mean over rows) + label_weight · KL(softmax(t) ‖ softmax(u)) of the label head, where t
        and u are the teacher's and this student's :meth:`decode` outputs."""
        n = self.n_pixels
        t, u = teacher[:, :n], student[:, :n]
        p = torch.sigmoid(t)
        # BCE with soft targets minus the targets' entropy = the Bernoulli KL (>= 0)
        kl = (F.binary_cross_entropy_with_logits(u, p, reduction="none")
              - F.binary_cross_entropy_with_logits(t, p, reduction="none")).sum(1).mean()
        if self.label_head is not None and teacher.shape[1] > n:
            lt, lu = F.log_softmax(teacher[:, n:], 1), F.log_softmax(student[:, n:], 1)
            kl = kl + self.label_weight * (lt.exp() * (lt - lu)).sum(1).mean()
        return kl

    @staticmethod
    def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(μ, σ²) ‖ N(0, I)) summed over dimensions, mean over rows."""
        return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()


def flatten_rows(images: torch.Tensor, y_onehot: torch.Tensor | None) -> torch.Tensor:
    """Rows for :func:`fairx.nn.train_fair_vae`: flattened images, then the one-hot label."""
    flat = images.flatten(1)
    return flat if y_onehot is None else torch.cat([flat, y_onehot.to(flat.dtype)], dim=1)


class FlatConvEncoder(nn.Module):
    """A (narrower) conv encoder on flattened rows ``cat[image, label, s]`` → (μ, log σ²) stacked
    as (n, 2z): the student interface of :func:`fairx.nn.train_student_encoder` (the label part
    of the row is ignored, like the conv teacher's encoder)."""

    def __init__(self, shape: tuple[int, int, int], s_dim: int, z_dim: int, *,
                 width: float = 0.25) -> None:
        super().__init__()
        self.shape = tuple(int(v) for v in shape)
        self.s_dim = int(s_dim)
        self.n_pixels = self.shape[0] * self.shape[1] * self.shape[2]
        self.net = conv_encoder(self.shape[0] + self.s_dim, self.shape[1], 2 * int(z_dim), width)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        img = rows[:, : self.n_pixels].reshape(-1, *self.shape)
        s = rows[:, rows.shape[1] - self.s_dim:]
        planes = s[:, :, None, None].expand(-1, -1, *self.shape[1:])
        return self.net(torch.cat([img, planes], dim=1)).flatten(1)
