"""Image-to-image benchmark, part 2 (issue 14, "Measured"): pix2pix and CycleGAN on CMP facades.

Three runs (``--threads``, default 1), each the shipped preset at its own length:

* ``pix2pix`` — ``facades-pix2pix`` as shipped (L1 x 100 + the adversarial term);
* ``pix2pix-l1`` — the same with ``translate.gan_weight=0``: the paper's L1-only ablation (Isola et al.
  2017, table 1 and fig. 4), D still trained so that the cost per step is the same;
* ``cyclegan`` — ``facades-cyclegan``: trained *unpaired* (the task draws A and B independently, so the
  pairs are never seen), scored on the paired test split against the true counterpart.

Each is scored as ``gankit eval`` scores it (``gankit.metrics.translate_eval``: labels -> photo on the
106 test pairs, each resized to a 128-pixel shorter side; L1 in [0, 1] units, PSNR / SSIM on Y, the
sharpness ratio, KID in the offline randconv-v1 feature space), beside the identity and mean-target
baselines. The KID sanity row scores, against the same test photos and in the same space: other real
photos (the training split's), the test photos Gaussian-blurred (radius 2 px), and the L1-only model's
outputs; it must read real < blurred < L1-only. Two sharp baselines price realism per pixel: a random
training photo (real, of another facade) and the L1-only model's output plus another test facade's
residual (the best per-pixel guess with real photo detail on top: what a sampler that knows no more
than the L1-only model scores).

    python -m benchmarks.facades --threads 2  # the presets as shipped (3 runs of about 28 min each)
    python -m benchmarks.facades --quick      # smoke: 30 steps each

Resumable: a finished run is not retrained (an unfinished one resumes from its newest checkpoint);
``--rescore`` scores again. Results: ``benchmarks/out/facades/facades.{json,md}`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "facades"
OUT = ROOT / "benchmarks" / "out" / "facades"
RUNS = {"pix2pix": ("facades-pix2pix", []), "pix2pix-l1": ("facades-pix2pix", ["translate.gan_weight=0"]),
        "cyclegan": ("facades-cyclegan", [])}
BLUR_RADIUS = 2.0


def finished(run: Path) -> bool:
    return (run / "generator.json").is_file()


def train(name: str, a) -> dict:
    """Train (or resume, or skip) one run; its wall time and steps from metrics.csv."""
    import gankit

    preset, extra = RUNS[name]
    run = a.out / name
    if not finished(run):
        over = [f"data.path={a.root / 'train'}", f"data.test_path={a.root / 'test'}", f"train.threads={a.threads}",
                "log.checkpoint_every=500", *extra] + (["train.steps=30", "log.checkpoint_every=10"] if a.quick else [])
        resume = (run / "checkpoints").is_dir() and any((run / "checkpoints").iterdir())
        print(f"training {name} ({preset} {' '.join(extra)}) into {run}" + (" (resumed)" if resume else ""), flush=True)
        if resume:
            gankit.train(resume=run, quiet=True)
        else:
            gankit.train(preset, *over, out=run, quiet=True)
    rows = (run / "metrics.csv").read_text().splitlines()
    head = rows[0].split(",")
    last = dict(zip(head, rows[-1].split(",")))
    return {"steps": int(last["step"]), "minutes": float(last["seconds"]) / 60,
            "preset": preset, "overrides": extra}


def photos(run: Path):
    """(the test pairs, their photos, the training photos), photos as uint8 (C, H, W) arrays; BtoA: photos
    are side A of facades' pairs."""
    from gankit.data.pairs import load_translation_set
    from gankit.metrics.translate_eval import reference_pairs
    from gankit.run.folder import load_run_config

    cfg = load_run_config(run)
    test, _ = reference_pairs(cfg, paired=True)
    train_set = load_translation_set(cfg, paired=True, short=cfg.translate.size)
    return test, [np.asarray(t) for t in test.a], [np.asarray(t) for t in train_set.a]


