"""A trained noise-task generator on its own: ``gankit.load(run).sample(n)``.

    import gankit
    g = gankit.load("runs/digits-20261122-120000")
    x = g.sample(1000)                      # numpy, in the data's own space
    sevens = g.sample(64, label=7, seed=0)  # class-conditional runs: one class, reproducibly

Images come back as (N, C, H, W) in [0, 1]; tables as (N, D) in the original units.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.data.tabular import parse_number
from gankit.errors import GankitError, arg
from gankit.modalities import get_modality
from gankit.tasks.base import Exportable, Trained
from gankit.tasks.latent import draw, walk


def balanced_classes(n: int, num_classes: int) -> torch.Tensor | None:
    """n class indices in balanced sorted blocks (a grid's rows per class); None when unconditional."""
    return torch.arange(n) * num_classes // n if num_classes > 0 else None


def class_names(indices: torch.Tensor | None, classes: list | None, num_classes: int) -> list[str] | None:
    """The names of class ``indices`` (the indices themselves when the classes have no names)."""
    if indices is None:
        return None
    names = [str(c) for c in (classes or range(num_classes))]
    return [names[k] for k in indices.tolist()]


class TrainedGenerator(Trained):
    """A generator with what it needs to produce data in the data's own space."""

    def __init__(self, G: torch.nn.Module, meta: dict) -> None:
        self.G = G.eval()
        self.meta = meta
        d = meta["data"]
        self.kind: str = d["kind"]
        self.shape: tuple[int, ...] = tuple(d["shape"])
        self.modality = get_modality(self.kind)
        self.codec = self.modality.codec_from(d)
        self.classes = d.get("classes")
        self.columns = d.get("columns")
        self.label_name: str = d.get("label_name") or "label"
        self.latent_dim: int = meta["generator"]["latent_dim"]
        self.num_classes: int = int(meta.get("num_classes", 0))  # > 0: class-conditional

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    def class_index(self, label: int | str) -> int:
        """A class given by index or name, checked against the run's classes."""
        if self.num_classes == 0:
            raise GankitError(f"this run is not class-conditional, so {arg('label')} cannot be used; train with "
                              f"conditional.mode=projection (or concat) to choose classes")
        names = [str(c) for c in (self.classes or [])]
        if isinstance(label, str) and label in names:  # a name first: a table's classes may be numbers (1, 2, 3)
            return names.index(label)
        # then, when the names are numbers, a number is a name and never a position
        numbered = names and all(parse_number(c) is not None for c in names)
        if isinstance(label, str) and numbered:
            raise GankitError(f"class {label} is out of range; this run's classes are {', '.join(names)}")
        if isinstance(label, str) and not label.lstrip("-").isdigit():
            raise GankitError(f"unknown class {label!r}; classes are: {', '.join(names)}")
        k = int(label)
        if not 0 <= k < self.num_classes:
            raise GankitError(f"class index {k} is out of range; this run has classes 0..{self.num_classes - 1}"
                              + (f" ({', '.join(names)})" if names else ""))
        return k

    def labels_for(self, n: int, label: int | str | None = None) -> torch.Tensor | None:
        """Labels for n samples: all ``label``, or balanced sorted blocks (one grid row per class)."""
        if label is not None:
            return torch.full((n,), self.class_index(label), dtype=torch.long)
        return balanced_classes(n, self.num_classes)

    def class_names_for(self, n: int, label: int | str | None = None) -> list[str] | None:
        """The class name of each of the n samples ``sample(n, label=label)`` makes (None: unconditional)."""
        return class_names(self.labels_for(n, label), self.classes, self.num_classes)

    def sample(self, n: int, *, seed: int | None = None, label: int | str | None = None, batch_size: int = 1024,
               truncation: float | None = None):
        """``n`` new samples in the data's own space: images as a numpy array (n, C, H, W) float32 in
        [0, 1]; a table as a pandas DataFrame with the file's columns in their order (the label column of
        a conditional run in its place). Arguments as :meth:`samples`.

        Example::

            g = gankit.load("runs/wine-20261122-120000")   # a numeric table with data.label_column
            df = g.sample(1000, seed=0)                     # a DataFrame: the file's columns
            df.to_csv("synthetic.csv", index=False)
        """
        x = self.samples(n, seed=seed, label=label, batch_size=batch_size, truncation=truncation)
        return self.as_frame(x, self.class_names_for(n, label)) if self.kind == "table" else x

    def as_frame(self, x: np.ndarray, names: list[str] | None):
        """A numeric table's samples (n, D) as a DataFrame, with the class names in the label column's place."""
        import pandas as pd

        df = pd.DataFrame(x.reshape(len(x), -1), columns=self.columns or [f"x{j}" for j in range(x.shape[1])])
        if names is not None:  # where the file had it (runs before gankit 0.2 did not record it: last)
            at = self.meta["data"].get("label_position")
            df.insert(len(df.columns) if at is None else min(int(at), len(df.columns)), self.label_name, names)
        return df

    def save(self, x, out, *, nrow: int | None = None, labels: list[str] | None = None):
        """Write what :meth:`sample` returned (a table's DataFrame as .csv, .npy or a plot)."""
        if hasattr(x, "columns"):  # a DataFrame: the numbers, and the labels from their column
            names = list(x[self.label_name].astype(str)) if self.num_classes and self.label_name in x else None
            position = list(x.columns).index(self.label_name) if names is not None else None
            x = x[[c for c in x.columns if names is None or c != self.label_name]].to_numpy(np.float32)
            return super().save(x, out, nrow=nrow, labels=names, label_position=position)
        return super().save(x, out, nrow=nrow, labels=labels)

    @torch.inference_mode()
    def samples(self, n: int, *, seed: int | None = None, label: int | str | None = None,
                batch_size: int = 1024, truncation: float | None = None) -> np.ndarray:
        """``n`` new samples as a numpy array in the data's own space: images (n, C, H, W) float32 in
        [0, 1]; tables (n, D) in the original units (columns in ``self.columns``).

        * ``seed``: the same seed gives the same samples (None: fresh noise each call);
        * ``label``: class-conditional runs only: every sample of this class, given by name
          (``"Sneaker"``, ``"virginica"``) or index (``7``); without it the classes are balanced, in
          sorted blocks (``class_names_for(n)`` says which sample is which);
        * ``batch_size``: how many samples go through the generator at once (memory, not results);
        * ``truncation``: BigGAN's truncation trick: every latent component beyond ``±truncation`` is
          drawn again until it lies inside (e.g. 0.7: more typical, less varied samples).

        Examples::

            g = gankit.load("runs/digits-20261122-120000")
            x = g.samples(1000, seed=0)          # reproducible
            sevens = g.samples(64, label=7)      # conditional runs: one class
            names = g.class_names_for(64)        # the class of each of g.samples(64)
        """
        if n < 1:
            raise GankitError(f"{arg('n')} must be >= 1, got {n}")
        labels = self.labels_for(n, label)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        out = []
        for i in range(0, n, batch_size):
            z = draw(min(batch_size, n - i), self.latent_dim, gen, truncation).to(self.device)
            x = self.G(z) if labels is None else self.G(z, labels[i : i + len(z)].to(self.device))
            out.append(self.codec.decode(x.float()).cpu())
        return torch.cat(out).numpy()

    def latent(self, n: int, *, seed: int | None = None, truncation: float | None = None) -> torch.Tensor:
        """(n, latent_dim) codes as :meth:`samples` draws them: ``latent(1, seed=s)`` is the code of
        ``sample(1, seed=s)``."""
        return draw(n, self.latent_dim, torch.Generator().manual_seed(seed) if seed is not None else None, truncation)

    @torch.inference_mode()
    def interpolate(self, z0, z1, steps: int, *, label: int | str | None = None) -> np.ndarray:
        """Outputs along the spherical path (:func:`gankit.tasks.latent.slerp`) from code ``z0`` to ``z1``
        ((latent_dim,) each, or (k, latent_dim) for k walks at once), ``steps`` points, endpoints included:
        (steps, [k,] *shape) in the data's own space. A class-conditional run renders every point in every
        class, the same code across classes: (steps, [k,] num_classes, *shape); ``label`` keeps one class.

        Example::

            g = gankit.load("runs/digits-20261122-120000")
            walk = g.interpolate(g.latent(1, seed=1)[0], g.latent(1, seed=2)[0], 8)   # (8, 1, 8, 8)
        """
        z = walk(torch.as_tensor(z0, dtype=torch.float32), torch.as_tensor(z1, dtype=torch.float32), steps)
        lead = z.shape[:-1]
        flat = z.reshape(-1, self.latent_dim).to(self.device)
        if self.num_classes == 0:
            x = self.codec.decode(self.G(flat).float()).cpu().numpy()
            return x.reshape(*lead, *x.shape[1:])
        classes = [self.class_index(label)] if label is not None else list(range(self.num_classes))
        y = torch.tensor(classes, device=self.device).repeat(len(flat))
        x = self.codec.decode(self.G(flat.repeat_interleave(len(classes), 0), y).float()).cpu().numpy()
        item = x.shape[1:]
        return x.reshape(*lead, *item) if label is not None else x.reshape(*lead, len(classes), *item)

    def exportable(self, **options) -> Exportable:
        """G itself in evaluation mode: codes ``z`` (n, latent_dim) standard normal [and class indices
        ``label`` (n,) int64] in, G's output (its training space) out; the JSON says how to decode it."""
        import copy

        G = copy.deepcopy(self.G).cpu().eval()
        inputs = {"z": torch.randn(2, self.latent_dim)}
        describe = {"inputs": {"z": {"shape": ["batch", self.latent_dim], "dtype": "float32",
                                     "draw": "standard normal (truncation t: redraw components beyond ±t)"}},
                    "output": {"name": "x", "shape": ["batch", *self.shape], "space": "the generator's training space"}}
        if self.num_classes:
            inputs["label"] = torch.arange(2) % self.num_classes
            describe["inputs"]["label"] = {"shape": ["batch"], "dtype": "int64", "classes": self.class_list()}
        describe["decode"] = {**self.codec.to_dict(), "clamp": self.codec.clamp, "rule": self.codec.rule}
        if self.kind == "table":
            describe["columns"] = self.columns
        dynamic = {name: {0: ("batch", 1, 1)} for name in inputs}
        return Exportable(G, inputs, dynamic, ("x",), describe)

    def class_list(self) -> list[str]:
        return [str(c) for c in (self.classes or range(self.num_classes))]

    def __repr__(self) -> str:
        return f"TrainedGenerator(kind={self.kind!r}, shape={self.shape}, latent_dim={self.latent_dim})"


def load_generator(state: dict, meta: dict, source: str, device: str = "cpu") -> TrainedGenerator:
    """Rebuild the generator a generator.json describes and load its weights."""
    from dataclasses import fields

    from gankit.config.schema import GeneratorConfig
    from gankit.models import build_generator

    try:  # the keys that build the network (a newer file's extra keys are not needed for it)
        names = {f.name for f in fields(GeneratorConfig)}
        cfg = GeneratorConfig(**{k: v for k, v in meta["generator"].items() if k in names})
        G = build_generator(cfg, tuple(meta["data"]["shape"]), int(meta.get("num_classes", 0)))
        G.load_state_dict(state["G"])
        return TrainedGenerator(G.to(device), meta)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise GankitError(f"{source}: generator weights do not match their description ({e}); "
                          f"the file is damaged or from another tool") from None
