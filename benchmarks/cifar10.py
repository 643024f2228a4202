"""Colour-image quality at equal wall time (issue 17, "Measured"): ``cifar10-sngan`` vs ``cifar10-dcgan``.

Both class-conditional presets train **side by side**, one process each at ``train.threads=1``, for the
same training time: ``train.time_limit`` of 30 minutes, then resumed to 90, counted in each process's CPU
time (``train.time_clock=cpu``), so that each run gets 30 (90) minutes of one core, as on an otherwise
quiet 2-core machine, whatever else the machine runs. The budget is the run's, so a resumed run goes on
where it stopped, and the 30-minute model is the 90-minute run's prefix. A preset whose learning rates
decay keeps its ``train.steps`` (``cifar10-sngan``'s 30,000 take about 95 CPU-minutes at the 0.19 CPU-s of
its batch-32 step on the second 2-core machine, and it holds its rates for the first 10,000, so at 30 minutes
they are held; a faster machine ends the schedule before 90 minutes, and the run stops there); one with
constant rates trains until the budget ends.
At each budget both generators are scored as ``gankit eval`` scores them, on ``--n`` samples (10,000)
against CIFAR-10's 10,000 test images, in the feature space of gankit's CIFAR-10 domain classifier
(:mod:`gankit.metrics.classifier`; its sha256 and test accuracy are in every score's provenance): FID,
KID, precision / recall, the classifier score, the class histogram's KL to uniform and the share of
samples recognised as the requested class. The floor is 10,000 real *training* images scored the same
way. The target: the ResNet model's FID at least 10% lower and its requested-class accuracy at least 5
points higher than the DCGAN's, at both budgets.

These FIDs are not Inception FIDs and cannot be compared with published CIFAR-10 tables (SNGAN's 21.7
is Inception-v3 on 50,000 samples after GPU days).

    python -m benchmarks.cifar10                      # 30 then 90 minutes (about 95 minutes of wall time)
    python -m benchmarks.cifar10 --budgets 30         # the first budget only (resume later for 90)
    python -m benchmarks.cifar10 --seed 1 --out DIR   # another seed of both runs, to see the spread
    python -m benchmarks.cifar10 --quick              # smoke: 10- and 30-second budgets, 200 samples

Results: ``benchmarks/out/cifar10/cifar10.{json,md}`` and a sample grid per run and budget (10 rows, one
per class) under ``benchmarks/out/cifar10/grids/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "cifar10"
OUT = ROOT / "benchmarks" / "out" / "cifar10"
#: benchmark name -> preset; the first is the model under test, the second its baseline
RUNS = {"sngan": "cifar10-sngan", "dcgan": "cifar10-dcgan"}
METRICS = "fid,kid,prdc,classes,classifier_score"
#: the scores of the table, in its order: (key, column title, format)
COLUMNS = (("fid", "FID", "{:.2f}"), ("kid", "KID ×10³", "{:.2f}"), ("precision", "precision", "{:.3f}"),
           ("recall", "recall", "{:.3f}"), ("classifier_score", "classifier score", "{:.2f}"),
           ("class_kl", "class KL", "{:.3f}"), ("conditional_accuracy", "requested class", "{:.1%}"))


def data_overrides(root: Path, quick: bool) -> list[str]:
    over = [f"data.path={root / 'train.tar.gz'}", f"data.test_path={root / 'test.tar.gz'}"]
    return over + (["data.limit=2000"] if quick else [])


def budget_seconds(minutes: float, quick: bool) -> int:
    return max(5, int(round(minutes / 3))) if quick else int(round(minutes * 60))


def used(run: Path) -> dict:
    """Training time the run has used: CPU seconds (its budget's clock), wall seconds, steps; ``done`` when it
    has trained all its ``train.steps`` (a preset with a learning-rate schedule may end before the budget)."""
    info = json.loads((run / "run.json").read_text()) if (run / "run.json").is_file() else {}
    steps = int(info.get("steps_done", 0))
    return {"cpu_seconds": float(info.get("time_limit", {}).get("cpu_seconds", 0.0)),
            "wall_seconds": float(info.get("seconds", 0.0)), "steps": steps,
            "done": "steps" in info and steps >= int(info["steps"])}


def length(preset: str) -> list[str]:
    """The run's length: a preset whose learning rates decay keeps its ``train.steps``, as its schedule is
    part of its recipe; one with constant rates trains until the budget ends, whatever its ``train.steps``
    (the DCGAN's 20,000 take ~35 CPU-minutes)."""
    from gankit.config import load

    cfg = load(preset, [])
    scheduled = any(net.schedule != "constant" for net in (cfg.generator, cfg.discriminator))
    return [] if scheduled else ["train.steps=10000000"]


def train_side_by_side(a, seconds: int) -> dict:
    """Train (or resume) every run to ``seconds`` of training time, all at once, one thread each."""
    procs = {}
    for name, preset in RUNS.items():
        run = a.out / name
        so_far = used(run)
        if (run / "generator.json").is_file() and (so_far["cpu_seconds"] >= seconds - 1 or so_far["done"]):
            continue
        limit = [f"train.time_limit={seconds}s", "train.time_clock=cpu", "train.threads=1", "log.sample_every=2000"]
        if (run / "checkpoints").is_dir() and any((run / "checkpoints").glob("*.safetensors")):
            cmd = ["train", "--resume", str(run), *limit]
        else:
            shutil.rmtree(run, ignore_errors=True)  # a start that never reached a checkpoint
            cmd = ["train", preset, *data_overrides(a.root, a.quick), *length(preset), *limit, f"train.seed={a.seed}",
                   "log.checkpoint_every=200", "log.keep_checkpoints=2", "--out", str(run)]
        print(f"training {name}: gankit {' '.join(cmd)}", flush=True)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        procs[name] = subprocess.Popen([sys.executable, "-m", "gankit", *cmd, "--quiet"], env=env)
    failed = [n for n, p in procs.items() if p.wait() != 0]
    if failed:
        raise SystemExit(f"training failed: {', '.join(failed)} (see above); run again to resume")
    return {name: used(a.out / name) for name in RUNS}


def snapshot(run: Path, tag: str) -> Path:
    """A copy of the run's exported generator at this budget (the run goes on training after it)."""
    keep = run / f"at-{tag}"
    keep.mkdir(exist_ok=True)
    for f in ("generator.safetensors", "generator.json", "run.json", "config.yaml"):
        shutil.copy2(run / f, keep / f)
    return keep


def score(a, name: str, tag: str) -> dict:
    import gankit

    run = a.out / name / f"at-{tag}"  # the snapshot: the run itself may have trained on since
    t = time.perf_counter()
    doc = gankit.evaluate(run, metrics=METRICS, n=a.n, write=True)
    grid = a.out / "grids" / f"{name}-{tag}.png"
    grid.parent.mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-m", "gankit", "sample", str(run), "--n", "100", "--seed", "1", "--out",
                    str(grid)], check=True)
    print(f"scored {name} at {tag} in {time.perf_counter() - t:.0f} s", flush=True)
    return doc["scores"]


