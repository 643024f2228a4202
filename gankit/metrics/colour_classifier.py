"""The colour-image classifier (CIFAR-10 and any colour set): a small residual conv net and the fast
CIFAR-10 recipe that trains it in minutes on one CPU thread.

Why not the small CNN of :mod:`gankit.metrics.cnn`: it reaches ~98% on digits but under 50% on CIFAR-10,
and FID / KID / precision / recall in the feature space of a classifier that confuses half the classes
miss what a GAN gets wrong there. Inception-v3 needs a download and a GPU's worth of compute; this net
is trained by gankit on the user's data, offline (its FIDs compare gankit runs on the same data, never
published Inception FIDs).

The recipe is Keller Jordan's airbench94 (Jordan 2024, "94% on CIFAR-10 in 3.29 seconds on a single
GPU", arXiv:2404.00498), itself grown from tysam's hlb-CIFAR10 and David Page's DAWNBench ResNet (Page
2018, "How to train your ResNet"), narrowed for a CPU (32, 64 and 128 channels against airbench's 64, 256
and 256: ~20M multiply-adds an image) and given ResNet-9's residuals. On CIFAR-10, 6 epochs at batch 512
reach 84.3% on the test set in ~10 CPU-minutes at one thread (8 epochs: 84.9%). The recipe:

* a frozen 2x2 patch-whitening first convolution: its filters are the eigenvectors of the training
  images' 2x2-patch covariance, scaled to unit variance, with their negatives (so GELU keeps both
  signs); it is set from the data when training starts (:meth:`ColourClassifier.whiten_from`);
* three groups of conv3x3 -> maxpool2 -> BN -> GELU -> conv3x3 -> BN -> GELU, the second conv inside a
  residual (Page's ResNet-9), widths ``width, 2*width, feature_dim``; identity (dirac) initialisation;
  batch norms without a learnt scale, their biases learning 64x faster;
* a global max pool gives the features (N, feature_dim), the penultimate layer FID reads; a linear head
  without bias, its logits scaled by 1/9;
* SGD with Nesterov momentum 0.85, learning rate and weight decay per 1,024 examples (airbench's
  decoupled form, loss summed over the batch), a triangular schedule (a warm-up over the first 23% of
  steps, then linear decay to 7%), label smoothing 0.2;
* augmentation: left-right flips that alternate every epoch (each image is shown flipped every other
  epoch) and random translations by up to 2 pixels (reflect padding).

Label smoothing keeps the class probabilities soft (mean confidence 0.66 on real CIFAR-10 images), so the
classifier score (the Inception-score formula) of real images is ~3 of at most 10: a run is compared with
that, the real-vs-real figure, not with 10.

Any size of at least 8x8 works: the whitening conv trims one pixel, the groups halve the side three times
(rounding up), and the whitened maps of images larger than 64 pixels are max-pooled to at most 64 first,
which bounds the cost.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import GankitError

WHITEN_KERNEL = 2
LOGIT_SCALE = 1 / 9
BN_MOMENTUM = 0.4  # PyTorch's convention: airbench's 0.6 running-average weight on the old statistics
MOMENTUM = 0.85
WEIGHT_DECAY = 0.0153  # per 1,024 examples, decoupled from the learning rate (airbench)
BIAS_LR_SCALE = 64.0
LABEL_SMOOTHING = 0.2
TRANSLATE = 2  # pixels
WARMUP = 0.23  # share of the steps spent warming up
FINAL_LR = 0.07  # the schedule's end, as a share of the peak
MAX_SIDE = 64  # larger images are max-pooled down to this before the groups


def _norm(channels: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)
    bn.weight.requires_grad_(False)  # no learnt scale: the next conv's scale does that job
    return bn


def _conv(c_in: int, c_out: int) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
    with torch.no_grad():  # identity init of the first c_in filters (airbench): the net starts near a copy
        nn.init.dirac_(conv.weight[: min(c_in, c_out)])
    return conv


class _Group(nn.Module):
    """conv3x3 -> maxpool2 -> BN -> GELU, then a residual conv3x3 -> BN -> GELU; halves the side."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1, self.norm1 = _conv(c_in, c_out), _norm(c_out)
        self.conv2, self.norm2 = _conv(c_out, c_out), _norm(c_out)

    def forward(self, x: Tensor) -> Tensor:  # (N, c_in, H, W) -> (N, c_out, ceil(H/2), ceil(W/2))
        x = F.gelu(self.norm1(F.max_pool2d(self.conv1(x), 2, ceil_mode=True)))
        return x + F.gelu(self.norm2(self.conv2(x)))


