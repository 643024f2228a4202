"""gankit's benchmark suite (issue 5): every figure beside its reference, from one command.

    python -m benchmarks.run             # full suite (9-13 minutes on 2 busy cores)
    python -m benchmarks.run --quick     # smoke run of every section (1-3 minutes, load permitting)
    python -m benchmarks.run --record    # also write the table into BENCHMARKS.md

Writes ``benchmarks/out/benchmarks.md`` and ``benchmarks/out/benchmarks.json``.

Method. Absolute speeds drift on a shared machine, so every speed is measured in alternating
blocks with its reference *in the same process*: block pairs (reference, gankit) with the order
flipped every pair, and the reported ratio is the median of the per-pair ratios (a pair sees about
the same background load); the steps/s shown are medians over blocks. Both loops use the same data
tensor, the same initial weights and the same thread count. MNIST is read from
``../shared/data/mnist`` (relative to the repository) when present, else random stand-in data of
MNIST's shape is written as IDX files so that every path (``gankit train`` included) runs the same.

Sections: (a) mnist-mlp and mnist-dcgan throughput against benchmarks/reference.py and
benchmarks/reference_dcgan.py, plus ablations (gankit with one of its choices undone); (b) GFLOP/s of a training step
against the same matrix products run alone (the products are recorded from a real step with a
``TorchDispatchMode``, FLOPs = 2·m·k·n each, and replayed with the same shapes and strides); a
profile breakdown of both loops; (c) start-up times of the CLI; (d) peak and steady RSS of a
``gankit train`` process; (e) the same throughput on CUDA when a GPU is present.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

if __package__ in (None, ""):  # `python benchmarks/run.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import reference, reference_dcgan  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
OUT = ROOT / "benchmarks" / "out"
DOC = ROOT / "BENCHMARKS.md"
TABLE_START, TABLE_END = "<!-- benchmark-table:start -->", "<!-- benchmark-table:end -->"
LOG_EVERY = 50  # gankit's default log.every: one host sync per 50 steps, as in `gankit train`


# ----------------------------------------------------------------------------- results


@dataclass
class Row:
    """One figure of the table. ``ratio`` > 1 means gankit is better (faster, smaller), except in
    the GFLOP/s rows where it is the fraction of the matmul-only bound."""

    section: str
    figure: str
    gankit: float | None
    reference: float | None
    unit: str
    reference_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"  {row.figure}: gankit {_fmt(row.gankit)} {row.unit} | {row.reference_name or 'reference'} "
              f"{_fmt(row.reference)} | ratio {_fmt(row.ratio)} {row.note}", flush=True)
        return row


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if abs(v) >= 0.01 else f"{v:.2g}"


# ----------------------------------------------------------------------------- data


def write_standin_mnist(folder: Path, n: int = 60000, seed: int = 0) -> Path:
    """Random uint8 images and labels in MNIST's IDX format (the shapes and sizes of the real set)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">4B3I", 0, 0, 8, 3, n, 28, 28) + images.tobytes(), compresslevel=1))
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">4BI", 0, 0, 8, 1, n) + labels.tobytes(), compresslevel=1))
    return folder


