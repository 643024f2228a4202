"""One training step of any task: its phases, with everything that is the same for every task.

For each active phase (:class:`gankit.tasks.base.Phase`) and each of its updates: freeze the
networks it freezes, zero its optimiser's gradients, ask the task for the update's inputs, split
them into ``accumulate`` micro-batches, and for each compute the task's loss under autocast and
back-propagate it (scaled by the optimiser's own gradient scaler under fp16); then step the
optimiser, unfreeze, and update the moving averages of the networks it trained.

Scaling (README "Scaling"): ``precision`` bf16/fp16 runs the forward passes under autocast, fp16
with a gradient scaler per optimiser (one overflow in D must not skip G's step); ``accumulate`` runs
each update's batch in micro-batches, gradients synchronised once; in a torchrun world the trained
networks are wrapped in DistributedDataParallel (frozen networks are called unwrapped). Adam is
torch's fused kernel, and convolutional networks on the CPU keep channels-last weights (the gains are
measured in BENCHMARKS.md; tests/test_reference_equivalence.py checks the maths).
"""

from __future__ import annotations

import inspect
import math
import warnings
from contextlib import ExitStack, nullcontext

import torch
from torch import Tensor, nn

from gankit.ema import EMA
from gankit.tasks.base import Phase, PhaseContext, Task
from gankit.training.batches import Batches
from gankit.training.rng import rng_state, set_rng_state


def _has_conv(*models: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) for model in models for m in model.modules())


def schedule_factor(schedule: str, step: int, total: int, hold: float = 0.0) -> float:
    """Learning-rate multiplier at ``step`` of ``total``: constant, linear decay to 0, or cosine to 0;
    ``hold``: the share of the run at the full rate before the decay starts (CycleGAN/pix2pix: half)."""
    if hold > 0 and schedule != "constant":
        start = int(hold * total)
        return 1.0 if step < start else schedule_factor(schedule, step - start, total - start)
    if schedule == "linear":
        return max(0.0, 1.0 - step / max(1, total))
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(1, total)))
    return 1.0


