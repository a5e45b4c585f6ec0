"""Device choice and RNG isolation for torch models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` = CUDA when available, else CPU; otherwise the named device."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'")
    return torch.device(device)


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, then restore the caller's RNG state.

    Weight initialisation, dropout and ``torch.randn`` inside the block are reproducible, and
    nothing outside the block sees a changed RNG (no process-wide seeding).
    """
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        if seed is not None:
            torch.manual_seed(int(seed))
        yield


def count_parameters(*modules: torch.nn.Module) -> int:
    return int(sum(p.numel() for m in modules for p in m.parameters()))


def state_to_numpy(module: torch.nn.Module, prefix: str) -> dict:
    """A module's ``state_dict`` as numpy arrays under ``prefix.`` (for safetensors)."""
    return {f"{prefix}.{k}": v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def load_numpy_state(module: torch.nn.Module, arrays: dict, prefix: str) -> None:
    """Inverse of :func:`state_to_numpy`."""
    p = prefix + "."
    state = {k[len(p):]: torch.from_numpy(v.copy()) for k, v in arrays.items() if k.startswith(p)}
    module.load_state_dict(state)
