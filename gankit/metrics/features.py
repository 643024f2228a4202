"""Feature extractors: data in the generator's data space -> (N, D) features.

The one contract (k-diffusion, torch-fidelity; :mod:`gankit.metrics.base`): a ``FeatureExtractor``
is an ``nn.Module`` whose ``forward`` takes a batch in the data's own space — images (N, C, H, W) in [0, 1], tables
(N, D) in original units, exactly what ``gankit.load(run).sample(n)`` returns — and gives (N, D)
float features. It carries what a score's provenance must name: ``name``, ``sha256`` of its
weights (None when it has none) and ``num_features`` (which torchmetrics' FID/KID read when the
module is passed as ``feature=``). :meth:`check` refuses data it cannot read, before any work.

Registered extractors (``--extractor``):

* ``classifier`` — the penultimate layer of a classifier gankit trains on the labelled dataset
  (:mod:`gankit.metrics.classifier`: a small CNN for greyscale images, a small residual net for
  colour ones, such as CIFAR-10). Offline, fast, sensitive to what matters in that domain;
  numbers are comparable between gankit runs on the same data, not with published FIDs.
* ``inception`` — Inception-v3 pool features through torchmetrics + torch-fidelity, the standard
  behind published FIDs. Used only when installed and its weights are on disk; never downloads.
* ``standardized`` — table columns standardised with the training data's mean and std: the space
  gankit trains tables in, where a column in the thousands (wine's proline) does not swamp the rest.
  The default for tables and toy sets.
* ``raw`` — the data itself, flattened: unlabelled images (pixels), or a table in its own units.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from gankit.errors import GankitError
from gankit.metrics.base import FeatureExtractor, Target, classifiable, has_classifier
from gankit.registry import Registry

#: environment variable naming a local Inception-v3 weights file (torch-fidelity's .pth)
INCEPTION_WEIGHTS_ENV = "GANKIT_INCEPTION_WEIGHTS"
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's release asset


Factory = Callable[..., FeatureExtractor]
EXTRACTORS: Registry[Factory] = Registry("feature extractor")


def default_extractor(target: Target) -> str:
    """``classifier`` for labelled images, ``standardized`` for tables and toy sets, else ``raw``
    (unlabelled images: pixels)."""
    return default_choice(target)[0]


def default_choice(target: Target) -> tuple[str, str]:
    """(the default extractor, why, said when it is not the one a user would expect)."""
    from gankit.modalities import get_modality

    if classifiable(target):
        return "classifier", ""
    name = get_modality(target.kind).feature_space  # what the data's kind is compared in without a classifier
    if name == "raw" and has_classifier(target.kind):  # a classifier would be the default, but has no labels
        return name, ("features: raw pixels, since this data has no class labels to train a classifier on (one "
                      "sub-folder per class gives classifier features); the scores compare runs on this data only")
    return name, ""


def get_extractor(name: str, target: Target, *, weights: str | None = None, quiet: bool = False) -> FeatureExtractor:
    """Build extractor ``name`` for ``target`` and check it can read that data."""
    if weights is not None and name != "inception":
        raise GankitError(f"--inception-weights is for --extractor inception; the {name} extractor has no weights "
                          f"to load")
    ex = EXTRACTORS.get(name)(target, weights=weights, quiet=quiet)
    ex.check(target.kind, target.shape)
    return ex.eval()


@torch.inference_mode()
def extract(extractor: FeatureExtractor, x: Tensor | np.ndarray, *, batch_size: int = 500,
            device: str | torch.device = "cpu") -> Tensor:
    """Features (N, D) float32 on the CPU of a data-space batch (N, ...), in ``batch_size`` chunks."""
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).float()
    extractor.to(device)
    out = [extractor(b.to(device)).float().cpu() for b in t.split(batch_size)]
    feats = torch.cat(out) if out else torch.zeros(0, extractor.num_features)
    if feats.ndim != 2 or feats.shape[1] != extractor.num_features:
        raise RuntimeError(f"extractor {extractor.name} returned {tuple(feats.shape)}, "
                           f"expected (N, {extractor.num_features})")
    return feats


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- raw


class RawFeatures(FeatureExtractor):
    """The data itself, flattened: (N, *shape) -> (N, prod(shape))."""

    name = "raw"

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.num_features = math.prod(self.shape)

    def check(self, kind: str, shape: tuple[int, ...]) -> None:
        if tuple(shape) != self.shape:
            raise GankitError(f"the raw extractor was made for items of shape {self.shape}, not {tuple(shape)}")

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(len(x), -1).float()


@EXTRACTORS.register("raw", "the data itself, flattened (tables and toy sets)")
def _raw(target: Target, *, weights: str | None = None, quiet: bool = False) -> FeatureExtractor:
    return RawFeatures(target.shape)


# ----------------------------------------------------------------------------- standardized


class StandardizedFeatures(FeatureExtractor):
    """Columns minus the training data's mean, divided by its std (constant columns: by 1)."""

    name = "standardized"
    learns_from_data = True

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.num_features = math.prod(self.shape)
        self.register_buffer("mean", torch.zeros(self.num_features))
        self.register_buffer("std", torch.ones(self.num_features))

    def check(self, kind: str, shape: tuple[int, ...]) -> None:
        if tuple(shape) != self.shape:
            raise GankitError(f"the standardized extractor was made for items of shape {self.shape}, not {tuple(shape)}")

    def fit(self, x) -> None:
        """Mean and std of the training data (float64), and their sha256 as the weights' provenance."""
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x).reshape(len(x), -1).double()
        mean, std = t.mean(0), t.std(0, unbiased=False)
        std = torch.where(std > 0, std, torch.ones_like(std))
        self.mean, self.std = mean.float(), std.float()
        self.sha256 = hashlib.sha256(mean.numpy().tobytes() + std.numpy().tobytes()).hexdigest()

    def forward(self, x: Tensor) -> Tensor:
        return (x.reshape(len(x), -1).float() - self.mean) / self.std