class Stepper:
    """Runs a task's phases; owns optimisers, scalers, moving averages and DDP wrappers."""

    def __init__(self, task: Task, *, total: int, precision: str = "fp32", accumulate: int = 1, world=None,
                 channels_last: bool | None = None) -> None:
        from gankit.distributed import World

        self.task, self.total = task, total
        nets = task.nets
        self.device = device = next(next(iter(nets.values())).parameters()).device
        # A conv GAN step on the CPU runs 1.1-1.25x faster with channels-last (NHWC) weights: oneDNN
        # then skips reordering every activation to and from its own layout (benchmarks/ ablation;
        # same maths, other summation order). None = on for conv models on the CPU, where it wins.
        if channels_last is None:
            channels_last = _has_conv(*nets.values()) and device.type == "cpu"
        if channels_last:  # in place: parameters stay the same objects
            for net in nets.values():
                net.to(memory_format=torch.channels_last)
        self.opts = {name: make_optimizer([p for n in s.params for p in nets[n].parameters()], s.lr, s.betas)
                     for name, s in task.optimizers.items()}
        self.emas = {name: EMA(nets[name], decay) for name, decay in task.ema.items()}
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.scalers = {name: torch.amp.GradScaler(device.type, enabled=precision == "fp16") for name in self.opts}
        self.accumulate = accumulate
        self.world = world or World()
        self.phases = task.phases()
        self.step = 0  # steps done
        self.updates = {p.name: 0 for p in self.phases}
        self.train_nets = self._wrap(nets, {n for p in self.phases for n in p.trains})
        self.scheduled = any(s.schedule != "constant" for s in task.optimizers.values())
        self.lr_scale = 1.0  # the divergence guard's factor

    def _wrap(self, nets: dict[str, nn.Module], trained: set[str]) -> dict[str, nn.Module]:
        """The networks that compute their own updates, DDP-wrapped across processes (stylegan2-ada
        does the same, without buffer traffic on every forward)."""
        if not self.world.distributed:
            return dict(nets)
        from torch.nn.parallel import DistributedDataParallel as DDP

        # a (1, n) weight's gradient may come with other (equivalent) strides than DDP's bucket:
        # one copy, and a warning that would alarm every user of a 1-output D
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        ids = [self.device.index] if self.device.type == "cuda" else None
        params = inspect.signature(DDP).parameters  # newer torch renamed the switch
        buffers = {"forward_sync_buffers": False} if "forward_sync_buffers" in params else {"broadcast_buffers": False}
        return {n: DDP(m, device_ids=ids, **buffers) if n in trained else m for n, m in nets.items()}

    def autocast(self):
        return nullcontext() if self.amp_dtype is None else torch.autocast(self.device.type, dtype=self.amp_dtype)

    # ------------------------------------------------------------------ one step

    def train_step(self, batches: Batches) -> dict[str, Tensor]:
        """Every active phase, in order; returns the step's statistics by name (0-d tensors, no
        host sync). A statistic reported by several updates of a step keeps the last one's value."""
        if self.scheduled:
            self.set_lrs()
        stats: dict[str, Tensor] = {}
        carry: dict = {}
        for phase in self.phases:
            if phase.active(self.step):
                for r in range(phase.repeat):
                    stats.update(self.update(phase, batches.next() if phase.batch else None, r, carry))
        self.step += 1
        return stats

    def update(self, phase: Phase, batch, repeat: int, carry: dict) -> dict[str, Tensor]:
        """One optimiser step of ``phase``."""
        task, nets = self.task, self.task.nets
        opt, scaler = self.opts[phase.opt], self.scalers[phase.opt]
        for n in phase.trains:
            nets[n].requires_grad_(True)
        before = {n: [p.requires_grad for p in nets[n].parameters()] for n in phase.frozen}
        for n in phase.frozen:  # no weight gradients at all: the gradient flows through them only
            nets[n].requires_grad_(False)
        ctx = PhaseContext(self.step, self.updates[phase.name], repeat, phase.repeat, self.accumulate,
                           self.world.rank, self.world.size, _scale(scaler), self.train_nets, carry)
        with self.autocast():
            inputs = task.inputs(phase, batch, ctx)
        opt.zero_grad(set_to_none=True)
        k = self.accumulate
        results = []
        for i, part in enumerate(_micro(k, inputs)):
            with self._sync(phase, i == k - 1):
                with self.autocast():
                    loss, stats = task.loss(phase, part, ctx)
                _backward(loss / k if k > 1 else loss, scaler)
            results.append((loss.detach(), stats))
        loss, stats = results[0] if k == 1 else _mean(results)
        logged = _step(opt, scaler, loss)
        for n, flags in before.items():  # as they were (a network no phase trains stays frozen)
            for p, flag in zip(nets[n].parameters(), flags):
                p.requires_grad_(flag)
        for n in phase.trains:
            if n in self.emas:
                self.emas[n].update(nets[n], self.step)
        self.updates[phase.name] += 1
        return {phase.loss_stat: logged, **stats} if phase.loss_stat else stats

    def _sync(self, phase: Phase, sync: bool):
        """DDP's no_sync for all but the last micro-batch: gradients are averaged once per update."""
        if sync:
            return nullcontext()
        stack = ExitStack()
        for n in phase.trains:
            net = self.train_nets[n]
            if hasattr(net, "no_sync"):
                stack.enter_context(net.no_sync())
        return stack

    # ------------------------------------------------------------------ settings and state

    def set_lrs(self) -> None:
        """Learning rates from the task's settings, its schedules and the divergence guard's scale
        (also on resume, so a ``generator.lr=...`` override given with ``--resume`` takes effect)."""
        for name, s in self.task.optimizers.items():
            lr = s.lr * self.lr_scale
            if s.schedule != "constant":
                lr = lr * schedule_factor(s.schedule, self.step, self.total, s.hold)
            for group in self.opts[name].param_groups:
                group["lr"] = lr
                group["betas"] = tuple(s.betas)

    def sampling_nets(self) -> dict[str, nn.Module]:
        """The networks samples come from: the moving averages where kept."""
        return {n: self.emas[n].model if n in self.emas else m for n, m in self.task.nets.items()}

    def state_dict(self, batches: Batches) -> dict:
        fp16 = any(s.is_enabled() for s in self.scalers.values())
        return {
            "nets": {n: m.state_dict() for n, m in self.task.nets.items()},
            "opts": {n: o.state_dict() for n, o in self.opts.items()},
            "emas": {n: e.state_dict() for n, e in self.emas.items()},
            **({"scalers": {n: s.state_dict() for n, s in self.scalers.items()}} if fp16 else {}),
            "task": self.task.state_dict(),
            "step": self.step,
            "updates": dict(self.updates),
            "batches": batches.state_dict(),
            "rng": rng_state(),
        }

    def load_state_dict(self, s: dict, batches: Batches) -> None:
        for n, m in self.task.nets.items():
            m.load_state_dict(s["nets"][n])
        for n, o in self.opts.items():
            o.load_state_dict(_fix_groups(s["opts"][n], o))
        for n, e in self.emas.items():  # EMA switched on at a resume starts from the loaded weights
            e.load_state_dict(s["emas"][n] if n in s["emas"] else self.task.nets[n].state_dict())
        for n, sc in self.scalers.items():  # a run that switches to fp16 starts fresh scalers
            if sc.is_enabled() and n in s.get("scalers", {}):
                sc.load_state_dict(s["scalers"][n])
        self.task.load_state_dict(s.get("task", {}))
        self.step = int(s["step"])
        self.updates.update({k: int(v) for k, v in s["updates"].items()})
        batches.load_state_dict(s["batches"])
        set_rng_state(s["rng"])
        match_layouts(*self.opts.values())


