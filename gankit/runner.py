"""Training into a run folder: build everything from a config, drive the Trainer, write files.

Run folder (everything later commands need; the original config file or dataset is not):
  config.yaml            the resolved config
  run.json               status (running / complete / interrupted / failed), sizes, timings, rollbacks
  metrics.csv            step, epoch, d_loss, g_loss, d_real, d_fake, seconds
  samples/step_*.png     fixed-noise sample grids (images) or scatter/histograms (tables)
  checkpoints/step_*     resumable training state (safetensors + JSON)
  generator.safetensors  the final generator, with generator.json to rebuild and decode it
  eval_metrics.csv       with eval.every=K: step, metric, value of each in-training evaluation (evalhook.py)
  best/                  with eval.every=K: the best generator so far by eval.best_metric (+ config.yaml)
  metric_curves.png      the in-training scores over steps, best marked
  tensorboard/           with log.tensorboard=true: the same numbers as TensorBoard events

Reliability:
* A checkpoint holds the models, both optimisers, the step counters, the data order and every RNG
  (torch, numpy, python), so ``--resume`` continues the same trajectory; with
  ``train.deterministic=true`` a killed and resumed run ends bit-identical to an uninterrupted one.
* Checkpoints are written atomically (checkpoint.py); resume skips a damaged newest one.
* SIGINT/SIGTERM finish the current step, write a checkpoint and exit 130.
* Divergence guard: the loss sums are checked every few steps (one host sync); on NaN/Inf the
  loop rolls back to the last good state (kept in memory), scales the learning rates by
  ``train.divergence_lr_factor`` and goes on, at most ``train.max_rollbacks`` times.

Under torchrun (distributed.py) every process runs this loop on its slice of the batch; only rank 0
writes the run folder. Decisions that all processes must take together (roll back, stop) are made
on values averaged or OR-ed over the processes, at the same steps everywhere.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import torch

from gankit import __version__, checkpoint
from gankit import distributed as dist
from gankit.config import Config, dump, fingerprint, locked_changes, parse_policy, to_dict
from gankit.data import Data, decode, load_data
from gankit.device import check_precision, resolve_device
from gankit.errors import GankitError, Interrupted
from gankit.evalhook import EVAL_CSV, Evaluator, early_stop_message, eval_due, print_line
from gankit.losses import LOSSES
from gankit.models import build_discriminator, build_generator
from gankit.monitor import HealthMonitor, HealthWarning, mean_pairwise_distance
from gankit.tblog import TensorBoardLog, summary_writer_class
from gankit.trainer import Batches, Trainer, make_optimizer, seed_everything

METRIC_COLUMNS = ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]

#: the divergence guard looks at the loss sums at least this often (one host sync per look)
CHECK_EVERY = 10

# ----------------------------------------------------------------------------- helpers


def default_out(cfg: Config) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{cfg.preset or 'run'}-{stamp}"


def refuse_taken_out(out: Path) -> None:
    """An --out that is a file or a non-empty folder is refused (checked before the data is loaded)."""
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; choose a folder path")
    if out.is_dir() and any(out.iterdir()):
        raise GankitError(f"--out {out} already exists and is not empty; choose another folder, "
                          f"or continue it with --resume {out}")


def prepare_out(out: Path) -> None:
    """Create an empty run folder, refusing anything that would overwrite or fail later."""
    refuse_taken_out(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise GankitError(f"cannot write to --out {out} ({e.strerror}); choose a writable folder") from None


def total_steps(cfg: Config, n_items: int) -> tuple[int, int]:
    """(total G steps, batches per epoch)."""
    b = cfg.train.batch_size
    if b > n_items:
        raise GankitError(f"train.batch_size={b} is larger than the dataset ({n_items} items); "
                          f"use train.batch_size<={n_items}")
    per_epoch = n_items // b
    d_batches_per_step = cfg.train.n_critic
    if cfg.train.steps is not None:
        return cfg.train.steps, per_epoch
    epochs = cfg.train.epochs or 1
    return max(1, epochs * per_epoch // d_batches_per_step), per_epoch


def _every(value: int | None, total: int, parts: int) -> int:
    return value if value is not None else max(1, math.ceil(total / parts))


def write_json(path: Path, data: dict) -> None:
    checkpoint.atomic_write(path, json.dumps(data, indent=1).encode())


@contextmanager
def torch_settings(cfg: Config) -> Iterator[None]:
    """Threads and determinism for one run, put back afterwards (``train`` may run in-process).

    Deterministic mode follows PyTorch's reproducibility notes: deterministic kernels only,
    no cuDNN autotuning, and a fixed cuBLAS workspace (CUBLAS_WORKSPACE_CONFIG) on CUDA.
    """
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    bench = torch.backends.cudnn.benchmark
    if cfg.train.threads is not None:
        torch.set_num_threads(cfg.train.threads)
    if cfg.train.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        _deterministic(True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.set_num_threads(threads)
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


def _crash_step() -> int | None:
    """``GANKIT_TEST_CRASH=step:N``: the crash tests SIGKILL the run right after step N."""
    spec = os.environ.get(checkpoint.CRASH_ENV, "")
    return int(spec[5:]) if spec.startswith("step:") and spec[5:].isdigit() else None


# ----------------------------------------------------------------------------- build


def build(cfg: Config, device: torch.device, data: Data | None = None,
          world: dist.World | None = None) -> tuple[Data, Trainer]:
    """Data, networks and trainer of a config; ``data`` skips loading (benchmarks reuse one set).

    The trainer draws its noise from its own generator seeded from ``train.seed`` (the same global
    batch on every process of a torchrun world, which each slices).
    """
    if data is None:
        data = load_run_data(cfg)
    k = num_classes(cfg, data)
    if cfg.augment.policy and data.kind != "image":
        raise GankitError("augment.policy (DiffAugment) is for images; this data is a table: set augment.policy=''")
    try:
        G = build_generator(cfg.generator, data.shape, k).to(device)
        D = build_discriminator(cfg.discriminator, data.shape, k, cfg.conditional.mode,
                                cfg.conditional.acgan).to(device)
    except (MemoryError, RuntimeError) as e:
        if isinstance(e, RuntimeError) and "alloc" not in str(e).lower() and "memory" not in str(e).lower():
            raise
        raise GankitError(f"not enough memory for the networks ({str(e).splitlines()[0][:120]}); "
                          f"use smaller generator.hidden / discriminator.hidden") from None
    trainer = Trainer(
        G, D, LOSSES.get(cfg.loss),
        make_optimizer(G.parameters(), cfg.generator.lr, cfg.generator.betas),
        make_optimizer(D.parameters(), cfg.discriminator.lr, cfg.discriminator.betas),
        latent_dim=cfg.generator.latent_dim, n_critic=cfg.train.n_critic,
        gp_weight=cfg.penalty.gp_weight, r1_gamma=cfg.penalty.r1_gamma,
        r1_interval=cfg.penalty.r1_interval, conditional=k > 0,
        acgan_weight=cfg.conditional.acgan_weight if cfg.conditional.acgan else 0.0,
        ema_decay=cfg.ema.decay, augment=parse_policy(cfg.augment.policy),
        precision=cfg.train.precision, accumulate=cfg.train.accumulate, world=world,
        noise_seed=cfg.train.seed + 2,  # + 1 is the fixed noise of the sample grids
    )
    return data, trainer


def load_run_data(cfg: Config) -> Data:
    try:
        return load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    except MemoryError:
        raise GankitError("not enough memory to hold the data set; lower data.n_samples or set "
                          "data.limit") from None


def num_classes(cfg: Config, data: Data) -> int:
    """Number of classes for a conditional run (0 = unconditional); refuses unlabelled data."""
    if cfg.conditional.mode == "none" and not cfg.conditional.acgan:
        return 0
    if data.labels is None or not data.classes:
        raise GankitError(f"conditional.mode={cfg.conditional.mode} needs labelled data, but {data.name} has no "
                          f"labels (use digits, mnist, fashion-mnist, an image folder with one sub-folder per "
                          f"class, or a table with data.label_column=NAME); or set conditional.mode=none")
    return len(data.classes)


def generator_meta(cfg: Config, data: Data, step: int) -> dict:
    """What ``gankit sample`` needs to rebuild the generator and decode its output."""
    return {
        "gankit_version": __version__,
        "generator": to_dict(cfg)["generator"],
        "data": {
            "name": data.name, "kind": data.kind, "shape": list(data.shape),
            "offset": data.offset.tolist(), "scale": data.scale.tolist(),
            "classes": data.classes, "columns": data.columns, "label_name": data.label_name,
        },
        "step": step,
        "preset": cfg.preset,
        "num_classes": num_classes(cfg, data),
        "ema": cfg.ema.decay > 0,
    }


def save_samples_preview(G: torch.nn.Module, z: torch.Tensor, data: Data, path: Path, real=None,
                         classes: int = 0):
    """Save fixed-noise samples as a grid (or plot) and return them in data space (N, ...).

    For a conditional G the samples cycle through the classes, one grid row per class.
    """
    was = G.training
    G.eval()
    nrow = None
    with torch.inference_mode():
        if classes > 0:
            y = torch.arange(len(z), device=z.device) // max(1, len(z) // classes) % classes
            nrow = max(1, len(z) // classes) if classes <= len(z) else None
            out = G(z, y)
        else:
            out = G(z)
        x = decode(out, data.kind, data.offset, data.scale).float().cpu().numpy()
    G.train(was)
    _save_preview(x, data, path, real, nrow)
    return x


def _save_preview(x, data: Data, path: Path, real, nrow: int | None) -> None:
    from gankit.report.grids import save_grid
    from gankit.report.plots import table_plot

    if data.kind == "image":
        save_grid(x, path, nrow=nrow)
    else:
        table_plot(x, path, real=real, title=path.stem, columns=data.columns)


# ----------------------------------------------------------------------------- resume


def find_resume_point(run_dir: Path) -> tuple[Path, dict, dict, list[Path]]:
    """(newest intact checkpoint, its state, its meta, newer damaged checkpoints it skipped)."""
    if not run_dir.is_dir():
        raise GankitError(f"--resume {run_dir}: no such run folder")
    damaged: list[tuple[Path, str]] = []
    for p in reversed(checkpoint.checkpoints_in(run_dir / "checkpoints")):
        try:
            state, meta = checkpoint.load(p)
        except checkpoint.CheckpointTooNew:
            raise
        except GankitError as e:
            damaged.append((p, str(e)))
            continue
        for q, why in damaged:
            print(f"gankit: warning: skipping damaged checkpoint ({why})", file=sys.stderr)
        return p, state, meta, [q for q, _ in damaged]
    detail = f" ({len(damaged)} damaged; newest: {damaged[0][1]})" if damaged else ""
    raise GankitError(f"{run_dir}: no usable checkpoint to resume from{detail}; start a new run instead")


def check_config_unchanged(cfg: Config, meta: dict, source: Path) -> None:
    """Refuse a resume whose config changes the networks or data the checkpoint was made with.

    The locked keys are the schema's (gankit.config.resume): all but those marked free, so data.path
    may change (a moved data set; a different number of items is still refused) and train.seed may not
    (it makes the toy data sets)."""
    saved = meta.get("config")
    if not isinstance(saved, dict):
        return
    changes = locked_changes(saved, cfg)
    if changes:
        key, a, b = changes[0]
        raise GankitError(f"{source}: was made with {key}={a!r} but the config now says {b!r}; "
                          f"resume with the run's own {key} (or start a new run)")


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _read_run_json(run_dir: Path) -> dict:
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return {}
    return info if isinstance(info, dict) else {}


def _truncate_metrics(path: Path, step: int) -> None:
    """Keep the header and the complete rows up to ``step`` (a killed run may leave a half row)."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    keep = [METRIC_COLUMNS]
    for line in lines[1:]:
        row = next(csv.reader([line]), [])
        if (line.endswith("\n") and len(row) == len(METRIC_COLUMNS) and row[0].isdigit()
                and int(keep[-1][0] if len(keep) > 1 else 0) < int(row[0]) <= step):
            keep.append(row)
    buf = io.StringIO()
    csv.writer(buf).writerows(keep)
    checkpoint.atomic_write(path, buf.getvalue().encode())


