"""Many processes through torchrun: the process group, who writes, and the few collectives the loop needs.

``torchrun --nproc-per-node N -m gankit train CONFIG`` starts N copies of ``gankit train`` and sets
RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in each; gankit reads them and calls
``torch.distributed.init_process_group`` (NCCL on GPUs, gloo on CPUs), nothing more: no launcher of
its own. Without those variables (a plain ``gankit train``) the world has one process and every
function here returns at once, so single-process training runs exactly the code it always ran.

What each process does (gankit/training/phases.py and loop.py):

* ``train.batch_size`` is the **global** batch of one optimiser step. All processes draw the same
  data permutation and the same noise from the run seed, and each takes its rank's slice, so N
  processes compute the update one process would on the whole batch: DistributedDataParallel
  averages the gradients of the N slices, and every loss is a mean.
* Random layers (dropout, DiffAugment, WGAN-GP's interpolation) draw from a per-rank seed derived
  from the run seed (rank 0 keeps the run seed itself).
* Only rank 0 writes the run folder, prints, draws samples and runs ``eval.every`` evaluations;
  the logged loss statistics are averaged over all processes first.
* Checkpoints hold the plain (unwrapped) modules, so a run can resume on any number of processes.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import torch

from gankit.errors import GankitError

#: torchrun's variables; gankit runs distributed when WORLD_SIZE > 1
ENV_KEYS = ("RANK", "LOCAL_RANK", "WORLD_SIZE")

#: set once this process has joined a process group: from then on an error may be its own
joined = False


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one training run."""

    rank: int = 0
    local_rank: int = 0  # index among the processes of this machine: the GPU it uses
    size: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the process that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def from_env(env: dict[str, str] | None = None) -> World:
    """The world torchrun describes in the environment, or a world of one."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env:
        return World()
    try:
        world = World(int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")), int(env["WORLD_SIZE"]))
    except ValueError:
        got = ", ".join(f"{k}={env.get(k)!r}" for k in ENV_KEYS)
        raise GankitError(f"torchrun's environment is not understood ({got}); start gankit with "
                          f"torchrun --nproc-per-node N -m gankit train ...") from None
    if not (world.size >= 1 and 0 <= world.rank < world.size and world.local_rank >= 0):
        raise GankitError(f"inconsistent torchrun environment: RANK={world.rank}, WORLD_SIZE={world.size}")
    return world


def check_batch(world: World, batch_size: int, accumulate: int) -> None:
    """The global batch must split evenly over processes and micro-batches."""
    parts = world.size * accumulate
    if batch_size % parts:
        lower, upper = batch_size // parts * parts, (batch_size // parts + 1) * parts
        how = f"{world.size} processes x train.accumulate={accumulate}" if accumulate > 1 else f"{world.size} processes"
        raise GankitError(f"train.batch_size={batch_size} (the global batch) does not split over {how}; "
                          f"use a multiple of {parts}, e.g. train.batch_size={lower or upper}"
                          + (f" or {upper}" if lower and lower != upper else ""))


def device_for(world: World, name: str) -> str:
    """The device name each process should use: under torchrun, GPU = LOCAL_RANK."""
    if not world.distributed:
        return name
    if name.startswith("cuda:"):
        raise GankitError(f"train.device={name} with torchrun: each process uses the GPU of its LOCAL_RANK; "
                          f"set train.device=cuda (or auto), and CUDA_VISIBLE_DEVICES to choose the GPUs")
    if name == "mps":
        raise GankitError("train.device=mps with torchrun is not supported (no collective backend for MPS); "
                          "use train.device=cpu, or train on one process")
    if name in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{world.local_rank}"
    return "cuda" if name == "cuda" else "cpu"  # cuda without a GPU: resolve_device explains


def init(world: World, device: torch.device) -> None:
    """Join the process group torchrun set up (env:// rendezvous)."""
    if not world.distributed or torch.distributed.is_initialized():
        return
    if not torch.distributed.is_available():
        raise GankitError("this PyTorch build has no torch.distributed; install an official PyTorch build")
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.distributed.init_process_group(backend=backend)
    global joined
    joined = True


def shutdown(world: World) -> None:
    if world.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def rank_seed(seed: int, rank: int) -> int:
    """Seed of rank ``rank``'s own random stream; rank 0 keeps the run seed."""
    return seed if rank == 0 else (seed + 1_000_003 * rank) % 2**63


def mean(t: torch.Tensor, world: World) -> torch.Tensor:
    """The average of ``t`` over all processes (``t`` itself in a world of one)."""
    if not world.distributed:
        return t
    t = t.clone()
    torch.distributed.all_reduce(t)
    return t / world.size


def any_true(flag: bool, world: World, device: torch.device) -> bool:
    """True on every process when ``flag`` is true on any: decisions that all must take together."""
    if not world.distributed:
        return flag
    t = torch.tensor([float(flag)], device=device)
    torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
    return bool(t.item())


def from_main(obj: Any, world: World) -> Any:
    """Rank 0's ``obj`` on every process (pickled over the process group: in-memory only)."""
    if not world.distributed:
        return obj
    box = [obj]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def barrier(world: World) -> None:
    if world.distributed:
        torch.distributed.barrier()


@contextmanager
def main_first(world: World) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. downloads MNIST), then the others (which find it cached)."""
    if not world.main:
        barrier(world)
    try:
        yield
    finally:
        if world.main:
            barrier(world)