def l1_only_rows(l1_run: Path, seed: int = 0) -> dict:
    """The two rows that rest on the L1-only model's test outputs, translated once for both:
    ``kid_sanity`` and ``residual_sampler``."""
    import gankit
    from gankit.metrics.translate_eval import translations

    test, targets, train_photos = photos(l1_run)
    g = gankit.load(l1_run)
    outs = translations(g, test.b, g.default_to, seed)
    return {"kid_sanity": kid_sanity(targets, train_photos, outs, seed),
            "residual_sampler": residual_sampler(targets, outs, seed)}


def kid_sanity(targets: list, train_photos: list, outs: list, seed: int = 0) -> dict:
    """KID against the test photos of: training photos, blurred test photos, the L1-only model's outputs."""
    from PIL import Image, ImageFilter

    from gankit.metrics.translate_eval import RandomConvFeatures, kid_of

    blurred = [np.asarray(Image.fromarray(t.transpose(1, 2, 0)).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)))
               .transpose(2, 0, 1).copy() for t in targets]
    ext = RandomConvFeatures()
    return {"real (training photos)": kid_of(ext, train_photos, targets, seed),
            f"test photos blurred ({BLUR_RADIUS:g} px)": kid_of(ext, blurred, targets, seed),
            "L1-only pix2pix outputs": kid_of(ext, outs, targets, seed),
            "extractor": ext.name, "extractor_sha256": ext.sha256, "n_test": len(targets),
            "n_train": len(train_photos)}


def other_photo(run: Path, seed: int = 0) -> dict:
    """A realistic but uninformed baseline: for each test label map, the photo of a random *training*
    facade, scored as gankit eval scores a model's output. A sharp, real photo of the wrong building
    pays about sqrt(2) times the mean photo's L1 (two independent draws differ by sqrt(2) sigma; the mean
    is off by one sigma): the price of sharpness that a GAN's outputs pay in part."""
    _, targets, train_photos = photos(run)
    pick = np.random.default_rng(seed).choice(len(train_photos), len(targets), replace=False)
    outs = [train_photos[i] for i in pick]
    if any(o.shape != t.shape for o, t in zip(outs, targets)):
        raise SystemExit("training and test photos differ in size; the other-photo row needs one size")
    return baseline_scores(outs, targets, "_other", seed)


def baseline_scores(outs: list, targets: list, tag: str, seed: int) -> dict:
    """A baseline's outputs scored as gankit eval scores a model's (means only), keys suffixed with ``tag``."""
    from gankit.metrics.translate_eval import RandomConvFeatures, kid_of, pair_scores

    scores = {f"{k}{tag}": {"value": float(np.mean(v))} for k, v in pair_scores(outs, targets).items()}
    scores[f"kid{tag}"] = {"value": kid_of(RandomConvFeatures(), outs, targets, seed)}
    return scores


def partners(n: int, seed: int) -> np.ndarray:
    """A random permutation of range(n) (n >= 2) that moves every index: one cycle through all of them."""
    order = np.random.default_rng(seed).permutation(n)
    other = np.empty_like(order)
    other[order] = np.roll(order, 1)
    return other


def residual_sampler(targets: list, outs: list, seed: int = 0) -> dict:
    """What a sharp model that knows no more than the L1-only one scores: for each test label map, the
    L1-only model's output plus another test facade's residual (that facade's photo minus the L1-only
    output for it). The layout is the model's best per-pixel guess and the detail is real photo detail, so
    it stands for a sampler of p(photo | label map) at this model's knowledge. Two independent residuals
    differ by about sqrt(2) times one, so its L1 is about 1.4 times the L1-only model's: the price a
    realistic output pays per pixel wherever the label map leaves the photo open."""
    if len({t.shape for t in targets}) != 1:
        raise SystemExit("the test photos differ in size; the residual row needs one size")
    guess = [o.astype(np.int16) for o in outs]
    sampled = [np.clip(guess[i] + targets[j] - guess[j], 0, 255).astype(np.uint8)
               for i, j in enumerate(partners(len(targets), seed))]
    return baseline_scores(sampled, targets, "_resid", seed)


