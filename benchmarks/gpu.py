"""What the README's speed and scaling sections should say about GPUs, measured in one run of at most 5 minutes.

    python -m benchmarks.gpu                        # on a GPU machine (CUDA); writes benchmarks/out/gpu.{json,md}
    python -m benchmarks.gpu --out $OUT --cifar .carry/cifar10    # the device tool: results into $OUT
    python -m benchmarks.gpu --smoke                # on a CPU, tiny sizes, a few seconds (tests/test_benchmarks_gpu.py)

Made for a bare machine where ``../shared`` is absent: speed runs on data made in memory (random pixels of
MNIST's and CIFAR-10's shapes: a step's speed does not depend on them); the short training reads CIFAR-10
from ``--cifar DIR`` (train.tar.gz and test.tar.gz, as ../shared/data/cifar10 holds them; a call to the
device tool carries such a folder of the working tree), or a small stand-in set of random images it writes
itself. ``--cache DIR`` becomes ``$GANKIT_CACHE``, where gankit keeps trained evaluators.

Sections, each written to the JSON as soon as it is done (a run stopped at its time limit still reports):

1. **steps/s** of ``mnist-dcgan`` (its classic step, as benchmarks/run.py times it), ``cifar10-sngan`` and
   ``cifar10-sngan-gpu``, batch 64: gankit in fp32, bf16 (autocast), channels-last and both, against the
   plain PyTorch loops of benchmarks/reference_dcgan.py and benchmarks/reference_sngan.py (the latter also in
   bf16 and channels-last, as a tutorial would write them); peak GPU memory of each.
2. **images/s of sampling** (gankit's sampling path: G in eval mode, decoded to [0, 1], copied to the host)
   at batch 64 and 256, fp32 and bf16.
3. **a short cifar10-sngan-gpu training** through ``gankit.train`` (run folder, checkpoints) for
   ``--train-seconds``, then ``gankit eval`` of it, in the feature space of gankit's CIFAR-10 domain
   classifier (a small residual net, 84% on the test set; raw pixels for the stand-in set). It trains on
   the CPU in about 10 minutes, too long for the GPU's budget: carry the cached classifier
   (``classifier-images-resnet-*.{json,safetensors}``) in the folder given as ``--cache``. None of these
   figures is comparable with published Inception FIDs.
4. **DistributedDataParallel**: two processes under torchrun (NCCL) against one, when the machine has two
   GPUs (``--smoke``: two CPU processes with gloo, to test the command).

Method: each figure is the median of 3 timed blocks after a warm-up of 3 calls (the first steps allocate
memory and choose kernels); a block is about a second of steps, the device synchronised before and after
(``Plan``). Nothing else runs on the GPU meanwhile. A section that fails is recorded with its error in the
JSON (``errors``) and the next one runs: one device call brings back whatever worked.

With the device tool (only the session's own checkout travels, and ``../shared`` does not): in the
checkout's root, once, ``echo /.carry/ >> .git/info/exclude; mkdir -p .carry/cifar10; cp
../shared/data/cifar10/*.tar.gz .carry/cifar10/`` (19.5 MB), then run ``python3 -m benchmarks.gpu --out
$OUT --cifar .carry/cifar10`` with ``carry=[".carry"]`` and ``timeout_s=420``: gpu.json and gpu.md come
back in ``$OUT``; ``--record`` here then is not needed, paste gpu.md between the markers in BENCHMARKS.md
(or run ``python -m benchmarks.gpu_report FILE.json`` - see that module).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import torch

if __package__ in (None, ""):  # `python benchmarks/gpu.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import reference_dcgan, reference_sngan  # noqa: E402
from benchmarks.gpu_report import END, START, markdown, record, write  # noqa: E402,F401  (START, END: tests)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARED_CIFAR = ROOT.parent / "shared" / "data" / "cifar10"
SCORE_NOTE = ("scored in the feature space of gankit's CIFAR-10 domain classifier (carried in --cache; trained on "
              "first use otherwise), or raw pixels for the stand-in set; not comparable with published "
              "(Inception) FIDs")


@dataclass
class Plan:
    """Sizes of one run: the real one, or ``--smoke``'s tiny one (a CPU, seconds)."""

    device: str
    presets: tuple[str, ...] = ("mnist-dcgan", "cifar10-sngan", "cifar10-sngan-gpu")
    batch: int = 64
    items: int = 4096  # in-memory data per speed run
    block: float = 1.0  # seconds of steps per timed block
    reps: int = 3
    warmup: int = 3  # calls before the timing (memory, kernel choice); the last one sizes the blocks
    sample_batches: tuple[int, ...] = (64, 256)
    train_seconds: float = 60.0
    eval_n: int = 5000
    standin_images: int = 5000  # the stand-in set of the short training, when no CIFAR-10 is given
    overrides: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per preset (smoke: narrow networks)
    budget: float = 285.0  # seconds for everything; a section that would not fit is skipped, and says so
    shared: bool = True  # the short training may read ../shared/data/cifar10 when it is there (not --smoke)


