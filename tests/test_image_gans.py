"""Issue 3: convolutional models at several sizes, conditional generation, EMA, DiffAugment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gankit import config as C
from gankit.diffaugment import diff_augment
from gankit.cli import main
from gankit.ema import EMA
from gankit.errors import GankitError
from gankit.models import build_discriminator, build_generator
from gankit.models.summary import gan_summary


def conv_cfg(*extra: str) -> C.Config:
    return C.load("digits-dcgan", list(extra))


@pytest.mark.parametrize("shape, gch, dch", [
    ((1, 8, 8), [32, 16], [16, 32]),
    ((1, 16, 16), [32, 16], [16, 32]),
    ((1, 28, 28), [32, 16], [16, 32]),
    ((3, 32, 32), [32, 16, 8], [8, 16, 32]),
    ((3, 64, 64), [32, 16, 8, 8], [8, 8, 16, 32]),
])
@pytest.mark.parametrize("k", [3, 4, 5])
def test_dcgan_shapes_at_many_sizes(shape, gch, dch, k):
    cfg = conv_cfg(f"generator.channels={gch}", f"discriminator.channels={dch}",
                   f"generator.kernel_size={k}", f"discriminator.kernel_size={k}")
    G = build_generator(cfg.generator, shape)
    D = build_discriminator(cfg.discriminator, shape)
    x = G(torch.randn(3, cfg.generator.latent_dim))
    assert x.shape == (3, *shape)
    assert x.abs().max() <= 1  # tanh
    assert D(x).shape == (3, 1)


@pytest.mark.parametrize("norm", ["none", "batch", "layer", "spectral"])
def test_dcgan_norms(norm):
    cfg = conv_cfg(f"generator.norm={norm}", f"discriminator.norm={norm}")
    G = build_generator(cfg.generator, (1, 8, 8))
    D = build_discriminator(cfg.discriminator, (1, 8, 8))
    kinds = {type(m).__name__ for m in D.modules()}
    if norm == "batch":
        assert "BatchNorm2d" in kinds
    if norm == "spectral":
        assert any(hasattr(m, "weight_orig") for m in D.modules())  # spectral_norm parametrisation
    # no norm on D's first conv (DCGAN)
    first = [m for m in D.features if not isinstance(m, torch.nn.Conv2d)][0]
    assert isinstance(first, torch.nn.LeakyReLU)
    assert D(G(torch.randn(4, cfg.generator.latent_dim))).shape == (4, 1)


def test_dcgan_init_follows_the_paper():
    cfg = conv_cfg("generator.channels=[256,128]")
    G = build_generator(cfg.generator, (1, 8, 8))
    w = torch.cat([m.weight.flatten() for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.002


def test_unsupported_image_size_is_explained():
    cfg = conv_cfg("generator.channels=[32,16,8,4]")
    with pytest.raises(GankitError, match="divisible by 16.*8x8"):
        build_generator(cfg.generator, (1, 8, 8))
    with pytest.raises(GankitError, match="needs image data"):
        build_generator(cfg.generator, (2,))


def test_dcgan_summary_lists_conv_layers():
    cfg = conv_cfg()
    G = build_generator(cfg.generator, (1, 8, 8))
    D = build_discriminator(cfg.discriminator, (1, 8, 8))
    text = gan_summary(G, D, cfg.generator.latent_dim)
    assert "conv_transpose2d (ConvTranspose2d)" in text and "(None, 64, 4, 4)" in text
    assert "conv2d (Conv2d)" in text and "(None, 1, 8, 8)" in text


# ----------------------------------------------------------------------------- conditional


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("mode", ["projection", "concat"])
def test_conditional_models_depend_on_the_class(arch, mode):
    cfg = C.load("digits", [f"generator.arch={arch}", f"discriminator.arch={arch}",
                            "generator.channels=[16,8]", "discriminator.channels=[8,16]",
                            "discriminator.dropout=0", "generator.norm=none"])
    torch.manual_seed(0)
    G = build_generator(cfg.generator, (1, 8, 8), 10)
    D = build_discriminator(cfg.discriminator, (1, 8, 8), 10, mode, acgan=True)
    if mode == "projection":
        torch.nn.init.normal_(D.embed.weight)  # make the class term visible
    z = torch.randn(1, cfg.generator.latent_dim).repeat(2, 1)
    y = torch.tensor([3, 7])
    x = G(z, y)
    assert x.shape == (2, 1, 8, 8)
    assert not torch.allclose(x[0], x[1])  # same noise, different class -> different image
    same = x[:1].repeat(2, 1, 1, 1)
    out, aux = D(same, y, aux=True)
    assert out.shape == (2, 1) and aux.shape == (2, 10)
    assert not torch.allclose(out[0], out[1])  # same image, different class -> different logit


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def cond_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond") / "run"
    assert run_cli("train", "digits", "conditional.mode=projection", "ema.decay=0.9", "train.steps=12",
                   "generator.hidden=[16]", "discriminator.hidden=[16]", "log.every=4", "data.limit=300",
                   "augment.policy=translation,cutout", "--out", out, "--quiet") == 0
    return out


def test_conditional_sampling(cond_run, tmp_path, capsys):
    import gankit

    g = gankit.load(cond_run)
    assert g.num_classes == 10
    assert run_cli("sample", cond_run, "--label", "7", "--n", "8", "--out", tmp_path / "sevens.npy") == 0
    assert np.load(tmp_path / "sevens.npy").shape == (8, 1, 8, 8)
    assert g.labels_for(20).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]
    # per-class grid: 10 rows of 3
    assert run_cli("sample", cond_run, "--n", "30", "--out", tmp_path / "grid.png") == 0
    from PIL import Image

    w, h = Image.open(tmp_path / "grid.png").size
    assert h == 10 * 33 + 1 and 3 * 33 + 1 < w < 5 * 33  # 10 rows of 3 (8x8 drawn at 32x32), names at the left
    # same noise seed and label -> same samples; the label changes them
    a, b = g.sample(4, seed=1, label=2), g.sample(4, seed=1, label=2)
    assert np.array_equal(a, b) and not np.array_equal(a, g.sample(4, seed=1, label=5))
    capsys.readouterr()
    assert run_cli("sample", cond_run, "--label", "10", "--n", "2", "--out", tmp_path / "x.npy") == 2
    assert "class 10 is out of range; this run's classes are 0, 1, 2" in capsys.readouterr().err


def test_label_on_unconditional_run_is_refused(tmp_path, capsys):
    out = tmp_path / "plain"
    assert run_cli("train", "digits", "train.steps=2", "generator.hidden=[8]", "discriminator.hidden=[8]",
                   "data.limit=200", "--out", out, "--quiet") == 0
    assert run_cli("sample", out, "--label", "3", "--out", tmp_path / "x.npy") == 2
    assert "not class-conditional" in capsys.readouterr().err


def test_conditional_needs_labels(tmp_path, capsys):
    assert run_cli("train", "gaussian-1d-mse", "conditional.mode=projection", "--out", tmp_path / "r") == 2
    assert "needs labelled data" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_ema_sampler_is_saved(cond_run):
    """With EMA on, the saved generator is the averaged one (used for sampling by default)."""
    from gankit import checkpoint

    state, _ = checkpoint.load(cond_run / "generator.json")
    last = sorted((cond_run / "checkpoints").glob("step_*.json"))[-1]
    train_state, _ = checkpoint.load(last)
    ema = train_state["train"]["emas"]["G"]
    for k, v in state["G"].items():
        assert torch.equal(v, ema[k])
    assert any(not torch.equal(v, train_state["train"]["nets"]["G"][k]) for k, v in ema.items())


# ----------------------------------------------------------------------------- EMA


def test_ema_update_rule():
    net = torch.nn.Linear(3, 2)
    ema = EMA(net, decay=0.9)
    old = [p.detach().clone() for p in ema.model.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    ema.update(net)
    for o, e, p in zip(old, ema.model.parameters(), net.parameters()):
        torch.testing.assert_close(e, 0.9 * o + 0.1 * p.detach())
    assert not any(p.requires_grad for p in ema.model.parameters())


def test_ema_warm_up():
    """β_t = min(β, (1+t)/(10+t)): the first updates move the average most of the way."""
    net = torch.nn.Linear(2, 1)
    ema = EMA(net, decay=0.999)
    assert ema.beta(0) == pytest.approx(0.1) and ema.beta(90) == pytest.approx(0.91)
    assert ema.beta(10**6) == 0.999 and ema.beta(None) == 0.999
    old = [p.detach().clone() for p in ema.model.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    ema.update(net, step=0)
    for o, e, p in zip(old, ema.model.parameters(), net.parameters()):
        torch.testing.assert_close(e, 0.1 * o + 0.9 * p.detach())


def test_ema_copies_buffers():
    net = torch.nn.BatchNorm1d(3)
    ema = EMA(net, 0.5)
    net(torch.randn(8, 3) + 5)
    ema.update(net)
    assert torch.equal(ema.model.running_mean, net.running_mean)


# ----------------------------------------------------------------------------- DiffAugment


@pytest.mark.parametrize("policy", [["color"], ["translation"], ["cutout"], ["color", "translation", "cutout"]])
def test_diffaugment_shape_and_gradient(policy):
    x = torch.rand(5, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, policy)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # differentiable: G learns through it


def test_diffaugment_changes_images():
    x = torch.rand(8, 1, 16, 16)
    torch.manual_seed(0)
    assert not torch.equal(diff_augment(x, ["translation"]), x)
    cut = diff_augment(x, ["cutout"])
    zeroed = (cut == 0).float().mean(dim=(1, 2, 3))
    assert (zeroed > 0).all() and (zeroed <= 0.25).all()  # a half-size square, clipped at the border


def test_diffaugment_applied_to_real_and_fake_alike(monkeypatch):
    """Every batch D sees goes through the same augmentation: real (D step), fake (D and G steps)."""
    import gankit.tasks.noise as T
    from gankit.training.batches import Batches
    from gankit.run.session import build

    cfg = C.load("digits", ["augment.policy=translation", "generator.hidden=[8]", "discriminator.hidden=[8]",
                            "discriminator.dropout=0", "data.limit=128", "train.batch_size=16"])
    data, trainer = build(cfg, torch.device("cpu"))
    seen = []

    def spy(x, policy):
        seen.append((x.shape[0], tuple(policy)))
        return diff_augment(x, policy)

    monkeypatch.setattr(T, "diff_augment", spy)
    real_batches = Batches({"x": data.x}, 16, seed=0)
    trainer.train_step(real_batches)
    # D step: real and fake concatenated (32), then G step: fake (16); one policy for all
    assert seen == [(32, ("translation",)), (16, ("translation",))]


def test_augment_on_tables_is_refused(tmp_path, capsys):
    assert run_cli("train", "ring", "augment.policy=cutout", "--out", tmp_path / "r") == 2
    assert "for images" in capsys.readouterr().err


def test_conditional_table_samples_the_requested_class(tmp_path):
    """Issue 3: a table with a label column trains class-conditionally; the .csv gets the class back."""
    import csv

    rng = np.random.default_rng(0)
    p = tmp_path / "t.csv"
    rows = [(rng.normal(5 * k, 0.5), rng.normal(-3 * k, 0.5), ["low", "high"][k]) for k in (0, 1) for _ in range(200)]
    p.write_text("u,v,level\n" + "".join(f"{u},{v},{c}\n" for u, v, c in rows))
    run = tmp_path / "run"
    assert run_cli("train", "digits", f"data.path={p}", "data.label_column=level", "conditional.mode=projection",
                   "train.steps=300", "train.threads=1", "--out", run) == 0
    assert run_cli("sample", run, "--label", "high", "--n", "200", "--out", tmp_path / "high.csv") == 0
    with open(tmp_path / "high.csv") as f:
        got = list(csv.reader(f))
    assert got[0] == ["u", "v", "level"] and {r[2] for r in got[1:]} == {"high"}
    u = np.array([float(r[0]) for r in got[1:]])
    assert abs(np.median(u) - 5) < 1.5, np.median(u)  # the "high" cluster (u ~ 5), not "low" (u ~ 0)
    assert run_cli("sample", run, "--n", "4", "--out", tmp_path / "both.csv") == 0
    assert [r[2] for r in csv.reader(open(tmp_path / "both.csv"))][1:] == ["high", "high", "low", "low"]
    assert run_cli("sample", run, "--label", "medium", "--n", "2", "--out", tmp_path / "x.csv") == 2


def test_numbered_table_classes_are_chosen_by_name(tmp_path, capsys):
    """A table's classes 1, 2, 3: `--label 1` is class "1" (not position 1), `--label 0` is refused."""
    import csv

    p = tmp_path / "t.csv"
    p.write_text("u,grade\n" + "".join(f"{k + 0.1 * i},{k}\n" for k in (1, 2, 3) for i in range(10)))
    run = tmp_path / "run"
    assert run_cli("train", "digits", f"data.path={p}", "data.label_column=grade", "conditional.mode=concat",
                   "train.steps=5", "train.batch_size=16", "train.threads=1", "--out", run) == 0
    for label in ("1", "3"):
        assert run_cli("sample", run, "--label", label, "--n", "3", "--out", tmp_path / "x.csv") == 0
        assert {r[1] for r in list(csv.reader(open(tmp_path / "x.csv")))[1:]} == {label}
    capsys.readouterr()
    assert run_cli("sample", run, "--label", "0", "--n", "3", "--out", tmp_path / "x.csv") == 2
    assert "class 0 is out of range; this run's classes are 1, 2, 3" in capsys.readouterr().err
