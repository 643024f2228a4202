"""The task seam: what a GAN task owns, and the little the training loop asks of it.

The pattern is stylegan2-ada's ``training/loss.py`` with its list of phases. A *task* owns

* its networks (``nets``: name -> module) and one optimiser setting per optimiser (``optimizers``);
* its phases: which optimiser steps, which networks it trains and which it freezes, how many
  updates per step (``repeat``: n_critic) and during which steps it runs (``start``/``stop``: a
  G-only warm-up, then the adversarial phase);
* the loss of each phase (:meth:`Task.inputs` makes a phase's full-batch inputs; :meth:`Task.loss`
  scores one micro-batch of them), and the statistics it reports by name (``columns``);
* how the trained model is used: :meth:`Task.export` (what the run folder keeps) and
  :meth:`Task.preview` (samples in the data's own space for the pictures).

The loop (:mod:`gankit.training`) runs phases without knowing what they compute: it owns mixed
precision and a gradient scaler per optimiser, micro-batches, DistributedDataParallel wrappers,
freezing, the moving averages of weights, learning-rate schedules and the divergence check.

A new task is one new file that subclasses :class:`Task` and registers itself in
:data:`gankit.tasks.TASKS`; nothing in the loop changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import numpy as np
from torch import Tensor, nn

from gankit.config.schema import Schedule  # the choices the config offers


@dataclass(frozen=True)
class Phase:
    """One kind of update in a training step (stylegan2-ada's ``phases`` list entry)."""

    name: str  # "D", "G", ...: the key of its update counter
    opt: str  # the optimiser it steps (a key of Task.optimizers)
    trains: tuple[str, ...]  # networks whose gradients it computes (DDP-synchronised, requires_grad on)
    frozen: tuple[str, ...] = ()  # networks with requires_grad off while it runs (no weight gradients)
    repeat: int = 1  # updates per step, each on a new batch (n_critic)
    batch: bool = True  # draws a data batch for each update; False: works on what earlier phases carry
    start: int = 0  # first step at which it runs
    stop: int | None = None  # first step at which it no longer runs (None: to the end)
    loss_stat: str | None = None  # name under which its loss is reported (a column of metrics.csv)

    def active(self, step: int) -> bool:
        return step >= self.start and (self.stop is None or step < self.stop)


@dataclass(frozen=True)
class OptimizerSetting:
    """Adam for some parameters, with its learning-rate schedule over the run's steps."""

    params: tuple[str, ...]  # the networks it updates
    lr: float
    betas: tuple[float, float]
    schedule: Schedule = "constant"
    hold: float = 0.0  # share of the run at the full rate before the schedule's decay starts


def adam_settings(cfg, g_nets: tuple[str, ...] = ("G",), d_nets: tuple[str, ...] = ("D",),
                  hold: float | None = None) -> dict[str, OptimizerSetting]:
    """G's and D's Adam as ``generator.*`` and ``discriminator.*`` set them: lr, betas, schedule, decay_start
    (``hold``, where given, replaces both decay_starts: the translation tasks' ``translate.decay_start``)."""
    g, d = cfg.generator, cfg.discriminator
    g_hold, d_hold = (g.decay_start, d.decay_start) if hold is None else (hold, hold)
    return {"G": OptimizerSetting(g_nets, g.lr, tuple(g.betas), g.schedule, g_hold),
            "D": OptimizerSetting(d_nets, d.lr, tuple(d.betas), d.schedule, d_hold)}


def averaged(decay: float, names: tuple[str, ...] = ("G",)) -> dict[str, float]:
    """:attr:`Task.ema` for ``ema.decay``: each generator named averaged at that decay; none when it is 0."""
    return {n: decay for n in names} if decay > 0 else {}


@dataclass
class PhaseContext:
    """What a phase's functions may use besides the batch."""

    step: int  # steps done before this one
    updates: int  # updates of this phase done before this one
    repeat: int  # index of this update within the step (0 .. repeats-1)
    repeats: int
    accumulate: int  # micro-batches per update
    rank: int
    world_size: int
    scale: Any  # the loss scale of the phase's gradient scaler (1.0 without fp16): penalties unscale with it
    train_nets: dict[str, nn.Module]  # the networks as they compute their own updates (DDP wrappers)
    carry: dict[str, Any] = field(default_factory=dict)  # passed from phase to phase within one step


class Task:
    """Base class of a GAN task; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    #: statistics reported by name, in the order of metrics.csv's columns (after step, epoch)
    columns: ClassVar[tuple[str, ...]] = ()
    #: the statistic the health monitor reads as mean D(real) / D(fake), when the task has them
    probability: bool = False

    nets: dict[str, nn.Module]
    optimizers: dict[str, OptimizerSetting]
    ema: dict[str, float]  # network -> decay of its moving average (Karras et al. 2018); sampling uses it

    @classmethod
    def from_config(cls, cfg, data, device) -> "Task":
        """Build the task's networks and settings for ``data`` (a :class:`gankit.data.Data`) on ``device``."""
        raise NotImplementedError

    @classmethod
    def load_trained(cls, state: dict, meta: dict, source: str, device: str = "cpu"):
        """The exported model (what :meth:`export` wrote) as an object to use: ``gankit.load`` returns it."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        raise NotImplementedError

    def inputs(self, phase: Phase, batch: dict[str, Tensor] | None, ctx: PhaseContext) -> dict[str, Tensor | None]:
        """A phase's inputs for one update, on the whole (per-process) batch: tensors with the batch
        first, which the loop splits into micro-batches. Runs under the loop's autocast."""
        raise NotImplementedError

    def loss(self, phase: Phase, inputs: dict[str, Tensor | None], ctx: PhaseContext) -> tuple[Tensor, dict[str, Tensor]]:
        """(loss to minimise, statistics by name as 0-d tensors) of one micro-batch. Runs under autocast."""
        raise NotImplementedError

    def batch_tensors(self, data) -> dict[str, Tensor]:
        """The in-memory tensors batches are drawn from, first dimension the items (default: the
        data ``x`` and, when labelled, its classes ``y``)."""
        tensors = {"x": data.x}
        if data.labels is not None:
            tensors["y"] = data.labels
        return tensors

    def batch_transforms(self, data) -> dict[str, Callable[[Tensor], Tensor]]:
        """Maps applied to each drawn batch of :meth:`batch_tensors`, by name: stored items -> training
        values (default: ``x`` through :meth:`gankit.data.Data.training`, which makes 8-bit images floats)."""
        return {"x": data.training}

    def batches(self, tensors: dict[str, Tensor], batch_size: int, seed: int, shard: tuple[int, int]):
        """The task's own batch source (``next()``, ``epoch``, ``per_epoch``, ``state_dict`` as
        :class:`gankit.training.batches.Batches`), or None for the loop's shuffled batches of ``tensors``."""
        return None

    def state_dict(self) -> dict:
        """The task's own resumable state beyond networks and optimisers (noise RNGs, counters)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass

    def export(self, nets: dict[str, nn.Module], step: int) -> tuple[str, dict[str, Tensor], dict]:
        """(file stem in the run folder, tensors, JSON meta) of the trained model that ``gankit sample``
        and :func:`gankit.load` read back."""
        raise NotImplementedError

    def model_meta(self, step: int, data: dict, **extra) -> dict:
        """The JSON every exported model starts with: gankit's version, the task, the generator's
        settings, what the data is (``data``), the step and preset; then the task's ``extra``."""
        from gankit import __version__

        meta = getattr(self, "meta", {})
        return {"gankit_version": __version__, "task": self.name, "generator": meta.get("generator"), "data": data,
                "step": step, "preset": meta.get("preset"), **extra}

    @classmethod
    def trained_from_checkpoint(cls, train: dict, model: dict, source: str, device: str = "cpu"):
        """The model :meth:`export` described at a training checkpoint, from the checkpoint alone.

        ``train`` is the checkpoint's training state (``nets``, ``emas``, ...) and ``model`` what the
        loop stored beside it: ``{"stem", "tensors", "meta"}`` of :meth:`export` at that step. By
        default the exported tensors are the sampling networks by name (a network's moving average
        where one is kept), as :meth:`export` receives them; a task exporting anything else overrides this.
        """
        emas, nets = train.get("emas") or {}, train["nets"]
        tensors = {name: emas.get(name, nets[name]) for name in model["tensors"]}
        return cls.load_trained(tensors, model["meta"], source, device)

    @classmethod
    def trained(cls, G: nn.Module, meta: dict) -> "Trained":
        """The model :meth:`export` describes by ``meta``, around the live network ``G`` (no copy): what
        evaluation during training samples."""
        raise NotImplementedError

    def usage(self, run) -> str:
        """The command that uses the trained model, for the line that closes a run."""
        return f"gankit sample {run} --n 64 --out samples.png"

    def preview(self, nets: dict[str, nn.Module], fixed: dict[str, Tensor]) -> tuple[np.ndarray, int | None]:
        """(samples in the data's own space, items per grid row or None) from the fixed inputs."""
        raise NotImplementedError

    def preview_labels(self, n: int) -> list[str] | None:
        """The class name of each of :meth:`preview`'s ``n`` samples, for labelled grid rows (None: none)."""
        return None

    def fixed_inputs(self, n: int, seed: int) -> dict[str, Tensor]:
        """The fixed inputs of the preview pictures (the same at every step)."""
        raise NotImplementedError

    def summary(self) -> str:
        """Model tables for the report."""
        return ""

    def describe(self) -> str:
        """A phrase for the start-up line saying what the networks are conditioned on ("" when nothing
        worth saying): a setting resolved from others (conditional.mode=auto) is seen before the run."""
        return ""

    @classmethod
    def summarize(cls, cfg) -> str:
        """Model tables of a config without its data (``gankit summary``); "" when the task has none."""
        return ""


@dataclass
class Exportable:
    """What ``gankit export`` writes for a trained model (:meth:`Trained.exportable`).

    ``module`` is a deterministic network in inference mode; ``inputs`` are example inputs by name, in
    the order ``module`` takes them; ``dynamic`` names each input's free axes: ``{axis: (name, multiple,
    least)}`` (the axis is ``multiple * k`` for ``k >= least``; the batch axis is ``("batch", 1, 1)``);
    ``outputs`` names what it returns; ``describe`` is the JSON written beside the file (what each input
    is, how to turn the output into data, what differs from gankit's own sampling).
    """

    module: nn.Module
    inputs: dict[str, Tensor]
    dynamic: dict[str, dict[int, tuple[str, int, int]]]
    outputs: tuple[str, ...]
    describe: dict


class Trained:
    """A trained model on its own: what :func:`gankit.load` returns and ``gankit sample`` uses."""

    kind = "image"  # the modality of its output (how samples are saved)
    columns: list[str] | None = None  # tables: the column names
    num_classes = 0  # > 0: ``sample(label=...)`` picks a class
    label_name = "label"

    def sample(self, n: int, *, seed: int | None = None, label=None) -> np.ndarray:
        """``n`` outputs in the data's own space; ``seed`` makes them reproducible."""
        raise NotImplementedError

    def samples(self, n: int, *, seed: int | None = None, label=None) -> np.ndarray:
        """``n`` outputs as one numpy array in the data's own space (what the evaluation scores)."""
        raise NotImplementedError

    def class_names_for(self, n: int, label=None) -> list[str] | None:
        """The class of each of ``sample(n, label=label)``'s outputs (None: not class-conditional)."""
        return None

    def exportable(self, **options) -> Exportable:
        """The network ``gankit export`` writes, with example inputs and its description."""
        from gankit.errors import GankitError

        raise GankitError(f"{type(self).__name__} cannot be exported")

    def interpolate(self, z0, z1, steps: int, *, label=None):
        """Outputs along the spherical path from latent code ``z0`` to ``z1`` (runs with a latent input)."""
        from gankit.errors import GankitError

        raise GankitError("this run has no latent input to walk (latent walks are for generators that start from "
                          "noise: images and numeric tables)")

    def save(self, x, out, *, nrow: int | None = None, labels: list[str] | None = None,
             label_position: int | None = None):
        """Write ``sample``'s outputs in the form ``out`` names, through the data's modality."""
        from pathlib import Path

        from gankit.errors import GankitError
        from gankit.modalities import get_modality

        extra = {"label_position": label_position} if label_position is not None else {}
        try:
            return get_modality(self.kind).save(x, Path(out), columns=self.columns, labels=labels,
                                                label_name=self.label_name, nrow=nrow,
                                                codec=getattr(self, "codec", None), **extra)
        except OSError as e:
            raise GankitError(f"cannot write {out} ({e.strerror})") from None
