"""The SNGAN ResNet family (gankit/models/sngan.py, cbn.py, attention.py): shapes at 32 and 64 pixels with 1
and 3 channels, spectral norm in D only, class-conditional batch norm, the hierarchical latent's wiring,
the projection term by hand, orthogonal initial weights, the summary's block rows, and the bad settings
that exit 2 with one line."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import config as C
from gankit.cli import main
from gankit.errors import GankitError
from gankit.models import build_discriminator, build_generator
from gankit.models.sngan import DownBlock, SNGANDiscriminator, SNGANGenerator, UpBlock

#: the cifar10-sngan preset shrunk to train a few steps in seconds (16-pixel images, 2 stages)
SMALL = ["data.image_size=16", "data.test_path=null", "generator.channels=[16,8]", "discriminator.channels=[8,16]",
         "discriminator.blocks=1", "generator.latent_dim=12", "train.batch_size=8", "train.threads=1",
         "log.sample_every=1000", "log.progress=off", "log.grid_size=8"]


def tiny_archive(path: Path, classes=("cat", "dog", "ship"), n: int = 8, size: int = 16) -> Path:
    """``path`` (.tar.gz or .zip) holding train/<class>/NNNN.jpg, as ../shared/data/cifar10's archives do."""
    rng = np.random.default_rng(0)
    members = []
    for k, cls in enumerate(classes):
        for i in range(n):
            a = rng.integers(0, 120, size=(size, size, 3), dtype=np.uint8)
            a[..., k % 3] += 120  # a colour per class
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="JPEG", quality=90)
            members.append((f"train/{cls}/{i:04d}.jpg", buf.getvalue()))
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members:
                z.writestr(name, data)
    else:
        with tarfile.open(path, "w:gz") as t:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return path


def nets(shape, *overrides, classes: int = 10, mode: str = "projection"):
    """The preset's networks, with the projection paper's one-hot class norms unless ``overrides`` say otherwise."""
    cfg = C.load("cifar10-sngan", ["data.path=null", "generator.shared_dim=0", "generator.hierarchical=false",
                                   *overrides])
    G = build_generator(cfg.generator, shape, classes)
    D = build_discriminator(cfg.discriminator, shape, classes, mode if classes else "none")
    return cfg, G, D


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("shape, g, d", [
    ((3, 32, 32), "[32,16,16]", "[8,16]"),
    ((1, 32, 32), "[32,16,16]", "[8,16]"),
    ((3, 64, 64), "[32,16,16,8]", "[8,8,16,16]"),
    ((1, 64, 64), "[16,16,8,8]", "[8,8,16]"),
])
@pytest.mark.parametrize("classes", [0, 10])
@pytest.mark.parametrize("projection", ["pooled", "spatial"])
def test_shapes_at_32_and_64_pixels(shape, g, d, classes, projection):
    _, G, D = nets(shape, f"generator.channels={g}", f"discriminator.channels={d}",
                   f"discriminator.projection={projection}", classes=classes)
    z, y = torch.randn(5, 128), torch.arange(5) % 10
    x = G(z, y) if classes else G(z)
    assert x.shape == (5, *shape) and x.min() >= -1 and x.max() <= 1  # tanh
    out = D(x, y) if classes else D(x)
    assert out.shape == (5, 1)
    base = D.base if classes else D
    assert base.features(x).shape == (5, base.feature_dim)  # (N, F): what projection and AC-GAN read


def test_widths_and_blocks_follow_the_config():
    _, G, D = nets((3, 32, 32), "generator.channels=[24,16,8]", "discriminator.channels=[8,12]",
                   "discriminator.blocks=3", classes=0)
    ups = [m for m in G.modules() if isinstance(m, UpBlock)]
    assert [(b.conv1.in_channels, b.conv2.out_channels) for b in ups] == [(24, 16), (16, 8), (8, 8)]
    downs = [m for m in D.modules() if isinstance(m, DownBlock)]
    assert [(b.conv1.in_channels, b.conv2.out_channels, b.down) for b in downs] == [
        (3, 8, True), (8, 12, True), (12, 12, False), (12, 12, False), (12, 12, False)]
    assert downs[0].first and not downs[1].first  # the image is not an activation: no ReLU before block 1