def mnist_folder(tmp: Path, standin: bool = False) -> tuple[Path, str]:
    if not standin and (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        return SHARED_MNIST, f"MNIST from {SHARED_MNIST}"
    why = "asked for" if standin else f"no MNIST in {SHARED_MNIST}"
    return write_standin_mnist(tmp / "mnist-standin"), f"random stand-in data of MNIST's shape ({why})"


# ----------------------------------------------------------------------------- the two loops


_DATA: dict[Path, object] = {}  # one loaded data set per folder, shared by every section


def gankit_setup(data_dir: Path, batch: int, device: str, preset: str = "mnist-mlp"):
    """gankit's own construction of a run of ``preset`` (``gankit.run.session.build``), data on the device."""
    from gankit.config import load
    from gankit.training.batches import Batches
    from gankit.run.session import build

    cfg = load(preset, [f"data.path={data_dir}", "data.download=false", f"train.batch_size={batch}",
                        f"train.device={device}", *STEP_AS_REFERENCE.get(preset, [])])
    dev = torch.device(device)
    data, trainer = build(cfg, dev, _DATA.get(data_dir))
    _DATA[data_dir] = data
    batches = Batches({"x": data.x.to(dev)}, batch, seed=0)
    return data, trainer, batches


class GankitLoop:
    """``gankit train``'s per-step work: ``train_step``, the on-device metric sums, one host read
    every ``LOG_EVERY`` steps (as ``training.loop.Loop`` does; files are not written here)."""

    def __init__(self, trainer, batches) -> None:
        self.trainer, self.batches = trainer, batches
        dev = trainer.device
        self.acc = torch.zeros(4, device=dev)
        self.n = 0

    def steps(self, n: int) -> None:
        for _ in range(n):
            st = self.trainer.train_step(self.batches)
            self.acc += torch.stack([st[c] for c in ("d_loss", "g_loss", "d_real", "d_fake")])
            self.n += 1
            if self.n % LOG_EVERY == 0:
                (self.acc / LOG_EVERY).tolist()
                self.acc.zero_()


REFERENCES = {"mnist-mlp": reference.Loop, "mnist-dcgan": reference_dcgan.Loop}
#: overrides that make the preset's step the one its reference loop computes
STEP_AS_REFERENCE = {"mnist-dcgan": reference_dcgan.CLASSIC_STEP}


def reference_setup(x: torch.Tensor, batch: int, device: str, like=None, preset: str = "mnist-mlp") -> reference.Loop:
    loop = REFERENCES[preset](x.cpu(), batch, device)
    if like is not None:  # same initial weights as gankit's networks
        loop.G.load_state_dict(like.task.G.state_dict())
        loop.D.load_state_dict(like.task.D.state_dict())
        if hasattr(loop, "G_ema"):
            loop.G_ema.load_state_dict(like.task.G.state_dict())
    return loop


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], None], device: str, cpu: list[float] | None = None) -> float:
    """Wall seconds of ``fn()``; appends the process's CPU seconds to ``cpu`` when given."""
    _sync(device)
    t, c = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    if cpu is not None:
        cpu.append(time.process_time() - c)
    return time.perf_counter() - t


#: median per-pair CPU-time ratio of the last ``side_by_side`` call (robust to time-slicing at 1 thread)
LAST_CPU_RATIO: list[float] = []
#: raw wall seconds per block of the last ``side_by_side`` call: {"ref": [...], "ours": [...]}
LAST_BLOCKS: dict[str, list[float]] = {}


def side_by_side(ref: Callable[[], None], ours: Callable[[], None], pairs: int, device: str = "cpu"):
    """Alternating timed blocks; returns (median ref s, median ours s, median of ref/ours per pair)."""
    tr, to, ratios, cpu_ratios = [], [], [], []
    for i in range(pairs):
        ca: list[float] = []
        cb: list[float] = []
        if i % 2 == 0:
            a, b = timed(ref, device, ca), timed(ours, device, cb)
        else:
            b, a = timed(ours, device, cb), timed(ref, device, ca)
        tr.append(a)
        to.append(b)
        ratios.append(a / b)
        cpu_ratios.append(ca[0] / max(cb[0], 1e-9))
    LAST_CPU_RATIO[:] = [statistics.median(cpu_ratios)]
    LAST_BLOCKS.update(ref=[round(t, 5) for t in tr], ours=[round(t, 5) for t in to])
    return statistics.median(tr), statistics.median(to), statistics.median(ratios)


def block_size(fns: list[Callable[[int], None]], seconds: float, device: str) -> int:
    """Steps per timed block so that the slowest loop's block lasts about ``seconds``; the timing
    of 3 steps each doubles as the warm-up (allocator, lazy inits, optimiser state)."""
    slowest = max(timed(lambda: f(3), device) / 3 for f in fns)
    return max(1, round(seconds / slowest))


def throughput(data_dir: Path, batch: int, device: str, pairs: int, seconds: float,
               preset: str = "mnist-mlp") -> dict:
    data, trainer, batches = gankit_setup(data_dir, batch, device, preset)
    ours = GankitLoop(trainer, batches)
    ref = reference_setup(data.x, batch, device, like=trainer, preset=preset)
    block = block_size([ours.steps, ref.steps], seconds, device)
    t_ref, t_ours, ratio = side_by_side(lambda: ref.steps(block), lambda: ours.steps(block), pairs, device)
    return {"batch": batch, "ref_sps": block / t_ref, "gankit_sps": block / t_ours, "ratio": ratio,
            "cpu_time_ratio": LAST_CPU_RATIO[0], "threads": torch.get_num_threads(), "block_steps": block,
            "pairs": pairs, "block_seconds": dict(LAST_BLOCKS)}


