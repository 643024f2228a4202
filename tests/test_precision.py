"""Issue 7: mixed precision (bf16 / fp16 autocast, a loss scaler per network) and gradient accumulation.

The penalties' own fp16/bf16 behaviour (unscaled gradients, fp32 result) is tested in test_losses.py.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import gankit
from gankit import checkpoint, cli
from gankit.device import check_precision
from gankit.errors import GankitError

TINY = ("generator.hidden=[32,32]", "discriminator.hidden=[32,32]", "data.n_samples=2000",
        "train.batch_size=64", "log.every=5", "log.sample_every=1000", "train.threads=1")


def final(run) -> dict[str, torch.Tensor]:
    return load_file(run / "generator.safetensors")


def newest(run):
    return checkpoint.load(checkpoint.checkpoints_in(run / "checkpoints")[-1])


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_on_cpu(tmp_path, precision):
    run = gankit.train("ring", *TINY, "train.steps=30", f"train.precision={precision}", out=tmp_path / "r", quiet=True)
    w = final(run)
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in w.values())  # fp32 master weights
    ref = final(gankit.train("ring", *TINY, "train.steps=30", out=tmp_path / "fp32", quiet=True))
    assert any((w[k] - ref[k]).abs().max() > 0 for k in w)  # autocast really ran in lower precision
    # ... and trained the same model to within low-precision roundings (fp16: and the few steps its
    # scaler skipped while finding a scale at which R1's input gradients do not overflow)
    tol = 0.05 if precision == "bf16" else 0.25
    for k in w:
        assert (w[k] - ref[k]).abs().max() < tol * ref[k].abs().max() + 1e-2, k
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "complete" and not info.get("rollbacks")  # skipped steps are not divergence


def test_bf16_conv_gan_with_channels_last(tmp_path):
    run = gankit.train("digits-dcgan", "train.steps=4", "train.batch_size=16", "train.precision=bf16",
                       "generator.channels=[16,8]", "discriminator.channels=[8,16]", "log.sample_every=1000",
                       "train.threads=1", out=tmp_path / "r", quiet=True)
    assert all(torch.isfinite(v).all() for v in final(run).values())


def test_fp16_scalers_are_checkpointed_and_resume_exactly(tmp_path):
    fp16 = ("train.precision=fp16", "log.checkpoint_every=10")
    whole = gankit.train("ring", *TINY, *fp16, "train.steps=20", out=tmp_path / "whole", quiet=True)
    state, _ = newest(whole)
    for net in ("G", "D"):  # one scaler per network, saved with the run
        s = state["train"]["scalers"][net]
        assert s["scale"] > 0 and s["growth_interval"] == 2000 and "_growth_tracker" in s
    part = gankit.train("ring", *TINY, *fp16, "train.steps=10", out=tmp_path / "part", quiet=True)
    gankit.train(None, "train.steps=20", resume=part, quiet=True)
    for k, v in final(whole).items():
        torch.testing.assert_close(final(part)[k], v, rtol=0, atol=0)


def test_scaler_state_is_restored(tmp_path):
    """A scale lowered by overflows before the checkpoint is the scale after the resume."""
    run = gankit.train("ring", *TINY, "train.precision=fp16", "train.steps=10", out=tmp_path / "r", quiet=True)
    state, meta = newest(run)
    from gankit.config import load
    from gankit.training.batches import Batches
    from gankit.run.session import build

    cfg = load("ring", [*TINY, "train.precision=fp16", "train.device=cpu"])
    data, t = build(cfg, torch.device("cpu"))
    scalers = state["train"]["scalers"]
    scalers["D"]["scale"] = 128.0
    t.load_state_dict(state["train"], Batches({"x": data.x}, 64, seed=0))
    assert t.scalers["D"].get_scale() == 128.0 and t.scalers["G"].get_scale() == scalers["G"]["scale"]


def test_accumulated_micro_batches_compute_the_same_step(tmp_path):
    one = final(gankit.train("ring", *TINY, "train.steps=15", out=tmp_path / "one", quiet=True))
    four = final(gankit.train("ring", *TINY, "train.steps=15", "train.accumulate=4", out=tmp_path / "four",
                              quiet=True))
    for k in one:  # 4 means of 16 averaged instead of one mean of 64: rounding only
        torch.testing.assert_close(four[k], one[k], rtol=1e-4, atol=1e-5)


def test_accumulation_with_batch_norm_and_several_critic_steps(tmp_path):
    """digits: G with batch norm, D with dropout; n_critic=2 takes two batches per step."""
    run = gankit.train("digits", "train.steps=6", "train.batch_size=32", "train.accumulate=2", "train.n_critic=2",
                       "log.sample_every=1000", "train.threads=1", out=tmp_path / "r", quiet=True)
    assert all(torch.isfinite(v).all() for v in final(run).values())


def test_unsupported_precision_is_refused(monkeypatch):
    monkeypatch.setattr(torch.amp, "is_autocast_available", lambda device_type: False)
    with pytest.raises(GankitError, match="train.precision=fp32"):
        check_precision("bf16", torch.device("cpu"))
    check_precision("fp32", torch.device("cpu"))  # fp32 needs nothing


@pytest.mark.parametrize("args,expect", [
    (["train.precision=fp8"], "train.precision"),
    (["train.accumulate=3"], "train.accumulate (3) must divide train.batch_size (512)"),
    (["train.accumulate=0"], "train.accumulate must be >= 1"),
])
def test_bad_scaling_settings_exit_2(tmp_path, capsys, args, expect):
    assert cli.main(["train", "ring", *args, "--out", str(tmp_path / "r")]) == 2
    assert expect in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_exits_2(tmp_path, capsys):
    assert cli.main(["train", "ring", "train.device=cuda", "--out", str(tmp_path / "r")]) == 2
    assert "no CUDA GPU is available" in capsys.readouterr().err