def load_run_config(run_dir: str | Path) -> Config:
    from gankit.config import from_dict, read_yaml

    p = Path(run_dir) / "config.yaml"
    if not p.exists():
        raise GankitError(f"{run_dir}: not a gankit run folder (no config.yaml)")
    return from_dict(read_yaml(p), source=str(p))


# ----------------------------------------------------------------------------- the loop


class Session:
    """One ``train`` call on a run folder: the loop, its counters, and the files it writes."""

    def __init__(self, cfg: Config, run_dir: Path, data: Data, trainer: Trainer, batches: Batches,
                 total: int, device: torch.device) -> None:
        self.cfg, self.run_dir, self.data = cfg, run_dir, data
        self.trainer, self.batches, self.total, self.device = trainer, batches, total, device
        self.world = trainer.world  # only its rank 0 writes files
        self.acc = torch.zeros(4, device=device)  # sums of d_loss, g_loss, d_real, d_fake since the last row
        self.acc_n = 0
        self.seconds = 0.0  # training wall clock over all sessions of the run
        self.rollbacks = 0
        self.lr_scale = 1.0  # product of divergence_lr_factor over the rollbacks so far
        self.good: checkpoint.Snapshot | None = None  # last state known finite: the rollback target
        self.good_step = 0
        self.good_acc_n = 0
        self.good_health: dict | None = None  # the health monitor's state at self.good
        self.good_ckpt: Path | None = None
        self.info: dict = {}
        self.csv_file = None
        self.writer = None
        self.evaluator: Evaluator | None = None  # eval.every > 0
        self.tb: TensorBoardLog | None = None  # log.tensorboard=true
        self.quiet = True
        self.stopped_early = False
        self.monitor: HealthMonitor | None = None  # rank 0 alone watches the run's health
        if self.world.main:
            real_items = decode(data.x[:512], data.kind, data.offset, data.scale).numpy()
            self.monitor = HealthMonitor(probability=trainer.loss.probability,
                                         real_spread=mean_pairwise_distance(real_items), warmup=total // 10)

    # ------------------------------------------------------------------ state

    def state(self) -> checkpoint.Snapshot:
        state = {"trainer": self.trainer.state_dict(self.batches), "acc": self.acc}
        if self.evaluator is not None:  # the best so far and the patience count resume with the run
            state["eval"] = self.evaluator.state_dict()
        return checkpoint.Snapshot.of(state)

    def meta(self) -> dict:
        meta = {"step": self.trainer.step, "epoch": self.batches.epoch, "acc_n": self.acc_n,
                "seconds": self.seconds, "rollbacks": self.rollbacks, "lr_scale": self.lr_scale,
                "config": to_dict(self.cfg), "fingerprint": fingerprint(self.cfg), "gankit_version": __version__}
        if self.monitor is not None:  # so a resumed run warns where the uninterrupted one would
            meta["health"] = self.monitor.state_dict()
        return meta

    def load(self, state: dict, meta: dict, source: Path) -> None:
        """Restore from a checkpoint's contents, which come from disk: any mismatch is reported."""
        check_config_unchanged(self.cfg, meta, source)
        try:
            perm = state["trainer"]["batches"]["perm"]
            if perm.numel() != len(self.data):
                raise GankitError(f"{source}: was made for {perm.numel()} data items but the data now has "
                                  f"{len(self.data)}; resume with the run's own data")
            self.trainer.load_state_dict(state["trainer"], self.batches)
            match_layouts(self.trainer.opt_g, self.trainer.opt_d)
            acc = state["acc"]
            if tuple(acc.shape) != (4,):
                raise ValueError(f"acc has shape {tuple(acc.shape)}")
            self.acc = acc.to(self.device)
            self.acc_n = int(meta["acc_n"])
            self.seconds = float(meta["seconds"])
            self.rollbacks = int(meta.get("rollbacks", 0))
            self.lr_scale = float(meta.get("lr_scale", 1.0))
            if self.monitor is not None and meta.get("health") is not None:
                self.monitor.load_state_dict(meta["health"])
            if self.evaluator is not None:
                self.evaluator.load_state_dict(state.get("eval"))
        except GankitError:
            raise
        except Exception as e:  # noqa: BLE001 - untrusted file contents; every failure is a bad file
            why = (str(e).splitlines() or [type(e).__name__])[0][:200]
            raise GankitError(f"{source}: does not fit this config's models ({why}); "
                              f"was the run's config.yaml changed?") from None
        self.set_lrs()

    def set_lrs(self) -> None:
        """Learning rates from the config times the divergence guard's scale (also on resume, so
        a ``generator.lr=...`` override given with ``--resume`` takes effect)."""
        for opt, net in ((self.trainer.opt_g, self.cfg.generator), (self.trainer.opt_d, self.cfg.discriminator)):
            for group in opt.param_groups:
                group["lr"] = net.lr * self.lr_scale
                group["betas"] = tuple(net.betas)

    # ------------------------------------------------------------------ files

    def open_metrics(self) -> None:
        if not self.world.main:
            return
        path = self.run_dir / "metrics.csv"
        new = not path.exists()
        self.csv_file = open(path, "a", newline="")
        self.writer = csv.writer(self.csv_file)
        if new:
            self.writer.writerow(METRIC_COLUMNS)
            self.csv_file.flush()

    def save_ckpt(self, snap: checkpoint.Snapshot) -> None:
        if not self.world.main:
            return
        stem = self.run_dir / "checkpoints" / f"step_{self.trainer.step:08d}"
        self.good_ckpt = checkpoint.save(stem, snap, self.meta())
        for old in checkpoint.checkpoints_in(self.run_dir / "checkpoints")[: -self.cfg.log.keep_checkpoints]:
            checkpoint.remove(old)

    def write_info(self, **changes) -> None:
        self.info.update(changes)
        if self.world.main:
            write_json(self.run_dir / "run.json", self.info)

    def generator_meta(self) -> dict:
        return generator_meta(self.cfg, self.data, self.trainer.step)

    def evaluate(self, step: int, bar=None) -> bool:
        """In-training evaluation at ``step`` (before its checkpoint, which then holds the result);
        True when the patience is used up."""
        ev = self.evaluator
        values = ev.evaluate(self.trainer.sampler, self.generator_meta(), step)
        if values is None:
            print_line(f"gankit: warning: evaluation at step {step} skipped: the generator's output is not "
                       f"finite", bar, sys.stderr)
            return False
        if self.tb is not None:
            self.tb.scalars("eval", values, step)
            self.tb.flush()
        if ev.best_step == step:
            self.write_info(eval={**self.info.get("eval", {}), "best": ev.best_info()})
        if not self.quiet:
            print_line(ev.summary(values, step), bar)
        return ev.exhausted()

    def health(self, warnings: list[HealthWarning], bar=None) -> None:
        """Report health warnings: console (stderr), health.jsonl, and run.json (for the report)."""
        if not warnings or not self.world.main:
            return
        with open(self.run_dir / "health.jsonl", "a") as f:
            for w in warnings:
                f.write(json.dumps(w.to_dict()) + "\n")
                line = f"gankit: warning: {w.message}"
                if bar is not None:
                    bar.write(line, file=sys.stderr)
                else:
                    print(line, file=sys.stderr, flush=True)
        self.write_info(warnings=[*self.info.get("warnings", []), *(w.to_dict() for w in warnings)])

    # ------------------------------------------------------------------ divergence guard

    def roll_back(self, step: int, why: str) -> None:
        """Return to the last good state with lower learning rates, or stop when out of rollbacks."""
        t = self.cfg.train
        if self.rollbacks >= t.max_rollbacks:
            where = f"; the last good checkpoint is {self.good_ckpt}" if self.good_ckpt else ""
            tried = (f" after {self.rollbacks} rollback(s) with the learning rates scaled down to "
                     f"{self.lr_scale:.3g}x" if self.rollbacks else "")
            raise GankitError(f"training diverged at step {step} ({why}){tried}; lower generator.lr and "
                              f"discriminator.lr (or raise train.max_rollbacks) and check the data for "
                              f"extreme values{where}")
        assert self.good is not None
        self.rollbacks += 1
        self.lr_scale *= t.divergence_lr_factor
        state = self.good.state()
        self.trainer.load_state_dict(state["trainer"], self.batches)
        match_layouts(self.trainer.opt_g, self.trainer.opt_d)
        self.acc = state["acc"].to(self.device)
        self.acc_n = self.good_acc_n
        if self.monitor is not None:  # rows of the abandoned steps do not count
            self.monitor.load_state_dict(self.good_health)
        self.set_lrs()
        if self.world.main:
            self.csv_file.close()
            _truncate_metrics(self.run_dir / "metrics.csv", self.good_step)
            self.open_metrics()
        if self.evaluator is not None:  # evaluations after the good state belong to the abandoned timeline
            self.evaluator.load_state_dict(state.get("eval"))
            self.evaluator.truncate(self.run_dir, self.good_step)
            self.evaluator.sync_best(self.generator_meta())
        if self.world.main:
            print(f"gankit: warning: training diverged at step {step} ({why}); rolled back to step "
                  f"{self.good_step} and scaled the learning rates to {self.lr_scale:.3g}x "
                  f"(rollback {self.rollbacks} of {t.max_rollbacks})", file=sys.stderr, flush=True)
        self.info.setdefault("rollbacks", []).append(
            {"step": step, "to_step": self.good_step, "reason": why, "lr_scale": self.lr_scale})
        self.write_info()

    def keep_good(self, snap: checkpoint.Snapshot) -> None:
        self.good, self.good_step, self.good_acc_n = snap, self.trainer.step, self.acc_n
        self.good_health = self.monitor.state_dict() if self.monitor is not None else None

    # ------------------------------------------------------------------ run

    def loop(self, show: bool) -> None:
        cfg, trainer, batches, data, total = self.cfg, self.trainer, self.batches, self.data, self.total
        log_every = cfg.log.every
        check_every = min(log_every, CHECK_EVERY)
        sample_every = _every(cfg.log.sample_every, total, 10)
        ckpt_every = _every(cfg.log.checkpoint_every, total, 5)
        world, main = self.world, self.world.main
        if main:  # rank 0 alone draws the sample grids and watches the run's health
            fixed_z = torch.randn(cfg.log.grid_size, cfg.generator.latent_dim,
                                  generator=torch.Generator().manual_seed(cfg.train.seed + 1)).to(self.device)
            real_preview = data.x[:2000].mul(data.scale).add(data.offset).numpy() if data.kind == "table" else None
            monitor = self.monitor
        crash_step = _crash_step()
        bar = None
        if show:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=trainer.step, unit="step", dynamic_ncols=True, file=sys.stdout)
        self.keep_good(self.state())
        t_start, seconds0 = time.perf_counter(), self.seconds
        try:
            with stop_signals() as flag:
                while trainer.step < total:
                    st = trainer.train_step(batches)
                    self.acc += torch.stack([st.d_loss, st.g_loss, st.d_real, st.d_fake])
                    self.acc_n += 1
                    step = trainer.step
                    self.seconds = seconds0 + time.perf_counter() - t_start
                    if step == crash_step:
                        os.kill(os.getpid(), signal.SIGKILL)
                    log_now = step % log_every == 0 or step == total
                    acc, stop = self.acc, flag["stop"]
                    if world.distributed and (log_now or step % check_every == 0):
                        # one collective: the losses averaged over the processes, and a stop on any
                        shared = dist.mean(torch.cat([acc, acc.new_tensor([float(stop)])]), world)
                        acc, stop = shared[:4], bool(shared[4] > 0)
                    elif world.distributed:
                        stop = False  # looked at with the losses, so that all stop at the same step
                    if log_now:
                        mean = (acc / self.acc_n).tolist()
                        finite = all(math.isfinite(v) for v in mean)
                    elif step % check_every == 0:
                        finite = bool(torch.isfinite(acc).all())
                    else:
                        finite = True
                    if not finite:
                        self.roll_back(step, "the losses are not finite")
                        if bar is not None:
                            bar.n = trainer.step
                        continue
                    if log_now:
                        self.acc.zero_()
                        self.acc_n = 0
                    if log_now and main:
                        self.writer.writerow([step, batches.epoch, *(f"{v:.6g}" for v in mean),
                                              f"{self.seconds:.3f}"])
                        self.csv_file.flush()
                        self.health(monitor.observe(step, d_loss=mean[0], g_loss=mean[1], d_real=mean[2],
                                                    d_fake=mean[3]), bar)
                        if self.tb is not None:
                            self.tb.scalars("train", dict(zip(METRIC_COLUMNS[2:6], mean)), step)
                        if bar is not None:
                            bar.set_postfix(d=f"{mean[0]:.3f}", g=f"{mean[1]:.3f}", Dx=f"{mean[2]:.2f}",
                                            DGz=f"{mean[3]:.2f}", refresh=False)
                    if bar is not None:
                        bar.update(1)
                    early = False
                    if eval_due(cfg.eval.every, step, total):  # rank 0 evaluates; all stop together
                        early = self.evaluator is not None and self.evaluate(step, bar) and step < total
                        early = dist.any_true(early, world, self.device)
                    stop = stop and step < total
                    ckpt_now = step % ckpt_every == 0 or step == total or stop or early
                    if ckpt_now:
                        snap = self.state()
                        bad = checkpoint.first_nonfinite(snap.tensors)
                        if dist.any_true(bad is not None, world, self.device):
                            self.roll_back(step, f"{bad or 'a tensor of another process'} is not finite")
                            continue
                    if main and (step % sample_every == 0 or step == total or early):
                        shown = save_samples_preview(trainer.sampler, fixed_z, data,
                                                     self.run_dir / "samples" / f"step_{step:08d}.png",
                                                     real=real_preview, classes=num_classes(self.cfg, data))
                        self.health(monitor.observe_samples(step, shown), bar)
                    if ckpt_now:  # after this step's sample check, so the saved health state includes it
                        self.save_ckpt(snap)
                        self.keep_good(snap)
                    if stop:
                        self.write_info(status="interrupted", steps_done=step)
                        raise Interrupted(self.run_dir, step)
                    if early:
                        self.stopped_early = True
                        if not self.quiet:
                            print_line(early_stop_message(self.evaluator, step), bar)
                        break
        except Interrupted:
            raise
        except KeyboardInterrupt:
            _quietly(self.write_info, status="interrupted")
            raise
        except OSError as e:
            _quietly(self.write_info, status="failed")
            raise GankitError(f"cannot write to {e.filename or self.run_dir} ({e.strerror}); free disk space "
                              f"or fix permissions, then continue with gankit train --resume {self.run_dir}") from None
        except BaseException as e:
            _quietly(self.write_info, status="failed", error=str(e).splitlines()[0] if str(e) else type(e).__name__)
            if isinstance(e, RuntimeError) and "deterministic" in str(e) and self.cfg.train.deterministic:
                # torch.use_deterministic_algorithms: an op on this device has no deterministic kernel
                raise GankitError(f"train.deterministic=true, but {str(e).splitlines()[0][:200]}; set "
                                  f"train.deterministic=false on this device") from None
            raise
        finally:
            if self.csv_file is not None:
                self.csv_file.close()
            if self.evaluator is not None:
                self.evaluator.close_csv()
            if self.tb is not None:
                self.tb.close()
            if bar is not None:
                bar.close()


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


