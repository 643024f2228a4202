"""gankit export: every generator kind in ONNX (onnxruntime), torch.export (.pt2) and TorchScript gives
gankit's own network output to 1e-5; image -> image at other heights and widths; the table generator's
JSON and the README's numpy decoder against gankit's own decoding; the README's snippets run; bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.run.export import run_file
from conftest import pictures_off
from tasks.test_superres import TINY, _images
from tasks.test_table import SMALL, people
from tasks.test_translation import CYC, PIX, ab_folders, side_by_side

README = Path(__file__).resolve().parents[1] / "README.md"
FORMATS = ["onnx", "pt2", "torchscript"]
KINDS = ["image", "conditional", "numeric-table", "table", "superres", "pix2pix", "cyclegan", "sound", "wave"]
TOL = 1e-5
QUICK = ("train.steps=2", "train.batch_size=8", "train.threads=1")


def _train(kind: str, base: Path) -> Path:
    out = base / kind
    if kind == "image":
        return gankit.train("digits", *QUICK, out=out, quiet=True)
    if kind == "conditional":
        return gankit.train("digits-dcgan", "conditional.mode=projection", "generator.channels=[16,8,4]",
                            "discriminator.channels=[4,8,16]", *QUICK, out=out, quiet=True)
    if kind == "numeric-table":
        df = people().dropna()[["age", "income", "smoker"]]
        df.to_csv(base / "numbers.csv", index=False)
        return gankit.train("digits", f"data.path={base / 'numbers.csv'}", "data.label_column=smoker", *QUICK,
                            out=out, quiet=True)
    if kind == "table":
        people().to_csv(base / "people.csv", index=False)
        return gankit.train("table", f"data.path={base / 'people.csv'}", "train.steps=4", *SMALL, out=out, quiet=True)
    if kind == "superres":
        return gankit.train("sr-t91", f"data.path={_images(base / 'imgs')}", *TINY, out=out, quiet=True)
    if kind == "sound":  # SpecGAN on 0.24 s tones as 16 x 16 spectrograms, conditional on the file name's digit
        return gankit.train("fsdd-specgan", f"data.path={_tones(base / 'rec')}", "data.test_pattern=null",
                            "data.duration=0.24", "data.n_mels=16", "data.frames=16", "generator.channels=[8,8]",
                            "discriminator.channels=[8,8]", "train.batch_size=4", "train.steps=2", out=out, quiet=True)
    if kind == "wave":  # WaveGAN on the same tones as waveforms: 1,920 samples padded to 2,048 (4^4 x 8)
        return gankit.train("fsdd-wavegan", f"data.path={_tones(base / 'rec-wave')}", "data.test_pattern=null",
                            "data.duration=0.24", "data.n_mels=16", "data.frames=16", "generator.channels=[8,8,8,8]",
                            "discriminator.channels=[8,8,8,8]", "train.batch_size=4", "train.steps=2", out=out,
                            quiet=True)
    if kind == "pix2pix":
        return gankit.train("facades-pix2pix", f"data.path={side_by_side(base / 'sbs')}", *PIX, out=out, quiet=True)
    return gankit.train("facades-cyclegan", f"data.path={ab_folders(base / 'ab')}", "data.direction=AtoB", *CYC,
                        out=out, quiet=True)


def _tones(rec: Path) -> Path:
    """Six 0.25 s tones, ``{digit}_a_{take}.wav`` for digits 0 and 1."""
    from gankit.audio.wav import write_wav

    rec.mkdir()
    for d in range(2):
        for i in range(3):
            write_wav(rec / f"{d}_a_{i}.wav", 0.5 * np.sin(np.arange(2000) * (0.2 + 0.1 * d)), 8000)
    return rec


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("export")
    with pictures_off():
        return {kind: _train(kind, base) for kind in KINDS}


def own_output(g, kind: str, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """gankit's own network output on ``inputs``, through the code gankit samples with."""
    with torch.no_grad():
        if kind in ("image", "conditional", "numeric-table", "sound", "wave"):
            return g.G(*inputs.values())
        if kind == "table":  # gankit's sampling path: the generator, then its conditions written in
            cond = inputs["cond"]
            mask = g.conditions.block_mask(torch.stack([cond[:, o:o + k].sum(1) > 0 for o, k in
                                                        zip(g.conditions.offsets, g.conditions.sizes)], 1))
            return g.conditions.enforce(g.G.probabilities(torch.cat([inputs["z"], cond], 1)), cond, mask)
        if kind == "superres":
            return g.G(inputs["x"])
    from gankit.tasks.trained_translate import run_generator

    return run_generator(g.generator(None), inputs["x"], noise=g.noise, dropout=False)


