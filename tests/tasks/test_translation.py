"""pix2pix and CycleGAN: shapes, losses against their formulas, the image pool, inference modes,
translation of odd-size images, exact resume, CLI and bad input."""

import json
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import gankit
from gankit import checkpoint
from gankit.cli import main
from gankit.api import load_config
from gankit.data.pairs import load_translation_set
from gankit.models.translation import PatchGAN, ResnetGenerator, UNetGenerator
from gankit.tasks.cyclegan import CycleGAN
from gankit.tasks.pix2pix import Pix2Pix
from gankit.tasks.trained_translate import TrainedTranslator, generator_mode
from gankit.tasks.translation import ImagePool
from gankit.training.phases import schedule_factor

COMMON = ["translate.size=16", "translate.load=18", "train.steps=6", "train.batch_size=2", "train.threads=1",
          "log.checkpoint_every=3", "log.sample_every=3", "log.every=1", "data.test_path=null"]
PIX = ["generator.channels=[4]", "generator.blocks=3", "discriminator.channels=[4,8]", *COMMON]
CYC = ["generator.channels=[4]", "generator.blocks=1", "discriminator.channels=[4,8]", "translate.pool=3", *COMMON]


def _pair(i: int, h: int = 22, w: int = 26):
    yy, xx = np.mgrid[:h, :w]
    a = 127 + 100 * np.sin(xx / 3 + i)[..., None] * np.cos(yy / 4)[..., None] * np.array([1, 0.5, -0.7])
    b = 255 - a[:, ::-1]
    return a.clip(0, 255).astype(np.uint8), b.clip(0, 255).astype(np.uint8)


def side_by_side(folder, n=4):
    folder.mkdir()
    for i in range(n):
        a, b = _pair(i)
        Image.fromarray(np.concatenate([a, b], 1)).save(folder / f"{i}.png")
    return folder


def ab_folders(folder, names_a=("x.png", "y.png", "z.png"), names_b=("x.png", "y.png", "z.png")):
    for sub, names in (("A", names_a), ("B", names_b)):
        (folder / sub).mkdir(parents=True)
        for i, n in enumerate(names):
            Image.fromarray(_pair(i)[sub == "B"]).save(folder / sub / n)
    return folder


# ----------------------------------------------------------------------------- networks


@pytest.mark.parametrize("channels", [1, 3])
def test_network_shapes(channels):
    g = UNetGenerator(channels, ngf=4, levels=3)
    assert g(torch.zeros(2, channels, 16, 24)).shape == (2, channels, 16, 24)
    r = ResnetGenerator(channels, ngf=4, blocks=2)
    assert r(torch.zeros(2, channels, 12, 20)).shape == (2, channels, 12, 20)
    d = PatchGAN(2 * channels, [64, 128, 256, 512])
    assert d.receptive_field() == 70  # the paper's 70x70 PatchGAN
    assert d(torch.zeros(1, 2 * channels, 128, 96)).shape == (1, 1, 14, 10)


def test_unet_dropout_sits_where_the_reference_puts_it():
    g = UNetGenerator(3, ngf=4, levels=7, dropout=0.5)  # unet_128: two 8-ngf levels with dropout
    assert sum(isinstance(m, torch.nn.Dropout) for m in g.modules()) == 2
    assert sum(isinstance(m, torch.nn.Dropout) for m in UNetGenerator(3, 4, 8).modules()) == 3  # unet_256


def test_schedule_holds_then_decays_linearly():
    assert [schedule_factor("linear", s, 10, 0.5) for s in (0, 4, 5, 6, 9)] == pytest.approx([1, 1, 1, 0.8, 0.2])
    assert schedule_factor("linear", 5, 10) == 0.5 and schedule_factor("constant", 9, 10, 0.5) == 1.0


# ----------------------------------------------------------------------------- losses


def _task(cls, preset, args, tmp_path):
    cfg = load_config(preset, f"data.path={side_by_side(tmp_path / 'd')}", *args)
    data = load_translation_set(cfg, paired=cls.paired)
    return cls.from_config(cfg, data, "cpu"), data


