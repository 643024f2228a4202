"""`gankit eval` and `gankit evaluator train` end to end on tiny runs, and their refusals (exit 2)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from gankit import checkpoint
from gankit.cli import main
from gankit.data.toy import ring_centres

SMALL = ["train.steps=6", "log.every=3", "log.sample_every=1000", "generator.hidden=[16]",
         "discriminator.hidden=[16]"]


def _collapse(run, point) -> None:
    """Rewrite the run's generator so that every sample is ``point``: zero last weight, bias = point."""
    state, meta = checkpoint.load(run / "generator.json")
    g = state["G"]
    last = [k for k, v in g.items() if k.endswith("weight") and v.ndim == 2][-1]
    g[last].zero_()
    g[last.replace("weight", "bias")].copy_(point)
    checkpoint.save(run / "generator", state, meta)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    import torch

    run = tmp_path_factory.mktemp("eval") / "ring"
    assert main(["train", "ring", *SMALL, "train.batch_size=64", "--out", str(run), "--quiet"]) == 0
    _collapse(run, torch.tensor(ring_centres()[0], dtype=torch.float32))
    return run


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    cache = f"data.cache_dir={root / 'cache'}"
    assert main(["evaluator", "train", "--data", "digits", "--epochs", "1", cache, "--quiet"]) == 0
    run = root / "digits"
    assert main(["train", "digits", *SMALL, "data.limit=256", "train.batch_size=32", cache,
                 "--out", str(run), "--quiet"]) == 0
    return run


