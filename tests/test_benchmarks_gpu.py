"""benchmarks/gpu.py, dry-run on the CPU (--smoke: tiny sizes) so that it cannot fail for a silly reason the
day a GPU is there: every section runs (steps/s of the three presets in each variant against their plain
loops, sampling, a short cifar10-sngan-gpu training scored by gankit eval on a stand-in set it writes, a
2-process run under torchrun with gloo), and it writes its JSON and markdown; BENCHMARKS.md gets the
section between its markers."""

from __future__ import annotations

import json

import pytest
import torch

from benchmarks import gpu, gpu_report


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert gpu.main(["--smoke", "--ddp", "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    return json.loads((out / "gpu.json").read_text()), (out / "gpu.md").read_text()


def test_every_section_runs_and_is_written(smoke):
    res, md = smoke
    assert "errors" not in res and res["skipped"] == []
    assert set(res["meta"]["section_seconds"]) == {"steps", "sampling", "train", "ddp"}
    steps = {(r["preset"], r["variant"]): r for r in res["steps"]}
    assert set(steps) == {(p, v) for p in gpu.Plan("cpu").presets for v in gpu.VARIANTS}
    assert all(r["gankit"]["steps_per_s"] > 0 for r in steps.values())
    for preset in ("cifar10-sngan", "cifar10-sngan-gpu"):  # their plain loop has every variant
        assert all(steps[(preset, v)]["reference"]["steps_per_s"] > 0 for v in gpu.VARIANTS)
    assert steps[("mnist-dcgan", "fp32")]["reference"]["steps_per_s"] > 0
    assert steps[("mnist-dcgan", "bf16")]["reference"] is None  # the DCGAN reference is written in fp32
    assert {(r["batch"], r["precision"]) for r in res["sampling"]} == {(8, "fp32"), (8, "bf16"), (16, "fp32"),
                                                                        (16, "bf16")}
    t = res["train"]
    assert t["steps_done"] > 0 and "stand-in" in t["data"] and t["scores"]["kid"] is not None
    assert "CIFAR-10 domain classifier" in t["note"] and "Inception" in t["note"]
    assert res["ddp"]["2_processes"]["steps_per_s"] > 0 and res["ddp"]["1_processes"]["steps_per_s"] > 0
    assert "| cifar10-sngan-gpu | bf16 + channels-last |" in md and "images/s" in md and "classifier" in md


def test_the_section_goes_between_its_markers(smoke, tmp_path, monkeypatch):
    _, md = smoke
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# Benchmarks\n\nbefore\n\n{gpu.START}\nold\n{gpu.END}\n\nafter\n")
    monkeypatch.setattr(gpu_report, "DOC", doc)
    gpu.record(md)
    text = doc.read_text()
    assert "old" not in text and md in text and text.startswith("# Benchmarks\n\nbefore") and text.endswith("after\n")


def test_without_cuda_it_says_so_and_exits_2(capsys):
    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    assert gpu.main([]) == 2
    assert "no CUDA device" in capsys.readouterr().err
