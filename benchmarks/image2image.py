"""Image-to-image benchmark (issue 14, "Measured"): x4 super-resolution with the ``sr-t91`` preset.

Trains ``sr-t91`` on ``../shared/data/sr/T91`` (``--threads``, default 1) with a checkpoint at
the end of the PSNR stage (``log.checkpoint_every`` divides ``sr.pretrain``), so one run gives both
generators: the PSNR stage (SRResNet, pixel loss only: the checkpoint of step ``sr.pretrain``) and the
SRGAN stage (pixel + adversarial: the final model). Then it scores bicubic, the PSNR stage and the
SRGAN stage on Set5 and Set14 the way ``gankit eval`` does (``gankit.metrics.sr_eval``: PSNR / SSIM
on Y of MATLAB's studio-range YCbCr, border of ``scale`` pixels cropped, outputs rounded to uint8;
the sharpness ratio: energy above the input's Nyquist frequency, output over ground truth), next to
the published SRResNet / SRGAN rows, and times inference in output megapixels per second next to
PIL's bicubic (same images, one thread, alternating blocks).

    python -m benchmarks.image2image --threads 2            # the preset as shipped (~23 min at 2 threads)
    python -m benchmarks.image2image --steps 1500 --pretrain 1000   # shortened: not the shipped preset
    python -m benchmarks.image2image --quick                # smoke: 40 steps, a few minutes

Resumable: a finished training run is not retrained (an unfinished one is resumed from its newest
checkpoint), and scores already in the JSON are not recomputed (``--rescore`` recomputes them).
Results: ``benchmarks/out/image2image/sr.{json,md}`` (git-ignored); the table is meant for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "sr"
OUT = ROOT / "benchmarks" / "out" / "image2image"
PRESET = "sr-t91"
SETS = ("Set5", "Set14")
SCALE = 4

#: Ledig et al. 2017, Table 2 (x4): PSNR / SSIM. SRResNet = their MSE-trained generator.
PUBLISHED = {
    "bicubic": {"Set5": (28.43, 0.8211), "Set14": (25.99, 0.7486)},
    "SRResNet": {"Set5": (32.05, 0.9019), "Set14": (28.49, 0.8184)},
    "SRGAN": {"Set5": (29.40, 0.8472), "Set14": (26.02, 0.7397)},
}


def preset_lengths() -> tuple[int, int]:
    from gankit.presets import PRESETS

    cfg = PRESETS[PRESET][1]
    return int(cfg["train"]["steps"]), int(cfg["sr"]["pretrain"])


# ---------------------------------------------------------------------------------------------- training

def finished(run: Path) -> bool:
    return (run / "generator.json").is_file() and (run / "generator.safetensors").is_file()


def overrides(a) -> list[str]:
    return [f"data.path={a.root / 'T91'}", f"data.test_path={a.root / 'Set5'}", f"train.steps={a.steps}",
            f"sr.pretrain={a.pretrain}", f"train.threads={a.threads}", f"log.checkpoint_every={a.every}",
            "log.keep_checkpoints=100"]


def train(a, run: Path) -> dict:
    """Train (or resume, or skip) the run; wall times of both stages from its metrics.csv."""
    import gankit

    if not finished(run):
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        resume = run if (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir()) else None
        print(f"training {PRESET} ({a.steps} steps, PSNR stage {a.pretrain}) into {run}"
              + (" (resumed)" if resume else ""), flush=True)
        if resume:
            gankit.train(resume=run, quiet=True)
        else:
            gankit.train(PRESET, *overrides(a), out=run, quiet=True)
    else:
        print(f"{run}: finished, not retrained", flush=True)
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    sec = {int(r["step"]): float(r["seconds"]) for r in rows if r.get("seconds")}
    last = max(sec)
    at = min((s for s in sec if s >= a.pretrain), default=last)
    return {"psnr_stage_s": round(sec[at] * a.pretrain / at, 1) if at else None,
            "total_s": round(sec[last], 1), "srgan_stage_s": round(sec[last] - sec[at] * a.pretrain / at, 1),
            "steps": last, "pretrain": a.pretrain,
            "content_end_psnr_stage": float(next(r for r in rows if int(r["step"]) == at)["content"] or "nan")}


# ---------------------------------------------------------------------------------------------- scoring

def generator(run: Path, stage: str, pretrain: int):
    import gankit

    return gankit.load(run, checkpoint=pretrain) if stage == "psnr" else gankit.load(run)


def score(run: Path, stage: str, pretrain: int, root: Path, name: str) -> dict:
    """PSNR / SSIM on Y and sharpness of one generator on one set, beside bicubic's on the same images.

    Scored as the SR literature's MATLAB scripts do, file by file: a one-channel file (Set14's img_003)
    on its own values (the model sees it as three equal channels and returns their mean: ``upscale``).
    ``gankit eval``'s figures (``gankit.metrics.sr_eval``, which loads the set as RGB when any image has
    colour, so img_003 goes through RGB -> Y) are kept beside them as ``eval_*``."""
    import numpy as np

    from benchmarks.sr_bicubic import pairs
    from gankit.metrics.sr import matlab_bicubic, psnr_y, sharpness, ssim_y
    from gankit.metrics.sr_eval import evaluate_upscaler
    from gankit.run.folder import load_run_config

    g = generator(run, stage, pretrain)
    per = {k: [] for k in ("psnr", "ssim", "sharpness", "psnr_bicubic", "ssim_bicubic", "sharpness_bicubic")}
    for lr, hr in pairs(root / name):
        sr = g.upscale(lr)
        bic = matlab_bicubic(lr, SCALE, size=hr.shape[:2])
        for tag, img in (("", sr), ("_bicubic", bic)):
            per["psnr" + tag].append(psnr_y(img, hr, SCALE))
            per["ssim" + tag].append(ssim_y(img, hr, SCALE))
            per["sharpness" + tag].append(sharpness(img, hr, SCALE))
    out = {"step": g.meta.get("step"), "n": len(per["psnr"])}
    out.update({k: float(np.mean(v)) for k, v in per.items()})
    out["per_image_psnr"] = [round(float(x), 3) for x in per["psnr"]]
    cfg = load_run_config(run)
    cfg = replace(cfg, data=replace(cfg.data, test_path=str(root / name)))
    s = evaluate_upscaler(run, g, cfg)["scores"]
    out.update({f"eval_{k}": s[k]["value"] for k in ("psnr", "ssim", "psnr_bicubic", "ssim_bicubic")})
    return out


def checkpoint_steps(run: Path) -> list[int]:
    return sorted(int(q.stem[5:]) for q in (run / "checkpoints").glob("step_*.json") if q.stem[5:].isdigit())


def score_set5(run: Path, step: int, root: Path) -> dict:
    """Set5 PSNR / sharpness of the checkpoint of ``step`` (the training curve)."""
    import gankit
    from benchmarks.sr_bicubic import pairs
    from gankit.metrics.sr import psnr_y, sharpness

    g = gankit.load(run, checkpoint=step)
    p, s = zip(*[(psnr_y(o := g.upscale(lr), hr, SCALE), sharpness(o, hr, SCALE)) for lr, hr in pairs(root / "Set5")])
    return {"psnr": sum(p) / len(p), "sharpness": sum(s) / len(s)}


# ---------------------------------------------------------------------------------------------- speed

def speed(run: Path, root: Path, seconds: float) -> dict:
    """Output megapixels per second: the SRGAN generator (whole images, its default tiles) vs PIL bicubic."""
    import numpy as np
    import torch
    from PIL import Image

    from benchmarks.sr_bicubic import pairs

    torch.set_num_threads(1)
    g = generator(run, "srgan", 0)
    lrs = [lr for name in SETS for lr, _ in pairs(root / name)]
    lrs = [np.repeat(x[..., None], 3, 2) if x.ndim == 2 else x for x in lrs]
    mpx = sum(x.shape[0] * x.shape[1] for x in lrs) * SCALE * SCALE / 1e6
    pil = [Image.fromarray(x) for x in lrs]
    xs = [torch.from_numpy(np.array(x)).permute(2, 0, 1)[None].float() / 255.0 for x in lrs]

    def run_g():
        with torch.inference_mode():
            for x in xs:
                g.upscale_tensor(x)

    def run_pil():
        for im in pil:
            im.resize((im.width * SCALE, im.height * SCALE), Image.Resampling.BICUBIC)

    run_g(), run_pil()  # warm-up
    times = {"gankit": [], "pil": []}
    t_end = time.perf_counter() + seconds
    k = 0
    while time.perf_counter() < t_end or k < 4:
        order = (("gankit", run_g), ("pil", run_pil)) if k % 2 == 0 else (("pil", run_pil), ("gankit", run_g))
        for tag, fn in order:
            reps = 1 if tag == "gankit" else 20
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            times[tag].append((time.perf_counter() - t) / reps)
        k += 1
    med = {t: statistics.median(v) for t, v in times.items()}
    return {"output_mpx": round(mpx, 3), "images": len(lrs), "blocks": k, "threads": 1,
            "gankit_mpx_s": mpx / med["gankit"], "pil_mpx_s": mpx / med["pil"], "tile": g.tile}


# ---------------------------------------------------------------------------------------------- report

def render(doc: dict) -> str:
    a, t, sc = doc["args"], doc.get("train", {}), doc.get("scores", {})
    shipped = doc["shipped"]
    lines = ["| set | method | PSNR (dB) | SSIM | sharpness | published PSNR / SSIM |", "|---|---|---|---|---|---|"]
    for name in SETS:
        p, s = sc.get(f"psnr/{name}"), sc.get(f"srgan/{name}")
        if p:
            lines.append(f"| {name} | bicubic (MATLAB-style imresize) | {p['psnr_bicubic']:.2f} | "
                         f"{p['ssim_bicubic']:.4f} | {p['sharpness_bicubic']:.3f} | "
                         f"{'%.2f / %.4f' % PUBLISHED['bicubic'][name]} |")
        for tag, r, pub in (("PSNR stage", p, "SRResNet"), ("SRGAN stage", s, "SRGAN")):
            if r:
                lines.append(f"| {name} | gankit {tag} (step {r['step']}) | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                             f"{r['sharpness']:.3f} | {pub}: {'%.2f / %.4f' % PUBLISHED[pub][name]} |")
    out = ["\n".join(lines)]
    if "speed" in doc:
        v = doc["speed"]
        out.append(f"Inference, x4, 1 thread, {v['images']} Set5+Set14 images ({v['output_mpx']:.2f} output "
                   f"megapixels), median of {v['blocks']} alternating blocks: gankit SRGAN generator "
                   f"{v['gankit_mpx_s']:.3f} MPx/s (tile {v['tile']}), PIL bicubic {v['pil_mpx_s']:.1f} MPx/s "
                   f"({v['pil_mpx_s'] / v['gankit_mpx_s']:.0f}x faster).")
    p5, s5 = sc.get("psnr/Set5"), sc.get("srgan/Set5")
    if p5 and s5:
        gain = p5["psnr"] - p5["psnr_bicubic"]
        closer = abs(s5["sharpness"] - 1) < abs(p5["sharpness"] - 1)
        above = all(sc[f"srgan/{n}"]["psnr"] > sc[f"srgan/{n}"]["psnr_bicubic"] for n in SETS if f"srgan/{n}" in sc)
        yes = lambda b: "met" if b else "NOT met"  # noqa: E731
        out.append("Targets:\n"
                   f"- PSNR stage >= bicubic + 1.0 dB on Set5: {gain:+.2f} dB, {yes(gain >= 1.0)} "
                   f"(against + 1.5 dB: {yes(gain >= 1.5)})\n"
                   f"- SRGAN stage's sharpness closer to 1 than the PSNR stage's: {s5['sharpness']:.3f} vs "
                   f"{p5['sharpness']:.3f} on Set5, {yes(closer)}; its PSNR above bicubic's"
                   f" (Set5 and Set14): {yes(above)}")
    diff = [(k, r) for k, r in sorted(sc.items())
            if "eval_psnr" in r and abs(r["eval_psnr_bicubic"] - r["psnr_bicubic"]) > 0.005]
    if diff:
        out.append("Scored file by file as the MATLAB scripts do (a one-channel file on its own values). `gankit eval` "
                   "loads a set as RGB when any image has colour, so Set14's greyscale img_003 goes through "
                   "RGB -> Y there; its figures differ: " + "; ".join(
                       f"{k}: bicubic {r['eval_psnr_bicubic']:.2f} / {r['eval_ssim_bicubic']:.4f}, "
                       f"gankit {r['eval_psnr']:.2f} / {r['eval_ssim']:.4f}" for k, r in diff) + ".")
    if doc.get("curve_set5"):
        c = sorted(doc["curve_set5"].items(), key=lambda kv: int(kv[0]))
        out.append("Set5 over training (checkpoints; PSNR dB / sharpness): "
                   + ", ".join(f"step {k}: {v['psnr']:.2f} / {v['sharpness']:.3f}" for k, v in c) + ".")
    if t:
        note = "the preset as shipped" if shipped else (
            f"SHORTENED run ({a['steps']} steps, PSNR stage {a['pretrain']}; the preset ships "
            f"{doc['preset_steps'][0]} / {doc['preset_steps'][1]}): not the shipped preset")
        out.append(f"Training: `{PRESET}`, {note}, train.threads={a['threads']} on the shared 2-core machine: "
                   f"PSNR stage {t['psnr_stage_s'] / 60:.1f} min, SRGAN stage {t['srgan_stage_s'] / 60:.1f} min "
                   f"(metrics.csv's clock).")
    return "\n\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    steps, pretrain = preset_lengths()
    ap.add_argument("--root", type=Path, default=SHARED, help="folder with T91/, Set5/, Set14/")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--steps", type=int, default=steps, help=f"train.steps (preset: {steps})")
    ap.add_argument("--pretrain", type=int, default=pretrain, help=f"sr.pretrain, the PSNR stage (preset: {pretrain})")
    ap.add_argument("--every", type=int, default=None, help="log.checkpoint_every (default: pretrain / 4); "
                    "must divide --pretrain")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--speed-seconds", type=float, default=20.0)
    ap.add_argument("--quick", action="store_true", help="smoke run: 40 steps, PSNR stage 20")
    ap.add_argument("--rescore", action="store_true", help="recompute scores already in the JSON")
    a = ap.parse_args(argv)
    if a.quick:
        a.steps, a.pretrain, a.speed_seconds = 40, 20, 2.0
    a.every = a.every or max(1, a.pretrain // 4)
    if a.pretrain % a.every:
        ap.error("--every must divide --pretrain (the PSNR stage's generator is its checkpoint)")
    import torch

    torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    shipped = (a.steps, a.pretrain) == (steps, pretrain)
    tag = PRESET if shipped else f"{PRESET}-{a.steps}-{a.pretrain}"
    run = a.out / tag
    path = a.out / f"{tag}.json"
    doc = json.loads(path.read_text()) if path.is_file() else {}
    doc.update({"args": {"steps": a.steps, "pretrain": a.pretrain, "every": a.every, "threads": a.threads},
                "preset_steps": [steps, pretrain], "shipped": shipped, "run": str(run),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__}})
    doc.setdefault("scores", {})

    def save():
        path.write_text(json.dumps(doc, indent=1) + "\n")

    doc["train"] = train(a, run)
    save()
    for stage in ("psnr", "srgan"):
        for name in SETS:
            key = f"{stage}/{name}"
            if key in doc["scores"] and not a.rescore:
                continue
            t = time.perf_counter()
            doc["scores"][key] = score(run, stage, a.pretrain, a.root, name)
            print(f"scored {key} in {time.perf_counter() - t:.0f} s", flush=True)
            save()
    curve = doc.setdefault("curve_set5", {})
    for step in checkpoint_steps(run):
        if str(step) not in curve or a.rescore:
            r = score_set5(run, step, a.root)
            curve[str(step)] = r
            save()
    if "speed" not in doc or a.rescore:
        doc["speed"] = speed(run, a.root, a.speed_seconds)
        save()
    md = render(doc)
    (a.out / f"{tag}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
