"""The domain classifier: a network gankit trains on a labelled data set and uses as evaluator.

Inception-v3 features (the FID standard) need a download and know nothing about 8x8 digits; a
classifier trained on the domain itself works offline, is quick on a CPU, and its features separate
exactly the things that matter there. Its penultimate layer is the feature space for FID / KID /
PRDC (like Inception's pool layer), and its class probabilities give the class histogram of
generated samples. Scores made with it are comparable between gankit runs on the same data and
the same classifier (its weights sha256 and accuracy are recorded with every score), not with
published (Inception) FIDs.

Which network (:mod:`gankit.metrics.classifier_networks`): greyscale images get a small CNN
(:mod:`gankit.metrics.cnn`; ~98% on digits and MNIST), colour images (3 channels, CIFAR-10) a small residual
net trained with airbench's fast CIFAR-10 recipe (:mod:`gankit.metrics.colour_classifier`), sound clips
(N, samples) a fixed log-mel front-end before the small CNN (:mod:`gankit.metrics.sound_classifier`), so
that the classifier judges the waveform a user hears, never a generator's spectrogram.

Accuracy is measured on the data's test split when it has one (``data.test_path``: CIFAR-10's 10,000 test
images; MNIST's t10k; FSDD's test speakers), else on a held-out share of the training data; the sidecar and
every score's provenance say which. Training first times a few steps and prints an estimate of its time.

Trained classifiers are cached as ``<cache>/evaluators/classifier-<dataset>[-<network>]-<data sha256[:12]>``
(the network named unless it is the data kind's own): weights in safetensors, the rest (network,
architecture, classes, accuracy, training settings, weights sha256) in the JSON sidecar of
:mod:`gankit.checkpoint`. Never pickle.
"""

from __future__ import annotations

import hashlib
import math
import sys
import time
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit import __version__, checkpoint
from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics.base import FeatureExtractor, has_classifier
from gankit.metrics.classifier_networks import NETWORKS, TrainSettings, network_for
from gankit.metrics.cnn import DomainClassifier  # noqa: F401  (imported from here by gankit.augmentation)

EVALUATOR_DIR = "evaluators"
KIND = "gankit-classifier"


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


def cache_stem(cfg: DataConfig, name: str, sha: str, network: str | None = None) -> Path:
    """Where the classifier of data set ``name`` (data sha256 ``sha``) is cached; ``network`` names a network
    other than the data kind's own (the colour net), so that each network has its own file."""
    from gankit.data.idx import cache_root

    net = f"{network}-" if network else ""
    return cache_root(cfg.cache_dir) / EVALUATOR_DIR / f"classifier-{name}-{net}{sha[:12]}"


def _log(msg: str, quiet: bool) -> None:
    if not quiet:  # stderr: `gankit eval --json` keeps stdout for the JSON
        print(f"gankit: {msg}", file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"~{seconds:.0f} s"
    return f"~{seconds / 60:.0f} min" if seconds < 5400 else f"~{seconds / 3600:.1f} h"


class _Clock:
    """Times the first steps of a training (the first pays for warm-up: the next three are timed) and then
    says once, before the bulk of it, how long all ``steps`` will take on this CPU."""

    def __init__(self, steps: int, what: str, quiet: bool) -> None:
        self.steps, self.what, self.quiet, self.done, self.t1 = steps, what, quiet, 0, 0.0

    def tick(self) -> None:
        self.done += 1
        if self.done == 1:
            self.t1 = time.perf_counter()
        elif self.done == 4:
            step = (time.perf_counter() - self.t1) / 3
            threads = torch.get_num_threads()
            _log(f"{self.what}: {_duration(step * self.steps)} on this CPU ({threads} thread{'s' * (threads > 1)}; "
                 f"{self.steps} steps of {step:.2f} s)", self.quiet)


@torch.inference_mode()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 1000) -> float:
    model.eval()
    hits = sum(int((model(b).argmax(1) == t).sum()) for b, t in zip(x.split(batch_size), y.split(batch_size)))
    return hits / max(len(y), 1)


