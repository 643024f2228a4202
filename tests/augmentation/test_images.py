"""gankit augment on a folder of labelled pictures: the augmented set's format and labels, the manifest, a
gankit run trained on the output, and a holdout that neither the generator nor any classifier saw."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin

import gankit
from augmentation.helpers import CLASSES, QUICK, pictures
from conftest import pictures_off
from gankit.cli import main
from gankit.data import DATASETS
from gankit.data.split import holdout_indices
from gankit.config import DataConfig


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One `gankit augment` through the CLI: a conditional DCGAN on 60 pictures, --ratio 1."""
    base = tmp_path_factory.mktemp("augment")
    pics = pictures(base / "pics")
    with pictures_off():
        rc = main(["augment", "images-dcgan", f"data.path={pics}", *QUICK, "--ratio", "1", "--out", str(base / "out"),
                   "--quiet"])
    assert rc == 0
    return base / "pics", base / "out"


def manifest(out):
    with open(out / "data" / "manifest.csv") as f:
        return list(csv.DictReader(f))


def test_the_augmented_set_is_class_folders_of_pngs_with_a_manifest(made):
    pics, out = made
    doc = json.loads((out / "augment.json").read_text())
    rows = manifest(out)
    real = [r for r in rows if r["synthetic"] == "0"]
    fake = [r for r in rows if r["synthetic"] == "1"]
    assert doc["classes"] == list(CLASSES) and doc["holdout"]["items"] == 12 and len(real) == 48
    assert doc["synthetic_per_class"] == doc["train"]["per_class"]  # --ratio 1: as many as real, per class
    for name in CLASSES:
        files = sorted(p.name for p in (out / "data" / name).iterdir())
        assert files == sorted(r["file"].split("/")[1] for r in rows if r["class"] == name)
        made = sum(r["class"] == name and r["synthetic"] == "1" for r in rows)
        assert made == doc["train"]["per_class"][CLASSES.index(name)]
    for r in rows:
        assert r["file"].split("/")[0] == r["class"] and (out / "data" / r["file"]).exists()
        assert r["file"].split("/")[1].startswith("synthetic_" if r["synthetic"] == "1" else "real_")
    with Image.open(out / "data" / fake[0]["file"]) as im:
        assert im.size == (16, 16) and im.mode == "L"
    # a real item is written as it was read: the same pixels as the source picture
    raw = DATASETS.get("images")(DataConfig(path=str(pics)), 0)
    r = real[0]
    with Image.open(out / "data" / r["file"]) as im:
        np.testing.assert_array_equal(np.asarray(im), raw.x[int(r["source_index"]), 0])  # 8-bit pixels as read
    assert "augment set conditional.mode=projection" in doc["notes"]


def test_gankit_trains_on_the_augmented_set(made, tmp_path):
    _, out = made
    rows = manifest(out)
    with pictures_off():
        run = gankit.train("images-dcgan", f"data.path={out / 'data'}", "conditional.mode=projection", *QUICK,
                           out=tmp_path / "again", quiet=True)
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["items"] == len(rows)
    assert gankit.load(run).classes == list(CLASSES)


class Spy(BaseEstimator, ClassifierMixin):
    """A classifier that remembers every item it was trained on (and predicts the class frequencies)."""

    seen: list = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, x, y):
        Spy.seen.append(np.asarray(x).copy())
        self.classes_ = np.unique(y)
        self.prior_ = np.bincount(y, minlength=len(self.classes_))[self.classes_] / len(y)
        return self

    def predict_proba(self, x):
        return np.tile(self.prior_, (len(x), 1))


def test_the_holdout_is_never_seen_by_the_generator_or_any_classifier(made, tmp_path):
    pics, out = made
    run = out / "run"
    raw = DATASETS.get("images")(DataConfig(path=str(pics)), 0)
    keep, held, record = holdout_indices(len(raw.x), 0.2, 0)  # the draw of data.holdout=0.2, train.seed=0
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["split"]["indices_sha256"] == record["indices_sha256"]  # the generator's own holdout
    assert info["data"]["items"] == len(keep)
    assert not {int(r["source_index"]) for r in manifest(out) if r["synthetic"] == "0"} & set(held.tolist())
    Spy.seen = []
    with pictures_off():
        doc = gankit.augment(run, out=tmp_path / "again", ratio=1, measure=True, seeds=2, classifier=Spy(),
                             filter=0.2)
    held_rows = {raw.x[i].tobytes() for i in held}  # 8-bit pixels as read
    kept_rows = {raw.x[i].tobytes() for i in keep}
    assert len(Spy.seen) == 1 + 2 * 4  # the filter's judge, then 2 seeds x (real, gan, baseline, filtered)
    for x in Spy.seen:
        rows = {np.round(r.reshape(1, 16, 16) * 255).astype(np.uint8).tobytes() for r in x}
        assert not rows & held_rows  # no held-out picture in any classifier's training items
        assert kept_rows <= rows  # every real training picture in each
    assert doc["gain"]["holdout"]["items"] == len(held)


def test_the_gain_is_reported_with_mean_spread_and_a_verdict(made, tmp_path):
    _, out = made
    pool = pictures(tmp_path / "pool", (6, 6, 6), seed=1)  # other pictures: the positive control's extra real items
    with pictures_off():
        doc = gankit.augment(out / "run", out=tmp_path / "m", per_class=4, measure=True, seeds=2, cnn_steps=3,
                             pool=pool, baseline="crop,flip")
    gain = doc["gain"]
    arms = gain["classifiers"]["cnn"]
    assert list(arms) == ["real", "gan", "baseline", "extra_real"] and gain["seeds"] == [0, 1]
    for name, arm in arms.items():
        assert len(arm["accuracy"]["values"]) == 2 and len(arm["recall"]) == 3
        if name != "real":
            g = arm["gain"]["macro_f1"]
            assert g["mean"] == pytest.approx(arm["macro_f1"]["mean"] - arms["real"]["macro_f1"]["mean"], abs=1e-5)
            assert arm["verdict"] in ("gain", "loss", "no measurable gain")
    assert [gain["added"][a]["mean"] for a in ("gan", "baseline", "extra_real")] == [12, 12, 12]
    assert gain["baseline"] == "shifts + flips" and gain["pool"]["items"] == 18
    text = (tmp_path / "m" / "gain.md").read_text()
    assert "| + synthetic (GAN) | 12 |" in text and gain["headline"]["cnn"] in text
    assert json.loads((tmp_path / "m" / "gain.json").read_text())["headline"] == gain["headline"]


def test_no_ema_samples_g_itself_from_the_final_checkpoint(made, tmp_path):
    from gankit import checkpoint
    from gankit.augmentation.generate import load_sampler

    _, out = made
    with pictures_off():
        plain = gankit.augment(out / "run", out=tmp_path / "g", per_class=2, ema=False)
    assert plain["generator"]["weights"].startswith("G (not the EMA")
    assert json.loads((out / "augment.json").read_text())["generator"]["weights"] == "EMA"
    state, _ = checkpoint.load(checkpoint.checkpoints_in(out / "run" / "checkpoints")[-1])
    g, _ = load_sampler(out / "run", ema=False, has_ema=True)
    for name, tensor in g.G.state_dict().items():  # G's own weights, not their moving average
        assert np.array_equal(tensor.numpy(), state["train"]["nets"]["G"][name].numpy())
