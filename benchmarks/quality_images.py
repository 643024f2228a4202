"""Image-GAN quality at equal wall time: convolutional presets vs the classic MLP (issue 3).

For each convolutional preset it trains the preset as shipped, measures its wall time, then trains
the MLP baseline of the same data set for the same wall time (steps calibrated from a short timing
run in the same process), and scores both with ``gankit eval`` in the domain classifier's feature
space: FID, class histogram KL to uniform, mean classifier confidence, and — for the conditional
preset — the share of samples classified as the requested class.

    python -m benchmarks.quality_images [--quick] [--presets mnist-dcgan,mnist-cgan,...]
    python -m benchmarks.quality_images --floor --n 2000     # real test images scored as if generated

MNIST / Fashion-MNIST are read from ``../shared/data/`` beside the checkout when present (else the
built-in download cache is used). Results go to ``benchmarks/out/quality_images.{md,json}`` and the
markdown table is meant for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import gankit
from gankit.metrics.evaluate import evaluate_run

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "out"
THREADS = int(os.environ.get("GANKIT_BENCH_THREADS", "2"))  # torch threads for every run

#: preset -> (MLP baseline preset, data folder under ../shared/data or None)
PAIRS = {
    "digits-dcgan": ("digits", None),
    "mnist-dcgan": ("mnist-mlp", "mnist"),
    "mnist-cgan": ("mnist-mlp", "mnist"),
    "fashion-dcgan": ("mnist-mlp", "fashion-mnist"),
}


def data_overrides(folder: str | None, baseline: bool) -> list[str]:
    if folder is None:
        return []
    out = [f"data.path={SHARED / folder}"] if (SHARED / folder).is_dir() else []
    if baseline and folder == "fashion-mnist":
        out.append("data.name=fashion-mnist")  # the MLP baseline on the same data
    return out


def train(preset: str, overrides: list[str], out: Path) -> float:
    t = time.perf_counter()
    gankit.train(preset, *overrides, f"train.threads={THREADS}", out=out, quiet=True)
    return time.perf_counter() - t


def mlp_rate(preset: str, overrides: list[str], tmp: Path) -> float:
    """Steps per second of the baseline, from a 300-step run (start-up excluded)."""
    t = time.perf_counter()
    common = [f"train.threads={THREADS}", "log.sample_every=1000000"]
    gankit.train(preset, *overrides, "train.steps=30", *common, out=tmp / "warm", quiet=True)
    t30 = time.perf_counter() - t
    t = time.perf_counter()
    gankit.train(preset, *overrides, "train.steps=330", *common, out=tmp / "rate", quiet=True)
    return 300 / max(1e-6, (time.perf_counter() - t) - t30)


def score(run: Path, n: int) -> dict:
    doc = evaluate_run(run, metrics=None, n=n, quiet=True)
    s = doc["scores"]
    pick = {k: s[k]["value"] for k in ("fid", "class_kl", "mean_confidence", "conditional_accuracy") if k in s}
    pick["extractor_sha256"] = next(iter(s.values())).get("extractor_sha256", "")[:12]
    return pick


def floor(folder: str, n: int) -> dict:
    """The score of ``n`` real test images taken for generated ones: what a perfect generator gets."""
    import torch

    from gankit.config import load
    from gankit.data import load_data
    from gankit.data.idx import load_idx_folder
    from gankit.metrics.pipeline import evaluate_samples, real_sample
    from gankit.metrics.features import Target

    cfg = load("mnist-mlp", [*data_overrides(folder, True), "data.download=false"])
    data = load_data(cfg.data, output=cfg.generator.output)
    real = real_sample(data, n, seed=0)  # the reference `gankit eval` draws
    images, _ = load_idx_folder(SHARED / folder, "t10k")
    test = torch.from_numpy(images[:n]).float().div(255)[:, None]
    s = evaluate_samples(real, test, Target("image", data.shape, cfg.data, True), dataset=folder,
                         metrics="fid,classes")
    return {"preset": "real test images (the floor)", "data": folder, "wall_s": None, "steps": None,
            **{k: s[k]["value"] for k in ("fid", "class_kl", "mean_confidence")},
            "extractor_sha256": s["fid"]["extractor_sha256"][:12]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default=",".join(PAIRS))
    p.add_argument("--quick", action="store_true", help="a few hundred steps each: checks the pipeline only")
    p.add_argument("--n", type=int, default=5000, help="generated samples per evaluation")
    p.add_argument("--out", type=Path, default=OUT, help="folder for the runs and quality_images.{md,json}")
    p.add_argument("--floor", action="store_true",
                   help="only score --n real MNIST / Fashion-MNIST test images as if generated (needs ../shared/data)")
    a = p.parse_args()
    if a.floor:
        for folder in ("mnist", "fashion-mnist"):
            print(json.dumps(floor(folder, a.n)), flush=True)
        return
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows = []
    for preset in a.presets.split(","):
        baseline, folder = PAIRS[preset]
        extra = ["train.steps=200"] if a.quick else []
        runs = out / f"runs-{stamp}"
        conv_run = runs / preset
        wall = train(preset, data_overrides(folder, False) + extra, conv_run)
        rate = mlp_rate(baseline, data_overrides(folder, True), runs / f"{preset}-calib")
        steps = max(10, int(wall * rate))
        mlp_run = runs / f"{preset}-{baseline}"
        mlp_wall = train(baseline, data_overrides(folder, True) + [f"train.steps={steps}"], mlp_run)
        for name, run, w, st in ((preset, conv_run, wall, None), (f"{baseline} (same time)", mlp_run, mlp_wall, steps)):
            r = {"preset": name, "data": folder or "digits", "wall_s": round(w, 1),
                 "steps": st or json.loads((run / "run.json").read_text())["steps"], **score(run, a.n)}
            rows.append(r)
            print(json.dumps(r), flush=True)
    (out / "quality_images.json").write_text(json.dumps(rows, indent=1))
    cols = ["preset", "data", "wall_s", "steps", "fid", "class_kl", "mean_confidence", "conditional_accuracy"]
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        md.append("| " + " | ".join(f"{r[c]:.4g}" if isinstance(r.get(c), float) else str(r.get(c, "–"))
                                    for c in cols) + " |")
    (out / "quality_images.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
