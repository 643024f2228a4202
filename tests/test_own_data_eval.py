"""Issue 18 ("Your own data, first try"): a label column trains conditionally, `gankit eval` on the user's
own images and tables, held-out data, health warnings on short runs, and the AC-GAN head in summaries.

Every run here is tiny, on data the tests make (CPU only, no network).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import struct

import numpy as np
import pytest

import gankit
from gankit import config as C
from gankit.cli import main

pytestmark = pytest.mark.usefixtures("no_pictures")

TINY = ["generator.hidden=[16]", "discriminator.hidden=[16]", "train.threads=1", "train.batch_size=16",
        "log.every=1"]


def wine(path, n: int = 60, seed: int = 0, classes=("barolo", "grignolino", "barbera")):
    """A wine-like table: alcohol ~13, proline ~700 (it swamps raw-unit distances), a word label."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["alcohol", "proline", "cultivar"])
        for i in range(n):
            k = i % len(classes)
            w.writerow([f"{rng.normal(12.5 + k, 0.5):.2f}", f"{rng.normal(500 + 300 * k, 150):.0f}", classes[k]])
    return path


def images(folder, n: int = 12, labelled: bool = True):
    """n small RGB images per class (red, blue), in class sub-folders or all in one folder."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        where = folder / c if labelled else folder
        where.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = np.clip(np.array(colour) + rng.normal(0, 25, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(a).save(where / f"{c}{i}.png")
    return folder


# ----------------------------------------------------------------------------- 1. a label column means conditional


def test_label_column_alone_trains_a_conditional_model(tmp_path, capsys):
    data = wine(tmp_path / "wine.csv")
    run = tmp_path / "run"
    assert main(["train", "digits", f"data.path={data}", "data.label_column=cultivar", "train.steps=3", *TINY,
                 "--out", str(run)]) == 0
    assert "conditional on cultivar (3 classes, projection)" in capsys.readouterr().out  # the start-up line
    g = gankit.load(run)
    assert g.num_classes == 3 and g.classes == ["barbera", "barolo", "grignolino"]
    assert C.read_yaml(run / "config.yaml")["conditional"]["mode"] == "projection"  # resolved, as it ran
    assert main(["sample", str(run), "--label", "barolo", "--n", "4", "--out", str(tmp_path / "b.csv")]) == 0


def test_conditional_mode_none_keeps_a_label_column_unconditional(tmp_path, capsys):
    data = wine(tmp_path / "wine.csv")
    run = tmp_path / "run"
    assert main(["train", "digits", f"data.path={data}", "data.label_column=cultivar", "conditional.mode=none",
                 "train.steps=3", *TINY, "--out", str(run)]) == 0
    assert "unconditional" in capsys.readouterr().out
    assert gankit.load(run).num_classes == 0


def test_dry_run_shows_the_resolved_mode_and_presets_keep_theirs(tmp_path, capsys):
    assert main(["train", "digits", "data.label_column=cultivar", f"data.path={wine(tmp_path / 'w.csv')}",
                 "--dry-run"]) == 0
    assert "mode: projection" in capsys.readouterr().out
    conditional = {"mnist-cgan", "fsdd-specgan", "fsdd-wavegan", "cifar10-dcgan", "cifar10-sngan", "cifar10-sngan-gpu"}
    expected = {name: ("projection" if name in conditional else "none") for name in gankit.api.list_presets()}
    assert {name: C.load(name).conditional.mode for name in expected} == expected
    assert C.Config().conditional.mode == "auto" and C.validate(C.Config()).conditional.mode == "none"


def test_an_old_config_with_mode_none_and_a_label_column_loads_unchanged():
    old = {"data": {"path": "x.csv", "label_column": "species"}, "conditional": {"mode": "none"}}
    assert C.from_dict(old).conditional.mode == "none"
    assert C.from_dict({"data": {"path": "x.csv", "label_column": "species"}}).conditional.mode == "projection"


# ----------------------------------------------------------------------------- 2. eval on the user's own images


@pytest.fixture
def cache(tmp_path, monkeypatch):
    from gankit.metrics import classifier as clf

    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(clf, "AUTO_TRAIN", clf.TrainSettings(epochs=1, width=4, feature_dim=8))
    return tmp_path / "cache"


def image_run(tmp_path, labelled: bool):
    folder = images(tmp_path / ("classes" if labelled else "flat"), labelled=labelled)
    run = tmp_path / ("run-classes" if labelled else "run-flat")
    assert main(["train", "digits-dcgan", "data.name=images", f"data.path={folder}", "train.steps=2",
                 "train.batch_size=8", "generator.channels=[8,4]", "discriminator.channels=[4,8]",
                 "--out", str(run), "--quiet"]) == 0
    return run


def test_eval_trains_the_classifier_of_a_labelled_folder_on_first_use(tmp_path, cache, capsys):
    run = image_run(tmp_path, labelled=True)
    assert main(["eval", str(run), "--n", "24"]) == 0
    out, err = capsys.readouterr()
    cached = next((cache / "evaluators").glob("classifier-images-*.json"))
    assert "training one on its 24 labelled items" in err and str(cached) in err  # says so, and where
    doc = json.loads((run / "eval.json").read_text())
    assert doc["scores"]["fid"]["extractor"] == "classifier" and "class_kl" in doc["scores"]
    assert main(["eval", str(run), "--n", "24"]) == 0
    assert "training one" not in capsys.readouterr().err  # cached: trained once


def test_eval_of_an_unlabelled_folder_says_it_scores_raw_pixels(tmp_path, cache, capsys):
    run = image_run(tmp_path, labelled=False)
    assert main(["eval", str(run), "--n", "24"]) == 0
    err = capsys.readouterr().err
    assert "features: raw pixels" in err and "no class labels" in err
    assert json.loads((run / "eval.json").read_text())["scores"]["fid"]["extractor"] == "raw"


@pytest.mark.parametrize("args, words", [
    (["--metrics", "modes"], "ring and grid"),
    (["--extractor", "inception", "--inception-weights", "nosuch.pth"], "no such weights file"),
    (["--metrics", "prdc", "--n", "3"], "at least 6"),
])
def test_a_failing_eval_fails_before_sampling(tmp_path, cache, capsys, monkeypatch, args, words):
    from gankit.metrics.pipeline import Plan

    run = image_run(tmp_path, labelled=False)
    sampled = []
    monkeypatch.setattr(Plan, "generate", lambda self, g: sampled.append(1))
    assert main(["eval", str(run), *args]) == 2
    assert words in capsys.readouterr().err and sampled == []


def test_an_eval_json_that_cannot_be_written_fails_before_sampling(tmp_path, cache, capsys, monkeypatch):
    from gankit.metrics.pipeline import Plan

    run = image_run(tmp_path, labelled=False)
    (run / "eval.json").mkdir()  # as root, permissions stop nothing: a folder in the file's place does
    sampled = []
    monkeypatch.setattr(Plan, "generate", lambda self, g: sampled.append(1))
    assert main(["eval", str(run), "--n", "24"]) == 2
    assert "cannot write" in capsys.readouterr().err and sampled == []


# ----------------------------------------------------------------------------- 3. table scores that mean something


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    from conftest import pictures_off

    root = tmp_path_factory.mktemp("wine")
    run = root / "run"
    with pictures_off():
        assert main(["train", "digits", f"data.path={wine(root / 'wine.csv')}", "data.label_column=cultivar",
                     "train.steps=3", *TINY, "--out", str(run), "--quiet"]) == 0
    return run


def test_table_scores_are_in_standardised_columns(wine_run, capsys):
    import torch

    from gankit.metrics import fid

    assert main(["eval", str(wine_run), "--n", "200", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["scores"]
    assert s["fid"]["extractor"] == "standardized" and len(s["fid"]["extractor_sha256"]) == 64
    rows = np.array([[float(r[0]), float(r[1])] for r in list(csv.reader(open(wine_run.parent / "wine.csv")))[1:]])
    mean, std = rows.mean(0), rows.std(0)
    fake = gankit.load(wine_run).samples(200, seed=0)
    by_hand = fid(torch.tensor((rows - mean) / std), torch.tensor((fake - mean) / std))
    assert s["fid"]["value"] == pytest.approx(by_hand, rel=1e-3)
    assert abs(s["kid"]["value"]) < 10  # raw units gave -1.8e12 on the wine table


def test_each_score_says_which_way_is_better_and_what_real_data_scores(wine_run, capsys):
    assert main(["eval", str(wine_run), "--n", "200", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["scores"]
    assert (s["fid"]["better"], s["kid"]["better"], s["coverage"]["better"], s["density"]["better"]) == (
        "lower", "lower", "higher", None)
    rvr = s["fid"]["real_vs_real"]  # two disjoint halves of the 60 training rows
    assert rvr["n"] == [30, 30] and rvr["splits"] == ["train", "train"] and 0 <= rvr["value"] < s["fid"]["value"]
    assert main(["eval", str(wine_run), "--n", "200"]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[1].split()
    assert head[:4] == ["metric", "value", "better", "real-vs-real"]
    fid_row = next(line.split() for line in out.splitlines() if line.startswith("fid"))
    assert fid_row[2] == "lower" and float(fid_row[3]) == pytest.approx(rvr["value"], rel=1e-3)


# ----------------------------------------------------------------------------- held-out data


def test_holdout_is_split_with_the_seed_recorded_and_used_as_the_reference(tmp_path, capsys):
    data = wine(tmp_path / "wine.csv", n=40)
    run = tmp_path / "run"
    assert main(["train", "digits", f"data.path={data}", "data.label_column=cultivar", "data.holdout=0.25",
                 "train.seed=3", "train.steps=3",
                 "eval.every=3", "eval.n=20", "eval.metrics=fid", *TINY, "--out", str(run), "--quiet"]) == 0
    info = json.loads((run / "run.json").read_text())
    held = np.sort(np.random.default_rng(3).permutation(40)[:10])
    assert info["data"]["items"] == 30 and info["data"]["split"] == {
        "holdout": 0.25, "seed": 3, "items": 40, "held_out": 10,
        "indices_sha256": hashlib.sha256(held.astype("<i8").tobytes()).hexdigest()}
    assert info["eval"]["reference_split"] == "test"  # in training too
    assert main(["eval", str(run), "--n", "20", "--metrics", "fid", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fid = doc["scores"]["fid"]
    assert doc["data"]["reference_split"] == "test" and fid["reference_split"] == "test" and fid["n_real"] == 10
    assert fid["real_vs_real"]["splits"] == ["test", "train"] and fid["real_vs_real"]["n"] == [10, 20]
    assert main(["train", "--resume", str(run), "data.holdout=0.5", "train.steps=6", "--quiet"]) == 2
    assert "data.holdout" in capsys.readouterr().err  # it changes the training data: locked


def test_test_path_is_the_reference(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "digits", f"data.path={wine(tmp_path / 'wine.csv')}", "data.label_column=cultivar",
                 f"data.test_path={wine(tmp_path / 'test.csv', n=9, seed=1, classes=('barbera', 'barolo'))}",
                 "train.steps=3", *TINY, "--out", str(run), "--quiet"]) == 0
    assert main(["eval", str(run), "--n", "20", "--metrics", "fid", "--json"]) == 0
    fid = json.loads(capsys.readouterr().out)["scores"]["fid"]
    assert fid["reference_split"] == "test" and fid["n_real"] == 9
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c,cultivar\n1,2,3,barolo\n4,5,6,barbera\n")
    cfg = C.read_yaml(run / "config.yaml")
    cfg["data"]["test_path"] = str(bad)
    (run / "config.yaml").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert main(["eval", str(run), "--n", "20", "--metrics", "fid"]) == 2
    err = capsys.readouterr().err.strip()
    assert "data.test_path" in err and "same kind and size" in err and "\n" not in err
    bad.write_text("a,cultivar\n1,barolo\n4,barbera\n")  # one column: must not broadcast to the training width
    assert main(["eval", str(run), "--n", "20", "--metrics", "fid"]) == 2
    assert "same kind and size" in capsys.readouterr().err


def _idx(path, a: np.ndarray) -> None:
    path.write_bytes(gzip.compress(bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()))


def test_mnist_exposes_its_official_test_split(tmp_path):
    from gankit.data import load_data
    from gankit.data.split import heldout_data

    rng = np.random.default_rng(0)
    for split, n in (("train", 20), ("t10k", 7)):
        _idx(tmp_path / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        _idx(tmp_path / f"{split}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))
    cfg = C.DataConfig(name="mnist", path=str(tmp_path))
    test, source = heldout_data(cfg, load_data(cfg))
    assert len(test) == 7 and source == "mnist test split" and test.labels.tolist() == [0, 1, 2, 3, 4, 5, 6]
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    assert heldout_data(cfg, load_data(cfg))[0] is None  # without the files: the training data is the reference


# ----------------------------------------------------------------------------- 4. health warnings on short runs


def test_short_healthy_runs_get_no_mode_collapse_warning(tmp_path, capsys):
    for steps in (5, 200):
        assert main(["train", "digits", f"train.steps={steps}", "log.sample_every=20", "--out",
                     str(tmp_path / f"r{steps}"), "--quiet"]) == 0
        assert "mode collapse" not in capsys.readouterr().err


def test_warm_up_lasts_until_the_moving_average_moves():
    from gankit.monitor import MIN_WARMUP, sample_warmup

    assert sample_warmup(5) is None and sample_warmup(200) is None  # too short to judge
    assert sample_warmup(4000) == 400 and sample_warmup(2000) == MIN_WARMUP
    assert sample_warmup(9000, ema_decay=0.999) == 3000  # ~3 / (1 - decay)
    assert sample_warmup(4000, ema_decay=0.999) == 2000  # capped at half the run


def test_advice_never_names_a_setting_already_set():
    from gankit.monitor import HealthMonitor

    m = HealthMonitor(probability=True, real_spread=1.0, settings={"generator.norm": "batch", "loss": "hinge",
                                                                  "discriminator.dropout": 0.3})
    (w,) = m.observe_samples(10, np.zeros((16, 3)))
    assert w.kind == "mode_collapse"
    for said in ("generator.norm=batch", "hinge", "dropout"):
        assert said not in w.message
    assert "loss=wgan-gp" in w.message and "generator.lr" in w.message
    m = HealthMonitor(probability=True, window=1, settings={"augment.policy": "translation,cutout",
                                                            "penalty.r1_gamma": 1.0}, cannot=("loss",))
    (w,) = m.observe(1, d_real=0.99, d_fake=0.01)
    assert "augment.policy" not in w.message and "r1_gamma" not in w.message and "loss=" not in w.message


def test_a_run_passes_its_settings_to_the_monitor(tmp_path, monkeypatch):
    """digits has generator.norm=batch: a collapse warning of a digits run does not suggest it."""
    from gankit import monitor

    monkeypatch.setattr(monitor, "sample_warmup", lambda total, decay=0.0: 0)
    real = monitor.HealthMonitor.observe_samples
    monkeypatch.setattr(monitor.HealthMonitor, "observe_samples",
                        lambda self, step, x, **kw: real(self, step, np.zeros_like(x), **kw))
    run = tmp_path / "run"
    assert main(["train", "digits", "train.steps=2", "--out", str(run), "--quiet"]) == 0
    (w, *_) = [json.loads(line) for line in (run / "health.jsonl").read_text().splitlines()]
    assert w["kind"] == "mode_collapse" and "generator.norm" not in w["message"]


# ----------------------------------------------------------------------------- smaller: summary rows


def test_summary_rows_include_the_acgan_head(capsys):
    assert main(["summary", "digits-dcgan", "conditional.mode=projection", "conditional.acgan=true"]) == 0
    out = capsys.readouterr().out
    d = out.split('Model: "discriminator"')[1].split('Model: "gan')[0]
    rows = [line for line in d.splitlines() if line.startswith(" ") and "(" in line and "Layer" not in line]
    params = sum(int(line.split()[-1].replace(",", "")) for line in rows)
    total = int(next(line for line in d.splitlines() if line.startswith("Total params")).split()[-1].replace(",", ""))
    assert params == total and any(line.split()[-1] == "5,130" for line in rows)  # Linear(512 -> 10): the head
