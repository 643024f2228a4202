"""Does a class-conditional GAN's data help a classifier? ``gankit augment --measure`` on three cases.

    OMP_NUM_THREADS=1 python -m benchmarks.augment --out /work/bench-out/augment   # 27 min at 1 thread (busy 2-core box)
    OMP_NUM_THREADS=1 python -m benchmarks.augment --quick --out /tmp/augment-quick        # a 2-minute smoke run

Cases (the issue's), data from ``../shared/data`` (``--data``):

* **mnist**, **fashion**: 100 labelled training images per class drawn (seed 0) from the official training
  split and written as an IDX folder; the held-out items are the official t10k test split (10,000 images,
  copied beside them, so ``gankit augment`` finds the set's own test split); the pool of the positive control
  is 200 other training images per class. Generator: ``mnist-cgan`` (projection + AC-GAN, EMA) with
  DiffAugment (``augment.policy=translation,cutout``, Zhao et al. 2020: for 1,000 images; at 1,500 steps it
  raised the share of samples a classifier of the test split reads as the asked digit from 76% to 98.8%)
  for ``--steps`` steps on the 1,000 images. Augmentation: ``--ratio 1`` (100 synthetic images per class), the
  confidence-filtered arm at 0.9, the baseline shifts by up to 2 pixels (+ flips for Fashion-MNIST).
  Classifier: the built-in CNN, 1,000 steps of 64.
* **adult**: ``tables/adult.csv``, target ``income``. 20% of the rows (seed 0) are the held-out test rows,
  with the original class balance; of the rest, the minority class (``>50K``) is cut to 10% of its count
  (seed 0) and the cut rows are the pool. Generator: the ``table`` preset (CTGAN-class) with
  ``data.label_column=income`` for ``--table-steps`` steps. Augmentation: ``--balance``. Baseline: SMOTE-NC.
  Classifiers: gradient boosting and logistic regression.

Every case is measured over ``--seeds`` seeds (3). The generator's run is trained once per case
(``OUT/runs/CASE/gen``; an interrupted one is resumed), then reused by ``gankit augment`` (``OUT/runs/CASE/aug``;
a case whose ``gain.json`` exists is skipped, so the command resumes). Output: ``OUT/augment.json`` and
``OUT/augment.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import shutil
import struct
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEED = 0
IDX = {"mnist": "mnist", "fashion": "fashion-mnist"}


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (gzip) as the MNIST release writes it: magic, dimensions, unsigned bytes."""
    magic = {3: 0x0803, 1: 0x0801}[array.ndim]
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(np.ascontiguousarray(array, np.uint8).tobytes())


def image_case(name: str, data: Path, work: Path, per_class: int, pool_per_class: int) -> dict:
    """The limited training folder (with t10k beside it) and the pool folder of an IDX set."""
    from gankit.data.idx import load_idx_folder

    src = data / IDX[name]
    train, pool = work / "train", work / "pool"
    if not (train / "t10k-labels-idx1-ubyte.gz").exists():
        x, y = load_idx_folder(src, "train")
        rng = np.random.default_rng(SEED)
        picks = [rng.permutation(np.flatnonzero(y == c))[: per_class + pool_per_class] for c in range(10)]
        mine = np.sort(np.concatenate([p[:per_class] for p in picks]))
        extra = np.sort(np.concatenate([p[per_class:] for p in picks]))
        for folder, idx in ((train, mine), (pool, extra)):
            folder.mkdir(parents=True, exist_ok=True)
            write_idx(folder / "train-images-idx3-ubyte.gz", x[idx])
            write_idx(folder / "train-labels-idx1-ubyte.gz", y[idx])
        for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            shutil.copyfile(src / f, train / f)
    return {"train": train, "pool": pool}


def adult_case(data: Path, work: Path, keep_minority: float) -> dict:
    """adult.csv split into held-out rows (original balance), training rows with the minority cut, the pool."""
    import pandas as pd

    train, test, pool = work / "train.csv", work / "holdout.csv", work / "pool.csv"
    if not pool.exists():
        work.mkdir(parents=True, exist_ok=True)
        df = pd.read_csv(data / "tables" / "adult.csv", dtype=str, keep_default_na=False)
        rng = np.random.default_rng(SEED)
        held = np.zeros(len(df), bool)
        held[rng.permutation(len(df))[: round(0.2 * len(df))]] = True
        rest = df[~held]
        minority = np.flatnonzero(rest["income"].str.strip() == ">50K")
        kept = rng.permutation(minority)[: round(keep_minority * len(minority))]
        cut = np.setdiff1d(minority, kept)
        df[held].to_csv(test, index=False)
        rest.drop(rest.index[cut]).to_csv(train, index=False)
        rest.iloc[cut].to_csv(pool, index=False)
    return {"train": train, "holdout": test, "pool": pool}


def train_generator(run: Path, preset: str, overrides: list[str]) -> Path:
    """The case's generator run: trained, resumed when it was interrupted, or reused when complete."""
    import gankit

    info = run / "run.json"
    if info.exists() and json.loads(info.read_text()).get("status") == "complete":
        return run
    if (run / "config.yaml").exists():
        return gankit.train(None, resume=run, quiet=False)
    return gankit.train(preset, *overrides, out=run, quiet=False)