def inputs_for(g, kind: str, n: int = 5, hw: tuple[int, int] = (16, 24)) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    if kind in ("superres", "pix2pix", "cyclegan"):
        return {"x": torch.rand(n, g.channels, *hw, generator=gen) * 2 - 1}
    z = torch.randn(n, g.latent_dim, generator=gen)
    if kind == "table":
        return {"z": z, "cond": g.conditions.sample_free(n, gen)[0]}
    return {"z": z, **({"label": torch.arange(n) % g.num_classes} if g.num_classes else {})}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
def test_export_matches_gankit_for_every_generator(runs, kind, fmt, tmp_path):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    doc = gankit.export(runs[kind], fmt, tmp_path / f"g.{fmt}")
    assert doc["check"]["max_abs_diff"] < TOL  # the export's own read-back check
    assert json.loads((tmp_path / "g.json").read_text())["input_names"] == doc["input_names"]
    g = gankit.load(runs[kind])
    sizes = [(16, 24), (40, 8)] if kind in ("superres", "cyclegan") else [(16, 24), (32, 16)]
    for n, hw in ((1, sizes[0]), (7, sizes[1])):  # other batch sizes, and other heights and widths
        inputs = inputs_for(g, kind, n, hw)
        got, want = run_file(fmt, tmp_path / f"g.{fmt}", inputs), own_output(g, kind, inputs)
        assert got.shape == want.shape
        torch.testing.assert_close(got.float(), want.float(), atol=TOL, rtol=0)


def test_exported_translation_equals_gankit_translate(runs, tmp_path):
    """pix2pix without dropout (the file) is translate(dropout=False); odd sizes pad and crop as gankit does."""
    pytest.importorskip("onnxruntime")
    g = gankit.load(runs["pix2pix"])
    gankit.export(runs["pix2pix"], "onnx", tmp_path / "p.onnx")
    spec = json.loads((tmp_path / "p.json").read_text())
    img = torch.rand(1, g.channels, 21, 13)
    m = spec["multiple"]
    ph, pw = -21 % m, -13 % m
    x = torch.nn.functional.pad((img - spec["decode"]["offset"]) / spec["decode"]["scale"], (0, pw, 0, ph),
                                mode="reflect")
    y = run_file("onnx", tmp_path / "p.onnx", {"x": x})[..., :21, :13]
    mine = (y * spec["decode"]["scale"] + spec["decode"]["offset"]).clamp(0, 1)
    torch.testing.assert_close(mine, g.translate_tensor(img, dropout=False), atol=TOL, rtol=0)
    assert "dropout off" in spec["notes"]


def test_table_export_agrees_with_gankit_sampling_where_it_is_deterministic(runs):
    """Numbers' scalars and conditioned blocks are gankit's own; the one-hot blocks are the probabilities its
    Gumbel-softmax draws from."""
    g = gankit.load(runs["table"])
    inputs = inputs_for(g, "table", 64)
    net = g.network()
    with torch.no_grad():
        det = net(**inputs)
        torch.manual_seed(0)
        drawn = g.conditions.enforce(g.G(torch.cat([inputs["z"], inputs["cond"]], 1)), inputs["cond"],
                                     own_mask(g, inputs["cond"]))
    heads, at = g.G.heads, 0
    for h in heads:
        block = slice(at, at + h.size)
        if h.kind == "continuous":
            torch.testing.assert_close(det[:, block], drawn[:, block])
        else:
            torch.testing.assert_close(det[:, block].sum(1), torch.ones(len(det)))
        at += h.size
    given = own_mask(g, inputs["cond"]) > 0
    for o, (c, k) in zip(g.conditions.offsets, zip(g.conditions.columns, g.conditions.sizes)):
        s, _ = g.codec.one_hot_span(c)
        rows = given[:, o]
        assert torch.equal(det[rows, s:s + k], inputs["cond"][rows, o:o + k])


def own_mask(g, cond):
    given = torch.stack([cond[:, o:o + k].sum(1) > 0 for o, k in zip(g.conditions.offsets, g.conditions.sizes)], 1)
    return g.conditions.block_mask(given)


def snippet(name: str) -> str:
    text = README.read_text()
    at = text.index(f"<!-- tested: {name} -->")
    return re.search(r"```python\n(.*?)```", text[at:], re.S).group(1)