def smoke_plan() -> Plan:
    tiny = ("generator.channels=[8,8,8]", "discriminator.channels=[8,8]", "discriminator.blocks=1",
            "generator.latent_dim=16")
    return Plan(device="cpu", batch=8, items=64, block=0.02, reps=1, warmup=1, sample_batches=(8, 16),
                train_seconds=1.0, eval_n=32, standin_images=40, budget=120.0, shared=False,
                overrides={"cifar10-sngan": tiny, "cifar10-sngan-gpu": (*tiny, "train.batch_size=8")})
    # mnist-dcgan keeps its networks: the reference loop's are written out (and small)


# ----------------------------------------------------------------------------- timing


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def reset_peak(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def peak_mib(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda") else None


def rate(step, plan: Plan, per_call: int = 1) -> tuple[float, list[float]]:
    """(median calls/s, per-block calls/s) of ``step(n)``: ``plan.warmup`` calls, the last of them timed to
    size the blocks of about ``plan.block`` seconds that follow."""
    if plan.warmup > 1:
        step(plan.warmup - 1)
    sync(plan.device)
    t = time.perf_counter()
    step(1)
    sync(plan.device)
    per = max(time.perf_counter() - t, 1e-6)
    n = max(1, round(plan.block / per))
    rates = []
    for _ in range(plan.reps):
        sync(plan.device)
        t = time.perf_counter()
        step(n)
        sync(plan.device)
        rates.append(n * per_call / (time.perf_counter() - t))
    return statistics.median(rates), [round(r, 3) for r in rates]


# ----------------------------------------------------------------------------- 1. steps/s


def mnist_like(n: int):
    """Unlabelled (1, 28, 28) images of random pixels, in gankit's training space."""
    import numpy as np

    from gankit.data import Raw, prepare

    x = np.random.default_rng(0).integers(0, 256, size=(n, 1, 28, 28), dtype=np.uint8).astype(np.float32) / 255
    return prepare(Raw(x, "image"), "mnist-like", output="tanh", standardize=True)


VARIANTS = {"fp32": ("fp32", False), "bf16": ("bf16", False), "channels-last": ("fp32", True),
            "bf16 + channels-last": ("bf16", True)}


def gankit_rate(preset: str, data, plan: Plan, precision: str, channels_last: bool) -> dict:
    from benchmarks.run import GankitLoop

    extra = (*reference_dcgan.CLASSIC_STEP,) if preset == "mnist-dcgan" else ()
    stepper, batches = reference_sngan.gankit_setup(preset, data, plan.device, batch=plan.batch, precision=precision,
                                                    channels_last=channels_last,
                                                    overrides=(*extra, *plan.overrides.get(preset, ())))
    loop = GankitLoop(stepper, batches)
    reset_peak(plan.device)
    sps, blocks = rate(loop.steps, plan)
    return {"steps_per_s": sps, "blocks": blocks, "peak_mib": peak_mib(plan.device), "stepper": stepper}


def reference_rate(preset: str, data, plan: Plan, like, precision: str, channels_last: bool) -> dict | None:
    """The plain loop of ``preset``; None where that loop has no such variant (the DCGAN reference is fp32)."""
    if preset == "mnist-dcgan":
        if precision != "fp32" or channels_last:
            return None
        loop = reference_dcgan.Loop(data.x.cpu(), plan.batch, plan.device)
        loop.G.load_state_dict(like.task.G.state_dict())  # the same initial weights (layer names match)
        loop.D.load_state_dict(like.task.D.state_dict())
    else:
        loop = reference_sngan.Loop(like, data, plan.batch, plan.device, precision=precision,
                                    channels_last=channels_last)
    reset_peak(plan.device)
    sps, blocks = rate(loop.steps, plan)
    return {"steps_per_s": sps, "blocks": blocks, "peak_mib": peak_mib(plan.device)}


def section_steps(plan: Plan, res: dict) -> None:
    rows = res.setdefault("steps", [])
    for preset in plan.presets:
        data = mnist_like(plan.items) if preset == "mnist-dcgan" else reference_sngan.cifar_like(plan.items)
        for name, (precision, cl) in VARIANTS.items():
            torch.manual_seed(0)
            ours = gankit_rate(preset, data, plan, precision, cl)
            ref = reference_rate(preset, data, plan, ours.pop("stepper"), precision, cl)
            row = {"preset": preset, "variant": name, "batch": plan.batch, "gankit": ours, "reference": ref}
            rows.append(row)
            print(f"  {preset} {name}: gankit {ours['steps_per_s']:.2f} steps/s"
                  + (f", plain loop {ref['steps_per_s']:.2f} steps/s" if ref else ""), flush=True)
            if plan.device.startswith("cuda"):
                torch.cuda.empty_cache()


# ----------------------------------------------------------------------------- 2. sampling


def trained_of(preset: str, data, plan: Plan):
    """A TrainedGenerator of ``preset``'s fresh networks: what ``gankit sample`` runs (speed only)."""
    from gankit.tasks.trained import TrainedGenerator

    stepper, _ = reference_sngan.gankit_setup(preset, data, plan.device, batch=plan.batch,
                                              overrides=plan.overrides.get(preset, ()))
    task = stepper.task
    _, _, meta = task.export(task.nets, 0)
    return TrainedGenerator(task.G, meta)


def section_sampling(plan: Plan, res: dict) -> None:
    rows = res.setdefault("sampling", [])
    for preset in plan.presets:
        data = mnist_like(plan.items) if preset == "mnist-dcgan" else reference_sngan.cifar_like(plan.items)
        g = trained_of(preset, data, plan)
        for batch in plan.sample_batches:
            for precision in ("fp32", "bf16"):
                def draw(k: int, batch=batch, precision=precision) -> None:
                    with (torch.autocast(plan.device.split(":")[0], dtype=torch.bfloat16) if precision == "bf16"
                          else nullcontext()):
                        g.samples(k * batch, seed=0, batch_size=batch)

                reset_peak(plan.device)
                per_s, blocks = rate(draw, plan, per_call=batch)
                rows.append({"preset": preset, "batch": batch, "precision": precision, "images_per_s": per_s,
                             "blocks": blocks, "peak_mib": peak_mib(plan.device)})
                print(f"  sampling {preset} batch {batch} {precision}: {per_s:,.0f} images/s", flush=True)


# ----------------------------------------------------------------------------- 3. a short training


def cifar_source(given: Path | None, tmp: Path, n: int, shared: bool = True) -> tuple[str, str | None, str]:
    """(data.path, data.test_path, what it is) for the short training: CIFAR-10's archives where given (or in
    ../shared when ``shared``), else a stand-in folder of random 32x32 images in 10 class folders."""
    for folder in (given, SHARED_CIFAR if shared else None):
        if folder is not None and (Path(folder) / "train.tar.gz").exists():
            test = Path(folder) / "test.tar.gz"
            return str(Path(folder) / "train.tar.gz"), str(test) if test.exists() else None, f"CIFAR-10 ({folder})"
    return str(standin(tmp / "standin", n)), None, f"a stand-in set of {n} random 32x32 images (no CIFAR-10 given)"


def standin(root: Path, n: int) -> Path:
    """``root``/class<k>/<i>.png: n random 32x32 colour images in 10 class folders (made once)."""
    import numpy as np
    from PIL import Image

    if root.exists():
        return root
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = root / f"class{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)).save(sub / f"{i:05d}.png")
    return root


def section_train(plan: Plan, res: dict, cifar: Path | None, tmp: Path) -> None:
    import gankit
    from gankit.metrics.evaluate import evaluate_run

    path, test, what = cifar_source(cifar, tmp, plan.standin_images, plan.shared)
    args = ["cifar10-sngan-gpu", f"data.path={path}", f"data.test_path={test or 'null'}",
            f"train.device={plan.device}", f"train.time_limit={plan.train_seconds}s", "log.progress=off",
            *plan.overrides.get("cifar10-sngan-gpu", ())]
    t = time.perf_counter()
    reset_peak(plan.device)
    run = gankit.train(*args, out=tmp / "run", quiet=True)
    wall = time.perf_counter() - t
    info = json.loads((run / "run.json").read_text())
    step = info.get("steps_done", 0)
    out = {"data": what, "overrides": args[1:], "steps_done": step, "train_seconds": info.get("seconds"),
           "wall_seconds": round(wall, 1), "steps_per_s": step / max(info.get("seconds") or wall, 1e-9),
           "peak_mib": peak_mib(plan.device), "note": SCORE_NOTE}
    res["train"] = out
    t = time.perf_counter()
    # CIFAR-10 (a test set beside it): what gankit eval does by default, its domain classifier's scores;
    # random stand-in pixels have no classes to learn: KID and PRDC on raw pixels, no classifier to train
    # (FID there needs the eigenvalues of a 3072x3072 matrix: 17 s each on a CPU core, for nothing)
    plain = {} if test else {"extractor": "raw", "metrics": "kid,prdc"}
    try:
        doc = evaluate_run(run, n=plan.eval_n, device=plan.device, write=False, **plain)
    except Exception as e:  # noqa: BLE001 - gankit eval on CUDA is new here: score on the CPU rather than not at all
        out["eval_error"] = f"{type(e).__name__}: {e}"[:300]
        doc = evaluate_run(run, n=plan.eval_n, device="cpu", write=False, **plain)
    out["eval_seconds"] = round(time.perf_counter() - t, 1)
    scores = doc.get("scores", {})
    out["scores"] = {k: v.get("value") for k, v in scores.items()}
    out["real_vs_real"] = {k: v["real_vs_real"] for k, v in scores.items() if v.get("real_vs_real") is not None}
    first = next(iter(scores.values()), {})
    out["extractor"] = {"name": first.get("extractor"), "sha256": first.get("extractor_sha256")}
    print(f"  short training: {step} steps in {out['train_seconds']} s on {what}; scores {out['scores']}", flush=True)


# ----------------------------------------------------------------------------- 4. two processes


def section_ddp(plan: Plan, res: dict, tmp: Path, force: bool) -> None:
    gpus = torch.cuda.device_count() if plan.device.startswith("cuda") else 0
    if gpus < 2 and not force:
        res["ddp"] = {"skipped": f"{gpus} GPU(s): a 2-process run needs two"}
        print(f"  DDP: skipped ({gpus} GPU)", flush=True)
        return
    path = standin(tmp / "standin", max(plan.standin_images, 4 * plan.batch))  # speed only: random pixels
    steps = 6 if force and gpus < 2 else 60
    base = ["cifar10-sngan-gpu", f"data.path={path}", "data.test_path=null", f"train.steps={steps}",
            f"train.batch_size={max(plan.batch, 16)}", "log.progress=off", "log.sample_every=100000",
            *plan.overrides.get("cifar10-sngan-gpu", ())]
    device = ["train.device=cuda"] if gpus >= 2 else ["train.device=cpu"]
    out = {"gpus": gpus, "steps": steps}
    for procs in (1, 2):
        launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={procs}"]
                    if procs > 1 else [sys.executable])
        cmd = [*launcher, "-m", "gankit", "train", *base, *device, "--out", str(tmp / f"ddp{procs}"), "--quiet"]
        env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
        for attempt in range(2):  # once more after a failed start (a rendezvous port taken, say)
            shutil.rmtree(tmp / f"ddp{procs}", ignore_errors=True)
            t = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
            wall = time.perf_counter() - t
            if r.returncode == 0:
                break
        if r.returncode != 0:
            lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip(" =-")]
            out[f"{procs}_processes"] = {"error": lines[-6:], "returncode": r.returncode}
            continue
        info = json.loads((tmp / f"ddp{procs}" / "run.json").read_text())
        out[f"{procs}_processes"] = {"steps_per_s": steps / max(info.get("seconds", wall), 1e-9),
                                     "wall_seconds": round(wall, 1)}
    res["ddp"] = out
    print(f"  DDP: {out}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (or --device), a few seconds")
    p.add_argument("--device", default=None, help="default: cuda, or cpu with --smoke")
    p.add_argument("--out", type=Path, default=OUT, help="folder for gpu.json and gpu.md")
    p.add_argument("--cifar", type=Path, default=None, help="folder with CIFAR-10's train.tar.gz and test.tar.gz")
    p.add_argument("--cache", type=Path, default=None, help="gankit's cache folder ($GANKIT_CACHE): evaluators")
    p.add_argument("--train-seconds", type=float, default=None, help="length of the short training")
    p.add_argument("--only", default="steps,sampling,train,ddp", help="sections, e.g. steps,train")
    p.add_argument("--ddp", action="store_true", help="run the 2-process section even without two GPUs (gloo, CPU)")
    p.add_argument("--record", action="store_true", help="also write the section into BENCHMARKS.md")
    a = p.parse_args(argv)
    plan = smoke_plan() if a.smoke else Plan(device="cuda")
    if a.device:
        plan.device = a.device
    if a.train_seconds is not None:
        plan.train_seconds = a.train_seconds
    if plan.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu benchmark: no CUDA device here; run it on a GPU machine, or with --smoke on the CPU",
              file=sys.stderr)
        return 2
    if a.cache is not None:
        os.environ["GANKIT_CACHE"] = str(a.cache.resolve())
    t0 = time.perf_counter()
    res = {"meta": meta(plan, argv), "skipped": []}
    sections = {"steps": lambda: section_steps(plan, res), "sampling": lambda: section_sampling(plan, res),
                "train": lambda: section_train(plan, res, a.cifar, tmp),
                "ddp": lambda: section_ddp(plan, res, tmp, a.ddp)}
    # what each section needs at least, of the budget left (the training's own length comes on top)
    need = {"steps": 30, "sampling": 10, "train": 45 + plan.train_seconds, "ddp": 30}
    with tempfile.TemporaryDirectory(prefix="gankit-gpu-") as tmp_s:
        tmp = Path(tmp_s)
        for name in a.only.split(","):
            left = plan.budget - (time.perf_counter() - t0)
            if name not in sections:
                continue
            if left < (need[name] if not a.smoke else 0):
                res["skipped"].append(f"{name} ({left:.0f} s left)")
                continue
            print(f"{name} ({left:.0f} s of the budget left)", flush=True)
            t = time.perf_counter()
            try:
                sections[name]()
            except Exception as e:  # noqa: BLE001 - one failed section must not lose the others' figures
                import traceback

                res.setdefault("errors", {})[name] = traceback.format_exception(e)[-3:]
                print(f"  {name} failed: {type(e).__name__}: {e}", flush=True)
            res["meta"].setdefault("section_seconds", {})[name] = round(time.perf_counter() - t, 1)
            res["meta"]["seconds"] = time.perf_counter() - t0
            write(res, a.out)
    res["meta"]["seconds"] = time.perf_counter() - t0
    write(res, a.out)
    md = markdown(json.loads(json.dumps(res, default=str)))
    if a.record:
        record(md)
    print("\n" + md + f"\nwrote {a.out / 'gpu.json'} and {a.out / 'gpu.md'}")
    return 0


def meta(plan: Plan, argv) -> dict:
    cuda = plan.device.startswith("cuda")
    return {"date": datetime.now().isoformat(timespec="minutes"), "device": plan.device,
            "device_name": torch.cuda.get_device_name() if cuda else "CPU", "gpus": torch.cuda.device_count(),
            "torch": torch.__version__, "cuda": torch.version.cuda, "batch": plan.batch,
            "command": "python -m benchmarks.gpu " + " ".join(argv if argv is not None else sys.argv[1:]),
            "threads": torch.get_num_threads()}


if __name__ == "__main__":
    raise SystemExit(main())