def _scores(model: nn.Module, x: Tensor, y: Tensor, hold: Tensor, test: tuple[Tensor, Tensor] | None) -> dict:
    """Accuracy on the held-out share and on the test split, and which one is *the* accuracy: the test
    split's when there is one (files the classifier never saw), else the held-out share's."""
    facts: dict = {"n_holdout": len(hold)}
    if len(hold):
        facts["holdout_accuracy"] = accuracy(model, x[hold], y[hold])
    if test is not None:
        facts |= {"test_accuracy": accuracy(model, *test), "n_test": len(test[1])}
    on = "test split" if test is not None else "held-out share"
    return {"accuracy": facts["test_accuracy" if test is not None else "holdout_accuracy"], "accuracy_on": on,
            **facts}


def train_classifier(x: Tensor, y: Tensor, n_classes: int, settings: TrainSettings | None = None, *,
                     quiet: bool = True, kind: str = "image", options: dict | None = None,
                     test: tuple[Tensor, Tensor] | None = None, label: str = "domain") -> tuple[nn.Module, dict]:
    """Train the network of (x (N, *item), y (N,)) (``settings.network``, else :func:`choose_network`) and
    return (model, facts incl. accuracy and the resolved settings). ``options``: the network's settings.

    Accuracy is measured on ``test`` (items (M, *item), labels (M,)) when given, else on a seeded random
    held-out share of x; a network that ``holds_out`` keeps that share out of training even with a test.
    """
    settings = settings or TrainSettings()
    name, net = network_for(settings, kind, tuple(x.shape[1:]))
    s = settings.resolved(net.defaults)
    if s.epochs is not None and s.epochs < 1:
        raise GankitError(f"--epochs must be >= 1, got {s.epochs}")
    if len(x) < 2:
        raise GankitError(f"need at least 2 labelled items to train a classifier, got {len(x)}")
    gen = torch.Generator().manual_seed(s.seed)
    perm = torch.randperm(len(x), generator=gen)
    n_hold = min(10_000, max(1, round(s.holdout * len(x)))) if net.holds_out or test is None else 0
    hold, train = perm[:n_hold], perm[n_hold:]
    s = replace(s, network=name, epochs=s.epochs or net.epochs(len(train)))
    steps = s.epochs * math.ceil(len(train) / s.batch_size)
    clock = _Clock(steps, f"training the {label} classifier ({name}, {len(train)} items, {s.epochs} epochs)", quiet)
    t0 = time.perf_counter()
    with torch.random.fork_rng(devices=[]):  # seeded init and dropout without touching the caller's RNG
        torch.manual_seed(s.seed)
        model = net.build(tuple(x.shape[1:]), n_classes, s.width, s.feature_dim, **(options or {}))
        net.fit(model, x, y, train, s.epochs, s.batch_size, s.lr, gen, clock.tick, lambda msg: _log(msg, quiet))
    seconds = time.perf_counter() - t0
    facts = {**_scores(model, x, y, hold, test), "network": name, "n_train": len(train), "epochs": s.epochs,
             "train_seconds": round(seconds, 3), "settings": asdict(s)}
    return model.eval(), facts


def train_evaluator(cfg: DataConfig, settings: TrainSettings | None = None, *, force: bool = False,
                    quiet: bool = False) -> tuple[nn.Module, dict, str, Path]:
    """Train (or with ``force=False`` reuse) and cache the classifier of ``cfg``'s dataset.

    Returns (model, meta, weights sha256, JSON path).
    """
    settings = settings or TrainSettings()
    data, cfg = _labelled(cfg)
    x, y, classes, name = _items(data), data.labels, list(data.classes), data.name
    net_name, network = network_for(settings, data.kind, tuple(x.shape[1:]))
    options = network.options(data)
    sha = data_sha256(x, y)
    stem = cache_stem(cfg, name, sha, None if net_name == data.kind else net_name)
    json_path = stem.with_suffix(".json")
    if json_path.exists() and not force:
        return (*load_evaluator(json_path), json_path)
    _log(f"no evaluator classifier for this {name} data yet: training one on its {len(x)} labelled items "
         f"(network {net_name}; once; cached as {json_path})", quiet)
    model, facts = train_classifier(x, y, len(classes), replace(settings, network=net_name), quiet=quiet,
                                    kind=data.kind, options=options, test=_test_split(cfg, data), label=name)
    s = facts.pop("settings")
    meta = {
        "kind": KIND, "gankit_version": __version__, "created": datetime.now().isoformat(timespec="seconds"),
        "dataset": name, "data_sha256": sha, "n_items": len(x), "input_shape": list(x.shape[1:]),
        "data_kind": data.kind, "classes": classes,
        "arch": {"width": s["width"], "feature_dim": s["feature_dim"], **options}, "settings": s, **facts,
    }
    try:
        checkpoint.save(stem, {"model": model.state_dict()}, meta)
    except OSError as e:
        raise GankitError(f"cannot write the classifier to {stem.parent} ({e.strerror}); set data.cache_dir "
                          f"or $GANKIT_CACHE to a writable folder") from None
    _log(f"classifier accuracy {describe_accuracy(meta)} ({facts['train_seconds']:.1f}s)", quiet)
    return (*load_evaluator(json_path), json_path)


