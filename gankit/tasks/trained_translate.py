"""A trained translation model on its own: ``gankit.load(run).translate(img)``, ``gankit translate``.

:meth:`TrainedTranslator.translate` takes a PIL image or a numpy array ((H, W) or (H, W, C); uint8, or
floats in [0, 1]) of any size and aspect and returns the same kind at the same size. Pad/crop rule:
the image is reflection-padded on the bottom and right to sides divisible by the generator's multiple
(U-Net: 2^levels, 128 for the facades preset; ResNet: 4) and the output is cut back to the input's
size. It is translated at its own resolution: the networks saw images resized to ``translate.load``
(shorter side) in training, so images of about that scale translate best.

Inference mode (:func:`generator_mode`):

* **pix2pix** (``noise=True``): as the paper (section 3.3) and the reference code without ``--eval``:
  dropout on, batch norm in training mode on the statistics of the image itself (images go one at a
  time, so an output never depends on the other images), the running statistics neither used nor
  updated. The dropout noise comes from ``seed`` (default 0): the same call gives the same output,
  and the global random state is left as it was.
* **CycleGAN**: evaluation mode (instance norm and no dropout: the same either way).

Greyscale input to a colour model goes in as three equal channels and comes back greyscale; colour
input to a greyscale model is translated channel by channel (gankit.tasks.trained_sr.apply_to_image).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from gankit.errors import GankitError
from gankit.tasks.base import Trained
from gankit.tasks.trained_sr import apply_to_image, read_image, write_image


@contextmanager
def generator_mode(G: nn.Module, noise: bool, dropout: bool = True):
    """G in its inference mode (module docstring), restored afterwards; ``dropout=False`` keeps pix2pix's
    dropout off (its expectation), batch norm still on each image's own statistics."""
    was = {m: (m.training, getattr(m, "track_running_stats", None)) for m in G.modules()}
    G.eval()
    if noise:
        for m in G.modules():
            if (isinstance(m, nn.Dropout) and dropout) or isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train()
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False  # batch statistics; running ones neither read nor written
    try:
        yield G
    finally:
        for m, (training, track) in was.items():
            m.training = training
            if track is not None:
                m.track_running_stats = track


@torch.no_grad()
def run_generator(G: nn.Module, x: torch.Tensor, *, noise: bool, seed: int = 0, dropout: bool = True) -> torch.Tensor:
    """G on (N, C, H, W) training-space images of any size (padded, then cut back), in inference mode;
    with ``noise`` one image at a time, dropout seeded by ``seed`` (the global random state kept)."""
    from gankit.models.translation import pad_to

    multiple = int(getattr(G, "multiple", 1))
    with generator_mode(G, noise, dropout):
        if not noise:
            xp, (h, w) = pad_to(x, multiple)
            return G(xp)[..., :h, :w]
        devices = [x.device] if x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            outs = []
            for item in x.split(1):
                xp, (h, w) = pad_to(item, multiple)
                outs.append(G(xp)[..., :h, :w])
            return torch.cat(outs)