def test_collapsed_ring_generator(ring_run, capsys):
    assert main(["eval", str(ring_run), "--n", "300", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == json.loads((ring_run / "eval.json").read_text())
    s = doc["scores"]
    # every sample sits on mode 0: one mode, all high quality, reverse KL = log 8
    assert s["modes_captured"]["value"] == 1 and s["modes_captured"]["n_modes"] == 8
    assert s["modes_captured"]["histogram"] == [300] + [0] * 7
    assert s["hq_fraction"]["value"] == 1.0
    assert s["reverse_kl"]["value"] == pytest.approx(math.log(8))
    # raw features: every fake is one point, inside the real manifold only near mode 0
    assert s["precision"]["value"] == 1.0 and s["recall"]["value"] < 0.3
    assert s["coverage"]["value"] < 0.3 and s["fid"]["value"] > 0.5
    assert set(s) == {"modes_captured", "hq_fraction", "reverse_kl", "fid", "kid", "precision", "recall",
                      "density", "coverage"}


def test_every_score_has_provenance(ring_run, capsys):
    assert main(["eval", str(ring_run), "--n", "300", "--seed", "5", "--metrics", "fid,modes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    step = checkpoint.read_meta(ring_run / "generator.json")["meta"]["step"]
    assert doc["checkpoint"]["step"] == step == 6
    fid = doc["scores"]["fid"]
    assert {k: fid[k] for k in ("extractor", "n_real", "n_generated", "reference_split", "seed", "step")} == {
        "extractor": "standardized", "n_real": 300, "n_generated": 300, "reference_split": "train", "seed": 5,
        "step": 6}
    assert len(fid["extractor_sha256"]) == 64  # of the training data's mean and std
    modes = doc["scores"]["modes_captured"]
    assert modes["n_generated"] == 300 and modes["seed"] == 5 and modes["centres"] == "ring"
    assert doc["settings"] == {"metrics": ["fid", "modes"], "n": 300, "seed": 5, "extractor": "standardized"}


def test_table_output_prints_provenance(ring_run, capsys):
    assert main(["eval", str(ring_run), "--n", "200", "--metrics", "modes,fid"]) == 0
    out = capsys.readouterr().out
    assert "modes_captured  1" in out
    fid_line = next(line for line in out.splitlines() if line.startswith("fid"))
    cells = fid_line.split()  # value, which way is better, real-vs-real, features (+ sha256), provenance
    assert cells[2] == "lower" and float(cells[3]) >= 0 and cells[4] == "standardized"
    assert cells[6:] == ["200", "200", "ring/train", "0", "6"]
    assert f"wrote {ring_run / 'eval.json'}" in out


def test_same_seed_same_scores(ring_run, capsys):
    scores = []
    for _ in range(2):
        assert main(["eval", str(ring_run), "--n", "100", "--metrics", "kid,prdc", "--json"]) == 0
        scores.append({k: v["value"] for k, v in json.loads(capsys.readouterr().out)["scores"].items()})
    assert scores[0] == scores[1]


def test_digits_with_the_domain_classifier(digits_run, capsys):
    assert main(["eval", str(digits_run), "--n", "60", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["scores"]
    assert set(s) == {"class_kl", "mean_confidence", "fid", "kid", "precision", "recall", "density", "coverage"}
    weights = next((digits_run.parent / "cache" / "evaluators").glob("classifier-digits-*.json"))
    sha = json.loads(weights.read_text())["sha256"]
    for name in ("fid", "precision", "class_kl"):
        assert s[name]["extractor"] == "classifier" and s[name]["extractor_sha256"] == sha
        assert 0 <= s[name]["classifier_accuracy"] <= 1
    assert s["fid"]["n_real"] == 60 and s["fid"]["n_generated"] == 60 and s["fid"]["feature_dim"] == 128
    assert sum(s["class_kl"]["histogram"]) == 60 and len(s["class_kl"]["histogram"]) == 10
    assert 0 <= s["class_kl"]["value"] <= math.log(10) + 1e-9
    assert 0.1 <= s["mean_confidence"]["value"] <= 1
    assert s["kid"]["subset_size"] == 60


def test_evaluator_train_reports_and_caches(tmp_path, capsys):
    args = ["evaluator", "train", "--data", "digits", "--epochs", "1", f"data.cache_dir={tmp_path}", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("digits classifier: held-out accuracy 0.") and "1 epochs" in out
    files = sorted(p.suffix for p in (tmp_path / "evaluators").iterdir())
    assert files == [".json", ".safetensors"]
    assert main(["evaluator", "train", "--data", "digits", "train.steps=3"]) == 2
    assert "only data.* keys" in capsys.readouterr().err


def _err(capsys) -> str:
    return capsys.readouterr().err


def test_run_without_generator(tmp_path, ring_run, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.yaml").write_text((ring_run / "config.yaml").read_text())
    assert main(["eval", str(bare)]) == 2
    assert "no final generator" in _err(capsys)
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert "no such run folder" in _err(capsys)


def test_extractor_not_matching_the_data(ring_run, capsys):
    assert main(["eval", str(ring_run), "--extractor", "classifier", "--metrics", "fid"]) == 2
    assert "reads images" in _err(capsys)
    assert main(["eval", str(ring_run), "--extractor", "inception", "--metrics", "fid"]) == 2
    assert "grayscale or RGB images" in _err(capsys)
    assert main(["eval", str(ring_run), "--metrics", "classes"]) == 2
    assert "labelled images" in _err(capsys)


def test_too_few_samples(ring_run, capsys):
    assert main(["eval", str(ring_run), "--n", "5", "--metrics", "prdc"]) == 2
    assert "needs at least 6" in _err(capsys)
    assert main(["eval", str(ring_run), "--n", "0"]) == 2
    assert "--n must be >= 1" in _err(capsys)


def test_missing_weights_file(digits_run, tmp_path, capsys):
    missing = tmp_path / "inception.pth"
    args = ["eval", str(digits_run), "--n", "20", "--extractor", "inception", "--inception-weights", str(missing)]
    assert main(args) == 2
    assert f"{missing}: no such weights file" in _err(capsys)


def test_unknown_or_unfit_metric(ring_run, digits_run, capsys):
    assert main(["eval", str(ring_run), "--metrics", "fid,fdi"]) == 2
    assert 'unknown metric \'fdi\' (did you mean "fid"?)' in _err(capsys)
    assert main(["eval", str(digits_run), "--n", "20", "--metrics", "modes"]) == 2
    assert "ring and grid" in _err(capsys)


def test_help_does_not_import_torch():
    code = ("import sys\nfrom gankit.cli import main\n"
            "for a in (['--help'], ['eval', '--help'], ['evaluator', 'train', '--help']):\n"
            "    try:\n        main(a)\n    except SystemExit:\n        pass\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "gankit eval" in r.stdout and "--inception-weights" in r.stdout and "--epochs" in r.stdout


def test_conditional_run_reports_requested_class_share(digits_run, tmp_path, capsys):
    import torch

    import gankit
    from gankit.metrics.classifier import ClassifierFeatures, load_evaluator

    cache = digits_run.parent / "cache"
    run = tmp_path / "cond"
    assert main(["train", "digits", *SMALL, "data.limit=256", "train.batch_size=32", f"data.cache_dir={cache}",
                 "conditional.mode=projection", "--out", str(run), "--quiet"]) == 0
    assert main(["eval", str(run), "--n", "50", "--metrics", "classes", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["scores"]
    # by hand: the same samples (seed 0, balanced classes), classified by the cached classifier
    g = gankit.load(run)
    x = torch.from_numpy(g.sample(50, seed=0))
    clf = ClassifierFeatures(*load_evaluator(next((cache / "evaluators").glob("classifier-digits-*.json"))))
    hits = (clf.probs(x).argmax(1) == g.labels_for(50)).double().mean()
    assert s["conditional_accuracy"]["value"] == pytest.approx(float(hits))
    assert s["conditional_accuracy"]["extractor_sha256"] == clf.sha256


def test_python_api_on_samples_in_memory():
    import numpy as np

    from gankit.config import DataConfig
    from gankit.metrics import evaluate_samples
    from gankit.metrics.evaluate import format_scores
    from gankit.metrics.pipeline import json_safe
    from gankit.metrics.features import Target

    target = Target("table", (2,), DataConfig(name="ring"), labelled=True)
    real = ring_centres()[np.arange(80) % 8] + 0.01 * np.random.default_rng(0).normal(size=(80, 2))
    lost = np.full((40, 2), 10.0)  # far from every mode
    s = evaluate_samples(real, lost, target, dataset="ring", metrics="modes,prdc", seed=1, step=9)
    assert s["modes_captured"]["value"] == 0 and s["reverse_kl"]["value"] == math.inf
    assert s["precision"]["value"] == 0.0 and s["precision"]["n_real"] == 80 and s["precision"]["step"] == 9
    doc = {"run": "r", "data": {"dataset": "ring"}, "checkpoint": {"step": 9}, "scores": json_safe(s)}
    assert doc["scores"]["reverse_kl"]["value"] is None  # JSON has no inf
    line = next(x for x in format_scores(doc).splitlines() if x.startswith("reverse_kl"))
    assert line.split()[:2] == ["reverse_kl", "inf"]
    json.dumps(doc, allow_nan=False)


def test_classifier_score_on_the_domain_classifier(digits_run, capsys):
    """`--metrics classifier_score`: the Inception-score formula on the cached classifier's probabilities
    of the same samples (seed 0), between 1 and the number of classes."""
    import torch

    import gankit
    from gankit.metrics import classifier_score
    from gankit.metrics.classifier import ClassifierFeatures, load_evaluator

    assert main(["eval", str(digits_run), "--n", "60", "--metrics", "classifier_score,classes", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)["scores"]
    cs = s["classifier_score"]
    clf = ClassifierFeatures(*load_evaluator(next((digits_run.parent / "cache" / "evaluators").glob("*.json"))))
    x = torch.from_numpy(gankit.load(digits_run).sample(60, seed=0))
    assert cs["value"] == pytest.approx(classifier_score(clf.probs(x)))
    assert 1 <= cs["value"] <= 10 and cs["n_classes"] == 10 and cs["extractor_sha256"] == clf.sha256
    assert cs["metric"] == "classifier_score" and cs["n_generated"] == 60 and set(s) >= {"class_kl"}
    assert main(["eval", str(digits_run), "--metrics", "classifier_score", "--n", "0"]) == 2
    capsys.readouterr()


def test_classifier_score_needs_labelled_images(ring_run, capsys):
    assert main(["eval", str(ring_run), "--metrics", "classifier_score"]) == 2
    err = _err(capsys)
    assert "classifier_score needs labelled images" in err and "choose from fid, kid, prdc, modes" in err