@EXTRACTORS.register("standardized", "columns standardised with the training data's mean and std (tables)")
def _standardized(target: Target, *, weights: str | None = None, quiet: bool = False) -> FeatureExtractor:
    return StandardizedFeatures(target.shape)


# ----------------------------------------------------------------------------- classifier


@EXTRACTORS.register("classifier", "penultimate layer of gankit's domain classifier (labelled images)")
def _classifier(target: Target, *, weights: str | None = None, quiet: bool = False) -> FeatureExtractor:
    from gankit.metrics.classifier import ClassifierFeatures, get_classifier
    from gankit.modalities import get_modality

    if not has_classifier(target.kind):
        raise GankitError(f"--extractor classifier reads images, but this run's data is a {target.kind}; "
                          f"use --extractor {get_modality(target.kind).feature_space}")
    return ClassifierFeatures(*get_classifier(target.data, quiet=quiet))


# ----------------------------------------------------------------------------- inception


def find_inception_weights(weights: str | None) -> Path:
    """The local Inception-v3 weights file: ``weights``, $GANKIT_INCEPTION_WEIGHTS, or torch's hub cache."""
    given = weights or os.environ.get(INCEPTION_WEIGHTS_ENV) or None
    if given is not None:
        p = Path(given).expanduser()
        if not p.is_file():
            src = "--inception-weights" if weights else f"${INCEPTION_WEIGHTS_ENV}"
            raise GankitError(f"{src} {given}: no such weights file; give the path of {INCEPTION_FILE} "
                              f"(torch-fidelity's Inception-v3 weights)")
        return p
    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return cached
    raise GankitError(f"Inception-v3 weights are not on this machine and gankit never downloads them; get "
                      f"{INCEPTION_FILE} from the torch-fidelity releases and pass --inception-weights FILE "
                      f"(or set ${INCEPTION_WEIGHTS_ENV}), or use --extractor classifier")


class InceptionFeatures(FeatureExtractor):
    """Inception-v3 2048-d pool features (torch-fidelity's port of the TF FID network)."""

    name = "inception"
    num_features = 2048

    def __init__(self, path: Path) -> None:
        from torchmetrics.image.fid import NoTrainInceptionV3

        super().__init__()
        self.sha256 = file_sha256(path)
        self.net = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                      feature_extractor_weights_path=str(path))

    def check(self, kind: str, shape: tuple[int, ...]) -> None:
        _inception_check(kind, shape)

    def forward(self, x: Tensor) -> Tensor:  # (N, 1|3, H, W) in [0, 1] -> (N, 2048)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.net((x * 255).byte())  # as torchmetrics' FID with normalize=True


def _inception_check(kind: str, shape: tuple[int, ...]) -> None:
    if kind != "image" or len(shape) != 3 or shape[0] not in (1, 3):
        raise GankitError(f"--extractor inception reads grayscale or RGB images, but this data has items "
                          f"of shape {tuple(shape)}; use --extractor raw")


@EXTRACTORS.register("inception", "Inception-v3 pool features (needs torch-fidelity and local weights)")
def _inception(target: Target, *, weights: str | None = None, quiet: bool = False) -> FeatureExtractor:
    import importlib.util

    _inception_check(target.kind, target.shape)
    path = find_inception_weights(weights)
    if importlib.util.find_spec("torch_fidelity") is None:
        raise GankitError("--extractor inception needs the torch-fidelity package (pip install torch-fidelity), "
                          "which is not installed; or use --extractor classifier")
    return InceptionFeatures(path)
