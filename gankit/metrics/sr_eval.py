"""``gankit eval`` of a super-resolution run: PSNR / SSIM on Y and the sharpness ratio, paired.

Super-resolution is scored against the true high-resolution image of each input (pairs), not as a
distribution of samples, so it does not go through the distribution pipeline (features -> statistics
-> score); this is the task's own evaluation (``Task.evaluate_run``). Reference images, the first that
applies: ``data.test_path`` (a folder of images, whose LR inputs are made by bicubic downscaling, or
paired HR/LR files such as Set5's), the images held out by ``data.holdout``, else the training images
(reference ``train``: a memorising model scores well there). Each score comes with bicubic
interpolation's on the same images (MATLAB-style imresize), the baseline of the SR literature.
"""

from __future__ import annotations

import numpy as np

from gankit.metrics.sr import matlab_bicubic, psnr_y, sharpness, ssim_y


def reference_images(cfg, run):
    """(ImageSet of the reference images, where they come from)."""
    from gankit.data.imageset import load_image_set

    if cfg.data.test_path is not None:
        return load_image_set(cfg, path=cfg.data.test_path, where="data.test_path"), "data.test_path"
    data = load_image_set(cfg, seed=cfg.train.seed)
    if data.heldout is not None:
        return data.heldout, f"holdout {cfg.data.holdout}"
    return data, "train"


def model_channels(cfg, channels: int):
    """``cfg`` reading reference images with the model's channel count (a reference set may mix greyscale
    and colour files, as Set14 does)."""
    from dataclasses import replace

    return replace(cfg, data=replace(cfg.data, channels=channels))


def hwc(a) -> np.ndarray:
    """(C, H, W) -> (H, W) or (H, W, 3) as the metrics read it."""
    a = np.asarray(a)
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)


def score_pairs(g, lrs, hrs, scale: int, one_channel: list[bool] | None = None) -> dict[str, list[float]]:
    """Per image: the model's and bicubic's PSNR, SSIM and sharpness (outputs rounded to uint8 first).

    A one-channel file read into a colour set (``one_channel``) is scored on its own values, not through
    RGB -> Y, as the MATLAB scripts of the SR literature do: the model's output is the mean of its three
    channels (as ``upscale`` returns greyscale), bicubic runs on the one channel."""
    import torch

    out = {k: [] for k in ("psnr", "ssim", "sharpness", "psnr_bicubic", "ssim_bicubic", "sharpness_bicubic")}
    for i, (lr, hr) in enumerate(zip(lrs, hrs)):
        x = torch.as_tensor(np.asarray(lr), dtype=torch.float32)[None] / 255.0
        y = g.upscale_tensor(x)[0]
        lr, hr = np.asarray(lr), np.asarray(hr)
        if one_channel and one_channel[i] and hr.shape[0] == 3:
            y, lr, hr = y.mean(0, keepdim=True), lr[:1], hr[:1]
        sr = np.round(y.cpu().numpy() * 255.0).astype(np.uint8)
        bic = matlab_bicubic(hwc(lr), scale, size=tuple(hr.shape[1:]))
        for tag, img in (("", hwc(sr)), ("_bicubic", bic)):
            out["psnr" + tag].append(psnr_y(img, hwc(hr), scale))
            out["ssim" + tag].append(ssim_y(img, hwc(hr), scale))
            out["sharpness" + tag].append(sharpness(img, hwc(hr), scale))
    return out


def evaluate_upscaler(run, g, cfg, seed: int = 0) -> dict:
    """The ``scores`` and ``data`` parts of eval.json for a super-resolution run."""
    data, where = reference_images(model_channels(cfg, g.channels), run)
    per = score_pairs(g, data.lr, data.hr, g.scale, data.one_channel)
    step = g.meta.get("step")
    better = {"psnr": "higher", "ssim": "higher", "sharpness": "closer to 1"}
    scores = {name: {"value": float(np.mean(v)), "better": better[name.split("_")[0]], "n_real": len(v),
                     "n_generated": len(v), "reference": "bicubic" if name.endswith("bicubic") else "gankit",
                     "reference_split": where, "seed": seed, "step": step, "extractor": None,
                     "per_image": [round(float(x), 4) for x in v]} for name, v in per.items()}
    info = {"dataset": cfg.data.test_path or cfg.data.path, "kind": "image", "shape": list(data.shape),
            "items": len(data.hr), "reference_split": where, "scale": g.scale,
            "y_channel": "MATLAB rgb2ycbcr (studio range), border of scale pixels cropped; one-channel files on "
                         "their own values"}
    return {"scores": scores, "data": info}