def test_concat_mode_adds_the_class_as_image_channels():
    _, _, D = nets((3, 32, 32), "generator.channels=[16,16,16]", "discriminator.channels=[8,8]", mode="concat")
    assert D.base.features[0].conv1.in_channels == 3 + 10
    assert D(torch.randn(2, 3, 32, 32), torch.arange(2)).shape == (2, 1)


# ----------------------------------------------------------------------------- spectral norm, init


def _normalised(m: torch.nn.Module) -> bool:
    return hasattr(m, "weight_orig") and hasattr(m, "weight_u")


def test_spectral_norm_on_every_layer_of_d_and_none_in_g():
    _, G, D = nets((3, 32, 32), "generator.channels=[16,16,16]", "discriminator.channels=[8,8]",
                   "discriminator.attention=16")
    weighted = [m for m in D.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.Embedding))]
    assert len(weighted) > 10 and all(_normalised(m) for m in weighted)  # the projection embedding too
    assert not any(_normalised(m) for m in G.modules())
    _, _, plain = nets((3, 32, 32), "discriminator.channels=[8,8]", "discriminator.norm=none")
    assert not any(_normalised(m) for m in plain.modules())


def test_weights_start_orthogonal():
    torch.manual_seed(0)
    _, G, D = nets((3, 32, 32), "generator.channels=[16,16,8]", "discriminator.channels=[8,8]",
                   "generator.shared_dim=8")
    checked = 0
    for m in [*G.modules(), *D.modules()]:
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.Embedding)):
            w = (m.weight_orig if _normalised(m) else m.weight).detach().reshape(m.weight.shape[0], -1).double()
            small = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w  # orthonormal rows, or columns
            torch.testing.assert_close(small, torch.eye(len(small), dtype=torch.float64), atol=1e-5, rtol=0)
            if getattr(m, "bias", None) is not None:
                assert not m.bias.any()
            checked += 1
    assert checked > 20


# ----------------------------------------------------------------------------- conditioning


def test_class_conditional_batch_norm_uses_the_class():
    torch.manual_seed(0)
    _, G, _ = nets((3, 32, 32), "generator.channels=[16,16,16]", "discriminator.channels=[8,8]")
    z = torch.randn(1, 128).expand(4, -1)
    for mode in (G.train, G.eval):
        mode()
        with torch.no_grad():
            x = G(z, torch.tensor([0, 1, 2, 0]))
        assert (x[0] - x[1]).abs().max() > 1e-3 and (x[1] - x[2]).abs().max() > 1e-3  # same z, another class
        torch.testing.assert_close(x[3], x[0])  # same z and class: the same picture (eval and train alike)
    bn = G.blocks[0].bn1
    assert not bn.bn.affine and bn.gain.in_features == 10  # a gain and bias per class (one-hot), no own affine
    with pytest.raises(TypeError, match="G\\(z, y\\)"):
        G(torch.randn(2, 128))