def test_pix2pix_losses_match_the_paper(tmp_path):
    torch.manual_seed(0)
    task, _ = _task(Pix2Pix, "facades-pix2pix", PIX, tmp_path)
    src, dst, fake = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        loss, stats = task.g_loss(fake, src, dst, task.D)
    with torch.no_grad():
        logits = task.D(torch.cat([src, fake], 1))
    expect = -torch.log(torch.sigmoid(logits)).mean() + 100 * (fake - dst).abs().mean()
    assert float(loss) == pytest.approx(float(expect), rel=1e-5)
    assert float(stats["l1"]) == pytest.approx(float((fake - dst).abs().mean()), rel=1e-6)
    ctx = type("C", (), {"train_nets": task.nets})()
    with torch.no_grad():
        d, _ = task.loss(task.phases()[0], {"src": src, "dst": dst, "fake": fake}, ctx)
    with torch.no_grad():
        real = task.D(torch.cat([src, dst], 1))
    expect_d = 0.5 * (-torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(logits)).mean())
    assert float(d) == pytest.approx(float(expect_d), rel=1e-5)


def test_pix2pix_gan_weight_zero_is_the_papers_l1_only_ablation(tmp_path):
    torch.manual_seed(0)
    task, _ = _task(Pix2Pix, "facades-pix2pix", [*PIX, "translate.gan_weight=0"], tmp_path)
    src, dst, fake = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        loss, _ = task.g_loss(fake, src, dst, task.D)
    assert float(loss) == pytest.approx(float(100 * (fake - dst).abs().mean()), rel=1e-6)
    assert not task.probability  # G ignores D: the health monitor does not warn about their balance
    (tmp_path / "gan").mkdir()
    assert _task(Pix2Pix, "facades-pix2pix", PIX, tmp_path / "gan")[0].probability


def test_cyclegan_losses_match_the_paper(tmp_path):
    torch.manual_seed(0)
    task, _ = _task(CycleGAN, "facades-cyclegan", CYC, tmp_path)
    n = task.nets
    a, b = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    total, stats, fakes = task.g_loss(n, a, b)
    fb, fa = n["G_ab"](a), n["G_ba"](b)
    adv = (n["D_b"](fb) - 1).pow(2).mean() + (n["D_a"](fa) - 1).pow(2).mean()  # least squares, as the paper
    cycle = (n["G_ba"](fb) - a).abs().mean() + (n["G_ab"](fa) - b).abs().mean()
    identity = (n["G_ab"](b) - b).abs().mean() + (n["G_ba"](a) - a).abs().mean()
    assert total.item() == pytest.approx((adv + 10 * cycle + 5 * identity).item(), rel=1e-5)
    assert float(stats["cycle"]) == pytest.approx(cycle.item(), rel=1e-6)
    assert float(stats["identity"]) == pytest.approx(identity.item(), rel=1e-6)
    x = {"a": a, "b": b, "fake_a": fa.detach(), "fake_b": fb.detach()}
    d, _ = task.d_loss(n, x)
    expect = sum(0.5 * (n[f"D_{k}"](x[k]) - 1).pow(2).mean() + 0.5 * n[f"D_{k}"](x[f"fake_{k}"]).pow(2).mean()
                 for k in ("a", "b"))
    assert d.item() == pytest.approx(expect.item(), rel=1e-5)


def test_image_pool_behaves_as_the_papers_buffer():
    pool = ImagePool(50, seed=0)
    first = torch.arange(50.0)[:, None]
    assert torch.equal(pool.query(first), first)  # filling: each new image comes back
    new = 1000 + torch.arange(4000.0)[:, None]
    out = torch.cat([pool.query(new[i:i + 8]) for i in range(0, 4000, 8)])
    past = (out != new).squeeze(1)
    assert 0.46 < float(past.float().mean()) < 0.54  # once full: a past fake with probability 1/2
    seen = set(first.squeeze(1).tolist()) | set(new.squeeze(1).tolist())
    assert set(out[past].squeeze(1).tolist()) <= seen and len(pool.images) == 50
    copy = ImagePool(50, seed=5)
    copy.load_state_dict(pool.state_dict(), "cpu")
    x = torch.randn(6, 1)
    assert torch.equal(copy.query(x), pool.query(x))  # the pool and its random state resume
    assert torch.equal(ImagePool(0, 0).query(x), x)


