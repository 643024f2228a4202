"""The domain classifier: a small CNN gankit trains on a labelled image set and uses as evaluator.

Inception-v3 features (the FID standard) need a download and know nothing about 8x8 digits; a
classifier trained on the domain itself works offline, is quick on a CPU, and its features separate
exactly the things that matter there. Its penultimate layer is the feature space for FID / KID /
PRDC (like Inception's pool layer), and its class probabilities give the class histogram of
generated samples. Scores made with it are comparable between gankit runs on the same data and
the same classifier (its weights sha256 is recorded with every score), not with published FIDs.

Trained classifiers are cached as ``<cache>/evaluators/classifier-<dataset>-<data sha256[:12]>``:
weights in safetensors, the rest (architecture, classes, held-out accuracy, training settings,
weights sha256) in the JSON sidecar of :mod:`gankit.checkpoint`. Never pickle.

The network is the data kind's (:data:`NETWORKS`): images go straight into the CNN below; sound clips
(N, samples) first through a fixed log-mel front-end (:mod:`gankit.metrics.sound_classifier`), so that
the classifier judges the waveform a user hears, never a generator's spectrogram.

Architecture, for images (N, C, H, W) in [0, 1], any size:
  conv3x3(C->w) ReLU, [maxpool2 while the side > 16], conv3x3(w->2w) ReLU, maxpool2,
  conv3x3(2w->4w) ReLU, adaptive avg pool 4x4, Linear(64w->D) ReLU  => features (N, D)
  dropout, Linear(D->K)                                              => logits (N, K)
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from typing import Callable

from gankit import __version__, checkpoint
from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics.base import FeatureExtractor, has_classifier
from gankit.metrics.cnn import DomainClassifier
from gankit.registry import Registry

EVALUATOR_DIR = "evaluators"
KIND = "gankit-classifier"


def _image_network(in_shape: tuple[int, ...], n_classes: int, width: int, feature_dim: int, **options) -> nn.Module:
    return DomainClassifier(in_shape, n_classes, width, feature_dim)


def _sound_network(in_shape: tuple[int, ...], n_classes: int, width: int, feature_dim: int, **options) -> nn.Module:
    from gankit.metrics.sound_classifier import SoundClassifier

    return SoundClassifier(in_shape, n_classes, width, feature_dim, **options)


def _sound_options(data) -> dict:
    return {"sample_rate": int(data.codec.spec.sample_rate)}


@dataclass(frozen=True)
class Network:
    """How the classifier of one kind of data is built: ``build(in_shape, n_classes, width, feature_dim,
    **options)`` gives a module with ``features(x)`` (N, feature_dim), ``head`` and ``forward(x)`` (N, K)
    logits; ``options(data)`` the settings it needs from the data (kept in the JSON sidecar)."""

    build: Callable[..., nn.Module]
    options: Callable[..., dict] = field(default=lambda data: {})


#: data kind (gankit.modalities) -> its classifier network
NETWORKS: Registry[Network] = Registry("classifier network")
NETWORKS.register("image", "the small CNN above, on images in [0, 1]")(Network(_image_network))
NETWORKS.register("sound", "log-mel front-end + the same CNN, on clips (gankit.metrics.sound_classifier)")(
    Network(_sound_network, _sound_options))


@dataclass
class TrainSettings:
    """How the classifier is trained; ``epochs=None`` sees ~15k examples (1..20 epochs).

    The defaults reach ~98% held-out accuracy on sklearn's digits (11 epochs, ~10-15 s on one core).
    """

    epochs: int | None = None
    batch_size: int = 64
    lr: float = 2e-3
    width: int = 16
    feature_dim: int = 128
    holdout: float = 0.2  # share of the data held out to measure accuracy (at most 10,000 items)
    seed: int = 0

    def resolved_epochs(self, n_train: int) -> int:
        if self.epochs is not None:
            return self.epochs
        return min(20, max(1, math.ceil(15_000 / max(n_train, 1))))


#: settings of the automatic first-use training (`gankit evaluator train` can choose others)
AUTO_TRAIN = TrainSettings()


def labelled_data(cfg: DataConfig) -> tuple[Tensor, Tensor, list[str], str]:
    """(items in the data's own space (images (N, C, H, W) in [0, 1], clips (N, samples)), labels (N,),
    class names, dataset name) of ``cfg``'s whole training set.

    ``data.limit`` and ``data.holdout`` are ignored: a quick run on part of a set is judged by the
    classifier of all of it (the classifier is the feature space, not what is scored).
    """
    data, cfg = _labelled(cfg)
    return _items(data), data.labels, list(data.classes), data.name


def _items(data) -> Tensor:
    """The data's items as read (sound: the clips, not spectrograms sent through Griffin-Lim)."""
    return data.raw if data.raw is not None else data.decode(data.x)