def ablation(data_dir: Path, pairs: int, seconds: float, tweak: Callable[[object], None],
             preset: str = "mnist-mlp") -> dict:
    """gankit as shipped against gankit with one choice undone (``tweak``), batch 64, CPU."""
    _, trainer, batches = gankit_setup(data_dir, 64, "cpu", preset)
    _, other, other_batches = gankit_setup(data_dir, 64, "cpu", preset)
    other.task.G.load_state_dict(trainer.task.G.state_dict())
    other.task.D.load_state_dict(trainer.task.D.state_dict())
    tweak(other)
    ours, undone = GankitLoop(trainer, batches), GankitLoop(other, other_batches)
    block = block_size([ours.steps, undone.steps], seconds, "cpu")
    t_undone, t_ours, ratio = side_by_side(lambda: undone.steps(block), lambda: ours.steps(block), pairs)
    return {"gankit_sps": block / t_ours, "undone_sps": block / t_undone, "ratio": ratio,
            "cpu_time_ratio": LAST_CPU_RATIO[0], "threads": torch.get_num_threads()}


# ----------------------------------------------------------------------------- FLOPs


MATMULS = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default, torch.ops.aten.bmm.default,
           torch.ops.aten.baddbmm.default}


class MatmulRecorder(TorchDispatchMode):
    """Records every matrix product dispatched (forward and backward) with shapes and strides."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in MATMULS:
            spec = tuple((tuple(a.shape), a.stride(), a.dtype, a.device) if isinstance(a, torch.Tensor) else a
                         for a in args)
            self.calls.append((func, spec, dict(kwargs)))
        return func(*args, **kwargs)


def matmul_flops(calls: list[tuple]) -> int:
    total = 0
    for func, spec, _ in calls:
        plain = func in (torch.ops.aten.mm.default, torch.ops.aten.bmm.default)  # no bias argument first
        a, b = (spec[0], spec[1]) if plain else (spec[1], spec[2])
        total += 2 * math.prod(a[0]) * b[0][-1]  # (…, m, k) @ (…, k, n): 2·(…·m·k)·n
    return total


def replay(calls: list[tuple]) -> Callable[[], None]:
    """The same products alone: fresh tensors of the recorded shapes/strides, one call each."""
    prepared = []
    for func, spec, kwargs in calls:
        args = [torch.empty_strided(s[0], s[1], dtype=s[2], device=s[3]).normal_() if isinstance(s, tuple)
                and len(s) == 4 and isinstance(s[2], torch.dtype) else s for s in spec]
        prepared.append((func, args, kwargs))

    def run() -> None:
        for func, args, kwargs in prepared:
            func(*args, **kwargs)

    return run


def record_step(step: Callable[[], None]) -> list[tuple]:
    rec = MatmulRecorder()
    with rec:
        step()
    return rec.calls


def flops_section(data_dir: Path, batch: int, device: str, pairs: int, seconds: float) -> dict:
    data, trainer, batches = gankit_setup(data_dir, batch, device)
    ours = GankitLoop(trainer, batches)
    ref = reference_setup(data.x, batch, device, like=trainer)
    block = block_size([ours.steps, ref.steps], seconds, device)
    calls_ours, calls_ref = record_step(lambda: ours.steps(1)), record_step(lambda: ref.steps(1))
    mm_ours, mm_ref = replay(calls_ours), replay(calls_ref)
    mm_ours(), mm_ref()

    def rep(f):
        return lambda: [f() for _ in range(block)]

    t_mm, t_step, frac = side_by_side(rep(mm_ours), lambda: ours.steps(block), pairs, device)
    t_mm_r, t_step_r, frac_r = side_by_side(rep(mm_ref), lambda: ref.steps(block), max(3, pairs // 2), device)
    f_ours, f_ref = matmul_flops(calls_ours), matmul_flops(calls_ref)
    return {
        "batch": batch, "flops": f_ours, "ref_flops": f_ref, "matmuls": len(calls_ours), "ref_matmuls": len(calls_ref),
        "step_gflops": f_ours * block / t_step / 1e9, "bound_gflops": f_ours * block / t_mm / 1e9, "fraction": frac,
        "ref_step_gflops": f_ref * block / t_step_r / 1e9, "ref_bound_gflops": f_ref * block / t_mm_r / 1e9,
        "ref_fraction": frac_r,
    }


# ----------------------------------------------------------------------------- profile


CATEGORIES = ("matmul", "conv", "optimizer", "data", "other")


def profile_breakdown(step: Callable[[int], None], seconds: float) -> dict:
    """Share of the main thread's time per category, from torch.profiler: matrix products (self
    time of mm/addmm/bmm), convolutions (self time of every convolution op, forward and backward,
    transposed included), the optimiser steps (inclusive), batch loading (inclusive), the rest."""
    from torch.profiler import ProfilerActivity, profile

    n = block_size([step], seconds, "cpu")
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t = time.perf_counter()
        step(n)
        wall = time.perf_counter() - t
    mm = conv = opt = data = 0.0
    for e in prof.key_averages():
        if e.key in ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"):
            mm += e.self_cpu_time_total
        elif "conv" in e.key and "convert" not in e.key:
            conv += e.self_cpu_time_total
        elif e.key.startswith("Optimizer.step#"):
            opt += e.cpu_time_total
        elif e.key.startswith("enumerate(DataLoader)"):
            data += e.cpu_time_total
    total = wall * 1e6
    out = {"matmul": mm / total, "conv": conv / total, "optimizer": opt / total, "data": data / total}
    out["other"] = max(0.0, 1 - sum(out.values()))
    out["ms_per_step"] = wall / n * 1e3
    return out


# ----------------------------------------------------------------------------- processes


def gankit_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "gankit"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gankit"]


def _env(threads: int | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def time_command(cmd: list[str], reps: int, env: dict) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode()[-500:]}")
    return statistics.median(times)


def rss_mib(pid: int, key: str = "VmRSS") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def metrics_steps(path: Path) -> int:
    """Last step written to a run's metrics.csv (0 if none yet)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return 0
    for line in reversed(lines[1:]):
        head = line.split(",", 1)[0]
        if head.isdigit():
            return int(head)
    return 0


