"""Keras-style ``summary()`` tables: layer (type), output shape, parameter count.

Output shapes are found by running one small batch through the model with forward hooks on the
leaf modules, so any model family works without extra code. A module that says ``summary_leaf = True``
(a residual block, an attention layer) is one row, with every parameter inside it: a ResNet then
reads as its blocks, not as a hundred convolutions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

WIDTH = 72


@dataclass
class Row:
    name: str
    kind: str
    shape: tuple[int, ...]
    params: int


def _shape(t) -> tuple[int, ...]:
    return tuple(t.shape[1:]) if isinstance(t, torch.Tensor) else ()


def layer_rows(model: nn.Module, example: torch.Tensor | tuple) -> list[Row]:
    """One row per leaf module, in call order; ``example`` is a (N, ...) input batch (or a tuple of inputs).

    A leaf with parameters that this forward pass does not call (a head used only in some calls) still
    gets a row, at the end without an output shape, so the rows add up to the total.
    """
    rows: list[Row] = []
    hooks = []
    seen: dict[str, int] = {}
    uncalled: dict[nn.Module, Row] = {}
    for mod in _leaves(model):
        kind = type(mod).__name__
        base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", kind).lower()  # BatchNorm1d -> batch_norm1d
        seen[base] = seen.get(base, 0) + 1
        name = base if seen[base] == 1 else f"{base}_{seen[base] - 1}"  # Keras: dense, dense_1, ...
        n = sum(p.numel() for p in mod.parameters(recurse=bool(getattr(mod, "summary_leaf", False))))
        if n:
            uncalled[mod] = Row(name, kind, (), n)

        def hook(m, _inp, out, name=name, n=n):
            uncalled.pop(m, None)
            rows.append(Row(name, type(m).__name__, _shape(out), n))

        hooks.append(mod.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(*example) if isinstance(example, tuple) else model(example)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows + list(uncalled.values())


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The modules that get a row: those without children, and those that say ``summary_leaf`` (whose
    insides get none), each once (a module held under two names, as a wrapper's view of its base's
    layers, is one row)."""
    out: list[nn.Module] = []
    seen: set[int] = set()

    def walk(mod: nn.Module) -> None:
        if id(mod) in seen:
            return
        seen.add(id(mod))
        if getattr(mod, "summary_leaf", False) or not any(True for _ in mod.children()):
            out.append(mod)
            return
        for child in mod.children():
            walk(child)

    walk(model)
    return out


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "(None, " + ", ".join(str(s) for s in shape) + ")" if shape else "(None,)"


def format_table(title: str, rows: list[Row], trainable: int, non_trainable: int, note: str = "") -> str:
    lw = max([34] + [len(f"{r.name} ({r.kind})") + 2 for r in rows])
    width = WIDTH + lw - 34
    lines = [f'Model: "{title}"', "_" * width, f" {'Layer (type)':<{lw}}{'Output Shape':<24}{'Param #':>12}", "=" * width]
    for i, r in enumerate(rows):
        label = f"{r.name} ({r.kind})"
        lines.append(f" {label:<{lw}}{_fmt_shape(r.shape):<24}{r.params:>12,}")
        if i < len(rows) - 1:
            lines.append("")
    lines += [
        "=" * width,
        f"Total params: {trainable + non_trainable:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {non_trainable:,}",
    ]
    if note:
        lines.append(note)
    lines.append("_" * width)
    return "\n".join(lines)


def count(model: nn.Module) -> tuple[int, int]:
    t = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return t, n


def summary(model: nn.Module, example: torch.Tensor | tuple, title: str, note: str = "") -> str:
    return format_table(title, layer_rows(model, example), *count(model), note=note)


def gan_summary(G: nn.Module, D: nn.Module, latent_dim: int, num_classes: int = 0) -> str:
    """Tables for G, D and the combined G→D model (D frozen there, as in the Keras GAN examples)."""
    z = torch.zeros(2, latent_dim)
    y = torch.zeros(2, dtype=torch.long)
    g_in = (z, y) if num_classes else z
    with torch.no_grad():
        G.eval()
        x = G(*g_in) if num_classes else G(z)
        G.train()
    # an AC-GAN head runs only when asked for (aux=True): ask, so that its layer shows among D's rows
    d_in = ((x, y, True) if getattr(D, "aux", None) is not None else (x, y)) if num_classes else x
    g_train, g_frozen = count(G)
    d_total = sum(count(D))
    combined_rows = [
        Row("generator", type(G).__name__, _shape(x), g_train + g_frozen),
        Row("discriminator", type(D).__name__, (1,), d_total),
    ]
    note = "D outputs a logit; sigmoid(logit) is the probability that the input is real."
    return "\n\n".join(
        [
            summary(G, g_in, "generator"),
            summary(D, d_in, "discriminator", note=note),
            format_table(
                "gan (generator -> discriminator; D frozen during G's step)",
                combined_rows,
                g_train,
                d_total + g_frozen,
            ),
        ]
    )