def render(doc: dict) -> str:
    cols = ("l1", "psnr", "ssim", "sharpness", "kid")
    lines = ["| method | " + " | ".join(("L1", "PSNR (dB)", "SSIM", "sharpness", "KID ×10³")) + " | steps | minutes |",
             "|---|" + "---:|" * 7]

    def row(label, sc, tag="", t=None):
        vals = [sc.get(c + tag, {}).get("value") for c in cols]
        txt = [("—" if v is None else f"{v * 1e3:.2f}" if c == "kid" else f"{v:.4f}" if c in ("l1", "ssim")
                else f"{v:.3f}" if c == "sharpness" else f"{v:.2f}") for c, v in zip(cols, vals)]
        extra = [str(t["steps"]), f"{t['minutes']:.1f}"] if t else ["", ""]
        lines.append(f"| {label} | " + " | ".join(txt + extra) + " |")

    ev = doc.get("eval", {})
    if "pix2pix" in ev:
        row("identity (the label map itself)", ev["pix2pix"], "_identity")
        row("mean test photo", ev["pix2pix"], "_mean")
    if "other_photo" in doc:
        row("a random training photo (real, another facade)", doc["other_photo"], "_other")
    if "residual_sampler" in doc:
        row("L1-only output + another test facade's residual", doc["residual_sampler"], "_resid")
    for name, label in (("pix2pix-l1", "pix2pix, L1 only"), ("pix2pix", "pix2pix, L1 + GAN (shipped)"),
                        ("cyclegan", "CycleGAN, unpaired (shipped)")):
        if name in ev:
            row(label, ev[name], "", doc["train"].get(name))
    out = ["\n".join(lines)]
    if "kid_sanity" in doc:
        k = doc["kid_sanity"]
        vals = [(n, v) for n, v in k.items() if isinstance(v, float)]
        ok = all(vals[i][1] < vals[i + 1][1] for i in range(len(vals) - 1))
        out.append("KID sanity row (×10³, against the test photos, randconv-v1): "
                   + " < ".join(f"{n} {v * 1e3:.2f}" for n, v in vals) + f" — {'holds' if ok else 'DOES NOT hold'}.")
    return "\n\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=SHARED, help="folder with train/ and test/ (side-by-side pairs)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", nargs="*", choices=list(RUNS), default=list(RUNS))
    ap.add_argument("--quick", action="store_true", help="smoke run: 30 steps each")
    ap.add_argument("--rescore", action="store_true")
    a = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    import torch

    import gankit

    torch.set_num_threads(a.threads)
    if a.quick:
        a.out = a.out / "quick"
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "facades.json"
    doc = json.loads(path.read_text()) if path.is_file() else {}
    doc.update({"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__},
                "threads": a.threads, "quick": a.quick})
    doc.setdefault("train", {}), doc.setdefault("eval", {})

    def save():
        path.write_text(json.dumps(doc, indent=1) + "\n")
        (a.out / "facades.md").write_text(render(doc) + "\n")

    for name in a.only:
        doc["train"][name] = train(name, a)
        save()
        if name not in doc["eval"] or a.rescore:
            t = time.perf_counter()
            doc["eval"][name] = gankit.evaluate(a.out / name, write=True)["scores"]
            print(f"scored {name} in {time.perf_counter() - t:.0f} s", flush=True)
            save()
    if "pix2pix" in doc["eval"] and ("other_photo" not in doc or a.rescore):
        doc["other_photo"] = other_photo(a.out / "pix2pix")
        save()
    if "pix2pix-l1" in doc["eval"] and ({"kid_sanity", "residual_sampler"} - set(doc) or a.rescore):
        doc.update(l1_only_rows(a.out / "pix2pix-l1"))
        save()
    print(render(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
