"""The superres task: SRResNet/SRGAN shapes, losses against their formulas, tiled upscaling, resume, CLI."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import gankit
from gankit import checkpoint
from gankit.cli import main
from gankit.losses import LOSSES
from gankit.models.srresnet import SRGANDiscriminator, SRResNet
from gankit.tasks.superres import content_loss

TINY = ["generator.blocks=1", "generator.channels=[8]", "discriminator.channels=[8,16]", "sr.patch=16",
        "sr.pretrain=5", "train.steps=10", "train.batch_size=2", "train.threads=1", "data.test_path=null",
        "log.checkpoint_every=5", "log.sample_every=5"]


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes(scale, channels):
    g = SRResNet(channels, width=8, blocks=2, scale=scale)
    assert g(torch.zeros(2, channels, 5, 7)).shape == (2, channels, 5 * scale, 7 * scale)
    d = SRGANDiscriminator(channels, [8, 16])
    for side in (16, 24, 37):  # global pooling: any patch size
        assert d(torch.zeros(2, channels, side, side + 3)).shape == (2, 1)


def test_content_and_adversarial_losses_match_their_formulas():
    torch.manual_seed(0)
    out, hr = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    assert content_loss("l1", out, hr) == pytest.approx(float((out - hr).abs().mean()), rel=1e-6)
    assert content_loss("mse", out, hr) == pytest.approx(float(((out - hr) ** 2).mean()), rel=1e-6)
    logits = torch.randn(4, 1)  # SRGAN's G term: -log D(G(lr)) (non-saturating BCE)
    assert LOSSES.get("bce").g(fake=logits) == pytest.approx(float(-torch.log(torch.sigmoid(logits)).mean()), rel=1e-5)


def test_tiled_upscaling_equals_the_whole_image():
    from gankit.tasks.trained_sr import TrainedUpscaler

    torch.manual_seed(0)
    g = SRResNet(3, width=8, blocks=2, scale=3).eval()
    with torch.no_grad():  # batch norm statistics that are not the identity
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    meta = {"scale": 3, "tile": 8, "data": {"shape": [3, 16, 16], "offset": [0.5], "scale": [0.5]}}
    up = TrainedUpscaler(g, meta)
    x = torch.rand(1, 3, 29, 21)
    whole, tiled = up.upscale_tensor(x, tile=0), up.upscale_tensor(x, tile=8)
    assert tiled.shape == (1, 3, 87, 63)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=0)
    grey = (np.random.default_rng(0).random((13, 10)) * 255).astype(np.uint8)
    assert up.upscale(grey, tile=4).shape == (39, 30)
    assert up.upscale(Image.fromarray(grey).convert("RGB"), tile=5).size == (30, 39)


def _images(folder, sizes=((40, 52), (37, 45), (48, 33), (36, 36))):
    folder.mkdir()
    for i, (h, w) in enumerate(sizes):
        yy, xx = np.mgrid[:h, :w]
        a = 127 + 100 * np.sin(xx / 3 + i)[..., None] * np.cos(yy / 4)[..., None] * np.array([1, 0.5, -0.7])
        Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("sr")
    data = _images(base / "imgs")
    return gankit.train("sr-t91", f"data.path={data}", *TINY, out=base / "run", quiet=True)


def test_train_writes_an_upscaler_and_resume_is_exact(run, tmp_path):
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["step", "epoch", "content"] and len(rows) > 1
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    for p in checkpoint.checkpoints_in(copy / "checkpoints"):
        if int(p.stem[5:]) > 5:
            checkpoint.remove(p)
    for name in ("generator.json", "generator.safetensors"):
        (copy / name).unlink()
    info = json.loads((copy / "run.json").read_text())
    (copy / "run.json").write_text(json.dumps({**info, "status": "running"}))
    gankit.train(resume=copy, quiet=True)  # from step 5: across the PSNR -> SRGAN boundary
    assert (copy / "generator.safetensors").read_bytes() == (run / "generator.safetensors").read_bytes()
    doc = gankit.evaluate(run)
    assert {"psnr", "ssim", "sharpness", "psnr_bicubic"} <= set(doc["scores"])


def test_eval_scores_a_one_channel_file_on_its_own_values(run, tmp_path):
    """Set14's img_003 case: a greyscale file in a colour test set is scored as the MATLAB scripts score
    it (its own values, the model's output as upscale returns it), not through RGB -> Y."""
    from gankit.metrics.sr import matlab_bicubic, psnr_y
    from gankit.metrics.sr_eval import evaluate_upscaler
    from gankit.run.folder import load_run_config

    test = _images(tmp_path / "test", sizes=((40, 44),))
    grey = (np.random.default_rng(2).random((36, 48)) * 255).astype(np.uint8)
    Image.fromarray(grey).save(test / "grey.png")
    cfg = load_run_config(run)
    cfg = replace(cfg, data=replace(cfg.data, test_path=str(test)))
    g = gankit.load(run)
    doc = evaluate_upscaler(run, g, cfg)
    lr = matlab_bicubic(grey, 1 / 4)
    assert doc["scores"]["psnr"]["per_image"][1] == pytest.approx(psnr_y(g.upscale(lr), grey, 4), abs=1e-3)
    assert doc["scores"]["psnr_bicubic"]["per_image"][1] == pytest.approx(
        psnr_y(matlab_bicubic(lr, 4, size=grey.shape), grey, 4), abs=1e-3)
    assert doc["data"]["y_channel"].endswith("their own values")


def test_preview_strips_are_input_output_target_and_zoomed_crops(tmp_path):
    from gankit.api import load_config
    from gankit.data.imageset import load_image_set
    from gankit.tasks.superres import SuperResolution, zoom

    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    assert torch.equal(zoom(x)[0, 0], torch.tensor([[5.0, 5, 6, 6], [5, 5, 6, 6], [9, 9, 10, 10], [9, 9, 10, 10]]))
    cfg = load_config("sr-t91", f"data.path={_images(tmp_path / 'imgs')}", *TINY)
    task = SuperResolution.from_config(cfg, load_image_set(cfg), "cpu")
    fixed = task.fixed_inputs(4, 0)
    strips, per_row = task.preview(task.nets, fixed)
    p = cfg.sr.patch
    assert per_row == 5 and strips.shape == (4 * 5, 3, p, p)
    hr = fixed["hr"].float().numpy() / 255
    np.testing.assert_allclose(strips[2::5], hr)
    np.testing.assert_allclose(strips[4::5], zoom(torch.from_numpy(hr)).numpy())
    np.testing.assert_allclose(strips[3::5], zoom(torch.from_numpy(strips[1::5].copy())).numpy())


def test_cli_upscale_grey_and_rgb_of_odd_size(run, tmp_path, capsys):
    grey, rgb = tmp_path / "g.png", tmp_path / "c.jpg"
    Image.fromarray((np.random.default_rng(0).random((23, 31)) * 255).astype(np.uint8)).save(grey)
    Image.fromarray((np.random.default_rng(1).random((17, 29, 3)) * 255).astype(np.uint8)).save(rgb)
    assert main(["upscale", str(run), str(grey), "--out", str(tmp_path / "big.png")]) == 0
    with Image.open(tmp_path / "big.png") as im:
        assert im.size == (124, 92) and im.mode == "L"
    assert main(["upscale", str(run), str(tmp_path), "--out", str(tmp_path / "out") + "/", "--tile", "8"]) == 0
    with Image.open(tmp_path / "out" / "c.jpg") as im:
        assert im.size == (116, 68) and im.mode == "RGB"


def test_bad_input_exits_2_with_one_line(run, tmp_path, capsys):
    noise = gankit.train("digits", "train.steps=2", "train.batch_size=8", "train.threads=1", out=tmp_path / "n",
                         quiet=True)
    assert main(["upscale", str(noise), str(tmp_path), "--out", str(tmp_path / "x.png")]) == 2
    assert "not a super-resolution run" in capsys.readouterr().err
    small = _images(tmp_path / "small", sizes=((12, 40), (40, 40)))
    assert main(["train", "sr-t91", f"data.path={small}", *TINY, "--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "smaller than the training patch sr.patch=16" in err and len(err.splitlines()) == 1
    mixed = _images(tmp_path / "mixed")
    Image.fromarray(np.full((40, 40), 90, np.uint8)).save(mixed / "grey.png")
    assert main(["train", "sr-t91", f"data.path={mixed}", *TINY, "--out", str(tmp_path / "m"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "1 of 5 images are one-channel" in err and "grey.png" in err and "data.channels=3" in err
    assert len(err.splitlines()) == 1
    assert main(["train", "sr-t91", f"data.path={mixed}", *TINY, "data.channels=3", "train.steps=1",
                 "--out", str(tmp_path / "m3"), "--quiet"]) == 0


def test_ema_decay_averages_the_generator(tmp_path):
    from gankit.api import load_config
    from gankit.data.imageset import load_image_set
    from gankit.tasks.superres import SuperResolution

    data_path = _images(tmp_path / "imgs")
    for extra, ema in (([], {}), (["ema.decay=0.999"], {"G": 0.999})):
        cfg = load_config("sr-t91", f"data.path={data_path}", *TINY, *extra)
        assert SuperResolution.from_config(cfg, load_image_set(cfg, seed=0), "cpu").ema == ema


def test_loaded_upscaler_runs_channels_last_on_the_cpu_with_the_plain_values(run):
    """gankit.load puts the upscaler channels-last on a CPU (inference speed): the values and gradients of NCHW."""
    g = gankit.load(run)
    assert g.G.tail[0].weight.is_contiguous(memory_format=torch.channels_last)
    plain = SRResNet(3, width=8, blocks=1, scale=4).eval()
    plain.load_state_dict({k: v.contiguous() for k, v in g.G.state_dict().items()})
    assert plain.tail[0].weight.is_contiguous() and not plain.tail[0].weight.is_contiguous(
        memory_format=torch.channels_last)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6, 5)
    out, ref = g.G(x), plain(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    grad_cl = torch.autograd.grad(out.square().sum(), g.G.tail[0].weight)[0]
    grad_plain = torch.autograd.grad(ref.square().sum(), plain.tail[0].weight)[0]
    torch.testing.assert_close(grad_cl, grad_plain, atol=1e-4, rtol=1e-4)