def test_readme_table_decoder_round_trip(runs, tmp_path, monkeypatch):
    """The JSON's codec is the run's; the README's numpy decoder gives gankit's own decoding of the same rows."""
    pytest.importorskip("onnxruntime")
    from gankit.tables.transform import MixedCodec

    g = gankit.load(runs["table"])
    gankit.export(runs["table"], "onnx", tmp_path / "table.onnx")
    spec = json.loads((tmp_path / "table.json").read_text())
    assert MixedCodec.from_dict(spec["decode"]["codec"]).to_dict() == g.codec.to_dict()
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(snippet("export-table"), scope)  # noqa: S102 - the README's own code, run as a user would
    assert set(scope["smokers"]["smoker"]) == {"yes"} and len(scope["columns"]["age"]) == 1000
    rows = run_file("onnx", tmp_path / "table.onnx", inputs_for(g, "table", 50)).numpy()
    mine = scope["decode"](rows, spec)
    theirs = g.codec.decode(torch.from_numpy(rows)).numpy()  # column space: numbers, category indices, NaN
    for j, col in enumerate(g.schema.used):
        if col.discrete:
            names = [None if np.isnan(v) else col.categories[int(v)] for v in theirs[:, j]]
            assert mine[col.name] == names
        else:
            np.testing.assert_allclose(mine[col.name], theirs[:, j], rtol=1e-12, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("kind", ["image", "conditional"])
def test_readme_onnx_snippet_samples_without_gankit(runs, kind, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    g = gankit.load(runs[kind])
    gankit.export(runs[kind], "onnx", tmp_path / "generator.onnx")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(snippet("export-noise"), scope)  # noqa: S102
    z = torch.from_numpy(scope["z"])
    want = g.codec.decode(g.G(z) if not g.num_classes else g.G(z, torch.full((16,), 3))).detach().numpy()
    np.testing.assert_allclose(scope["x"], want, atol=TOL, rtol=0)


def test_cli_export_and_missing_packages(runs, tmp_path, capsys, monkeypatch):
    assert main(["export", str(runs["superres"]), "--format", "pt2", "--out", str(tmp_path / "sr.pt2")]) == 0
    assert "torch.export.load: max |difference|" in capsys.readouterr().out
    assert json.loads((tmp_path / "sr.json").read_text())["upscale"] == gankit.load(runs["superres"]).scale
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    assert main(["export", str(runs["image"]), "--format", "onnx", "--out", str(tmp_path / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'gankit[export]'" in err[0] and "onnxscript" in err[0]
    assert not (tmp_path / "x.onnx").exists()
    assert main(["export", str(runs["cyclegan"]), "--out", str(tmp_path / "c.onnx"), "--to", "C"]) == 2
    assert main(["export", str(runs["image"]), "--out", str(tmp_path / "c.json")]) == 2


def test_sound_export_says_how_to_make_sound(runs, tmp_path):
    """The JSON beside an exported SpecGAN generator holds the codec and the way back to a waveform."""
    doc = gankit.export(runs["sound"], "pt2", tmp_path / "g.pt2")
    decode = doc["decode"]
    assert decode["spectrogram"]["sample_rate"] == 8000 and decode["spectrogram"]["samples"] == 1920
    assert "Griffin-Lim" in decode["rule"] and len(decode["offset"][0]) == 16
    assert doc["output"]["shape"] == ["batch", 1, 16, 16]


def test_wave_export_says_how_to_make_sound(runs, tmp_path):
    """The JSON beside an exported WaveGAN generator: the output is the waveform, padding to drop at the end."""
    doc = gankit.export(runs["wave"], "torchscript", tmp_path / "g.pt")
    decode = doc["decode"]
    assert decode["representation"] == "waveform" and (decode["offset"], decode["scale"]) == (0.0, 1.0)
    assert decode["waveform"] == {"sample_rate": 8000, "samples": 1920, "length": 2048}
    assert "padding and dropped" in decode["rule"] and doc["output"]["shape"] == ["batch", 1, 2048]
    x = torch.jit.load(str(tmp_path / "g.pt"))(torch.zeros(3, doc["inputs"]["z"]["shape"][1]), torch.tensor([0, 1, 1]))
    clips = x[:, 0, : decode["waveform"]["samples"]].clamp(-1, 1)  # the rule, by hand
    want = gankit.load(runs["wave"]).codec.decode(x)
    assert clips.shape == (3, 1920) and torch.equal(clips, want)
