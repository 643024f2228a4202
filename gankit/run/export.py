"""``gankit export RUN --format onnx|pt2|torchscript --out FILE``: a run's generator as a file that runs without gankit.

Each trained model says what is exported through :meth:`gankit.tasks.base.Trained.exportable`: a
deterministic network, example inputs, its free axes (the batch; height and width for image -> image)
and a description, written as JSON beside the file (``FILE`` with the suffix ``.json``): the inputs,
how to turn the output into data, and what differs from gankit's own sampling.

Formats (PyTorch 2.13):

* ``onnx``: ``torch.onnx.export(..., dynamo=True)``, the exporter PyTorch recommends (the default since
  2.9; the TorchScript-based one is deprecated), one self-contained ``.onnx`` file. Needs ``onnx`` and
  ``onnxscript`` (``pip install 'gankit[export]'``); checked with ``onnxruntime`` when it is installed.
* ``pt2``: ``torch.export.export`` + ``torch.export.save``, what PyTorch recommends in place of TorchScript;
  read back with ``torch.export.load(FILE).module()``.
* ``torchscript``: ``torch.jit.trace`` + ``torch.jit.save``, for C++ (libtorch) and servers that still
  read TorchScript; PyTorch 2.13 deprecates ``torch.jit`` (not supported on Python 3.14+).

After writing, the file is read back and run on inputs of another batch size (and image size) than
the example: the largest difference from gankit's own network is printed and kept in the JSON.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from gankit.errors import GankitError

FORMATS = ("onnx", "pt2", "torchscript")
SUFFIX = {"onnx": ".onnx", "pt2": ".pt2", "torchscript": ".pt"}


def export_run(run, fmt: str, out, *, to: str | None = None, device: str = "cpu") -> dict:
    """Export the final generator of ``run`` to ``out`` in format ``fmt``; returns the JSON written beside it."""
    from gankit import __version__
    from gankit.sampling import load

    if fmt not in FORMATS:
        raise GankitError(f"--format {fmt}: unknown; use {', '.join(FORMATS)}")
    needs(fmt)
    out = Path(out)
    if out.suffix.lower() == ".json":
        raise GankitError(f"--out {out}: the description is written as FILE.json beside the file; give e.g. "
                          f"{out.with_suffix(SUFFIX[fmt])}")
    g = load(run, device)
    e = g.exportable(**({"to": to} if to is not None else {}))
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        WRITERS[fmt](e, out)
    except OSError as err:
        raise GankitError(f"cannot write {out} ({err.strerror})") from None
    doc = {"gankit_version": __version__, "format": fmt, "file": out.name, "run": str(run),
           "task": getattr(g, "meta", {}).get("task", "noise"), "kind": type(g).__name__, **e.describe,
           "input_names": list(e.inputs), "output_names": list(e.outputs),
           "dynamic": {k: {str(a): {"name": n, "multiple": m, "least": q} for a, (n, m, q) in v.items()}
                       for k, v in e.dynamic.items()}}
    doc["check"] = verify(e, fmt, out)
    sidecar = out.with_suffix(".json")
    sidecar.write_text(json.dumps(doc, indent=1, default=float))
    doc["sidecar"] = str(sidecar)
    return doc


def needs(fmt: str) -> None:
    """The packages a format needs, or a one-line error naming the extra that installs them."""
    import importlib.util

    if fmt != "onnx":
        return
    missing = [m for m in ("onnx", "onnxscript") if importlib.util.find_spec(m) is None]
    if missing:
        raise GankitError(f"--format onnx needs {' and '.join(missing)}: pip install 'gankit[export]'")


def dynamic_shapes(e) -> tuple:
    """The free axes as ``torch.export`` dims, one dict per input in order (one dim object per name)."""
    made: dict[str, object] = {}
    spec = []
    for name in e.inputs:
        axes = {}
        for axis, (dim, multiple, least) in e.dynamic.get(name, {}).items():
            if dim not in made:
                base = torch.export.Dim(dim if multiple == 1 else f"{dim}_over_{multiple}", min=least)
                made[dim] = base if multiple == 1 else multiple * base
            axes[axis] = made[dim]
        spec.append(axes)
    return tuple(spec)


def _onnx(e, out: Path) -> None:
    import logging

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed" notes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(e.module, tuple(e.inputs.values()), dynamo=True, input_names=list(e.inputs),
                                    output_names=list(e.outputs), dynamic_shapes=dynamic_shapes(e), verbose=False)
    program.save(str(out), external_data=False)


def _pt2(e, out: Path) -> None:
    program = torch.export.export(e.module, tuple(e.inputs.values()), dynamic_shapes=dynamic_shapes(e))
    torch.export.save(program, str(out))


def _torchscript(e, out: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation, the tracer's notes on Python values
        traced = torch.jit.trace(e.module, tuple(e.inputs.values()), check_trace=False)
        torch.jit.save(traced, str(out))


WRITERS = {"onnx": _onnx, "pt2": _pt2, "torchscript": _torchscript}


def check_inputs(e) -> dict[str, torch.Tensor]:
    """Inputs unlike the example: batch 3 (the example's rows in turn) and, on image axes, one more multiple."""
    gen = torch.Generator().manual_seed(1)
    out = {}
    for name, x in e.inputs.items():
        axes = e.dynamic.get(name, {})
        x = x[torch.arange(3) % len(x)] if 0 in axes else x
        shape = list(x.shape)
        for axis, (_, multiple, least) in axes.items():
            if axis != 0:
                shape[axis] = multiple * (max(least, x.shape[axis] // multiple) + 1)
        if shape != list(x.shape):
            x = torch.rand(shape, generator=gen)
        out[name] = x
    return out


def run_file(fmt: str, path: Path, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The exported file on ``inputs``, read back by its own runtime (onnxruntime, torch.export, torch.jit)."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {k: v.numpy() for k, v in inputs.items()})[0])
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        model = torch.export.load(str(path)).module() if fmt == "pt2" else torch.jit.load(str(path))
        return model(*inputs.values())


def verify(e, fmt: str, path: Path) -> dict:
    """The largest absolute difference between the file and the network on :func:`check_inputs`."""
    import importlib.util

    if fmt == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        return {"skipped": "onnxruntime is not installed"}
    inputs = check_inputs(e)
    with torch.no_grad():
        want = e.module(*inputs.values())
    got = run_file(fmt, path, inputs)
    diff = float((got.float() - want.float()).abs().max())
    return {"max_abs_diff": diff, "shapes": {k: list(v.shape) for k, v in inputs.items()}, "runtime":
            {"onnx": "onnxruntime", "pt2": "torch.export.load", "torchscript": "torch.jit.load"}[fmt]}
