"""Sound is scored: the spoken-digit classifier (cache, provenance), gankit eval and eval.every on a tiny
SpecGAN run, the near-copy statistic by hand, and the benchmark's baselines — on tones the tests write."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.cli import main

TINY = ["data.duration=0.24", "data.n_mels=16", "data.frames=16", "data.griffin_lim=4",
        "generator.channels=[8,8]", "discriminator.channels=[8,8]", "generator.latent_dim=8",
        "train.steps=4", "train.batch_size=4", "log.grid_size=6", "log.progress=off"]
SAMPLES = 1920
SPLIT = r"data.test_pattern=_0\.wav$"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, make_digits):
    return make_digits(tmp_path_factory.mktemp("rec") / "rec", digits=(0, 1, 2), speakers=("ann", "bob"), takes=3)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("cache")
    mp.setenv("GANKIT_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def run(tmp_path_factory, folder, cache):
    out = tmp_path_factory.mktemp("sound") / "run"
    assert main(["train", "fsdd-specgan", f"data.path={folder}", SPLIT, *TINY, "--out", str(out), "--quiet"]) == 0
    return out


def sound_cfg(folder):
    from gankit.api import load_config

    return load_config("fsdd-specgan", f"data.path={folder}", SPLIT, "data.duration=0.24").data


def test_the_classifier_reads_clips_and_is_cached_with_its_provenance(folder, cache, capsys):
    from gankit.metrics.classifier import ClassifierFeatures, load_evaluator, train_evaluator

    model, meta, sha, path = train_evaluator(sound_cfg(folder))
    assert "training one on its 12 labelled items" in capsys.readouterr().err
    assert meta["data_kind"] == "sound" and meta["input_shape"] == [SAMPLES] and meta["classes"] == ["0", "1", "2"]
    assert meta["arch"]["sample_rate"] == 8000 and meta["n_test"] == 6 and 0 <= meta["test_accuracy"] <= 1
    assert path.parent == cache / "evaluators" and len(meta["data_sha256"]) == 64
    stamp = path.stat().st_mtime_ns
    again = train_evaluator(sound_cfg(folder))  # reused, not trained again
    assert "training one" not in capsys.readouterr().err and path.stat().st_mtime_ns == stamp and again[2] == sha
    loaded, _, sha2 = load_evaluator(path)
    clips = torch.randn(3, SAMPLES) * 0.1
    with torch.no_grad():
        assert torch.allclose(loaded(clips), model(clips)) and model.features(clips).shape == (3, 128)
    feats = ClassifierFeatures(model, meta, sha)
    prov = feats.provenance()
    assert prov["extractor_sha256"] == sha == sha2 and prov["classifier_test_accuracy"] == meta["test_accuracy"]
    from gankit.errors import GankitError

    with pytest.raises(GankitError, match="reads images of shape"):
        feats.check("image", (1, 16, 16))  # a sound classifier refuses pictures


def test_gankit_eval_scores_a_sound_run(run, capsys):
    assert main(["eval", str(run), "--n", "30"]) == 0
    doc = json.loads((run / "eval.json").read_text())
    s = doc["scores"]
    assert doc["data"]["reference_split"] == "test" and doc["data"]["kind"] == "sound"
    for name in ("classifier_score", "fid", "class_kl", "conditional_accuracy", "nn_distance", "near_copies"):
        assert name in s, name
    assert 1.0 <= s["classifier_score"]["value"] <= 3.0 + 1e-6 and s["classifier_score"]["extractor"] == "classifier"
    assert s["fid"]["n_real"] == 6 and s["fid"]["real_vs_real"]["splits"] == ["test", "train"]
    assert sum(s["class_kl"]["histogram"]) == 30 and s["class_kl"]["classes"] == ["0", "1", "2"]
    assert s["nn_distance"]["real_to_train"] > 0 and s["nn_distance"]["real_vs_real"] is None
    assert "classifier_test_accuracy" in s["fid"]


def test_near_copies_need_held_out_clips(folder, cache, tmp_path, capsys):
    """Without a test split the real side of the near-copy check would be the training clips themselves
    (always 0 copies): by default it is left out, and asked for by name it is refused in one line."""
    out = tmp_path / "nosplit"
    assert main(["train", "fsdd-specgan", f"data.path={folder}", "data.test_pattern=null", *TINY, "--out", str(out),
                 "--quiet"]) == 0
    assert main(["eval", str(out), "--n", "12"]) == 0
    scores = json.loads((out / "eval.json").read_text())["scores"]
    assert "fid" in scores and "near_copies" not in scores and "nn_distance" not in scores
    capsys.readouterr()
    assert main(["eval", str(out), "--n", "12", "--metrics", "nearest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs held-out items" in err[0]


def test_augment_refuses_sound_in_one_line(folder, tmp_path, capsys):
    assert main(["augment", "fsdd-specgan", f"data.path={folder}", SPLIT, *TINY, "--per-class", "2",
                 "--out", str(tmp_path / "aug")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sound data is not supported yet" in err[0]


def test_eval_every_scores_during_training(folder, cache, tmp_path):
    out = tmp_path / "scored"
    assert main(["train", "fsdd-specgan", f"data.path={folder}", SPLIT, *TINY, "eval.every=2", "eval.n=12",
                 "--out", str(out), "--quiet"]) == 0
    rows = (out / "eval_metrics.csv").read_text().splitlines()
    names = {r.split(",")[1] for r in rows[1:]}
    assert {"fid", "classifier_score", "class_kl", "conditional_accuracy"} <= names and {r.split(",")[0] for r in rows[1:]} == {"2", "4"}


def test_nn_distance_by_hand():
    from gankit.metrics.nearest import nearest_scores, nn_distances

    train = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    real = torch.tensor([[0.0, 3.0], [10.0, 4.0]])  # 3 and 4 from the training points: median 3.5, min 3
    fake = torch.tensor([[0.0, 1.0], [6.0, 0.0], [10.0, 0.0]])  # 1, 4, 0
    assert nn_distances(fake, train).tolist() == [1.0, 4.0, 0.0]
    s = nearest_scores(fake, real, train)
    assert s["nn_distance"]["value"] == 1.0 and s["nn_distance"]["real_to_train"] == 3.5
    assert s["nn_distance"]["ratio"] == pytest.approx(1 / 3.5)
    assert s["near_copies"]["value"] == 2 and s["near_copies"]["threshold"] == 3.0  # 1 and 0 are below 3


def test_baselines_and_clips_read_back_from_disk(run, folder, tmp_path):
    from gankit.api import load_config
    from gankit.data import load_data
    from gankit.metrics.sound_eval import (class_mean_clips, noise_clips, read_clip_folder, score_clips,
                                           sound_plan)

    cfg = load_config(str(run / "config.yaml")).data
    data = load_data(cfg)
    noise, names = noise_clips(data, 6)
    assert noise.shape == (6, SAMPLES) and names == ["0", "0", "1", "1", "2", "2"]
    assert np.sqrt((noise ** 2).mean()) == pytest.approx(float(data.raw.pow(2).mean().sqrt()), rel=0.2)
    templates, names = class_mean_clips(data, 6)
    assert np.array_equal(templates[0], templates[1]) and not np.array_equal(templates[0], templates[2])
    mean0 = data.x[data.labels == 0].mean(0, keepdim=True)
    assert np.allclose(templates[0], data.codec.decode(mean0).numpy()[0])
    assert main(["sample", str(run), "--n", "6", "--out", str(tmp_path / "clips/")]) == 0
    clips, labels = read_clip_folder(tmp_path / "clips", SAMPLES)
    assert clips.shape == (6, SAMPLES) and labels == ["0", "0", "1", "1", "2", "2"]
    plan = sound_plan(data, cfg, 6)
    s = score_clips(plan, data, clips, labels)
    assert s["conditional_accuracy"]["n_generated"] == 6 and s["fid"]["real_vs_real"] is not None
