"""Typed config: presets, YAML, dotted overrides, and the errors for wrong input."""

from __future__ import annotations

import pytest
import yaml

from gankit import config as C
from gankit.errors import GankitError
from gankit.presets import PRESETS


def test_defaults_validate():
    C.validate(C.Config())


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_loads(name):
    cfg = C.load(name)
    assert cfg.preset == name


def test_mnist_mlp_preset_is_the_classic():
    cfg = C.load("mnist-mlp")
    assert cfg.generator.hidden == [256, 512] and cfg.generator.output == "tanh"
    assert cfg.discriminator.hidden == [512, 256] and cfg.discriminator.activation == "relu"
    assert cfg.loss == "bce" and cfg.generator.lr == cfg.discriminator.lr == 2e-4
    assert cfg.train.batch_size == 64 and cfg.train.epochs == 10 and cfg.data.name == "mnist"


def test_overrides_from_the_issue():
    cfg = C.load("mnist-mlp", ["train.epochs=3", "generator.hidden=[256,256]", "loss=mse"])
    assert cfg.train.epochs == 3 and cfg.generator.hidden == [256, 256] and cfg.loss == "mse"


def test_required_keys_exist():
    keys = C.all_keys()
    for k in ("train.steps", "train.epochs", "train.batch_size", "train.seed", "train.device", "data.path"):
        assert k in keys


def test_override_types():
    cfg = C.load(None, ["generator.lr=1e-3", "generator.betas=[0.9,0.99]", "data.path=123",
                        "train.deterministic=true", "data.limit=null"])
    assert cfg.generator.lr == 1e-3 and cfg.generator.betas == (0.9, 0.99)
    assert cfg.data.path == "123" and cfg.train.deterministic is True and cfg.data.limit is None


def test_int_is_accepted_for_float():
    assert C.load(None, ["generator.lr=1"]).generator.lr == 1.0


def test_steps_and_epochs_clear_each_other():
    cfg = C.load("digits", ["train.epochs=2"])
    assert cfg.train.epochs == 2 and cfg.train.steps is None
    cfg = C.load("mnist-mlp", ["train.steps=7"])
    assert cfg.train.steps == 7 and cfg.train.epochs is None


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("train.stpes=3", 'did you mean "train.steps"'),
        ("trian.steps=3", 'did you mean "train.steps"'),
        ("train.batch_size=abc", "train.batch_size must be an integer"),
        ("train.batch_size=0", "train.batch_size must be >= 1"),
        ("generator.lr=0", "generator.lr must be > 0"),
        ("discriminator.lr=-1", "discriminator.lr must be > 0"),
        ("loss=wgan", "unknown loss 'wgan' (did you mean \"wgan-gp\"?); choose one of: bce, minimax"),
        ("generator.hidden=5", "generator.hidden must be a list"),
        ("generator.betas=[0.5]", "generator.betas must be a list of 2 numbers"),
        ("generator.activation=foo", "generator.activation must be one of"),
        ("train.device=gpu", "train.device must be auto, cpu"),
        ("train=3", "is a section"),
        ("noequals", "key=value"),
        ("train.deterministic=maybe", "true or false"),
        ("generator.dropout=1.5", "generator.dropout must be in [0, 1)"),
        ("penalty.r1_start=-1", "penalty.r1_start must be >= 0"),
    ],
)
def test_bad_overrides_are_explained(override, fragment):
    with pytest.raises(GankitError) as e:
        C.load("digits", [override])
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_yaml_file_with_preset_base(tmp_path):
    p = tmp_path / "my.yaml"
    p.write_text("preset: mnist-mlp\ntrain:\n  epochs: 2\ngenerator:\n  hidden: [64]\n")
    cfg = C.load(str(p), ["train.seed=5"])
    assert cfg.preset == "mnist-mlp" and cfg.train.epochs == 2 and cfg.generator.hidden == [64]
    assert cfg.discriminator.hidden == [512, 256] and cfg.train.seed == 5


def test_yaml_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  steps: [1\n")
    with pytest.raises(GankitError, match="not valid YAML"):
        C.load(str(bad))
    unknown = tmp_path / "u.yaml"
    unknown.write_text("train:\n  bacth_size: 3\n")
    with pytest.raises(GankitError, match='did you mean "train.batch_size"'):
        C.load(str(unknown))
    newer = tmp_path / "n.yaml"
    newer.write_text(f"version: {C.SCHEMA_VERSION + 1}\n")
    with pytest.raises(GankitError, match="newer gankit"):
        C.load(str(newer))
    with pytest.raises(GankitError, match="neither a preset nor a YAML file"):
        C.load("mnist-mpl")
    with pytest.raises(GankitError, match="no such file"):
        C.load(str(tmp_path / "missing.yaml"))


def test_dump_round_trip():
    cfg = C.load("mnist-mlp", ["generator.hidden=[32,16]", "penalty.r1_gamma=1.0"])
    again = C.from_dict(yaml.safe_load(C.dump(cfg)))
    assert again == cfg


def test_config_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, gankit.config, gankit.presets, gankit.cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
