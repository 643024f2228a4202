"""Training into a run folder: build everything from a config, drive the Trainer, write files.

Run folder (everything later commands need; the original config file or dataset is not):
  config.yaml            the resolved config
  run.json               status (running / complete / interrupted / failed), sizes, timings
  metrics.csv            step, epoch, d_loss, g_loss, d_real, d_fake, seconds
  samples/step_*.png     fixed-noise sample grids (images) or scatter/histograms (tables)
  checkpoints/step_*     resumable training state (safetensors + JSON)
  generator.safetensors  the final generator, with generator.json to rebuild and decode it
"""

from __future__ import annotations

import csv
import json
import math
import signal
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import torch

from gankit import __version__, checkpoint
from gankit.config import Config, dump, to_dict
from gankit.data import Data, decode, load_data
from gankit.device import resolve_device
from gankit.errors import GankitError, Interrupted
from gankit.losses import LOSSES
from gankit.models import build_discriminator, build_generator
from gankit.trainer import Batches, Trainer, make_optimizer, seed_everything

METRIC_COLUMNS = ["step", "epoch", "d_loss", "g_loss", "d_real", "d_fake", "seconds"]


# ----------------------------------------------------------------------------- helpers


def default_out(cfg: Config) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{cfg.preset or 'run'}-{stamp}"


def prepare_out(out: Path) -> None:
    """Create an empty run folder, refusing anything that would overwrite or fail later."""
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; choose a folder path")
    if out.is_dir() and any(out.iterdir()):
        raise GankitError(f"--out {out} already exists and is not empty; choose another folder, "
                          f"or continue it with --resume {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise GankitError(f"cannot write to {out} ({e.strerror}); choose a writable --out folder") from None


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


def _set_threads(cfg: Config) -> None:
    if cfg.train.threads is not None:
        torch.set_num_threads(cfg.train.threads)


@contextmanager
def stop_signals() -> Iterator[dict]:
    """SIGINT/SIGTERM set a flag: the current step finishes, then the loop checkpoints and stops."""
    flag = {"stop": False}
    if not hasattr(signal, "SIGTERM") or __import__("threading").current_thread() is not __import__("threading").main_thread():
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


# ----------------------------------------------------------------------------- build


def build(cfg: Config, device: torch.device) -> tuple[Data, Trainer]:
    data = load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed)
    G = build_generator(cfg.generator, data.shape).to(device)
    D = build_discriminator(cfg.discriminator, data.shape).to(device)
    trainer = Trainer(
        G, D, LOSSES.get(cfg.loss),
        make_optimizer(G.parameters(), cfg.generator.lr, cfg.generator.betas),
        make_optimizer(D.parameters(), cfg.discriminator.lr, cfg.discriminator.betas),
        latent_dim=cfg.generator.latent_dim, n_critic=cfg.train.n_critic,
        gp_weight=cfg.penalty.gp_weight, r1_gamma=cfg.penalty.r1_gamma,
        r1_interval=cfg.penalty.r1_interval,
    )
    return data, trainer


def generator_meta(cfg: Config, data: Data, step: int) -> dict:
    """What ``gankit sample`` needs to rebuild the generator and decode its output."""
    return {
        "gankit_version": __version__,
        "generator": to_dict(cfg)["generator"],
        "data": {
            "name": data.name, "kind": data.kind, "shape": list(data.shape),
            "offset": data.offset.tolist(), "scale": data.scale.tolist(),
            "classes": data.classes, "columns": data.columns,
        },
        "step": step,
        "preset": cfg.preset,
    }


def save_samples_preview(G: torch.nn.Module, z: torch.Tensor, data: Data, path: Path, real=None) -> None:
    from gankit.report.grids import save_grid
    from gankit.report.plots import table_plot

    was = G.training
    G.eval()
    with torch.inference_mode():
        x = decode(G(z), data.kind, data.offset, data.scale).float().cpu().numpy()
    G.train(was)
    if data.kind == "image":
        save_grid(x, path)
    else:
        table_plot(x, path, real=real, title=path.stem, columns=data.columns)


# ----------------------------------------------------------------------------- train