# ----------------------------------------------------------------------------- inference


def _perturbed_unet():
    torch.manual_seed(0)
    g = UNetGenerator(3, ngf=4, levels=3, dropout=0.5)
    g.ups[1].append(torch.nn.Dropout(0.5))  # dropout at a level this small net would not have
    with torch.no_grad():
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return g


def test_pix2pix_inference_keeps_dropout_and_uses_each_images_own_statistics():
    g = _perturbed_unet()
    meta = {"task": "pix2pix", "direction": "AtoB", "data": {"shape": [3, 16, 16], "offset": [0.5], "scale": [0.5]}}
    t = TrainedTranslator({"ab": g}, meta)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    x = torch.rand(2, 3, 13, 19)
    y0, y0b, y1 = t.translate_tensor(x, seed=0), t.translate_tensor(x, seed=0), t.translate_tensor(x, seed=1)
    assert y0.shape == x.shape and torch.equal(y0, y0b) and not torch.equal(y0, y1)  # seeded dropout noise
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items())  # running statistics untouched
    assert all(m.training for m in g.modules())  # the modes it had, restored
    assert torch.equal(t.translate_tensor(x[:1], seed=0), y0[:1])  # one image at a time: no batch statistics
    g.eval()
    with torch.no_grad():
        evaluated = (g(F.pad((x[:1] - 0.5) / 0.5, (0, 5, 0, 3), mode="reflect"))[..., :13, :19] * 0.5 + 0.5).clamp(0, 1)
    assert not torch.allclose(y0[:1], evaluated, atol=1e-3)  # not evaluation mode
    torch.manual_seed(0)
    with torch.no_grad(), generator_mode(g, noise=True):  # training mode, one image: that is what ran
        bn = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert all(m.training and not m.track_running_stats for m in bn)
        assert all(m.training for m in g.modules() if isinstance(m, torch.nn.Dropout))


def test_cyclegan_inference_is_evaluation_mode():
    torch.manual_seed(0)
    g = ResnetGenerator(3, ngf=4, blocks=1)
    meta = {"task": "cyclegan", "direction": "AtoB", "data": {"shape": [3, 16, 16], "offset": [0.5], "scale": [0.5]}}
    t = TrainedTranslator({"ab": g, "ba": ResnetGenerator(3, ngf=4, blocks=1)}, meta)
    x = torch.rand(1, 3, 12, 20)
    with torch.no_grad():
        expect = (g.eval()(x * 2 - 1) * 0.5 + 0.5).clamp(0, 1)
    torch.testing.assert_close(t.translate_tensor(x, "B"), expect)
    assert t.translate_tensor(x, "a").shape == x.shape


# ----------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("i2i")
    pix = gankit.train("facades-pix2pix", f"data.path={side_by_side(base / 'sbs')}", *PIX, out=base / "pix",
                       quiet=True)
    cyc = gankit.train("facades-cyclegan", f"data.path={ab_folders(base / 'ab')}", "data.direction=AtoB", *CYC,
                       "ema.decay=0.9", out=base / "cyc", quiet=True)  # resumed below: exact with EMA too
    return {"pix": pix, "cyc": cyc}


@pytest.mark.parametrize("which", ["pix", "cyc"])
def test_train_and_resume_give_identical_weights(runs, which, tmp_path):
    run = runs[which]
    head = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert head[2] == ("l1" if which == "pix" else "cycle")
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    for p in checkpoint.checkpoints_in(copy / "checkpoints"):
        if int(p.stem[5:]) > 3:
            checkpoint.remove(p)
    for name in ("generator.json", "generator.safetensors"):
        (copy / name).unlink()
    info = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**info, "status": "running"}))
    gankit.train(resume=copy, quiet=True)
    assert (copy / "generator.safetensors").read_bytes() == (run / "generator.safetensors").read_bytes()


