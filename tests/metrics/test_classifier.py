"""The domain classifier: trains fast on tiny data, caches safetensors + JSON, refuses bad input."""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics import classifier as clf
from gankit.metrics.classifier import (ClassifierFeatures, TrainSettings, get_classifier, load_evaluator,
                                       train_classifier, train_evaluator)
from gankit.metrics.features import Target, extract, get_extractor

FAST = TrainSettings(epochs=3, batch_size=32, width=8, feature_dim=16)


def _bars(n_per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """8x8 images of three classes: a bright left column block, right block, or top block, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.3, size=(3 * n_per_class, 1, 8, 8)).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    x[y == 0, :, :, :3] += 0.7
    x[y == 1, :, :, 5:] += 0.7
    x[y == 2, :, :3, :] += 0.7
    return torch.from_numpy(x.clip(0, 1)), torch.from_numpy(y)


def _folder(root, n_per_class: int = 20, labelled: bool = True):
    x, y = _bars(n_per_class)
    for i, (img, label) in enumerate(zip(x, y)):
        d = root / f"class{int(label)}" if labelled else root
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img[0].numpy() * 255).round().astype(np.uint8), "L").save(d / f"{i:03d}.png")
    return root


def test_learns_tiny_separable_data():
    x, y = _bars(100)
    model, facts = train_classifier(x, y, 3, FAST)
    assert facts["accuracy"] >= 0.95
    assert facts["n_holdout"] == 60 and facts["n_train"] == 240 and facts["epochs"] == 3
    with torch.no_grad():
        assert model.features(x[:5]).shape == (5, 16)
        assert model(x[:5]).shape == (5, 3)


def test_training_is_seeded_and_leaves_global_rng_alone():
    x, y = _bars(30)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, _ = train_classifier(x, y, 3, TrainSettings(epochs=1, width=4, feature_dim=8))
    assert torch.rand(1) == before  # the caller's RNG stream is untouched
    b, _ = train_classifier(x, y, 3, TrainSettings(epochs=1, width=4, feature_dim=8))
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k


def test_cached_as_safetensors_and_json(tmp_path):
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "imgs")), cache_dir=str(tmp_path / "cache"))
    model, meta, sha, path = train_evaluator(cfg, FAST, quiet=True)
    assert path.parent == tmp_path / "cache" / "evaluators"
    weights = path.with_suffix(".safetensors")
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, weights.name])
    blob = weights.read_bytes()
    header_len = struct.unpack("<Q", blob[:8])[0]
    assert json.loads(blob[8 : 8 + header_len])  # a safetensors header, not a pickle
    assert hashlib.sha256(blob).hexdigest() == sha == json.loads(path.read_text())["sha256"]
    assert meta["classes"] == ["class0", "class1", "class2"]
    assert meta["input_shape"] == [1, 8, 8] and 0.0 <= meta["accuracy"] <= 1.0
    assert meta["n_holdout"] == 12 and meta["settings"]["epochs"] == 3
    # found again without training; the weights round-trip exactly
    again_model, again_meta, again_sha = get_classifier(cfg, quiet=True)
    assert again_sha == sha and again_meta["created"] == meta["created"]
    x, _ = _bars(2)
    ex = ClassifierFeatures(again_model, again_meta, again_sha)
    assert torch.allclose(extract(ex, x), extract(ClassifierFeatures(model, meta, sha), x))
    assert ex.probs(x).sum(1).allclose(torch.ones(len(x)))
    # `gankit eval` with fid and classes runs the network once: probabilities from the FID features
    assert torch.allclose(ex.probs_of_features(extract(ex, x)), ex.probs(x), atol=1e-6)


def test_damaged_weights_are_refused(tmp_path):
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "imgs", 5)), cache_dir=str(tmp_path / "c"))
    *_, path = train_evaluator(cfg, TrainSettings(epochs=1, width=4, feature_dim=8), quiet=True)
    w = path.with_suffix(".safetensors")
    w.write_bytes(w.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(GankitError, match="checksum"):
        load_evaluator(path)


def test_folder_classifier_trains_on_first_use(tmp_path, monkeypatch):
    """Issue 18: a user's own class folders get their classifier as the built-in sets do (once, cached)."""
    monkeypatch.setattr(clf, "AUTO_TRAIN", FAST)
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "imgs", 5)), cache_dir=str(tmp_path / "c"))
    model, meta, sha = get_classifier(cfg, quiet=True)
    assert meta["dataset"] == "images" and meta["n_items"] == 15 and meta["classes"] == ["class0", "class1", "class2"]
    assert len(list((tmp_path / "c" / "evaluators").glob("classifier-images-*.json"))) == 1
    assert get_classifier(cfg, quiet=True)[2] == sha  # the cached one, not trained again


def test_unlabelled_images_have_no_classifier(tmp_path):
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "flat", 5, labelled=False)),
                     cache_dir=str(tmp_path / "c"))
    with pytest.raises(GankitError, match="no class labels"):
        train_evaluator(cfg, FAST, quiet=True)


def test_builtin_set_trains_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setattr(clf, "AUTO_TRAIN", TrainSettings(epochs=1, width=4, feature_dim=8))
    cfg = DataConfig(name="digits", cache_dir=str(tmp_path), limit=100)
    target = Target("image", (1, 8, 8), cfg, labelled=True)
    ex = get_extractor("classifier", target, quiet=True)
    assert ex.meta["dataset"] == "digits" and ex.meta["n_items"] == 1797  # data.limit ignored
    assert len(list((tmp_path / "evaluators").glob("classifier-digits-*.json"))) == 1
    assert ex.provenance()["extractor_sha256"] == ex.sha256 and ex.num_features == 8


def test_shape_mismatch_is_a_user_error():
    x, y = _bars(5)
    model, facts = train_classifier(x, y, 3, TrainSettings(epochs=1, width=4, feature_dim=8))
    meta = {"dataset": "bars", "input_shape": [1, 8, 8], "classes": ["a", "b", "c"],
            "arch": {"width": 4, "feature_dim": 8}, **facts}
    ex = ClassifierFeatures(model, meta, "0" * 64)
    ex.check("image", (1, 8, 8))
    with pytest.raises(GankitError, match=r"reads images of shape \(1, 8, 8\).*\(1, 28, 28\)"):
        ex.check("image", (1, 28, 28))
    with pytest.raises(GankitError):
        ex.check("table", (2,))
