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


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a mixed precision the device cannot run (bf16 needs Ampere or newer on NVIDIA GPUs)."""
    if precision == "fp32":
        return
    if not torch.amp.is_autocast_available(device.type):
        raise GankitError(f"train.precision={precision}: PyTorch has no autocast for {device.type} here; "
                          f"use train.precision=fp32")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise GankitError(f"train.precision=bf16 but {torch.cuda.get_device_name(device)} has no bfloat16 "
                          f"support; use train.precision=fp16 (or fp32)")