def train(cfg: Config, out: str | Path | None = None, *, resume: str | Path | None = None,
          quiet: bool | None = None) -> Path:
    """Train a GAN as configured; returns the run folder. ``resume`` continues a run folder."""
    _set_threads(cfg)
    device = resolve_device(cfg.train.device)
    if cfg.train.deterministic:
        torch.use_deterministic_algorithms(True)
    seed_everything(cfg.train.seed)
    data, trainer = build(cfg, device)  # all input errors surface before the folder is made
    total, per_epoch = total_steps(cfg, len(data))
    run_dir = Path(resume) if resume is not None else Path(out) if out is not None else default_out(cfg)
    start_ckpt = None
    if resume is not None:
        start_ckpt = latest_checkpoint(run_dir)
    else:
        prepare_out(run_dir)
    (run_dir / "samples").mkdir(exist_ok=True)
    (run_dir / "checkpoints").mkdir(exist_ok=True)
    checkpoint.atomic_write(run_dir / "config.yaml", dump(cfg).encode())

    x_dev = data.x.to(device)
    batches = Batches(x_dev, cfg.train.batch_size, seed=cfg.train.seed)
    fixed_z = torch.randn(cfg.log.grid_size, cfg.generator.latent_dim,
                          generator=torch.Generator().manual_seed(cfg.train.seed + 1)).to(device)
    real_preview = data.x[: 2000].mul(data.scale).add(data.offset).numpy() if data.kind == "table" else None
    acc = torch.zeros(4, device=device)
    acc_n = 0
    seconds0 = 0.0
    if start_ckpt is not None:
        state, meta = checkpoint.load(start_ckpt)
        try:
            trainer.load_state_dict(state["trainer"], batches)
        except (RuntimeError, KeyError, ValueError) as e:
            raise GankitError(f"{start_ckpt}: does not fit this config's models ({str(e).splitlines()[0]}); "
                              f"was the run's config.yaml changed?") from None
        acc = state["acc"].to(device)
        acc_n = int(meta["acc_n"])
        seconds0 = float(meta["seconds"])
        _truncate_metrics(run_dir / "metrics.csv", trainer.step)
    if trainer.step >= total:
        raise GankitError(f"{run_dir} already trained {trainer.step} of {total} steps; raise train.steps to go on")

    log_every = cfg.log.every
    sample_every = _every(cfg.log.sample_every, total, 10)
    ckpt_every = _every(cfg.log.checkpoint_every, total, 5)
    info = {
        "status": "running", "gankit_version": __version__, "preset": cfg.preset, "device": str(device),
        "data": {"name": data.name, "items": len(data), "shape": list(data.shape)},
        "steps": total, "batches_per_epoch": per_epoch, "started": datetime.now().isoformat(timespec="seconds"),
    }
    write_json(run_dir / "run.json", info)
    metrics_path = run_dir / "metrics.csv"
    new_csv = not metrics_path.exists()
    csv_file = open(metrics_path, "a", newline="")
    writer = csv.writer(csv_file)
    if new_csv:
        writer.writerow(METRIC_COLUMNS)
    show = (sys.stdout.isatty() if cfg.log.progress == "auto" else cfg.log.progress == "on") and not quiet
    if not quiet:
        print(f"gankit: training {cfg.preset or 'custom'} on {data.name} ({len(data)} items, shape "
              f"{tuple(data.shape)}) for {total} steps on {device}; run folder {run_dir}", flush=True)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=trainer.step, unit="step", dynamic_ncols=True, file=sys.stdout)

    def save_ckpt() -> None:
        meta = {"step": trainer.step, "epoch": batches.epoch, "acc_n": acc_n, "seconds": seconds,
                "config": to_dict(cfg), "gankit_version": __version__}
        stem = run_dir / "checkpoints" / f"step_{trainer.step:08d}"
        checkpoint.save(stem, {"trainer": trainer.state_dict(batches), "acc": acc}, meta)
        for old in checkpoint.checkpoints_in(run_dir / "checkpoints")[: -cfg.log.keep_checkpoints]:
            checkpoint.remove(old)

    t_start = time.perf_counter()
    seconds = seconds0
    try:
        with stop_signals() as flag:
            while trainer.step < total:
                st = trainer.train_step(batches)
                acc += torch.stack([st.d_loss, st.g_loss, st.d_real, st.d_fake])
                acc_n += 1
                step = trainer.step
                seconds = seconds0 + time.perf_counter() - t_start
                if step % log_every == 0 or step == total:
                    mean = (acc / acc_n).tolist()
                    writer.writerow([step, batches.epoch, *(f"{v:.6g}" for v in mean), f"{seconds:.3f}"])
                    csv_file.flush()
                    acc.zero_()
                    acc_n = 0
                    if not all(math.isfinite(v) for v in mean):
                        raise GankitError(
                            f"training diverged at step {step} (losses {mean[0]:.3g}, {mean[1]:.3g} are "
                            f"not finite); lower the learning rates (generator.lr, discriminator.lr)")
                    if bar is not None:
                        bar.set_postfix(d=f"{mean[0]:.3f}", g=f"{mean[1]:.3f}", Dx=f"{mean[2]:.2f}",
                                        DGz=f"{mean[3]:.2f}", refresh=False)
                if bar is not None:
                    bar.update(1)
                if step % sample_every == 0 or step == total:
                    save_samples_preview(trainer.G, fixed_z, data, run_dir / "samples" / f"step_{step:08d}.png",
                                         real=real_preview)
                if step % ckpt_every == 0 or step == total:
                    save_ckpt()
                if flag["stop"] and step < total:
                    save_ckpt()
                    info["status"] = "interrupted"
                    write_json(run_dir / "run.json", info)
                    raise Interrupted(run_dir, step)
    except (Interrupted, KeyboardInterrupt):
        raise
    except BaseException:
        info["status"] = "failed"
        write_json(run_dir / "run.json", info)
        raise
    finally:
        csv_file.close()
        if bar is not None:
            bar.close()

    save_generator(trainer.G, run_dir, generator_meta(cfg, data, trainer.step))
    try:
        from gankit.report.plots import loss_curves

        loss_curves(metrics_path, run_dir / "curves.png")
    except Exception as e:  # a plot must never fail a finished run
        print(f"gankit: warning: could not draw curves.png ({e})", file=sys.stderr)
    info.update(status="complete", finished=datetime.now().isoformat(timespec="seconds"),
                seconds=round(seconds, 3), steps_done=trainer.step)
    write_json(run_dir / "run.json", info)
    if not quiet:
        last = sorted((run_dir / "samples").glob("step_*.png"))[-1]
        print(f"gankit: done in {seconds:.1f}s; samples {last}; use it: gankit sample {run_dir} --n 64 "
              f"--out samples.png", flush=True)
    return run_dir