class _Scale(nn.Module):
    """Multiplies by a constant: the head's 1/9, so that ``head(features)`` are the logits."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale


class ColourClassifier(nn.Module):
    """(N, C, H, W) images in [0, 1] -> (N, feature_dim) features -> (N, n_classes) logits."""

    def __init__(self, in_shape: tuple[int, ...], n_classes: int, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        c, h, w = in_shape
        if min(h, w) < 8:
            raise GankitError(f"the resnet classifier needs images of at least 8x8 pixels, got {h}x{w}; use "
                              f"--network image")
        white = 2 * c * WHITEN_KERNEL ** 2
        self.whiten = nn.Conv2d(c, white, WHITEN_KERNEL, bias=True)
        self.whiten.weight.requires_grad_(False)  # set from the data (whiten_from), then frozen
        self.pools = 0
        side = min(h, w) - 1
        while side > MAX_SIDE:
            self.pools, side = self.pools + 1, math.ceil(side / 2)
        widths = (white, width, 2 * width, feature_dim)
        self.groups = nn.Sequential(*(_Group(a, b) for a, b in zip(widths, widths[1:])))
        self.head = nn.Sequential(nn.Linear(feature_dim, n_classes, bias=False), _Scale(LOGIT_SCALE))
        self.in_shape = tuple(in_shape)

    def features(self, x: Tensor) -> Tensor:  # (N, C, H, W) in [0, 1] -> (N, feature_dim)
        x = F.gelu(self.whiten((x - 0.5) * 4))  # (N, 8C, H-1, W-1)
        for _ in range(self.pools):
            x = F.max_pool2d(x, 2, ceil_mode=True)
        return torch.amax(self.groups(x), dim=(2, 3))  # (N, feature_dim, h, w) -> global max pool

    def forward(self, x: Tensor) -> Tensor:  # (N, C, H, W) -> (N, n_classes) logits
        return self.head(self.features(x))

    @torch.no_grad()
    def whiten_from(self, x: Tensor, eps: float = 5e-4) -> None:
        """Set the first conv to whiten 2x2 patches of ``x`` (N, C, H, W) in [0, 1] (Page 2018; airbench)."""
        k = WHITEN_KERNEL
        patches = ((x.float() - 0.5) * 4).unfold(2, k, 1).unfold(3, k, 1)  # (N, C, H-1, W-1, k, k)
        patches = patches.permute(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1] * k * k)  # (P, C*k*k)
        mean = patches.mean(0)
        centred = patches - mean
        cov = centred.T @ centred / len(centred)
        values, vectors = torch.linalg.eigh(cov)  # ascending; each column one eigenvector
        filters = (vectors / (values + eps).sqrt()).T.flip(0)  # (C*k*k, C*k*k), strongest first
        weight = torch.cat([filters, -filters]).reshape(self.whiten.weight.shape)
        self.whiten.weight.copy_(weight)
        self.whiten.bias.copy_(-(torch.cat([filters, -filters]) @ mean))  # zero-mean outputs


def _translate(x: Tensor, shifts: Tensor, pad: int) -> Tensor:
    """(N, C, H, W) images each moved by its own (dy, dx) in [-pad, pad] (reflect padding): (N, C, H, W)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad,) * 4, mode="reflect")
    out = torch.empty_like(x)
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            hit = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            if hit.any():
                out[hit] = padded[hit, :, pad + dy: pad + dy + h, pad + dx: pad + dx + w]
    return out


def augment(x: Tensor, flip: Tensor, gen: torch.Generator) -> Tensor:
    """Flip the images where ``flip`` (N,) is true and move each by up to 2 pixels: (N, C, H, W)."""
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = min(TRANSLATE, x.shape[-1] - 1, x.shape[-2] - 1)
    return _translate(x, torch.randint(-pad, pad + 1, (len(x), 2), generator=gen), pad) if pad > 0 else x


def _optimiser(model: nn.Module, lr: float, batch_size: int) -> torch.optim.SGD:
    """SGD-Nesterov in airbench's decoupled form: ``lr`` and the weight decay are per 1,024 examples of
    a summed loss, independent of the momentum; batch-norm biases learn 64x faster, without more decay."""
    kilostep = 1024 * (1 + 1 / (1 - MOMENTUM))
    base, decay = lr / kilostep, WEIGHT_DECAY * batch_size / kilostep
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    norms = [p for n, p in params if ".norm" in n]
    rest = [p for n, p in params if ".norm" not in n]
    groups = [{"params": norms, "lr": base * BIAS_LR_SCALE, "weight_decay": decay / (base * BIAS_LR_SCALE)},
              {"params": rest, "lr": base, "weight_decay": decay / base}]
    return torch.optim.SGD(groups, lr=base, momentum=MOMENTUM, nesterov=True)


def triangle(step: int, steps: int) -> float:
    """The learning rate's share of its peak at ``step`` of ``steps``: 0.2 -> 1 over the warm-up, -> 0.07."""
    t, w = step / max(steps, 1), WARMUP
    return 0.2 + 0.8 * t / w if t < w else 1 - (1 - FINAL_LR) * (t - w) / (1 - w)


def fit(model: ColourClassifier, x: Tensor, y: Tensor, train: Tensor, epochs: int, batch_size: int, lr: float,
        gen: torch.Generator, tick: Callable[[], None], log: Callable[[str], None]) -> None:
    """Train ``model`` on the items ``train`` (indices) of x (N, C, H, W) in [0, 1] and y (N,) with the
    recipe above; ``tick()`` after each step (the time estimate), ``log`` once an epoch."""
    model.whiten_from(x[train[torch.randperm(len(train), generator=gen)[:5000]]])
    model.to(memory_format=torch.channels_last)  # oneDNN's convolutions run ~1.5x faster so on a CPU
    opt = _optimiser(model, lr, batch_size)
    steps = epochs * math.ceil(len(train) / batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: triangle(i, steps))
    flipped = torch.rand(len(train), generator=gen) < 0.5  # alternating flips: this half first
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train), generator=gen)
        total = 0.0
        for pos in order.split(batch_size):
            if len(pos) < 2:
                continue  # a last batch of one item: batch norm cannot normalise a single 1x1 map
            idx = train[pos]
            xb = augment(x[idx], flipped[pos] ^ bool(epoch % 2), gen).contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(xb), y[idx], label_smoothing=LABEL_SMOOTHING, reduction="sum")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            tick()
        log(f"classifier epoch {epoch + 1}/{epochs}: loss {total / max(len(train), 1):.4f}")
    model.to(memory_format=torch.contiguous_format)  # safetensors stores contiguous tensors
