"""Many processes through PyTorch's own engine: torchrun + DistributedDataParallel.

``torchrun --nproc-per-node N -m gankit train CONFIG`` sets RANK / WORLD_SIZE / LOCAL_RANK /
MASTER_ADDR / MASTER_PORT; gankit reads them, joins the process group (NCCL on GPUs, gloo on CPUs)
and wraps G and D in DDP. A single process (no torchrun) is world size 1 and nothing changes.

Semantics (documented in the README's "Scaling" section):

* ``train.batch_size`` is the **global** batch: each of the N processes takes batch_size / N items
  of it, so a run gives the same result on 1 or N processes (up to float rounding) — N must divide it.
* Every process draws the same data permutation and the same global noise from the run seed, and
  keeps its own slice: data order is reproducible and each rank sees a different shard.
* Only rank 0 writes files and prints; checkpoints hold the unwrapped modules, so single-process and
  multi-process runs resume each other's checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from gankit.errors import GankitError


@dataclass(frozen=True)
class World:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def slice(self, n_global: int) -> slice:
        """This rank's part of a global batch of ``n_global`` items."""
        per = n_global // self.world_size
        return slice(self.rank * per, (self.rank + 1) * per)


def world_from_env() -> World:
    """World size and ranks as torchrun sets them (1 process when absent)."""
    try:
        return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                     int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError:
        raise GankitError("RANK / WORLD_SIZE / LOCAL_RANK must be integers (launch with torchrun)") from None


def init(world: World, device: torch.device) -> None:
    """Join the process group torchrun prepared (no-op for one process)."""
    if not world.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend)


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def check_batch(world: World, batch_size: int) -> None:
    if batch_size % world.world_size:
        raise GankitError(f"train.batch_size={batch_size} is the global batch and must divide by the "
                          f"{world.world_size} processes; use e.g. train.batch_size="
                          f"{(batch_size // world.world_size + 1) * world.world_size}")


def all_reduce_mean(t: torch.Tensor, world: World) -> torch.Tensor:
    """Mean of ``t`` over the processes (in place; identity for one process)."""
    if world.enabled:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= world.world_size
    return t


def barrier(world: World) -> None:
    if world.enabled:
        dist.barrier()


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model