def describe_accuracy(meta: dict) -> str:
    """"0.8512 on the 10000 items of the test split" (or of the held-out share), as a sidecar records it."""
    if meta.get("accuracy_on") == "test split":
        return f"{meta['accuracy']:.4f} on the {meta['n_test']} items of the test split"
    test = (f"; {meta['test_accuracy']:.4f} on the {meta['n_test']} items of the test split"
            if "test_accuracy" in meta else "")
    return f"{meta['accuracy']:.4f} on {meta['n_holdout']} held-out items{test}"


def _test_split(cfg: DataConfig, data) -> tuple[Tensor, Tensor] | None:
    """(items, labels) of the data set's own test split (data.test_path: CIFAR-10's 10,000 test images;
    FSDD's recordings 0-4, MNIST's t10k), when it has one: files the classifier never saw, the same items
    evaluation takes as its real reference (the random hold-out comes from the training files)."""
    from gankit.data.split import heldout_data

    test, _ = heldout_data(cfg, data)
    if test is None or test.labels is None:
        return None
    return _items(test), test.labels


def load_evaluator(json_path: str | Path) -> tuple[nn.Module, dict, str]:
    """(model, meta, weights sha256) of a cached classifier; the checksum is verified."""
    state, meta = checkpoint.load(json_path)
    if meta.get("kind") != KIND:
        raise GankitError(f"{json_path}: not a gankit evaluator classifier")
    try:
        arch = dict(meta["arch"])
        width, dim = arch.pop("width"), arch.pop("feature_dim")
        network = NETWORKS.get(meta.get("network") or meta.get("data_kind", "image"))  # no name: cached before there were two
        model = network.build(tuple(meta["input_shape"]), len(meta["classes"]), width, dim, **arch)
        model.load_state_dict(state["model"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise GankitError(f"{json_path}: classifier weights do not match their description ({e}); delete the "
                          f"file and train again with `gankit evaluator train --force`") from None
    return model.eval(), meta, checkpoint.read_meta(json_path)["sha256"]


def get_classifier(cfg: DataConfig, *, quiet: bool = False) -> tuple[nn.Module, dict, str]:
    """The cached classifier of ``cfg``'s labelled image set, trained on first use (built-in sets and
    the user's own class folders alike: a line says so and where it is cached)."""
    return train_evaluator(cfg, AUTO_TRAIN, quiet=quiet)[:3]


class ClassifierFeatures(FeatureExtractor):
    """Penultimate-layer features (and class probabilities) of a trained domain classifier: (N, feature_dim),
    ``arch.feature_dim`` of its sidecar (128 for the small CNN and the colour net by default)."""

    name = "classifier"

    def __init__(self, model: nn.Module, meta: dict, sha256: str) -> None:
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
        """The extractor's hash and size, and the classifier's network, data and accuracy (where measured)."""
        meta = self.meta
        test = {"classifier_test_accuracy": meta["test_accuracy"]} if "test_accuracy" in meta else {}
        return {**super().provenance(), "classifier_dataset": meta["dataset"],
                "classifier_network": meta.get("network") or meta.get("data_kind", "image"),
                "classifier_accuracy": meta["accuracy"],
                "classifier_accuracy_on": meta.get("accuracy_on", "held-out share"), **test}
