"""Seeds, RNG states, threads and determinism, and the stop signals of one training run."""

from __future__ import annotations

import os
import random
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    st = random.getstate()
    np_st = np.random.get_state()
    out = {
        "torch": torch.get_rng_state(),
        "python": [st[0], list(st[1]), st[2]],
        "numpy": [np_st[0], torch.from_numpy(np_st[1].astype(np.int64)), int(np_st[2]), int(np_st[3]), float(np_st[4])],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    v, internal, gauss = s["python"]
    random.setstate((v, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = s["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in s and torch.cuda.is_available():  # a checkpoint from a machine with more GPUs: the first ones
        for i, state in enumerate(list(s["cuda"])[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(state, i)


@contextmanager
def torch_settings(threads: int | None, deterministic: bool) -> Iterator[None]:
    """Threads and determinism for one run, put back afterwards (``train`` may run in-process).

    Deterministic mode follows PyTorch's reproducibility notes: deterministic kernels only,
    no cuDNN autotuning, and a fixed cuBLAS workspace (CUBLAS_WORKSPACE_CONFIG) on CUDA.
    """
    before = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    bench = torch.backends.cudnn.benchmark
    if threads is not None:
        torch.set_num_threads(threads)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        _deterministic(True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.set_num_threads(before)
        if torch.are_deterministic_algorithms_enabled() != det:
            _deterministic(det)
        torch.backends.cudnn.benchmark = bench


def _deterministic(mode: bool) -> None:
    """``torch.use_deterministic_algorithms`` without its import of torch._inductor (2-4 s), which
    only matters to torch.compile: then the public call is used."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if "torch._inductor.config" in sys.modules or setter is None:
        torch.use_deterministic_algorithms(mode)
    else:
        setter(mode, warn_only=False)


@contextmanager
def stop_signals() -> Iterator[dict]:
    """SIGINT/SIGTERM set a flag: the current step finishes, then the loop checkpoints and stops."""
    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, _frame):
        if flag["stop"]:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        flag["stop"] = True

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)