class TrainedTranslator(Trained):
    kind = "image"

    def __init__(self, gens: dict[str, nn.Module], meta: dict) -> None:
        self.gens, self.meta = gens, meta  # "ab": A -> B, "ba": B -> A
        d = meta["data"]
        self.channels, self.shape = int(d["shape"][0]), tuple(d["shape"])
        self.offset, self.span = float(d["offset"][0]), float(d["scale"][0])
        self.noise = meta.get("task") == "pix2pix"
        self.default_to = "B" if meta.get("direction", "AtoB") == "AtoB" else "A"

    def sample(self, n: int, *, seed: int | None = None, label=None, **_):
        raise GankitError("a translation run translates images instead of sampling: gankit translate RUN IN --out OUT "
                          "(Python: gankit.load(run).translate(img))")

    samples = sample

    def generator(self, to: str | None) -> nn.Module:
        """The generator making images of domain ``to`` (A or B; None: the run's direction)."""
        to = self.default_to if to is None else str(to)
        key = {"b": "ab", "a": "ba"}.get(to.lower())
        if key is None:
            raise GankitError(f"--to {to}: no such domain; this run translates into "
                              f"{' or '.join(sorted({'ab': 'B', 'ba': 'A'}[k] for k in self.gens))}")
        if key not in self.gens:
            raise GankitError(f"--to {to}: this {self.meta.get('task')} run translates only into {self.default_to} "
                              f"(data.direction={self.meta.get('direction')})")
        return self.gens[key]

    def translate_tensor(self, x: torch.Tensor, to: str | None = None, seed: int = 0,
                         dropout: bool = True) -> torch.Tensor:
        """(N, C, H, W) in [0, 1] -> (N, C, H, W) in [0, 1], images of domain ``to``; ``dropout=False``:
        pix2pix without its dropout noise (what ``gankit export`` writes)."""
        G = self.generator(to)
        device = next(G.parameters()).device
        z = (x.to(device, torch.float32) - self.offset) / self.span
        out = run_generator(G, z, noise=self.noise, seed=seed, dropout=dropout)
        return (out * self.span + self.offset).clamp(0, 1)

    def translate(self, img, to: str | None = None, seed: int = 0, dropout: bool = True):
        """A PIL image or an (H, W[, C]) array translated into domain ``to``, same size, kind and range."""
        self.generator(to)  # a bad domain fails before any work
        return apply_to_image(img, self.channels, lambda x: self.translate_tensor(x, to, seed, dropout), "translate")

    def exportable(self, to: str | None = None, **options):
        """The generator into domain ``to`` as ``gankit export`` writes it (:func:`export_network`)."""
        from gankit.tasks.base import Exportable

        G = self.generator(to)
        net = export_network(G, self.noise)
        m = int(getattr(G, "multiple", 1))
        into = self.default_to if to is None else str(to).upper()
        describe = {"inputs": {"x": {"shape": ["batch", self.channels, "height", "width"], "dtype": "float32",
                                     "encode": "(x01 - offset) / scale, x01 the image in [0, 1]",
                                     "sides": f"height and width multiples of {m}, at least {2 * m}: pad other "
                                              f"sizes on the bottom and right (reflect) and crop the output back"}},
                    "output": {"name": "y", "shape": ["batch", self.channels, "height", "width"]},
                    "decode": {"offset": self.offset, "scale": self.span, "rule": "clip(y * scale + offset, 0, 1)"},
                    "multiple": m, "least": 2 * m, "task": self.meta.get("task"), "into": into,
                    "notes": ("pix2pix: dropout off (gankit translate keeps it on, seeded; "
                              "translate(..., dropout=False) matches this file); batch norm on each image's own "
                              "statistics, as gankit translate" if self.noise else
                              "CycleGAN: evaluation mode, instance norm, as gankit translate")}
        x = torch.rand(2, self.channels, 2 * m, 3 * m)
        dims = {0: ("batch", 1, 1), 2: ("height", m, 2), 3: ("width", m, 2)}
        return Exportable(net, {"x": x}, {"x": dims}, ("y",), describe)

    def translate_file(self, src: Path, out: Path, to: str | None = None, seed: int = 0) -> Path:
        return write_image(self.translate(read_image(src), to, seed), out)


class ImageStatsNorm(nn.Module):
    """A batch norm that normalises each image by its own statistics: batch norm in training mode on a
    batch of one image, as pix2pix translates (the running statistics unused), for any batch."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = bn.weight, bn.bias, bn.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


def export_network(G: nn.Module, noise: bool) -> nn.Module:
    """A copy of G, deterministic, for export: evaluation mode; with pix2pix's ``noise``, dropout off and
    each batch norm on the image's own statistics (:class:`ImageStatsNorm`)."""
    import copy

    net = copy.deepcopy(G).cpu().eval()
    if noise:
        for parent in list(net.modules()):
            for name, child in parent.named_children():
                if isinstance(child, nn.modules.batchnorm._BatchNorm):
                    setattr(parent, name, ImageStatsNorm(child))
    return net


def build_translation_net(meta: dict) -> nn.Module:
    from gankit.config.schema import GeneratorConfig
    from gankit.models import build_generator

    g = meta["generator"]
    fields = {k: v for k, v in g.items() if k in GeneratorConfig.__dataclass_fields__}
    cfg = GeneratorConfig(**{**fields, "betas": tuple(fields.get("betas", (0.5, 0.999)))})
    return build_generator(cfg, tuple(meta["data"]["shape"]))


def load_translator(state: dict, meta: dict, source: str, device: str = "cpu") -> TrainedTranslator:
    names = {"G": "ab" if meta.get("direction", "AtoB") == "AtoB" else "ba", "G_ab": "ab", "G_ba": "ba"}
    gens = {}
    for name, sd in state.items():
        G = build_translation_net(meta)
        try:
            G.load_state_dict(sd)
        except RuntimeError as e:
            raise GankitError(f"{source}: the weights do not fit the generator it describes ({str(e)[:160]})") from None
        gens[names[name]] = G.to(device).eval()
    return TrainedTranslator(gens, meta)