def run_peak_rss(cmd: list[str], env: dict, marker: bytes | None = None) -> tuple[float, float | None]:
    """(peak RSS MiB, seconds until ``marker`` appeared on stdout) of a child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    seen = None
    for line in p.stdout:
        if marker is not None and seen is None and marker in line:
            seen = time.perf_counter() - t0
    _, status, usage = os.wait4(p.pid, 0)
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.read().decode()[-800:]}")
    return usage.ru_maxrss / 1024, seen


def peak_of_train(cmd: list[str], run_dir: Path, env: dict, marks: tuple[int, ...] = ()) -> dict:
    """``watch_train`` with the peak RSS from wait4 (the child is reaped here, not by Popen)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    first, at = None, {}
    metrics = run_dir / "metrics.csv"
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        step = metrics_steps(metrics)
        if step > 0 and first is None:
            first = time.perf_counter() - t0
        for m in marks:
            if m not in at and step >= m:
                at[m] = rss_mib(p.pid)
        time.sleep(0.005)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.read().decode()[-800:]}")
    return {"first_step_s": first, "rss_at": at, "wall_s": time.perf_counter() - t0,
            "peak_mib": usage.ru_maxrss / 1024}


# ----------------------------------------------------------------------------- sections


def section_throughput(res: Results, data_dir: Path, quick: bool) -> None:
    print("(a) mnist-mlp throughput, gankit vs benchmarks/reference.py", flush=True)
    pairs, seconds = (4, 0.3) if quick else (15, 1.0)
    threads = torch.get_num_threads()
    variants = [threads] if quick or threads == 1 else [threads, 1]
    for th in variants:
        torch.set_num_threads(th)
        r = throughput(data_dir, 64, "cpu", pairs, seconds)
        res.extra.setdefault("throughput", []).append(r)
        main = th == threads
        res.add(Row("a", f"mnist-mlp steps/s, batch 64, CPU, {th} thread{'s' * (th > 1)}", r["gankit_sps"],
                    r["ref_sps"], "steps/s", "reference loop", r["ratio"], ">= 2.0x" if main else "",
                    r["ratio"] >= 2.0 if main else None, f"CPU-time ratio {r['cpu_time_ratio']:.2f}x"))
    if not quick:  # what single choices are worth: gankit with one of them undone
        for name, tweak in ABLATIONS.items():
            r = ablation(data_dir, max(5, pairs // 2), seconds, tweak)
            res.extra.setdefault("ablations", []).append({**r, "variant": name})
            res.add(Row("a", f"ablation, 1 thread: what {name} buys", r["gankit_sps"], r["undone_sps"],
                        "steps/s", "gankit without it", r["ratio"],
                        note=f"CPU-time ratio {r['cpu_time_ratio']:.2f}x"))
    torch.set_num_threads(threads)


def _foreach_adam(trainer) -> None:
    for name, old in trainer.opts.items():
        g = old.param_groups[0]
        trainer.opts[name] = torch.optim.Adam(g["params"], lr=g["lr"], betas=g["betas"], foreach=True)


def _separate_d(trainer) -> None:
    trainer.task.concat_d = False


def _d_not_frozen(trainer) -> None:
    from dataclasses import replace

    trainer.phases = [replace(p, frozen=()) for p in trainer.phases]  # G step also computes D's weight grads


def _nchw(trainer) -> None:
    for net in (*trainer.task.nets.values(), *(e.model for e in trainer.emas.values())):
        net.to(memory_format=torch.contiguous_format)


ABLATIONS_DCGAN: dict[str, Callable[[object], None]] = {"channels-last convolutions (vs NCHW)": _nchw}
ABLATIONS: dict[str, Callable[[object], None]] = {
    "fused Adam (vs foreach)": _foreach_adam,
    "one D forward over real+fake (vs two)": _separate_d,
    "freezing D in the G step": _d_not_frozen,
}


def section_flops(res: Results, data_dir: Path, quick: bool) -> None:
    print("(b) GFLOP/s of a training step vs the same matmuls alone", flush=True)
    threads = torch.get_num_threads()
    runs = [(64, threads)] if quick else [(64, threads), (256, threads), (1024, threads)]
    if not quick and threads > 1:
        runs.append((64, 1))
    for batch, th in runs:
        torch.set_num_threads(th)
        r = flops_section(data_dir, batch, "cpu", 3 if quick else 7, 0.3 if quick else 1.0)
        res.extra.setdefault("flops", []).append({**r, "threads": th})
        main = batch == 64 and th == threads
        res.add(Row("b", f"step GFLOP/s vs matmuls alone, batch {batch}, {th} thread{'s' * (th > 1)}",
                    r["step_gflops"], r["bound_gflops"], "GFLOP/s", "same matmuls alone", r["fraction"],
                    ">= 70%" if main else "", r["fraction"] >= 0.70 if main else None,
                    f"{r['flops'] / 1e6:.0f} MFLOP in {r['matmuls']} products per step; reference step: "
                    f"{r['ref_flops'] / 1e6:.0f} MFLOP in {r['ref_matmuls']}, {r['ref_fraction']:.0%} of its bound"))
    torch.set_num_threads(threads)


def section_profile(res: Results, data_dir: Path, quick: bool) -> None:
    print("profile breakdown, batch 64", flush=True)
    data, trainer, batches = gankit_setup(data_dir, 64, "cpu")
    ours = GankitLoop(trainer, batches)
    ref = reference_setup(data.x, 64, "cpu", like=trainer)
    secs = 0.5 if quick else 3.0
    threads = torch.get_num_threads()
    out = {}
    for th in ([threads] if quick or threads == 1 else [threads, 1]):
        torch.set_num_threads(th)
        label = f"{th} thread{'s' * (th > 1)}"
        out[f"gankit, {label}"] = profile_breakdown(ours.steps, secs)
        out[f"reference, {label}"] = profile_breakdown(ref.steps, secs)
    # the DCGAN step at one thread: how much of it the convolutions (the same work in both loops) take
    data, trainer, batches = gankit_setup(data_dir, 64, "cpu", preset="mnist-dcgan")
    ref = reference_setup(data.x, 64, "cpu", like=trainer, preset="mnist-dcgan")
    torch.set_num_threads(1)
    out["gankit mnist-dcgan, 1 thread"] = profile_breakdown(GankitLoop(trainer, batches).steps, secs)
    out["reference DCGAN, 1 thread"] = profile_breakdown(ref.steps, secs)
    torch.set_num_threads(threads)
    res.extra["profile"] = out
    for k, v in out.items():
        print(f"  {k}: " + ", ".join(f"{c} {v[c]:.0%}" for c in CATEGORIES) + f" ({v['ms_per_step']:.1f} ms/step)")


def section_startup(res: Results, data_dir: Path, tmp: Path, quick: bool, threads: int | None) -> None:
    print("(c) start-up", flush=True)
    reps = 1 if quick else 3
    env = _env(threads)
    gk = gankit_cmd()
    t_torch = time_command([sys.executable, "-c", "import torch"], reps, env)
    t_py = time_command([sys.executable, "-c", "pass"], reps, env)
    for args, target in ((["--help"], 0.3), (["presets"], None), (["summary", "mnist-mlp"], None)):
        t = time_command(gk + args, reps, env)
        res.add(Row("c", f"`gankit {' '.join(args)}` wall time", t, t_torch, "s", "`python -c 'import torch'`",
                    t_torch / t, f"< {target} s" if target else "", (t < target) if target else None,
                    f"bare interpreter {t_py:.2f} s"))
    if quick:  # the memory section's two runs give this figure too (one process less each)
        return
    firsts, refs = [], []
    for i in range(3):
        run_dir = tmp / f"startup-{i}"
        r = peak_of_train(gk + ["train", "mnist-mlp", f"data.path={data_dir}", "train.steps=3", "log.every=1",
                                "log.progress=off", "log.sample_every=1000", "log.checkpoint_every=1000",
                                "--quiet", "--out", str(run_dir)], run_dir, env)
        firsts.append(r["first_step_s"])
        _, seen = run_peak_rss([sys.executable, str(ROOT / "benchmarks" / "reference.py"), "--steps", "1",
                                "--data", str(data_dir)], env, marker=b"first step done")
        refs.append(seen)
        shutil.rmtree(run_dir, ignore_errors=True)
    train_startup_row(res, statistics.median(firsts), statistics.median(refs))


def train_startup_row(res: Results, t: float, tr: float, note: str = "") -> None:
    res.add(Row("c", "`gankit train mnist-mlp`: start to first step done", t, tr, "s",
                "reference script, start to first step", tr / t, "", None,
                "includes reading the 60k images" + note))


def section_memory(res: Results, data_dir: Path, tmp: Path, quick: bool) -> None:
    """Peak RSS (wait4) of whole processes, and VmRSS after N and 4N steps of one `gankit train`.

    Samples and checkpoints are written every N/2 steps, so both readings come after the same kinds
    of work; a metrics row every step marks progress (and the first step, for ``--quick``'s start-up
    figure). One thread each: memory does not depend on it, and it keeps the runs short on a busy
    machine."""
    print("(d) memory", flush=True)
    n = 10 if quick else 150
    env = _env(1)
    run_dir = tmp / "memory"
    half = max(1, n // 2)
    r = peak_of_train(gankit_cmd() + ["train", "mnist-mlp", f"data.path={data_dir}", f"train.steps={4 * n}",
                                      "log.every=1", f"log.sample_every={half}", f"log.checkpoint_every={half}",
                                      "train.threads=1", "log.progress=off", "--quiet", "--out", str(run_dir)],
                      run_dir, env, marks=(n, 2 * n, 3 * n, 4 * n))
    ref_peak, ref_first = run_peak_rss([sys.executable, str(ROOT / "benchmarks" / "reference.py"), "--steps",
                                        str(4 * n), "--data", str(data_dir)], env, marker=b"first step done")
    if quick:
        train_startup_row(res, r["first_step_s"], ref_first, "; one run each, 1 thread")
    res.add(Row("d", f"peak RSS, mnist-mlp training ({4 * n} steps)", r["peak_mib"], ref_peak, "MiB",
                "reference loop, same steps", ref_peak / r["peak_mib"], "", None,
                "both hold the 60k training images as float32 (180 MiB)"))
    # RSS wobbles by a few percent (allocator, the kernel reclaiming cold pages), so the bar is 10%:
    # a leak of 100 KB per step shows as 45 MB over the full run's 450 steps
    a, b = r["rss_at"].get(n), r["rss_at"].get(4 * n)
    grow = (b - a) if a is not None and b is not None else None
    seen = ", ".join(f"{v:.0f}" for _, v in sorted(r["rss_at"].items()) if v is not None)
    res.add(Row("d", f"RSS after {n} vs {4 * n} steps (growth)", b, a, "MiB", f"RSS after {n} steps",
                (a / b) if a and b else None, "no growth (< 10%)", (grow is not None and grow < 0.10 * a),
                f"{grow:+.1f} MiB over {3 * n} steps; after {n}, {2 * n}, {3 * n}, {4 * n} steps: {seen} MiB"
                if grow is not None else "not sampled (run too short?)"))
    res.extra["memory"] = {"gankit": r, "reference_peak_mib": ref_peak}
    section_eval_memory(res, run_dir, quick, env)
    shutil.rmtree(run_dir, ignore_errors=True)


def section_eval_memory(res: Results, run_dir: Path, quick: bool, env: dict) -> None:
    from gankit import cli

    if "eval" not in cli.COMMANDS:
        res.add(Row("d", "peak RSS, `gankit eval` on 10k samples", None, None, "MiB",
                    note="TODO: no `gankit eval` command yet"))
        return
    if quick:
        res.add(Row("d", "peak RSS, `gankit eval` on 10k samples", None, None, "MiB", note="full run only"))
        return
    peaks = {}
    for n in (2500, 10000):
        peaks[n], _ = run_peak_rss(gankit_cmd() + ["eval", str(run_dir), "--n", str(n), "--extractor", "raw",
                                                    "--metrics", "fid", "--json"], env)
    (n1, p1), (n2, p2) = sorted(peaks.items())
    res.add(Row("d", f"peak RSS, `gankit eval --extractor raw --metrics fid`, {n2} samples", p2, p1, "MiB",
                f"same with {n1} samples", p1 / p2, "", None,
                f"{p2 - p1:+.0f} MiB for {n2 - n1} more samples"))


def section_gpu(res: Results, data_dir: Path, quick: bool) -> None:
    print("(e) GPU", flush=True)
    if not torch.cuda.is_available():
        res.add(Row("e", "mnist-mlp steps/s on CUDA", None, None, "steps/s",
                    note="skipped: no CUDA device here; the same code runs with device=cuda when present"))
        return
    name = torch.cuda.get_device_name()
    for batch in ((64,) if quick else (64, 256, 1024)):
        r = throughput(data_dir, batch, "cuda", 5 if quick else 15, 0.3 if quick else 1.0)
        res.extra.setdefault("gpu", []).append({**r, "device": name})
        res.add(Row("e", f"mnist-mlp steps/s, batch {batch}, {name}", r["gankit_sps"], r["ref_sps"], "steps/s",
                    "reference loop", r["ratio"], "", None))


def section_dcgan(res: Results, data_dir: Path, quick: bool) -> None:
    from gankit.presets import PRESETS

    print("(a) mnist-dcgan throughput, gankit vs benchmarks/reference_dcgan.py", flush=True)
    if "mnist-dcgan" not in PRESETS:
        res.add(Row("a", "mnist-dcgan steps/s", None, None, "steps/s", target=">= 1.5x",
                    note="TODO: no mnist-dcgan preset"))
        return
    pairs, seconds = (4, 0.3) if quick else (11, 1.0)
    threads = torch.get_num_threads()
    for th in ([threads] if quick or threads == 1 else [threads, 1]):
        torch.set_num_threads(th)
        r = throughput(data_dir, 64, "cpu", pairs, seconds, preset="mnist-dcgan")
        res.extra.setdefault("dcgan", []).append(r)
        main = th == threads
        res.add(Row("a", f"mnist-dcgan steps/s, batch 64, CPU, {th} thread{'s' * (th > 1)}", r["gankit_sps"],
                    r["ref_sps"], "steps/s", "reference DCGAN loop", r["ratio"], ">= 1.5x" if main else "",
                    r["ratio"] >= 1.5 if main else None, f"CPU-time ratio {r['cpu_time_ratio']:.2f}x"))
    if not quick:
        for name, tweak in ABLATIONS_DCGAN.items():
            r = ablation(data_dir, 7, seconds, tweak, preset="mnist-dcgan")
            res.extra.setdefault("ablations", []).append({**r, "variant": f"mnist-dcgan: {name}"})
            res.add(Row("a", f"ablation, mnist-dcgan, 1 thread: what {name} buys", r["gankit_sps"],
                        r["undone_sps"], "steps/s", "gankit without it", r["ratio"],
                        note=f"CPU-time ratio {r['cpu_time_ratio']:.2f}x"))
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------- report


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model, "cores": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def markdown(res: Results, meta: dict) -> str:
    m = meta["machine"]
    lines = [
        f"Measured {meta['date']} with `{meta['command']}` ({meta['seconds']:.0f} s).",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['threads']} torch threads, torch {m['torch']}, "
        f"Python {m['python']}, GPU: {m['cuda'] or 'none'}; load average {m['load_average']} at the start, "
        f"{meta['load_end']} at the end (a shared machine: ratios, measured side by side, are the figures "
        f"to read). Data: {meta['data']}.",
    ]
    if max(m["load_average"][0], meta["load_end"][0]) > m["cores"]:
        lines.append(
            f"**Busy machine** (load above {m['cores']} cores): with more than one torch thread, OpenMP "
            f"threads wait for partners that other processes have descheduled, so multi-thread figures "
            f"are slower and noisier than on an idle machine; the 1-thread rows are the steadier ones.")
    lines += [
        "",
        "| § | figure | gankit | reference | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in res.rows:
        ref = f"{_fmt(r.reference)} ({r.reference_name})" if r.reference is not None else (r.reference_name or "-")
        ratio = "-" if r.ratio is None else (f"{r.ratio:.0%}" if r.unit == "GFLOP/s" else f"{r.ratio:.2f}x")
        met = {True: "yes", False: "**no**", None: ""}[r.met]
        val = "-" if r.gankit is None else f"{_fmt(r.gankit)} {r.unit}"
        fig = r.figure + (f" — {r.note}" if r.note else "")
        lines.append(f"| {r.section} | {fig} | {val} | {ref} | {ratio} | {r.target} | {met} |")
    prof = res.extra.get("profile")
    if prof:
        lines += ["", "Where a batch-64 step's time goes (torch.profiler, share of wall time):", "",
                  "| loop | ms/step | " + " | ".join(CATEGORIES) + " |", "|---|---|" + "---|" * len(CATEGORIES)]
        for k, v in prof.items():
            lines.append(f"| {k} | {v['ms_per_step']:.1f} | " + " | ".join(f"{v[c]:.0%}" for c in CATEGORIES) + " |")
    lines.append("")
    lines.append("Ratio: gankit's advantage over the reference (higher is better; for start-up and memory, "
                 "reference ÷ gankit). Speeds: steps/s are medians over timed blocks, the ratio is the median "
                 "of per-pair ratios (blocks run back to back), so on a noisy machine the two can disagree; "
                 "the JSON has every block. GFLOP/s rows: the step's achieved rate as a fraction of the "
                 "same matrix products run alone.")
    return "\n".join(lines) + "\n"


def record(md: str) -> None:
    from benchmarks.markers import put_between

    put_between(DOC, TABLE_START, TABLE_END, md)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="short smoke run of every section")
    p.add_argument("--threads", type=int, default=None, help="torch threads for every loop (default: torch's)")
    p.add_argument("--only", default="a,b,profile,c,d,e", help="sections to run, e.g. a,b (default: all)")
    p.add_argument("--out", type=Path, default=OUT, help="folder for benchmarks.md / benchmarks.json")
    p.add_argument("--record", action="store_true", help="also write the table into BENCHMARKS.md")
    p.add_argument("--standin", action="store_true", help="use random stand-in data even when MNIST is present")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    only = set(a.only.split(","))
    t0 = time.perf_counter()
    meta = {"date": datetime.now().isoformat(timespec="minutes"), "machine": machine(),
            "command": "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])}
    meta["command"] = meta["command"].strip()
    res = Results()
    with tempfile.TemporaryDirectory(prefix="gankit-bench-") as tmp_s:
        tmp = Path(tmp_s)
        data_dir, meta["data"] = mnist_folder(tmp, a.standin)
        print(f"data: {meta['data']}; {meta['machine']}", flush=True)
        torch.manual_seed(0)
        sections = {
            "a": lambda: (section_throughput(res, data_dir, a.quick), section_dcgan(res, data_dir, a.quick)),
            "b": lambda: section_flops(res, data_dir, a.quick),
            "profile": lambda: section_profile(res, data_dir, a.quick),
            "c": lambda: section_startup(res, data_dir, tmp, a.quick, a.threads),
            "d": lambda: section_memory(res, data_dir, tmp, a.quick),
            "e": lambda: section_gpu(res, data_dir, a.quick),
        }
        meta["section_seconds"] = {}
        for name, run in sections.items():
            if name in only:
                t = time.perf_counter()
                run()
                meta["section_seconds"][name] = round(time.perf_counter() - t, 1)
    meta["seconds"] = time.perf_counter() - t0
    meta["load_end"] = [round(v, 2) for v in os.getloadavg()]
    md = markdown(res, meta)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "benchmarks.md").write_text(md)
    (a.out / "benchmarks.json").write_text(json.dumps(
        {"meta": meta, "rows": [asdict(r) for r in res.rows], "details": res.extra}, indent=1, default=str))
    if a.record:
        record(md)
    print("\n" + md)
    print(f"wrote {a.out / 'benchmarks.md'} and {a.out / 'benchmarks.json'}" + (f"; updated {DOC}" if a.record else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
