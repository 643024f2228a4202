"""Device choice: ``train.device=auto|cpu|cuda|cuda:N|mps``."""

from __future__ import annotations

import torch

from gankit.errors import GankitError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; an explicit device must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GankitError(f"train.device={name} but no CUDA GPU is available here; use train.device=cpu or auto")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GankitError(f"train.device={name} but only {torch.cuda.device_count()} GPU(s) exist")
        return dev
    if name == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise GankitError("train.device=mps but Apple's MPS is not available here; use cpu or auto")
        return torch.device("mps")
    return torch.device("cpu")