def test_hierarchical_latent_feeds_one_chunk_per_block_beside_the_shared_embedding():
    torch.manual_seed(0)
    _, G, _ = nets((3, 32, 32), "generator.channels=[16,16,16]", "discriminator.channels=[8,8]",
                   "generator.hierarchical=true", "generator.shared_dim=6")
    assert G.linear.in_features == 32  # 128 / (3 blocks + 1)
    seen: list[torch.Tensor] = []
    hooks = [b.register_forward_pre_hook(lambda m, args: seen.append(args[1])) for b in G.blocks]
    z, y = torch.randn(3, 128), torch.tensor([4, 7, 4])
    G.eval()
    with torch.no_grad():
        G(z, y)
    for h in hooks:
        h.remove()
    embedded = G.shared(y)
    for i, cond in enumerate(seen):  # block i reads [shared(y), z chunk i + 1]
        assert cond.shape == (3, 6 + 32)
        torch.testing.assert_close(cond[:, :6], embedded)
        torch.testing.assert_close(cond[:, 6:], z[:, 32 * (i + 1): 32 * (i + 2)])
    with torch.no_grad():  # the last chunk changes the picture through the last block only
        a, b = G(z, y), G(torch.cat([z[:, :96], torch.randn(3, 32)], 1), y)
    assert (a - b).abs().max() > 1e-4


def _normalised_weight(m: torch.nn.Module) -> torch.Tensor:
    return m.weight_orig / torch.dot(m.weight_u, m.weight_orig.reshape(len(m.weight_u), -1) @ m.weight_v)


@pytest.mark.parametrize("projection", ["pooled", "spatial"])
def test_projection_term_equals_the_hand_computation(projection):
    torch.manual_seed(1)
    _, _, D = nets((3, 32, 32), "discriminator.channels=[8,8]", f"discriminator.projection={projection}")
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([3, 1, 3, 9])
    D.train()
    D(x, y)  # a power iteration in training mode moves the spectral norms' u, v
    D.eval()  # then they stay: weight = weight_orig / (u . W v)
    with torch.no_grad():
        out = D(x, y)
        h = torch.relu(D.base.features[:-1](x))  # (N, 8, 8, 8): the last map, after its ReLU
        pooled = h.sum((2, 3))  # global sum pooling: (N, 8)
        # what the class embedding reads: the pooled features, or every position times √(8·8)
        phi = pooled if projection == "pooled" else h.flatten(1) * 8.0
        head = _normalised_weight(D.base.head if projection == "pooled" else D.base.head.linear)
        embed = _normalised_weight(D.embed)
        assert embed.shape == (10, 8 if projection == "pooled" else 8 * 8 * 8)
        want = pooled @ head.T + (embed[y] * phi).sum(1, keepdim=True)  # ψ(Σ_p h_p) + <embed(y), φ(x)>
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)


def test_spatial_projection_leaves_the_unconditional_logit_unchanged():
    """The same weights give the same logit: only what the class embedding reads differs."""
    torch.manual_seed(2)
    pooled = SNGANDiscriminator((3, 16, 24), [8, 8], 1, projection="pooled")
    spatial = SNGANDiscriminator((3, 16, 24), [8, 8], 1, projection="spatial")
    spatial.load_state_dict({k.replace("head.", "head.linear."): v for k, v in pooled.state_dict().items()})
    pooled.eval()
    spatial.eval()
    x = torch.randn(4, 3, 16, 24)
    with torch.no_grad():
        assert spatial.features(x).shape == (4, 8 * 4 * 6) and spatial.feature_dim == 8 * 4 * 6
        torch.testing.assert_close(spatial(x), pooled(x), atol=1e-5, rtol=1e-5)


def test_self_attention_starts_as_the_identity_and_sits_where_asked():
    _, G, D = nets((3, 32, 32), "generator.channels=[16,16,16]", "discriminator.channels=[8,8]",
                   "generator.attention=16", "discriminator.attention=8", "discriminator.projection=pooled")
    assert G.attn_at == 1 and G.attention.gamma.item() == 0.0
    kinds = [type(m).__name__ for m in D.base.features]
    assert kinds == ["DownBlock", "DownBlock", "SelfAttention2d", "DownBlock", "DownBlock", "SumPool"]
    h = torch.randn(2, 16, 16, 16)
    torch.testing.assert_close(G.attention(h), h)  # gamma = 0: a fresh layer changes nothing
    with torch.no_grad():
        G.attention.gamma.fill_(1.0)
    assert G.attention(h).shape == h.shape and (G.attention(h) - h).abs().max() > 0


