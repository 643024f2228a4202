"""The colour-image classifier (issue 17): its shapes, the network rule, accuracy on the test split, the
time estimate, and provenance. Tiny data made here, one CPU thread, a few seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics.classifier import ClassifierFeatures, TrainSettings, load_evaluator, train_classifier, train_evaluator
from gankit.metrics.classifier_networks import NETWORKS, choose_network, network_for
from gankit.metrics.colour_classifier import ColourClassifier, augment, triangle

TINY = TrainSettings(epochs=2, batch_size=16, width=4, feature_dim=8)


def _colours(n_per_class: int, side: int = 12, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(3 * n, 3, side, side) images in [0, 1] whose class is their dominant channel, plus noise; labels (3 * n,)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.4, size=(3 * n_per_class, 3, side, side)).astype(np.float32)
    y = np.repeat(np.arange(3), n_per_class)
    x[np.arange(len(y)), y] += 0.6
    return torch.from_numpy(x.clip(0, 1)), torch.from_numpy(y)


def _folder(root, n_per_class: int, seed: int):
    x, y = _colours(n_per_class, seed=seed)
    for i, (img, label) in enumerate(zip(x, y)):
        d = root / ["red", "green", "blue"][int(label)]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), "RGB").save(d / f"{i:03d}.png")
    return root


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("side", [32, 64])
def test_shapes(side):
    model = ColourClassifier((3, side, side), 10, width=8, feature_dim=32).eval()
    x = torch.rand(2, 3, side, side)
    assert model.features(x).shape == (2, 32)  # (N, feature_dim): the penultimate layer FID reads
    assert model(x).shape == (2, 10)
    assert torch.allclose(model.head(model.features(x)), model(x))  # probabilities from features alone
    assert model.pools == 0


def test_large_images_are_pooled_and_tiny_ones_refused():
    model = ColourClassifier((3, 200, 150), 4, width=4, feature_dim=8).eval()
    assert model.pools == 2 and model(torch.rand(1, 3, 200, 150)).shape == (1, 4)
    with pytest.raises(GankitError, match="at least 8x8.*--network image"):
        ColourClassifier((3, 6, 6), 4)


def test_whitening_decorrelates_patches():
    x, _ = _colours(20, side=16)
    model = ColourClassifier((3, 16, 16), 3, width=4, feature_dim=8)
    model.whiten_from(x)
    with torch.no_grad():
        out = model.whiten((x - 0.5) * 4)[:, :12]  # (N, 12, 15, 15): the filters, before their negatives
    flat = out.permute(0, 2, 3, 1).reshape(-1, 12)
    cov = flat.T @ flat / len(flat)
    assert flat.mean(0).abs().max() < 1e-3
    assert torch.allclose(cov, torch.eye(12), atol=0.05)


def test_augment_and_schedule():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 12, 12)
    out = augment(x, torch.ones(8, dtype=torch.bool), gen)
    assert out.shape == x.shape
    assert triangle(0, 100) == pytest.approx(0.2) and triangle(23, 100) == pytest.approx(1.0)
    assert triangle(100, 100) == pytest.approx(0.07)


def test_network_rule():
    assert choose_network("image", (3, 32, 32)) == "resnet"
    assert choose_network("image", (3, 64, 48)) == "resnet"
    assert choose_network("image", (1, 28, 28)) == "image"  # MNIST keeps its small CNN
    assert choose_network("image", (3, 4, 4)) == "image"
    assert choose_network("sound", (8000,)) == "sound"
    assert network_for(TrainSettings(network="image"), "image", (3, 32, 32))[0] == "image"
    with pytest.raises(GankitError, match="reads sound, but this data is image; choose one of: image, resnet"):
        network_for(TrainSettings(network="sound"), "image", (3, 32, 32))
    with pytest.raises(GankitError, match="unknown classifier network"):
        network_for(TrainSettings(network="inception"), "image", (3, 32, 32))
    assert "resnet" in NETWORKS.names()


def test_trains_on_everything_when_a_test_split_exists():
    x, y = _colours(40)
    xt, yt = _colours(10, seed=1)
    model, facts = train_classifier(x, y, 3, TINY, test=(xt, yt))
    assert facts["network"] == "resnet" and facts["accuracy_on"] == "test split"
    assert facts["n_train"] == 120 and facts["n_holdout"] == 0 and facts["n_test"] == 30
    assert facts["accuracy"] == facts["test_accuracy"] >= 0.9
    _, facts = train_classifier(x, y, 3, TINY)  # no test split: a held-out share, as before
    assert facts["accuracy_on"] == "held-out share" and facts["n_holdout"] == 24 and facts["n_train"] == 96


def test_prints_an_estimate_first(capsys):
    x, y = _colours(40)
    train_classifier(x, y, 3, TINY, quiet=False, label="colours")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("gankit: training the colours classifier (resnet, 96 items, 2 epochs): ~")
    assert "on this CPU (1 thread; 12 steps of " in err[0]
    assert err[1].startswith("gankit: classifier epoch 1/2")


def test_evaluator_on_a_test_split_and_provenance(tmp_path):
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "train", 20, 0)),
                     test_path=str(_folder(tmp_path / "test", 5, 1)), cache_dir=str(tmp_path / "cache"))
    model, meta, sha, path = train_evaluator(cfg, TINY, quiet=True)
    assert path.name.startswith("classifier-images-resnet-")  # its own file beside a small CNN's
    assert meta["network"] == "resnet" and meta["accuracy_on"] == "test split" and meta["n_test"] == 15
    assert meta["n_holdout"] == 0 and meta["n_train"] == 60 and meta["input_shape"] == [3, 12, 12]
    assert json.loads(path.read_text())["sha256"] == sha
    again, again_meta, again_sha = load_evaluator(path)
    prov = ClassifierFeatures(again, again_meta, again_sha).provenance()
    assert prov["extractor_sha256"] == sha and prov["feature_dim"] == 8
    assert prov["classifier_network"] == "resnet" and prov["classifier_accuracy_on"] == "test split"
    assert prov["classifier_accuracy"] == meta["accuracy"] == prov["classifier_test_accuracy"]
    x, _ = _colours(2, seed=2)
    with torch.no_grad():
        assert torch.allclose(again(x), model(x))


def test_old_sidecars_without_a_network_name_still_load(tmp_path):
    cfg = DataConfig(name="images", path=str(_folder(tmp_path / "train", 5, 0)), cache_dir=str(tmp_path / "c"))
    *_, path = train_evaluator(cfg, TrainSettings(network="image", epochs=1, width=4, feature_dim=8), quiet=True)
    assert path.name.startswith("classifier-images-") and "-image-" not in path.name
    doc = json.loads(path.read_text())
    for key in ("network", "accuracy_on"):
        del doc["meta"][key]
    path.write_text(json.dumps(doc))
    model, meta, sha = load_evaluator(path)
    prov = ClassifierFeatures(model, meta, sha).provenance()
    assert prov["classifier_network"] == "image" and prov["classifier_accuracy_on"] == "held-out share"


def test_cli_chooses_the_network_and_reports_test_accuracy(tmp_path, capsys):
    train, test = _folder(tmp_path / "train", 10, 0), _folder(tmp_path / "test", 4, 1)
    args = ["evaluator", "train", "--data", str(train), "--epochs", "1", "--threads", "1", "--quiet",
            f"data.test_path={test}", f"data.cache_dir={tmp_path / 'c'}"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("images classifier: test accuracy ") and "on the 12 items of the test split" in out
    assert "network resnet, 1 epochs" in out
    assert main([*args, "--network", "sound"]) == 2
    assert "reads sound, but this data is image" in capsys.readouterr().err