def _micro(k: int, inputs: dict[str, Tensor | None]) -> list[dict[str, Tensor | None]]:
    """Split each tensor into ``k`` micro-batches along dim 0 (None stays None)."""
    if k == 1:
        return [inputs]
    cols = {n: t.chunk(k) if t is not None else (None,) * k for n, t in inputs.items()}
    return [{n: c[i] for n, c in cols.items()} for i in range(k)]


def _mean(results: list[tuple[Tensor, dict[str, Tensor]]]) -> tuple[Tensor, dict[str, Tensor]]:
    losses = torch.stack([loss for loss, _ in results]).mean()
    return losses, {n: torch.stack([s[n] for _, s in results]).mean() for n in results[0][1]}


def _scale(scaler: torch.amp.GradScaler) -> float | Tensor:
    """The current loss scale, as a device tensor (no host sync); the initial scale before the first step."""
    if not scaler.is_enabled():
        return 1.0
    scale = scaler._get_scale_async()
    return scale if scale is not None else scaler.get_scale()


def _backward(loss: Tensor, scaler: torch.amp.GradScaler) -> None:
    (scaler.scale(loss) if scaler.is_enabled() else loss).backward()


def _step(opt: torch.optim.Optimizer, scaler: torch.amp.GradScaler, loss: Tensor) -> Tensor:
    """The optimiser step; returns the loss to log.

    With fp16 the scaler skips the step when a scaled gradient overflowed, and lowers the scale. The
    loss of such a step may be infinite too (a penalty's scaled input gradient overflows in fp16):
    that is the scaler's business, not divergence, so it is logged as 0 (no host sync).
    """
    if not scaler.is_enabled():
        opt.step()
        return loss
    before = scaler._get_scale_async().clone()  # update() changes it in place
    scaler.step(opt)
    scaler.update()
    return torch.where(scaler._get_scale_async() < before, torch.zeros_like(loss), loss)


#: devices with a fused Adam kernel in torch >= 2.4 (fused Adam checks this only at its first step)
_FUSED_DEVICES = ("cpu", "cuda", "mps", "xpu")
#: per-group flags that choose Adam's implementation, not its maths: they follow this machine
_IMPL_KEYS = ("fused", "foreach", "capturable")


def _fix_groups(sd: dict, opt: torch.optim.Optimizer) -> dict:
    """Make a stored optimiser state loadable into ``opt``.

    JSON turns tuples into lists, so betas become a tuple again. ``load_state_dict`` would adopt the
    stored implementation flags, so a checkpoint written with ``fused=False`` (or on another device)
    would silently slow the resumed run: ``opt``'s own flags are kept instead.
    """
    for g, own in zip(sd.get("param_groups", []), opt.param_groups):
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        for k in _IMPL_KEYS:
            if k in own:
                g[k] = own[k]
    return sd


def make_optimizer(params, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam (Kingma & Ba 2015) in torch's fused implementation where the device has it.

    ``fused=True`` updates each tensor in one kernel that reads and writes param, grad and both
    moments once; the ``foreach`` path takes about six passes over memory, and the default
    single-tensor loop more. Same update rule (benchmarks/README.md has the measurements). Devices
    without a fused kernel fall back to ``foreach``.
    """
    params = list(params)
    fused = all(p.device.type in _FUSED_DEVICES and p.is_floating_point() for p in params)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=fused or None, foreach=not fused or None)


def match_layouts(*optimizers: torch.optim.Optimizer) -> None:
    """Give loaded optimiser state the memory layout of its parameter (e.g. channels-last).

    Checkpoints hold contiguous tensors, and ``Optimizer.load_state_dict`` keeps that layout; but
    fused Adam pairs a parameter with its moments element by element *in memory*, so contiguous
    moments of a channels-last weight would update the wrong entries after a resume (measured:
    weights off by 0.1 after one step at lr 0.1; the foreach kernel happens to be unaffected).
    """
    for opt in optimizers:
        for group in opt.param_groups:
            for p in group["params"]:
                state = opt.state.get(p, {})
                for k, v in state.items():
                    if torch.is_tensor(v) and v.shape == p.shape and v.stride() != p.stride():
                        state[k] = torch.empty_like(p, dtype=v.dtype).copy_(v)