# ----------------------------------------------------------------------------- summary and bad settings


def test_summary_lists_the_blocks(tmp_path, capsys):
    data = tiny_archive(tmp_path / "tiny.tar.gz")
    assert main(["summary", "cifar10-sngan", f"data.path={data}", *SMALL, "generator.attention=8"]) == 0
    out = capsys.readouterr().out
    g, d = out.split('Model: "discriminator"')[0], out.split('Model: "discriminator"')[1]
    assert "up_block (UpBlock)" in g and "up_block_1 (UpBlock)" in g and "self_attention2d (SelfAttention2d)" in g
    assert "(None, 8, 16, 16)" in g and "(None, 3, 16, 16)" in g
    assert "down_block (DownBlock)" in d and "down_block_2 (DownBlock)" in d and "down_block_3" not in d
    assert "embedding (Embedding)" in d  # the projection


@pytest.mark.parametrize("override, fragment", [
    ("data.image_size=18", "image sides must divide by 4"),
    ("generator.hierarchical=true generator.latent_dim=10", "generator.latent_dim must divide by 3"),
    ("generator.attention=12", "generator.attention=12: no block"),
    ("generator.attention=7", "generator.attention must be an even feature-map side"),
    ("discriminator.blocks=-1", "discriminator.blocks must be >= 0"),
    ("generator.norm=none", "generator.norm must be one of batch for generator.arch=sngan"),
    ("generator.shared_dim=-1", "generator.shared_dim must be >= 0"),
])
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, override, fragment):
    data = tiny_archive(tmp_path / "tiny.tar.gz")
    assert main(["train", "cifar10-sngan", f"data.path={data}", *SMALL, "train.steps=1", *override.split(),
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_direct_construction_refuses_sizes_that_do_not_divide():
    with pytest.raises(GankitError, match="divide by 8"):
        SNGANGenerator(16, (3, 36, 36), [8, 8, 8])
    with pytest.raises(GankitError, match="1 or 3 channels"):
        SNGANGenerator(16, (4, 32, 32), [8, 8, 8])
    with pytest.raises(GankitError, match="divide by 4"):
        SNGANDiscriminator((3, 30, 30), [8, 8])


def test_presets_and_train_help_name_the_family(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("cifar10-dcgan", "cifar10-sngan ", "cifar10-sngan-gpu"))
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "generator.arch=sngan: SNGAN's ResNet generator" in out and "discriminator.arch=sngan" in out
    gpu = C.load("cifar10-sngan-gpu", ["data.path=null"])  # the paper's recipe, as the preset states it
    assert (gpu.generator.channels, gpu.discriminator.channels, gpu.train.n_critic, gpu.train.batch_size) == (
        [256, 256, 256], [128, 128], 5, 64)
    assert (gpu.generator.lr, gpu.generator.betas, gpu.loss, gpu.train.steps) == (2e-4, (0.0, 0.9), "hinge", 50000)
    cpu = C.load("cifar10-sngan", ["data.path=null"])  # the CPU recipe, as the preset and the README state it
    assert (cpu.generator.channels, cpu.discriminator.channels, cpu.train.n_critic, cpu.train.batch_size) == (
        [64, 32, 16], [16, 32], 1, 32)
    assert (cpu.generator.shared_dim, cpu.generator.hierarchical, cpu.generator.lr, cpu.discriminator.lr) == (
        128, True, 2e-4, 4e-4)
    assert (cpu.generator.schedule, cpu.discriminator.schedule, cpu.train.steps) == ("linear", "linear", 30000)
    assert (cpu.generator.decay_start, cpu.discriminator.decay_start, gpu.generator.decay_start) == (0.3333, 0.3333, 0)
    assert (cpu.discriminator.projection, gpu.discriminator.projection) == ("spatial", "pooled")