def floor(a) -> dict:
    """10,000 real training images scored as if generated, against the same test reference."""
    import torch

    from gankit.config import load
    from gankit.data import load_data
    from gankit.metrics.features import Target
    from gankit.metrics.pipeline import evaluate_samples, real_sample

    cfg = load(RUNS["sngan"], data_overrides(a.root, a.quick))
    train = load_data(cfg.data, output=cfg.generator.output)
    test_cfg = load(RUNS["sngan"], [f"data.path={a.root / 'test.tar.gz'}"] + (["data.limit=2000"] if a.quick else []))
    test = load_data(test_cfg.data, output=cfg.generator.output)
    real = real_sample(test, a.n, seed=0)
    idx = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[: a.n]  # real_sample's draw
    fake, labels = train.decode(train.x[idx]), train.labels[idx]
    return evaluate_samples(real, fake, Target("image", train.shape, cfg.data, True), dataset=train.name,
                            metrics=METRICS, requested=labels)


def verdict(model: dict, base: dict) -> dict:
    fid_m, fid_b = model["fid"]["value"], base["fid"]["value"]
    acc_m, acc_b = model["conditional_accuracy"]["value"], base["conditional_accuracy"]["value"]
    fid_cut, acc_gain = 1 - fid_m / fid_b, acc_m - acc_b
    return {"fid_reduction": fid_cut, "requested_class_gain": acc_gain,
            "met": bool(fid_cut >= 0.10 - 1e-9 and acc_gain >= 0.05 - 1e-9)}  # exactly on a target meets it