def run_case(name: str, args, out: Path) -> dict:
    """Train (or reuse) the generator, then ``gankit augment RUN --measure``; the gain document."""
    import gankit

    case, aug = out / "runs" / name, out / "runs" / name / "aug"
    if (aug / "gain.json").exists():
        return json.loads((aug / "gain.json").read_text())
    threads = f"train.threads={args.threads}"
    t0 = time.perf_counter()
    if name == "adult":
        paths = adult_case(args.data, case / "data", 0.1)
        run = train_generator(case / "gen", "table", [
            f"data.path={paths['train']}", "data.label_column=income", "data.holdout=0",
            f"data.test_path={paths['holdout']}", f"train.steps={args.table_steps}", threads])
        options = {"balance": True, "pool": paths["pool"]}
    else:
        paths = image_case(name, args.data, case / "data", args.per_class, 2 * args.per_class)
        run = train_generator(case / "gen", "mnist-cgan", [
            f"data.path={paths['train']}", f"data.name={IDX[name]}", f"train.steps={args.steps}", threads,
            "augment.policy=translation,cutout"])  # DiffAugment: 1,000 images (76% -> 98.8% of the asked digit)
        options = {"ratio": 1.0, "pool": paths["pool"], "filter": 0.9, "cnn_steps": args.cnn_steps,
                   "baseline": "crop,flip" if name == "fashion" else "crop"}
    trained = time.perf_counter() - t0
    if aug.exists():
        shutil.rmtree(aug)  # a measurement cut short: measured again from the start
    doc = gankit.augment(run, threads, out=aug, measure=True, seeds=args.seeds, seed=SEED, quiet=False, **options)
    gain = doc["gain"]
    info = json.loads((Path(run) / "run.json").read_text())  # the generator's own training time, even when resumed
    gain["seconds"] = {"generator": info.get("seconds"), "generator_steps": info.get("steps_done"),
                       "augment": round(time.perf_counter() - t0 - trained, 1)}
    (aug / "gain.json").write_text(json.dumps(gain, indent=1))
    return gain


def minority(doc: dict) -> int:
    """The class with the fewest real training items; when all have as many, the one the first classifier
    trained on real items alone recalls worst (where extra items have the most to give)."""
    counts = doc["train"]["per_class"]
    if min(counts) < max(counts):
        return int(np.argmin(counts))
    real = next(iter(doc["classifiers"].values()))["real"]["recall"]
    return int(np.argmin([r["mean"] if r["mean"] is not None else np.inf for r in real]))


def markdown(results: dict, meta: dict) -> str:
    lines = [f"# Augmentation gain ({meta['date']}, {meta['threads']} thread(s), seeds {meta['seeds']})", "",
             "| case | classifier | arm | items added | accuracy | macro-F1 | macro-F1 gain | verdict | "
             "recall of the rarest (or hardest) class |", "|---|---|---|---|---|---|---|---|---|"]
    from gankit.augmentation.gain import ARMS

    for case, doc in results.items():
        m = minority(doc)
        for clf, arms in doc["classifiers"].items():
            for arm, a in arms.items():
                added = doc["added"].get(arm, {}).get("mean", 0) if arm != "real" else 0
                gain = a.get("gain", {}).get("macro_f1")
                rec = a["recall"][m]
                lines.append(f"| {case} | {clf} | {ARMS[arm]} | {added:,.0f} | {_ms(a['accuracy'])} | "
                             f"{_ms(a['macro_f1'])} | {_ms(gain, True) if gain else ''} | {a.get('verdict', '')} | "
                             f"{doc['classes'][m]}: {_ms(rec)} |")
    lines.append("")
    for case, doc in results.items():
        for clf, text in doc["headline"].items():
            lines.append(f"- **{case}, {clf}**: {text}")
    return "\n".join(lines) + "\n"


def _ms(s: dict, signed: bool = False) -> str:
    if not s or s.get("mean") is None:
        return "–"
    return f"{s['mean']:+.4f} ± {s['std']:.4f}" if signed else f"{s['mean']:.4f} ± {s['std']:.4f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("/work/bench-out/augment"))
    p.add_argument("--data", type=Path, default=DATA)
    p.add_argument("--cases", default="mnist,fashion,adult")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=3000, help="generator steps of the image cases")
    p.add_argument("--table-steps", type=int, default=3000, help="generator steps of the adult case")
    p.add_argument("--cnn-steps", type=int, default=1000)
    p.add_argument("--per-class", type=int, default=100, help="labelled training images per class")
    p.add_argument("--quick", action="store_true", help="a smoke run: tiny step counts, 2 seeds")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.table_steps, args.cnn_steps, args.seeds, args.per_class = 20, 20, 20, 2, 20
    if not args.data.exists():
        print(f"benchmarks.augment: no data at {args.data} (../shared/data beside the checkout); skipped")
        return 0
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"date": datetime.now().isoformat(timespec="seconds"), "threads": args.threads, "seeds": args.seeds,
            "steps": args.steps, "table_steps": args.table_steps, "cnn_steps": args.cnn_steps,
            "per_class": args.per_class, "python": sys.version.split()[0], "torch": torch.__version__,
            "machine": platform.machine()}
    results = {}
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        results[case] = run_case(case, args, args.out)
        (args.out / "augment.json").write_text(json.dumps({"meta": meta, "cases": results}, indent=1))
        (args.out / "augment.md").write_text(markdown(results, meta))
    print((args.out / "augment.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
