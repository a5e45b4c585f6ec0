"""The batched block losses and the hand-written V² kernel gradient equal their plain
per-slice / autograd definitions (values and gradients)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fairx.nn import FairVAENet, distill_output_loss, log_gaussian_kernel, reconstruction_loss
from fairx.nn._fair_vae import ordinal_bin_loss

BLOCKS = [("numerical", 0, 2), ("categorical", 2, 5), ("categorical", 5, 9), ("numerical", 9, 10),
          ("categorical", 10, 12), ("categorical", 12, 20)]
ORDINAL = [(12, 20), (2, 5)]


def _positions(width: int) -> torch.Tensor:
    return (torch.arange(width, dtype=torch.float64) / max(width - 1, 1) - 0.5) * math.sqrt(12)


def reference_reconstruction(out, x, blocks, ordinal=()):
    """The per-slice definition (fairx before the batched losses)."""
    total = out.new_zeros(())
    for kind, a, b in blocks:
        if kind == "categorical":
            total = total - (x[:, a:b] * F.log_softmax(out[:, a:b], dim=1)).sum(1).mean()
        else:
            total = total + (out[:, a:b] - x[:, a:b]).pow(2).mean(0).sum()
    for a, b in ordinal:
        pos = _positions(b - a).to(out.dtype)
        expected = (F.softmax(out[:, a:b], dim=1) * pos).sum(1)
        total = total + (expected - (x[:, a:b] * pos).sum(1)).pow(2).mean()
    return total


def reference_distillation(student, teacher, blocks):
    total = student.new_zeros(())
    for kind, a, b in blocks:
        if kind == "categorical":
            p, q = F.log_softmax(teacher[:, a:b], 1), F.log_softmax(student[:, a:b], 1)
            total = total + (p.exp() * (p - q)).sum(1).mean()
        else:
            total = total + (student[:, a:b] - teacher[:, a:b]).pow(2).mean(0).sum()
    return total


def _data(seed: int = 0, n: int = 33):
    g = torch.Generator().manual_seed(seed)
    out = (3 * torch.randn(n, 20, generator=g, dtype=torch.float64)).requires_grad_()
    x = torch.randn(n, 20, generator=g, dtype=torch.float64)
    for kind, a, b in BLOCKS:  # soft targets (rows of a probability simplex) in categorical blocks
        if kind == "categorical":
            x[:, a:b] = torch.softmax(2 * x[:, a:b], 1)
    return out, x


def _value_and_grad(fn, out, *args):
    value = fn(out, *args)
    (grad,) = torch.autograd.grad(value, out)
    return value.detach(), grad


def test_batched_reconstruction_and_ordinal_equal_the_per_slice_definition():
    out, x = _data()
    for ordinal in ((), ORDINAL):
        net = FairVAENet(20, 2, BLOCKS, label=(10, 12), ordinal=ordinal).double()
        v, g = _value_and_grad(net.reconstruction, out, x)
        v_ref, g_ref = _value_and_grad(reference_reconstruction, out, x, BLOCKS, ordinal)
        torch.testing.assert_close(v, v_ref)
        torch.testing.assert_close(g, g_ref)
    v, g = _value_and_grad(reconstruction_loss, out, x, BLOCKS)
    v_ref, g_ref = _value_and_grad(reference_reconstruction, out, x, BLOCKS)
    torch.testing.assert_close(v, v_ref)
    torch.testing.assert_close(g, g_ref)
    ord_only = [("categorical", a, b) for a, b in ORDINAL]
    v, g = _value_and_grad(ordinal_bin_loss, out, x, ORDINAL)
    v_ref, g_ref = _value_and_grad(lambda o, t: reference_reconstruction(o, t, ord_only, ORDINAL)
                                   - reference_reconstruction(o, t, ord_only), out, x)
    torch.testing.assert_close(v, v_ref)
    torch.testing.assert_close(g, g_ref)


def test_batched_distillation_equals_the_per_slice_definition():
    student, _ = _data(1)
    teacher, _ = _data(2)
    v, g = _value_and_grad(distill_output_loss, student, teacher.detach(), BLOCKS)
    v_ref, g_ref = _value_and_grad(reference_distillation, student, teacher.detach(), BLOCKS)
    torch.testing.assert_close(v, v_ref)
    torch.testing.assert_close(g, g_ref)
    same = distill_output_loss(teacher.detach(), teacher.detach(), BLOCKS)
    assert float(same) == pytest.approx(0.0, abs=1e-12)


def test_decoder_puts_the_label_head_in_the_label_block():
    torch.manual_seed(0)
    net = FairVAENet(20, 2, BLOCKS, label=(10, 12))
    z, s = torch.randn(5, net.z_dim), torch.eye(2)[[0, 1, 0, 1, 1]]
    out = net.decode(z, s)
    feats = net.decoder(torch.cat([z, s], 1))
    torch.testing.assert_close(out[:, 10:12], net.label_head(z))
    torch.testing.assert_close(out[:, :10], feats[:, :10])
    torch.testing.assert_close(out[:, 12:], feats[:, 10:])


def test_log_kernel_gradient_equals_autograd_of_its_definition():
    def reference(mu, logvar):
        v = logvar.exp()[:, None, :] + logvar.exp()[None, :, :]
        diff = mu[:, None, :] - mu[None, :, :]
        return -0.5 * (mu.shape[1] * math.log(2 * math.pi) + (v.log() + diff.square() / v).sum(-1))

    g = torch.Generator().manual_seed(3)
    mu = torch.randn(40, 5, generator=g, dtype=torch.float64, requires_grad=True)
    logvar = (0.5 * torch.randn(40, 5, generator=g, dtype=torch.float64)).requires_grad_()
    weight = torch.randn(40, 40, generator=g, dtype=torch.float64)  # an asymmetric ∂L/∂log K
    got = log_gaussian_kernel(mu, logvar)
    want = reference(mu, logvar)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(torch.autograd.grad((got * weight).sum(), (mu, logvar)),
                               torch.autograd.grad((want * weight).sum(), (mu, logvar)))
    assert torch.autograd.gradcheck(log_gaussian_kernel, (mu[:6, :3].detach().requires_grad_(),
                                                          logvar[:6, :3].detach().requires_grad_()))


def test_bad_layouts_and_mixture_sizes_are_named():
    from fairx.models.fair_latent.mixture import fit_mixture

    with pytest.raises(ValueError, match=r"ordinal slices \[\(0, 2\)\] are not categorical"):
        FairVAENet(20, 2, BLOCKS, label=(10, 12), ordinal=[(0, 2)])
    z = torch.randn(50, 3).numpy()
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_components"):
            fit_mixture(z, max_components=bad, rows=100, seed=0)
    mix = fit_mixture(z, max_components=1, rows=100, seed=0)  # one component: the sample moments
    np.testing.assert_allclose(mix["means"][0], z.mean(0), atol=1e-6)


# --------------------------------------------------------------------------- FastDropout
def test_fast_dropout_rate_scale_gradient_and_eval_identity():
    """Known answers: on 10⁶ ones the dropped share is p (within 5 binomial SEs) and the mean
    output 1 (inverted dropout); the gradient is the mask times 1 / (1 − p); eval mode and p = 0
    are the identity; the same seed gives the same mask; nn.Dropout's (empty) state dict loads."""
    from fairx.nn._blocks import FastDropout

    drop = FastDropout(0.2)
    x = torch.ones(1000, 1000, requires_grad=True)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        out = drop(x)
        torch.manual_seed(0)
        again = drop(x)
    assert torch.equal(out, again)
    dropped = float((out.detach() == 0).double().mean())
    assert dropped == pytest.approx(0.2, abs=5 * math.sqrt(0.2 * 0.8 / 1e6))
    assert float(out.detach().mean()) == pytest.approx(1.0, abs=3e-3)
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 65536 / (65536 - round(0.2 * 65536))))
    out.sum().backward()
    assert torch.equal(x.grad, out.detach())  # d(out)/dx = the scaled mask (x is ones)
    assert FastDropout(0.0)(x) is x
    drop.eval()
    assert drop(x) is x
    drop.load_state_dict(torch.nn.Dropout(0.2).state_dict())
    for bad in (1.0, -0.1, True, "0.2"):
        with pytest.raises(ValueError, match="dropout p"):
            FastDropout(bad)
