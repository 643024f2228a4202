"""A training run from a config: build data, task, stepper and callbacks; resume; loop; finish.

``train(cfg, out)`` is what ``gankit train`` and :func:`gankit.train` call. Every input error (data,
config, output folder, checkpoint) is raised as GankitError before anything is written.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import torch

from gankit import __version__, checkpoint
from gankit import distributed as dist
from gankit.data import Data, load_data
from gankit.device import check_precision, resolve_device
from gankit.errors import GankitError
from gankit.run.folder import CONFIG, RunFolder, now
from gankit.run.resume import check_config_unchanged, find_resume_point
from gankit.tasks import get_task
from gankit.training.batches import Batches
from gankit.training.guard import Guard
from gankit.training.loop import CHECK_EVERY, Loop, every
from gankit.training.phases import Stepper
from gankit.training.rng import seed_everything, torch_settings


def default_out(cfg) -> Path:
    """runs/<preset>-<time> for a built-in data set; runs/<your data>-<preset's kind>-<time> for your files
    (``gankit train digits-dcgan data.path=shapes/`` -> runs/shapes-dcgan-...)."""
    from gankit.data.guess import run_name
    from gankit.presets import PRESETS

    own = (PRESETS[cfg.preset][1].get("data") or {}).get("name") if cfg.preset in PRESETS else None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{run_name(cfg.data, cfg.preset, own)}-{stamp}"


def total_steps(cfg, n_items: int) -> tuple[int, int]:
    """(total steps, batches per epoch)."""
    b = cfg.train.batch_size
    if b > n_items:
        raise GankitError(f"train.batch_size={b} is larger than the dataset ({n_items} items); "
                          f"use train.batch_size<={n_items}")
    per_epoch = n_items // b
    if cfg.train.steps is not None:
        return cfg.train.steps, per_epoch
    epochs = cfg.train.epochs or 1
    return max(1, epochs * per_epoch // cfg.train.n_critic), per_epoch


def load_run_data(cfg, frame=None) -> Data:
    """The run's data; a task that reads tables with their column kinds (``reads_tables``) gets them typed,
    a task with its own ``load_data(cfg)`` (super-resolution: whole images of any sizes) reads it itself."""
    task = get_task(cfg.task)
    typed = bool(getattr(task, "reads_tables", False))
    try:
        if getattr(task, "load_data", None) is not None:
            return task.load_data(cfg)
        return load_data(cfg.data, output=cfg.generator.output, seed=cfg.train.seed, typed=typed, frame=frame)
    except MemoryError:
        raise GankitError("not enough memory to hold the data set; lower data.n_samples or set data.limit") from None


def build(cfg, device: torch.device, data: Data | None = None, world=None, total: int | None = None):
    """(data, stepper) of a config; ``data`` skips loading (benchmarks reuse one set)."""
    if data is None:
        data = load_run_data(cfg)
    data.modality.check_config(cfg)
    task = get_task(cfg.task).from_config(cfg, data, device)
    if total is None:  # the length of learning-rate schedules; a run passes its total_steps
        total = cfg.train.steps or 1
    stepper = Stepper(task, total=total, precision=cfg.train.precision, accumulate=cfg.train.accumulate,
                      world=world)
    return data, stepper


def batches_of(cfg, data: Data, device: torch.device, world, task) -> Batches:
    tensors = {k: v.to(device) for k, v in task.batch_tensors(data).items()}
    shard = (world.rank, world.size)
    own = task.batches(tensors, cfg.train.batch_size, cfg.train.seed, shard)  # a task's own batch source
    if own is not None:
        return own
    return Batches(tensors, cfg.train.batch_size, seed=cfg.train.seed, shard=shard,
                   transforms=task.batch_transforms(data))


def train(cfg, out: str | Path | None = None, *, resume: str | Path | None = None, quiet: bool | None = None,
          frame=None) -> Path:
    """Train as configured (a config from :func:`gankit.api.resolve_config`); returns the run folder.
    ``resume`` continues a run folder; ``frame``: a pandas DataFrame as the data (the table task)."""
    world = dist.from_env()  # torchrun's processes, or a world of one
    with torch_settings(cfg.train.threads, cfg.train.deterministic):
        try:
            run_dir = _train(cfg, out, resume, bool(quiet) or not world.main, world, frame)
            dist.barrier(world)  # leave together: gloo aborts a process whose peer has already gone
            return run_dir
        except RuntimeError as e:
            if "deterministic" in str(e) and cfg.train.deterministic:
                # torch.use_deterministic_algorithms: an op on this device has no deterministic kernel
                raise GankitError(f"train.deterministic=true, but {str(e).splitlines()[0][:200]}; set "
                                  f"train.deterministic=false on this device") from None
            raise
        finally:
            dist.shutdown(world)


def _train(cfg, out, resume, quiet: bool, world, frame=None) -> Path:
    dist.check_batch(world, cfg.train.batch_size, cfg.train.accumulate)
    device = resolve_device(dist.device_for(world, cfg.train.device))
    check_precision(cfg.train.precision, device)
    dist.init(world, device)
    if world.main and resume is None and out is not None:
        RunFolder(out).refuse_taken()  # before minutes of data loading, not after
    seed_everything(cfg.train.seed)
    with dist.main_first(world):  # rank 0 downloads, the others then read the cache
        data = load_run_data(cfg, frame)
    total, per_epoch = total_steps(cfg, len(data))
    data, stepper = build(cfg, device, data, world, total)
    if world.rank:  # dropout, DiffAugment, ... differ between processes (noise and data order do not)
        seed_everything(dist.rank_seed(cfg.train.seed, world.rank))
    batches = batches_of(cfg, data, device, world, stepper.task)
    run_dir = Path(resume) if resume is not None else Path(out) if out is not None else default_out(cfg)
    folder = RunFolder(dist.from_main(run_dir, world))  # default_out's time stamp is rank 0's
    loop = make_loop(cfg, folder, data, stepper, batches, total, device, world, quiet)
    found = _resume(cfg, loop, world) if resume is not None else None
    _open_folder(cfg, loop, data, per_epoch, found, resuming=resume is not None)
    show = (sys.stdout.isatty() if cfg.log.progress == "auto" else cfg.log.progress == "on") and not quiet
    what = stepper.task.describe()  # e.g. "conditional on cultivar (3 classes, projection)"
    loop.say(f"gankit: training {cfg.preset or 'custom'} on {data_line(cfg, data)}{', ' + what + ',' if what else ''} "
             f"for {total} steps on {device}; run folder {folder}")
    loop.run(show)
    if world.main:
        finish(cfg, loop)
    return folder.path


def data_line(cfg, data: Data) -> str:
    """``shapes/ (images, guessed from the folder; 40 items, shape (3, 32, 32))`` for the start-up line."""
    from gankit.data.guess import describe

    head, notes = describe(cfg.data) if data.name != "DataFrame" else ("a DataFrame", [])
    schema = getattr(data.codec, "schema", None)
    if schema is not None:  # a mixed table: rows and columns, not the width of the generator's space
        left = [c.name for c in schema.columns if not c.used]
        out = f"{len(data)} rows, {len(schema.used)} columns" + (f" ({', '.join(left)} ignored)" if left else "")
        return f"{head} ({'; '.join([*notes, out])})"
    return f"{head} ({'; '.join([*notes, f'{len(data)} items, shape {tuple(data.shape)}', *(data.notes or [])])})"


def make_loop(cfg, folder, data, stepper, batches, total, device, world, quiet) -> Loop:
    from gankit.config import fingerprint, to_dict

    lg = cfg.log
    iv = {"log": lg.every, "check": min(lg.every, CHECK_EVERY), "sample": every(lg.sample_every, total, 10),
          "checkpoint": every(lg.checkpoint_every, total, 5), "keep": lg.keep_checkpoints, "eval": cfg.eval.every}
    fixed = stepper.task.fixed_inputs(lg.grid_size, cfg.train.seed + 1) if world.main else None
    loop = Loop(stepper, batches, total, folder, world=world, device=device,
                guard=Guard(cfg.train.max_rollbacks, cfg.train.divergence_lr_factor), intervals=iv,
                run_meta={"config": to_dict(cfg), "fingerprint": fingerprint(cfg)}, fixed=fixed,
                time_limit=cfg.train.time_limit_seconds(), time_clock=cfg.train.time_clock, quiet=quiet)
    loop.data = data
    if world.main:  # rank 0 alone watches the run's health and writes files
        from gankit.run.setup import main_callbacks

        loop.callbacks = main_callbacks(cfg, loop, data, quiet)
    return loop


def _resume(cfg, loop: Loop, world):
    """Load the newest checkpoint (rank 0 reads, the others receive); None when there is none yet."""
    found = find_resume_point(loop.folder.path) if world.main else None
    found = dist.from_main(found, world)
    if found is None:
        loop.say(f"gankit: {loop.folder} has no checkpoint yet (stopped before its first); starting it again "
                 f"from step 0")
        return None
    ckpt, state, meta, damaged = found
    check_config_unchanged(cfg, meta, ckpt)
    try:
        b = state["train"]["batches"]
        items = int(b["items"]) if "items" in b else b["perm"].numel()
        if items != len(loop.data):
            raise GankitError(f"{ckpt}: was made for {items} data items but the data now has "
                              f"{len(loop.data)}; resume with the run's own data")
        loop.restore(state, meta)
    except GankitError:
        raise
    except Exception as e:  # noqa: BLE001 - untrusted file contents; every failure is a bad file
        why = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise GankitError(f"{ckpt}: does not fit this config's models ({why}); was the run's config.yaml "
                          f"changed?") from None
    loop.guard.good_ckpt = ckpt
    step = loop.stepper.step
    if world.rank:
        seed_everything(dist.rank_seed(cfg.train.seed + step, world.rank))
    old = dist.from_main(loop.folder.read_info() if world.main else None, world) or {}  # every rank decides alike
    if step > loop.total or (step == loop.total and old.get("status") == "complete"):
        raise GankitError(f"{loop.folder} already trained {step} of {loop.total} steps; "
                          f"raise train.steps to go on (e.g. train.steps={step + loop.total})")
    used = loop.budget_used()
    if loop.time_limit is not None and used >= loop.time_limit:  # the budget is the run's, not a session's
        raise GankitError(f"{loop.folder} has used its train.time_limit={cfg.train.time_limit} ({used:.0f}s of "
                          f"training, {cfg.train.time_clock} clock); raise train.time_limit (or set "
                          f"train.time_limit=null) to go on")
    return ckpt, damaged, old


def _open_folder(cfg, loop: Loop, data: Data, per_epoch: int, found, *, resuming: bool) -> None:
    """Create or reopen the run folder (rank 0), write config.yaml and run.json, start the callbacks."""
    from gankit.config import dump

    folder, step = loop.folder, loop.stepper.step
    info = {"status": "running", "gankit_version": __version__, "preset": cfg.preset, "task": cfg.task,
            "device": str(loop.device), "data": {"name": data.name, "path": cfg.data.path, "items": len(data),
                                                 "shape": list(data.shape), **({"split": data.split} if data.split else {}),
                                                 **({"notes": data.notes} if data.notes else {})},
            "steps": loop.total, "batches_per_epoch": per_epoch, "started": now()}
    if not loop.world.main:
        loop.info = info
        return
    if found is not None:
        ckpt, damaged, old = found
        for p in damaged:
            checkpoint.quarantine(p)
        for f in (folder.path, folder.checkpoints, folder.samples):
            checkpoint.clean_temp(f)
        # rollbacks after the checkpoint belong to the abandoned timeline and may happen again
        info.update(started=old.get("started", info["started"]), resumed=[*_list(old.get("resumed")), now()],
                    rollbacks=_list(old.get("rollbacks"))[: loop.guard.rollbacks],
                    warnings=[w for w in _list(old.get("warnings")) if isinstance(w, dict) and w.get("step", 0) <= step])
        loop.say(f"gankit: resuming {folder} from step {step} ({ckpt.name})")
    elif not resuming:
        folder.create()
    folder.make_dirs()
    checkpoint.atomic_write(folder / CONFIG, dump(cfg).encode())
    loop.info = info
    from gankit.run.setup import start_callbacks

    start_callbacks(loop, step, resumed=resuming)
    loop.write_info()


def _list(value) -> list:
    return value if isinstance(value, list) else []


def finish(cfg, loop: Loop) -> None:
    """The exported model, curves, final run.json, report and the closing lines (rank 0)."""
    from gankit.run.setup import closing_lines, draw_curves

    folder = loop.folder
    stem, tensors, meta = loop.export()
    checkpoint.save(folder / stem, tensors, meta)
    draw_curves(loop)
    status = "stopped_early" if loop.stopped_early else "complete"
    changes = {"finished": now(), "seconds": round(loop.seconds, 3), "steps_done": loop.stepper.step}
    if loop.stopped_at_limit:
        changes["time_limit"] = {"seconds": cfg.train.time_limit_seconds(), "clock": cfg.train.time_clock,
                                 "cpu_seconds": round(loop.cpu_seconds, 3), "step": loop.stepper.step,
                                 "reproduce": f"train.steps={loop.stepper.step}"}
    ev = loop.evaluator
    if ev is not None:
        changes["eval"] = {**loop.info.get("eval", {}), "best": ev.best_info(), "evaluations": ev.evaluations,
                           "seconds": round(ev.seconds, 3)}
        if loop.stopped_early:
            changes["early_stop"] = {"step": loop.stepper.step, "patience": ev.patience,
                                     "evaluations_without_improvement": ev.since_best}
    loop.write_info(status=status, **changes)
    try:
        from gankit.report.html import build_report

        build_report(folder.path, summary_text=loop.task.summary())
    except Exception as e:  # a report must never fail a finished run
        print(f"gankit: warning: could not write report.html ({e})", file=sys.stderr)
    closing_lines(loop)
