"""The feature-extractor contract, the registry, and the Inception extractor's refusals."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from gankit.config import DataConfig
from gankit.errors import GankitError
from gankit.metrics.classifier import ClassifierFeatures, DomainClassifier
from gankit.metrics.features import (EXTRACTORS, INCEPTION_FILE, INCEPTION_WEIGHTS_ENV, RawFeatures, Target,
                                     default_extractor, extract, get_extractor)

IMAGES = Target("image", (1, 8, 8), DataConfig(name="digits"), labelled=True)
TABLE = Target("table", (2,), DataConfig(name="ring"), labelled=True)


def test_registry_names_and_defaults():
    assert set(EXTRACTORS.names()) == {"raw", "standardized", "classifier", "inception"}
    assert default_extractor(IMAGES) == "classifier"
    assert default_extractor(TABLE) == "standardized"  # issue 18: table columns in the space gankit trains in
    assert default_extractor(Target("image", (3, 8, 8), DataConfig(name="images"), labelled=False)) == "raw"
    with pytest.raises(GankitError, match='did you mean "raw"'):
        get_extractor("rwa", TABLE)


def test_raw_features_are_the_data():
    ex = get_extractor("raw", IMAGES)
    x = torch.rand(10, 1, 8, 8)
    f = extract(ex, x)
    assert f.shape == (10, 64) and ex.num_features == 64
    assert torch.equal(f, x.reshape(10, 64))
    assert ex.provenance() == {"extractor": "raw", "extractor_sha256": None, "feature_dim": 64}
    with pytest.raises(GankitError, match="shape"):
        RawFeatures((2,)).check("table", (3,))


@pytest.mark.parametrize("batch_size", [1, 7, 500])
def test_extraction_does_not_depend_on_batch_size(batch_size):
    torch.manual_seed(0)
    model = DomainClassifier((1, 8, 8), 10, width=4, feature_dim=8).eval()
    meta = {"dataset": "digits", "input_shape": [1, 8, 8], "classes": list("0123456789"),
            "arch": {"width": 4, "feature_dim": 8}, "accuracy": 0.0}
    ex = ClassifierFeatures(model, meta, "0" * 64)
    x = np.random.default_rng(0).uniform(size=(23, 1, 8, 8)).astype(np.float32)
    assert torch.allclose(extract(ex, x, batch_size=batch_size), extract(ex, x, batch_size=23), atol=1e-6)


def test_classifier_needs_images():
    with pytest.raises(GankitError, match="reads images.*use --extractor standardized"):
        get_extractor("classifier", TABLE)


def test_inception_missing_weights_file(tmp_path):
    with pytest.raises(GankitError, match="nope.pth: no such weights file"):
        get_extractor("inception", IMAGES, weights=str(tmp_path / "nope.pth"))


def test_inception_missing_weights_env(tmp_path, monkeypatch):
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(tmp_path / "gone.pth"))
    with pytest.raises(GankitError, match=rf"\${INCEPTION_WEIGHTS_ENV} .*gone.pth: no such weights file"):
        get_extractor("inception", IMAGES)


def test_inception_never_downloads(tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(GankitError, match=f"never downloads.*{INCEPTION_FILE}"):
        get_extractor("inception", IMAGES)


def test_inception_without_torch_fidelity(tmp_path):
    if importlib.util.find_spec("torch_fidelity") is not None:
        pytest.skip("torch-fidelity is installed here")
    weights = tmp_path / INCEPTION_FILE
    weights.write_bytes(b"not really weights")
    with pytest.raises(GankitError, match="needs the torch-fidelity package"):
        get_extractor("inception", IMAGES, weights=str(weights))


def test_inception_refuses_tables_before_looking_for_weights():
    with pytest.raises(GankitError, match=r"grayscale or RGB images.*shape \(2,\)"):
        get_extractor("inception", TABLE)
