"""Latent walks and truncation: slerp's endpoints are the given codes, walks between seeds start and end at
those seeds' samples, conditional walks keep the code across classes, truncation keeps every component
within ±t, the CLI writes grids, GIFs and CSVs, and runs without a latent input exit 2 with one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from conftest import pictures_off
from gankit.cli import main
from gankit.tasks.latent import draw, slerp, walk
from tasks.test_superres import TINY, _images
from tasks.test_table import SMALL, people

QUICK = ("train.steps=2", "train.batch_size=8", "train.threads=1")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    torch.set_num_threads(1)
    base = tmp_path_factory.mktemp("walks")
    people().to_csv(base / "people.csv", index=False)
    with pictures_off():
        return {"image": gankit.train("digits", *QUICK, out=base / "image", quiet=True),
                "conditional": gankit.train("digits", "conditional.mode=projection", *QUICK, out=base / "cond",
                                            quiet=True),
                "table": gankit.train("table", f"data.path={base / 'people.csv'}", "train.steps=2", *SMALL,
                                      out=base / "table", quiet=True),
                "superres": gankit.train("sr-t91", f"data.path={_images(base / 'imgs')}", *TINY, out=base / "sr",
                                         quiet=True)}


def test_slerp_endpoints_are_the_codes_and_the_path_stays_on_the_sphere():
    z0, z1 = torch.randn(3, 16), torch.randn(3, 16)
    assert torch.equal(slerp(z0, z1, 0.0), z0) and torch.equal(slerp(z0, z1, 1.0), z1)
    path = walk(z0, z1, 9)
    assert path.shape == (9, 3, 16) and torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    u0, u1 = z0 / z0.norm(dim=1, keepdim=True), z1 / z1.norm(dim=1, keepdim=True)
    angle = torch.acos((u0 * u1).sum(1))
    mid = slerp(z0, z1, 0.5)  # the formula: equal weights sin(w/2)/sin(w) on both ends
    torch.testing.assert_close(mid, (torch.sin(angle / 2) / torch.sin(angle))[:, None] * (z0 + z1))
    same = torch.randn(16)
    torch.testing.assert_close(slerp(same, same, 0.3), same)  # parallel codes: no division by zero


@pytest.mark.parametrize("t", [0.1, 0.7, 2.0])
def test_truncation_keeps_every_component_inside(t):
    z = draw(2000, 32, torch.Generator().manual_seed(0), t)
    assert z.abs().max() <= t and z.std() > t / 3  # inside, and not collapsed
    assert torch.equal(draw(5, 4, torch.Generator().manual_seed(1)), torch.randn(5, 4, generator=torch.Generator().manual_seed(1)))


def test_generator_walks_start_and_end_at_the_seeds_samples(runs):
    g = gankit.load(runs["image"])
    z0, z1 = g.latent(1, seed=1)[0], g.latent(1, seed=2)[0]
    x = g.interpolate(z0, z1, 6)
    assert x.shape == (6, 1, 8, 8)
    np.testing.assert_allclose(x[0], g.sample(1, seed=1)[0], atol=1e-6)  # batch of 6 vs 1: float rounding
    np.testing.assert_allclose(x[-1], g.sample(1, seed=2)[0], atol=1e-6)
    t = g.latent(500, seed=0, truncation=0.5)
    assert t.abs().max() <= 0.5
    np.testing.assert_array_equal(g.sample(8, seed=3, truncation=0.5), g.sample(8, seed=3, truncation=0.5))
    assert not np.array_equal(g.sample(8, seed=3, truncation=0.5), g.sample(8, seed=3))


def test_conditional_walks_use_the_same_code_in_every_class(runs):
    g = gankit.load(runs["conditional"])
    z0, z1 = g.latent(2, seed=0), g.latent(2, seed=1)
    x = g.interpolate(z0, z1, 4)
    assert x.shape == (4, 2, g.num_classes, *g.shape)
    with torch.no_grad():
        for k in (0, g.num_classes - 1):
            want = g.codec.decode(g.G(z0, torch.full((2,), k))).numpy()
            np.testing.assert_allclose(x[0, :, k], want, atol=1e-6)
    assert g.interpolate(z0, z1, 4, label=3).shape == (4, 2, *g.shape)


def test_table_truncation_and_walk_refusal(runs):
    g = gankit.load(runs["table"])
    df = g.sample(50, seed=0, truncation=0.5)
    assert len(df) == 50
    with pytest.raises(gankit.errors.GankitError, match="conditional vector"):
        g.interpolate(None, None, 4)


def test_cli_writes_grids_gifs_and_npy(runs, tmp_path, capsys):
    image, cond = str(runs["image"]), str(runs["conditional"])
    assert main(["sample", image, "--interpolate", "5", "--seed", "1", "--to-seed", "2", "--out",
                 str(tmp_path / "w.npy")]) == 0
    w = np.load(tmp_path / "w.npy")
    g = gankit.load(runs["image"])
    assert w.shape == (5, 1, 1, 8, 8)
    np.testing.assert_allclose(w[-1, 0], g.sample(1, seed=2)[0], atol=1e-6)
    assert main(["sample", cond, "--interpolate", "4", "--n", "2", "--out", str(tmp_path / "c.png")]) == 0
    img = Image.open(tmp_path / "c.png")
    assert img.size == (10 * 33 + 1, 8 * 33 + 1)  # 10 class columns, 8 rows (2 walks x 4 steps), 32-px tiles
    assert main(["sample", cond, "--interpolate", "4", "--n", "2", "--out", str(tmp_path / "c.gif")]) == 0
    assert Image.open(tmp_path / "c.gif").n_frames == 4
    assert main(["sample", image, "--n", "16", "--truncation", "0.7", "--out", str(tmp_path / "t.npy")]) == 0


@pytest.mark.parametrize("args, says", [
    (["--interpolate", "4"], "no latent input"),
    (["--interpolate", "1"], "at least 2"),
    (["--to-seed", "3"], "--interpolate"),
    (["--interpolate", "4", "--to-seed", "3"], "--seed"),
    (["--truncation", "0"], "--truncation must be > 0"),
])
def test_bad_input_exits_2_with_one_line(runs, tmp_path, capsys, args, says):
    run = runs["superres"] if "no latent" in says else runs["image"]
    assert main(["sample", str(run), *args, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]


def test_eval_truncation_scores_each_threshold_beside_the_untruncated(runs, tmp_path, capsys):
    plain = gankit.evaluate(runs["image"], n=200, metrics="prdc", write=False)
    doc = gankit.evaluate(runs["image"], n=200, metrics="prdc", write=False, truncation=[0.3, 1.5])
    assert doc["scores"] == plain["scores"]  # the main scores stay those of untruncated codes
    assert [row["truncation"] for row in doc["truncation"]] == [0.3, 1.5]
    assert set(doc["truncation"][0]["scores"]) == set(plain["scores"])
    values = lambda sc: [v["value"] for v in sc.values()]  # noqa: E731
    assert values(doc["truncation"][0]["scores"]) != values(plain["scores"])
    assert main(["eval", str(runs["image"]), "--n", "200", "--metrics", "prdc", "--truncation", "0.5,1"]) == 0
    out = capsys.readouterr().out
    assert "truncation (fidelity vs diversity" in out and "\n  0.5  " in out
    assert main(["eval", str(runs["superres"]), "--truncation", "0.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a generator with a latent input" in err[0]
    assert main(["eval", str(runs["image"]), "--truncation", "0,1"]) == 2
    assert "must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # an empty list is refused, not read as "no truncation"
        main(["eval", str(runs["image"]), "--truncation", ","])
    assert e.value.code == 2 and "expected numbers separated by commas" in capsys.readouterr().err