def _labelled(cfg: DataConfig):
    """(the labelled training data of ``cfg`` in full, the config it was loaded with); refused without labels."""
    from gankit.data import guess_name, load_data

    cfg = replace(cfg, limit=None, holdout=0.0)
    name = guess_name(cfg)
    data = load_data(cfg, output="sigmoid")
    if not has_classifier(data.kind):
        raise GankitError(f"the domain classifier reads images and sound; {name} is a {data.kind} (use "
                          f"--extractor standardized)")
    if data.labels is None or data.classes is None:
        where = f" {cfg.path}" if cfg.path else ""
        fix = ("give the clips classes with data.label_pattern or one sub-folder per class" if data.kind == "sound"
               else "put the images in one sub-folder per class, or use --extractor raw")
        raise GankitError(f"dataset {name}{where} has no class labels, so no classifier can be trained; {fix}")
    return data, cfg


def data_sha256(x: Tensor, y: Tensor) -> str:
    h = hashlib.sha256(str(tuple(x.shape)).encode())
    h.update(x.contiguous().numpy().tobytes())
    h.update(y.to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_stem(cfg: DataConfig, name: str, sha: str) -> Path:
    from gankit.data.idx import cache_root

    return cache_root(cfg.cache_dir) / EVALUATOR_DIR / f"classifier-{name}-{sha[:12]}"


def _log(msg: str, quiet: bool) -> None:
    if not quiet:  # stderr: `gankit eval --json` keeps stdout for the JSON
        print(f"gankit: {msg}", file=sys.stderr, flush=True)


def _estimate(seconds: float, done: int, steps: int, quiet: bool) -> None:
    """Say how long training will take, from its first steps, when that is more than a few seconds."""
    left = seconds / done * steps
    if left > 5:
        _log(f"classifier training: about {left:.0f}s ({steps} steps of {seconds / done:.2f}s)", quiet)


@torch.inference_mode()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    model.eval()
    hits = sum(int((model(b).argmax(1) == t).sum()) for b, t in zip(x.split(batch_size), y.split(batch_size)))
    return hits / max(len(y), 1)


def train_classifier(x: Tensor, y: Tensor, n_classes: int, settings: TrainSettings | None = None,
                     *, quiet: bool = True, kind: str = "image", options: dict | None = None) -> tuple[nn.Module, dict]:
    """Train on a seeded random split of (x (N, *item), y (N,)); returns (model, facts incl. accuracy).
    ``kind`` chooses the network (:data:`NETWORKS`), ``options`` its settings."""
    s = settings or TrainSettings()
    if s.epochs is not None and s.epochs < 1:
        raise GankitError(f"--epochs must be >= 1, got {s.epochs}")
    if len(x) < 2:
        raise GankitError(f"need at least 2 labelled images to train a classifier, got {len(x)}")
    gen = torch.Generator().manual_seed(s.seed)
    perm = torch.randperm(len(x), generator=gen)
    n_hold = min(10_000, max(1, round(s.holdout * len(x))))
    hold, train = perm[:n_hold], perm[n_hold:]
    epochs = s.resolved_epochs(len(train))
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # seeded init and dropout without touching the caller's RNG
        torch.manual_seed(s.seed)
        model = NETWORKS.get(kind).build(tuple(x.shape[1:]), n_classes, s.width, s.feature_dim, **(options or {}))
        opt = torch.optim.Adam(model.parameters(), lr=s.lr)
        steps = epochs * math.ceil(len(train) / s.batch_size)
        for epoch in range(epochs):
            model.train()
            order = train[torch.randperm(len(train), generator=gen)]
            total = 0.0
            for i, idx in enumerate(order.split(s.batch_size)):
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
                if epoch == 0 and i == 0:
                    t1 = time.perf_counter()  # the first step pays for warm-up: time the next ones
                elif epoch == 0 and i == 3:
                    _estimate(time.perf_counter() - t1, 3, steps, quiet)
            _log(f"classifier epoch {epoch + 1}/{epochs}: loss {total / max(len(train), 1):.4f}", quiet)
    seconds = time.perf_counter() - t0
    acc = accuracy(model, x[hold], y[hold])
    facts = {"accuracy": acc, "n_train": len(train), "n_holdout": n_hold, "epochs": epochs,
             "train_seconds": round(seconds, 3)}
    return model.eval(), facts


def train_evaluator(cfg: DataConfig, settings: TrainSettings | None = None, *, force: bool = False,
                    quiet: bool = False) -> tuple[DomainClassifier, dict, str, Path]:
    """Train (or with ``force=False`` reuse) and cache the classifier of ``cfg``'s dataset.

    Returns (model, meta, weights sha256, JSON path).
    """
    settings = settings or TrainSettings()
    data, cfg = _labelled(cfg)
    x, y, classes, name = _items(data), data.labels, list(data.classes), data.name
    network = NETWORKS.get(data.kind)
    options = network.options(data)
    sha = data_sha256(x, y)
    stem = cache_stem(cfg, name, sha)
    json_path = stem.with_suffix(".json")
    if json_path.exists() and not force:
        return (*load_evaluator(json_path), json_path)
    _log(f"no evaluator classifier for this {name} data yet: training one on its {len(x)} labelled items "
         f"(once; cached as {json_path})", quiet)
    model, facts = train_classifier(x, y, len(classes), settings, quiet=quiet, kind=data.kind, options=options)
    facts |= _test_accuracy(model, cfg, data)
    meta = {
        "kind": KIND, "gankit_version": __version__, "created": datetime.now().isoformat(timespec="seconds"),
        "dataset": name, "data_sha256": sha, "n_items": len(x), "input_shape": list(x.shape[1:]),
        "data_kind": data.kind, "classes": classes,
        "arch": {"width": settings.width, "feature_dim": settings.feature_dim, **options},
        "settings": asdict(settings), **facts,
    }
    try:
        checkpoint.save(stem, {"model": model.state_dict()}, meta)
    except OSError as e:
        raise GankitError(f"cannot write the classifier to {stem.parent} ({e.strerror}); set data.cache_dir "
                          f"or $GANKIT_CACHE to a writable folder") from None
    test = (f"; {facts['test_accuracy']:.4f} on the {facts['n_test']} items of the test split"
            if "test_accuracy" in facts else "")
    _log(f"classifier accuracy {facts['accuracy']:.4f} on {facts['n_holdout']} held-out items{test} "
         f"({facts['train_seconds']:.1f}s)", quiet)
    return (*load_evaluator(json_path), json_path)


def _test_accuracy(model: nn.Module, cfg: DataConfig, data) -> dict:
    """Accuracy on the data set's own test split (FSDD's recordings 0-4, MNIST's t10k), when it has one: files
    the classifier never saw, the same items evaluation takes as its real reference (the random hold-out
    comes from the training files)."""
    from gankit.data.split import heldout_data

    test, _ = heldout_data(cfg, data)
    if test is None or test.labels is None:
        return {}
    return {"test_accuracy": accuracy(model, _items(test), test.labels), "n_test": len(test)}


def load_evaluator(json_path: str | Path) -> tuple[DomainClassifier, dict, str]:
    """(model, meta, weights sha256) of a cached classifier; the checksum is verified."""
    state, meta = checkpoint.load(json_path)
    if meta.get("kind") != KIND:
        raise GankitError(f"{json_path}: not a gankit evaluator classifier")
    try:
        arch = dict(meta["arch"])
        width, dim = arch.pop("width"), arch.pop("feature_dim")
        model = NETWORKS.get(meta.get("data_kind", "image")).build(tuple(meta["input_shape"]), len(meta["classes"]),
                                                                   width, dim, **arch)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise GankitError(f"{json_path}: classifier weights do not match their description ({e}); delete the "
                          f"file and train again with `gankit evaluator train --force`") from None
    return model.eval(), meta, checkpoint.read_meta(json_path)["sha256"]


def get_classifier(cfg: DataConfig, *, quiet: bool = False) -> tuple[DomainClassifier, dict, str]:
    """The cached classifier of ``cfg``'s labelled image set, trained on first use (built-in sets and
    the user's own class folders alike: a line says so and where it is cached)."""
    return train_evaluator(cfg, AUTO_TRAIN, quiet=quiet)[:3]


class ClassifierFeatures(FeatureExtractor):
    """Penultimate-layer features (and class probabilities) of a trained :class:`DomainClassifier`."""

    name = "classifier"

    def __init__(self, model: DomainClassifier, meta: dict, sha256: str) -> None:
        super().__init__()
        self.model, self.meta, self.sha256 = model.eval(), meta, sha256
        self.num_features = int(meta["arch"]["feature_dim"])
        self.classes: list[str] = list(meta["classes"])

    def check(self, kind: str, shape: tuple[int, ...]) -> None:
        want = tuple(self.meta["input_shape"])
        if kind != self.meta.get("data_kind", "image") or tuple(shape) != want:
            raise GankitError(f"the {self.meta['dataset']} classifier reads images of shape {want}, but this data "
                              f"has items of shape {tuple(shape)}; train one for this data with `gankit "
                              f"evaluator train --data ...`, or use --extractor raw")

    def forward(self, x: Tensor) -> Tensor:  # (N, C, H, W) in [0, 1] -> (N, D)
        return self.model.features(x)

    @torch.inference_mode()
    def probs(self, x: Tensor, batch_size: int = 500) -> Tensor:  # (N, C, H, W) -> (N, K) on the CPU
        dev = next(self.model.parameters()).device
        return torch.cat([self.probs_of_features(self.model.features(b.to(dev))) for b in x.split(batch_size)])

    @torch.inference_mode()
    def probs_of_features(self, feats: Tensor) -> Tensor:  # (N, D) from forward() -> (N, K) on the CPU
        """Class probabilities from features already extracted: FID and the class histogram then share
        one pass of the network over the images."""
        dev = next(self.model.parameters()).device
        return F.softmax(self.model.head(feats.to(dev)).float(), 1).cpu()

    def provenance(self) -> dict:
        test = {"classifier_test_accuracy": self.meta["test_accuracy"]} if "test_accuracy" in self.meta else {}
        return {**super().provenance(), "classifier_dataset": self.meta["dataset"],
                "classifier_accuracy": self.meta["accuracy"], **test}