def _quietly(fn, **kwargs) -> None:
    """Record a failure in run.json without hiding the error that caused it."""
    try:
        fn(**kwargs)
    except OSError:
        pass


# ----------------------------------------------------------------------------- train


def train(cfg: Config, out: str | Path | None = None, *, resume: str | Path | None = None,
          quiet: bool | None = None) -> Path:
    """Train a GAN as configured; returns the run folder. ``resume`` continues a run folder.

    Every input error (data, config, output folder, checkpoint) is raised as GankitError before
    anything is written.
    """
    world = dist.from_env()  # torchrun's processes, or a world of one
    with torch_settings(cfg):
        try:
            run_dir = _train(cfg, out, resume, quiet, world)
            dist.barrier(world)  # leave together: gloo aborts a process whose peer has already gone
            return run_dir
        finally:
            dist.shutdown(world)


def _train(cfg: Config, out: str | Path | None, resume: str | Path | None, quiet: bool | None,
           world: dist.World) -> Path:
    dist.check_batch(world, cfg.train.batch_size, cfg.train.accumulate)
    device = resolve_device(dist.device_for(world, cfg.train.device))
    check_precision(cfg.train.precision, device)
    dist.init(world, device)
    main = world.main
    quiet = quiet or not main
    if main and resume is None and out is not None:
        refuse_taken_out(Path(out))  # before minutes of data loading, not after
    seed_everything(cfg.train.seed)
    with dist.main_first(world):  # rank 0 downloads, the others then read the cache
        data = load_run_data(cfg)
    data, trainer = build(cfg, device, data, world)
    if world.rank:  # dropout, DiffAugment, ... differ between processes (noise and data order do not)
        seed_everything(dist.rank_seed(cfg.train.seed, world.rank))
    total, per_epoch = total_steps(cfg, len(data))
    labels = data.labels.to(device) if data.labels is not None else None
    batches = Batches(data.x.to(device), cfg.train.batch_size, seed=cfg.train.seed, labels=labels,
                      shard=(world.rank, world.size))
    run_dir = Path(resume) if resume is not None else Path(out) if out is not None else default_out(cfg)
    run_dir = dist.from_main(run_dir, world)  # default_out's time stamp is rank 0's
    s = Session(cfg, run_dir, data, trainer, batches, total, device)
    s.quiet = bool(quiet)
    # optional extras fail here, before the run folder is written
    tb_class = summary_writer_class() if cfg.log.tensorboard and main else None
    if cfg.eval.every > 0 and main:
        s.evaluator = Evaluator(cfg, data, device, num_classes(cfg, data), run_dir, quiet=bool(quiet))
    now = datetime.now().isoformat(timespec="seconds")
    info = {"status": "running", "gankit_version": __version__, "preset": cfg.preset, "device": str(device),
            "data": {"name": data.name, "items": len(data), "shape": list(data.shape)},
            "steps": total, "batches_per_epoch": per_epoch, "started": now}
    if resume is not None:  # rank 0 reads the run folder and hands the state to the others
        found = (*find_resume_point(run_dir), _read_run_json(run_dir)) if main else None
        ckpt, state, meta, damaged, old = dist.from_main(found, world)
        s.load(state, meta, ckpt)
        s.good_ckpt = ckpt
        if world.rank:
            seed_everything(dist.rank_seed(cfg.train.seed + trainer.step, world.rank))
        if trainer.step > total or (trainer.step == total and old.get("status") == "complete"):
            raise GankitError(f"{run_dir} already trained {trainer.step} of {total} steps; "
                              f"raise train.steps to go on (e.g. train.steps={trainer.step + total})")
    if main and resume is not None:  # the run folder is written from here on, by rank 0 alone
        for p in damaged:
            checkpoint.quarantine(p)
        for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples"):
            checkpoint.clean_temp(folder)
        _truncate_metrics(run_dir / "metrics.csv", trainer.step)
        if s.evaluator is not None:
            s.evaluator.truncate(run_dir, trainer.step)
        # rollbacks after the checkpoint belong to the abandoned timeline and may happen again
        info.update(started=old.get("started", now), resumed=[*_list(old.get("resumed")), now],
                    rollbacks=_list(old.get("rollbacks"))[: s.rollbacks])
        if not quiet:
            print(f"gankit: resuming {run_dir} from step {trainer.step} ({ckpt.name})", flush=True)
    elif main:
        prepare_out(run_dir)
    if main:
        (run_dir / "samples").mkdir(exist_ok=True)
        (run_dir / "checkpoints").mkdir(exist_ok=True)
        checkpoint.atomic_write(run_dir / "config.yaml", dump(cfg).encode())
    if s.evaluator is not None:
        s.evaluator.sync_best(s.generator_meta())
        s.evaluator.open_csv(run_dir)
        info["eval"] = {**s.evaluator.provenance(), "best": s.evaluator.best_info()}
    if tb_class is not None:
        s.tb = TensorBoardLog(run_dir, tb_class, resume_step=trainer.step if resume is not None else None)
    s.info = info
    s.write_info()
    s.open_metrics()
    show = (sys.stdout.isatty() if cfg.log.progress == "auto" else cfg.log.progress == "on") and not quiet
    if not quiet:
        print(f"gankit: training {cfg.preset or 'custom'} on {data.name} ({len(data)} items, shape "
              f"{tuple(data.shape)}) for {total} steps on {device}; run folder {run_dir}", flush=True)
    s.loop(show)
    if not main:
        return run_dir

    save_generator(trainer.sampler, run_dir, generator_meta(cfg, data, trainer.step))
    try:
        from gankit.report.plots import loss_curves

        loss_curves(run_dir / "metrics.csv", run_dir / "curves.png")
    except Exception as e:  # a plot must never fail a finished run
        print(f"gankit: warning: could not draw curves.png ({e})", file=sys.stderr)
    ev = s.evaluator
    if (run_dir / EVAL_CSV).exists():
        try:
            from gankit.report.plots import metric_curves

            metric_curves(run_dir / EVAL_CSV, run_dir / "metric_curves.png",
                          best=(ev.best_metric, ev.best_step) if ev is not None and ev.best_step is not None else None)
        except Exception as e:  # a plot must never fail a finished run
            print(f"gankit: warning: could not draw metric_curves.png ({e})", file=sys.stderr)
    if ev is not None:
        s.info["eval"] = {**s.info.get("eval", {}), "best": ev.best_info(), "evaluations": ev.evaluations,
                          "seconds": round(ev.seconds, 3)}
        if s.stopped_early:
            s.info["early_stop"] = {"step": trainer.step, "patience": ev.patience,
                                    "evaluations_without_improvement": ev.since_best}
    s.write_info(status="stopped_early" if s.stopped_early else "complete",
                 finished=datetime.now().isoformat(timespec="seconds"), seconds=round(s.seconds, 3),
                 steps_done=trainer.step)
    try:
        from gankit.models.summary import gan_summary
        from gankit.report.html import build_report

        k = num_classes(cfg, data)
        build_report(run_dir, summary_text=gan_summary(trainer.G, trainer.D, cfg.generator.latent_dim, k))
    except Exception as e:  # nor must the report
        print(f"gankit: warning: could not write report.html ({e})", file=sys.stderr)
    if not quiet:
        samples = sorted((run_dir / "samples").glob("step_*.png"))
        where = f"; samples {samples[-1]}" if samples else ""
        print(f"gankit: done in {s.seconds:.1f}s{where}; use it: gankit sample {run_dir} --n 64 "
              f"--out samples.png", flush=True)
        if ev is not None and ev.best_step is not None:
            print(f"gankit: best {ev.best_metric} {ev.best_value:.4g} at step {ev.best_step}: gankit sample "
                  f"{run_dir} --best --n 64 --out best.png", flush=True)
    return run_dir


def save_generator(G: torch.nn.Module, run_dir: Path, meta: dict) -> None:
    checkpoint.save(run_dir / "generator", {"G": G.state_dict()}, meta)