def save_generator(G: torch.nn.Module, run_dir: Path, meta: dict) -> None:
    checkpoint.save(run_dir / "generator", {"G": G.state_dict()}, meta)


def latest_checkpoint(run_dir: Path) -> Path:
    """Newest checkpoint whose metadata and checksum are intact (damaged ones are skipped)."""
    if not run_dir.is_dir():
        raise GankitError(f"--resume {run_dir}: no such run folder")
    found = checkpoint.checkpoints_in(run_dir / "checkpoints")
    for p in reversed(found):
        try:
            checkpoint.load(p)
            return p
        except GankitError as e:
            print(f"gankit: warning: skipping damaged checkpoint ({e})", file=sys.stderr)
    raise GankitError(f"{run_dir}: no usable checkpoint to resume from; start a new run instead")


def _truncate_metrics(path: Path, step: int) -> None:
    """Drop metrics rows written after the checkpoint we resume from."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    keep = [rows[0]] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= step]
    data = "".join(",".join(r) + "\r\n" for r in keep)
    checkpoint.atomic_write(path, data.encode())


def load_run_config(run_dir: str | Path) -> Config:
    from gankit.config import from_dict, read_yaml

    p = Path(run_dir) / "config.yaml"
    if not p.exists():
        raise GankitError(f"{run_dir}: not a gankit run folder (no config.yaml)")
    return from_dict(read_yaml(p), source=str(p))