@pytest.mark.parametrize("which", ["pix", "cyc"])
def test_translate_a_non_square_odd_size_image(runs, which, tmp_path):
    g = gankit.load(runs[which])
    rgb = (np.random.default_rng(0).random((45, 77, 3)) * 255).astype(np.uint8)
    out = g.translate(rgb)
    assert out.shape == (45, 77, 3) and out.dtype == np.uint8
    grey = Image.fromarray(rgb[..., 0])
    assert g.translate(grey).size == (77, 45) and g.translate(grey).mode == "L"
    assert g.translate(rgb.astype(np.float32) / 255).dtype == np.float32
    src = tmp_path / "in.png"
    Image.fromarray(rgb).save(src)
    assert main(["translate", str(runs[which]), str(src), "--out", str(tmp_path / "o.png")]) == 0
    with Image.open(tmp_path / "o.png") as im:
        assert im.size == (77, 45)


def test_ema_decay_averages_every_generator_and_the_export_is_the_average(runs, tmp_path):
    state, _ = checkpoint.load(runs["cyc"] / "generator.json")
    train_state, _ = checkpoint.load(checkpoint.checkpoints_in(runs["cyc"] / "checkpoints")[-1])
    emas, nets = train_state["train"]["emas"], train_state["train"]["nets"]
    assert set(emas) == set(state) == {"G_ab", "G_ba"}
    for g in state:
        assert all(torch.equal(v, emas[g][k]) for k, v in state[g].items())
        assert any(not torch.equal(v, nets[g][k]) for k, v in emas[g].items())
    for extra, ema in (([], {}), (["ema.decay=0.999"], {"G": 0.999})):
        folder = tmp_path / f"ema{len(extra)}"
        folder.mkdir()
        assert _task(Pix2Pix, "facades-pix2pix", [*PIX, *extra], folder)[0].ema == ema


def test_cyclegan_translates_both_ways_and_eval_scores(runs, tmp_path):
    g = gankit.load(runs["cyc"])
    x = (np.random.default_rng(1).random((21, 33, 3)) * 255).astype(np.uint8)
    assert g.translate(x, to="A").shape == g.translate(x, to="B").shape == (21, 33, 3)
    doc = gankit.evaluate(runs["pix"])
    assert {"l1", "psnr", "ssim", "kid", "l1_identity", "kid_mean"} <= set(doc["scores"])
    assert doc["scores"]["kid"]["extractor"] == "randconv-v1"
    assert main(["summary", str(runs["cyc"])]) == 0


def test_bad_input_exits_2_with_one_line(runs, tmp_path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(_pair(0)[0]).save(src)
    assert main(["translate", str(runs["cyc"]), str(src), "--out", str(tmp_path / "o.png"), "--to", "C"]) == 2
    assert main(["translate", str(runs["pix"]), str(src), "--out", str(tmp_path / "o.png"), "--to", "B"]) == 2
    noise = gankit.train("digits", "train.steps=2", "train.batch_size=8", "train.threads=1", out=tmp_path / "n",
                         quiet=True)
    assert main(["translate", str(noise), str(src), "--out", str(tmp_path / "o.png")]) == 2
    odd = tmp_path / "odd"
    odd.mkdir()
    Image.fromarray(np.zeros((20, 41, 3), np.uint8)).save(odd / "x.png")
    assert main(["train", "facades-pix2pix", f"data.path={odd}", *PIX, "--out", str(tmp_path / "r1"), "--quiet"]) == 2
    bad = ab_folders(tmp_path / "bad", names_b=("x.png", "y2.png", "z3.png"))
    assert main(["train", "facades-pix2pix", f"data.path={bad}", *PIX, "--out", str(tmp_path / "r2"), "--quiet"]) == 2
    mixed = ab_folders(tmp_path / "mixed")
    Image.open(mixed / "B" / "y.png").convert("L").save(mixed / "B" / "y.png")
    assert main(["train", "facades-pix2pix", f"data.path={mixed}", *PIX, "--out", str(tmp_path / "r3"), "--quiet"]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 6, lines
    assert "1 of 6 images are one-channel" in lines[5] and "y.png" in lines[5] and "data.channels" in lines[5]
    assert "no such domain" in lines[0] and "translates only into A" in lines[1]
    assert "not a translation run" in lines[2] and "even width" in lines[3]
    assert "do not pair up by name" in lines[4] and "y.png" in lines[4] and "y2.png" in lines[4]
