"""``gankit eval`` of a translation run (pix2pix, CycleGAN): L1 / PSNR / SSIM on pairs and KID.

Reference pairs, the first that applies: ``data.test_path`` (side-by-side A|B images or folders A/ B/),
the pairs held out by ``data.holdout``, else the training images (reference ``train``). As the reference
code tests, each image is resized so its shorter side is ``translate.size`` (no random crop, no flip),
then translated whole (:mod:`gankit.tasks.trained_translate`: padded to the generator's multiple and cut
back; pix2pix with its dropout noise seeded by ``--seed``).

* ``l1``: mean |output - target| over pixels and channels, in [0, 1] units;
* ``psnr`` / ``ssim``: on the luminance channel (MATLAB rgb2ycbcr, as gankit.metrics.sr), per image;
  CycleGAN's only where the reference folders pair up (side-by-side images, or A/ and B/ with matching
  names), pix2pix's always;
* ``sharpness``: high-frequency energy (above 1/8 cycle per pixel) of the output's Y over the target's,
  where they pair up: 1 = as much fine detail as the truth; an L1-only model's outputs sit well below;
* ``kid``: KID (Binkowski et al. 2018) between all outputs and all real targets in the **randconv-v1**
  feature space (:class:`RandomConvFeatures`): a fixed, randomly initialised convolutional network
  (seed 0) that needs no download; its weights' sha256 is in the provenance. Numbers are comparable
  between gankit runs, not with published (Inception) ones.

The same scores of two baselines come beside them: ``identity`` (the input as the output) and
``mean`` (the per-pixel mean of the reference targets as every output; when all targets share a size).
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.metrics.sr import psnr_y, sharpness, ssim_y
from gankit.metrics.sr_eval import hwc, model_channels


class RandomConvFeatures(nn.Module):
    """(N, 1|3, H, W) in [0, 1] -> (N, 512): resized to 64x64 (bilinear, antialiased), greyscale repeated
    to 3 channels, mapped to [-1, 1]; three 3x3 stride-2 convolutions (3 -> 64 -> 128 -> 256, ReLU) with
    weights N(0, 1/fan_in) drawn from torch.Generator seed 0 and no bias; per-channel spatial mean and std."""

    name = "randconv-v1"
    num_features = 512

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.weights = [torch.randn(o, i, 3, 3, generator=gen) / (i * 9) ** 0.5 for i, o in ((3, 64), (64, 128),
                                                                                             (128, 256))]
        self.sha256 = hashlib.sha256(b"".join(w.numpy().tobytes() for w in self.weights)).hexdigest()

    @torch.no_grad()
    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        h = F.interpolate(x, size=(64, 64), mode="bilinear", antialias=True, align_corners=False) * 2 - 1
        for w in self.weights:
            h = F.relu(F.conv2d(h, w, stride=2, padding=1))
        return torch.cat([h.mean((2, 3)), h.std((2, 3))], 1)


def reference_pairs(cfg, paired: bool):
    """(TranslationSet of the reference images, where they come from)."""
    from gankit.data.pairs import domain_folders, load_translation_set

    size = cfg.translate.size
    if cfg.data.test_path is not None:
        folders = domain_folders(cfg.data.test_path)
        if not paired and folders is not None:  # CycleGAN's test folders are paired only if their names are
            from gankit.data.pairs import _files

            paired = set(_files(folders[0])) == set(_files(folders[1]))
        return load_translation_set(cfg, paired=True if folders is None else paired, path=cfg.data.test_path,
                                    where="data.test_path", short=size), "data.test_path"
    data = load_translation_set(cfg, paired=paired, short=size)
    if data.heldout is not None:
        return data.heldout, f"holdout {cfg.data.holdout}"
    return data, "train"


#: sharpness counts the energy above 1/8 cycle per pixel (a x4 downscale's Nyquist frequency), as gankit
#: eval of a x4 super-resolution run does: fine detail, which an L1-only model blurs away (pix2pix, fig. 4).
SHARPNESS_SCALE = 4
BETTER = {"l1": "lower", "psnr": "higher", "ssim": "higher", "sharpness": "closer to 1"}


def pair_scores(outs: list, targets: list) -> dict[str, list[float]]:
    """Per image: L1 in [0, 1] units, PSNR and SSIM on Y (outputs as uint8), and the sharpness ratio
    (high-frequency energy of the output's Y over the target's; 1 = as much fine detail as the truth)."""
    per = {"l1": [], "psnr": [], "ssim": [], "sharpness": []}
    for o, t in zip(outs, targets):
        per["l1"].append(float(np.abs(o.astype(np.float64) - t.astype(np.float64)).mean() / 255.0))
        per["psnr"].append(psnr_y(hwc(o), hwc(t)))
        per["ssim"].append(ssim_y(hwc(o), hwc(t)))
        per["sharpness"].append(sharpness(hwc(o), hwc(t), SHARPNESS_SCALE, border=0))
    return per


def kid_of(extractor: RandomConvFeatures, outs: list, targets: list, seed: int) -> float:
    from gankit.metrics.fid import kid

    feats = [torch.cat([extractor(torch.from_numpy(np.asarray(a))[None].float() / 255.0) for a in s])
             for s in (targets, outs)]
    return kid(feats[0], feats[1], seed=seed)[0]


def to_u8(x: Tensor) -> np.ndarray:
    return np.round(x.cpu().numpy() * 255.0).astype(np.uint8)


def translations(g, images: list, to: str, seed: int = 0) -> list[np.ndarray]:
    """``g``'s translations of uint8 (C, H, W) images towards domain ``to``, as uint8 (C, H, W) arrays, each
    image on its own and seeded as ``gankit eval`` runs them."""
    return [to_u8(g.translate_tensor(t[None].float() / 255.0, to, seed)[0]) for t in images]


def evaluate_translator(run, g, cfg, seed: int = 0) -> dict:
    """The ``scores`` and ``data`` parts of eval.json for a translation run."""
    data, where = reference_pairs(model_channels(cfg, g.shape[0]), paired=cfg.task == "pix2pix")
    to = g.default_to
    src, dst = (data.a, data.b) if to == "B" else (data.b, data.a)
    outs = translations(g, src, to, seed)
    targets = [np.asarray(t) for t in dst]
    runs = {"gankit": outs, "identity": [np.asarray(t) for t in src]}
    if len({t.shape for t in targets}) == 1:
        runs["mean"] = [np.round(np.mean(targets, 0)).astype(np.uint8)] * len(targets)
    extractor, scores = RandomConvFeatures(), {}
    step = g.meta.get("step")
    common = {"reference_split": where, "seed": seed, "step": step}
    for who, images in runs.items():
        tag = "" if who == "gankit" else f"_{who}"
        if data.paired:
            for name, v in pair_scores(images, targets).items():
                scores[name + tag] = {"value": float(np.mean(v)), "better": BETTER[name],
                                      "n_real": len(v), "n_generated": len(v), "reference": who, **common,
                                      "extractor": None, "per_image": [round(float(x), 4) for x in v]}
        scores["kid" + tag] = {"value": kid_of(extractor, images, targets, seed), "better": "lower",
                               "n_real": len(targets), "n_generated": len(images), "reference": who, **common,
                               "extractor": extractor.name, "extractor_sha256": extractor.sha256}
    info = {"dataset": cfg.data.test_path or cfg.data.path, "kind": "image", "shape": list(g.shape),
            "items": len(src), "reference_split": where, "paired": data.paired, "to": to,
            "resized_to": f"shorter side {cfg.translate.size}",
            "y_channel": "MATLAB rgb2ycbcr (studio range), no border cropped",
            "inference": "dropout on, batch norm on each image's own statistics (seeded)" if g.noise else "eval mode"}
    return {"scores": scores, "data": info}