def render(doc: dict) -> str:
    head = "| budget (CPU min) | model | steps | wall min | " + " | ".join(c[1] for c in COLUMNS) + " |"
    lines = [head, "|---|---|---:|---:|" + "---:|" * len(COLUMNS)]

    def row(budget: str, label: str, used: dict | None, scores: dict) -> None:
        vals = [fmt.format(scores[k]["value"]) if k in scores else "—" for k, _, fmt in COLUMNS]
        run = [str(used["steps"]), f"{used['wall_seconds'] / 60:.1f}"] if used else ["", ""]
        lines.append(f"| {budget} | {label} | " + " | ".join(run + vals) + " |")

    if "floor" in doc:
        row("", "real training images (the floor)", None, doc["floor"])
    for tag, at in doc.get("budgets", {}).items():
        for name, preset in RUNS.items():
            if name in at.get("scores", {}):
                row(tag, preset, at["train"][name], at["scores"][name])
    out = ["\n".join(lines)]
    if doc.get("seed"):
        out.append(f"Seed {doc['seed']} (`train.seed` of both runs).")
    for tag, at in doc.get("budgets", {}).items():
        v = at.get("verdict")
        if v:
            cut = v["fid_reduction"]
            fid = f"{cut:.1%} lower" if cut >= 0 else f"{-cut:.1%} higher"
            out.append(f"{tag}: {RUNS['sngan']}'s FID {fid} than {RUNS['dcgan']}'s (target: ≥ 10% lower), requested "
                       f"class {v['requested_class_gain'] * 100:+.1f} points (target: ≥ +5): "
                       + ("met" if v["met"] else "NOT met"))
    clf = next((s for s in doc.get("floor", {}).values() if "extractor_sha256" in s), None)
    if clf:
        out.append(f"Feature space: gankit's CIFAR-10 classifier {clf['extractor_sha256'][:12]}"
                   + (f" (test accuracy {clf['classifier_accuracy']:.1%})" if "classifier_accuracy" in clf else "")
                   + "; not Inception: not comparable with published CIFAR-10 FIDs.")
    return "\n\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=SHARED, help="folder with CIFAR-10's train.tar.gz and test.tar.gz")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--budgets", default="30,90", help="minutes of training, comma-separated, increasing")
    ap.add_argument("--n", type=int, default=10_000, help="samples scored per run")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: budgets in seconds, not minutes, divided by 3; 200 samples")
    ap.add_argument("--seed", type=int, default=0, help="train.seed of both runs (default 0, the presets' own)")
    ap.add_argument("--rescore", action="store_true")
    ap.add_argument("--train-only", action="store_true", help="train and keep the snapshots; score in a later call")
    a = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    if a.quick:
        a.out, a.n = a.out / "quick", min(a.n, 200)
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "cifar10.json"
    doc = json.loads(path.read_text()) if path.is_file() else {}
    if doc.get("seed", 0) != a.seed and doc.get("budgets"):
        raise SystemExit(f"{a.out} holds runs of seed {doc.get('seed', 0)}, not {a.seed}: "
                         f"give another --out for seed {a.seed}")
    doc.update({"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
                "n": a.n, "quick": a.quick, "metrics": METRICS, "seed": a.seed})

    def save() -> None:
        path.write_text(json.dumps(doc, indent=1) + "\n")
        (a.out / "cifar10.md").write_text(render(doc) + "\n")

    for minutes in (float(m) for m in a.budgets.split(",")):
        tag = f"{minutes:g} min"
        at = doc.setdefault("budgets", {}).setdefault(tag, {})
        if "scores" in at and not a.rescore:
            continue
        if "train" not in at:
            at["train"] = train_side_by_side(a, budget_seconds(minutes, a.quick))
            at["load_average"] = os.getloadavg()
            for name in RUNS:
                snapshot(a.out / name, tag.replace(" ", ""))
            save()
        if a.train_only:
            continue
        at["scores"] = {name: score(a, name, tag.replace(" ", "")) for name in RUNS}
        at["verdict"] = verdict(at["scores"]["sngan"], at["scores"]["dcgan"])
        save()
    if not a.train_only and ("floor" not in doc or a.rescore):
        doc["floor"] = floor(a)
        save()
    print(render(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
