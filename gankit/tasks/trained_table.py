"""A trained table generator on its own: ``gankit.load(run).sample(n)`` -> a pandas DataFrame.

    import gankit
    g = gankit.load("runs/adult-table-20261130-120000")
    df = g.sample(10_000, seed=0)                       # the training table's columns, order and kinds
    women = g.sample(1000, where={"sex": "Female"})     # rows with exactly that value, by conditioning
    g.save(df, "synthetic.csv")                         # written as the source wrote its cells

Sampling runs the generator in evaluation mode (batch norm with its running statistics); the
Gumbel-softmax draws come from the seed, so ``seed`` reproduces a sample exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError, arg
from gankit.tables.condition import Conditions
from gankit.tasks.base import Trained
from gankit.tasks.latent import draw


class TrainedTable(Trained):
    kind = "table"

    def __init__(self, G: torch.nn.Module, meta: dict, codec) -> None:
        self.G, self.meta, self.codec = G.eval(), meta, codec
        self.schema = codec.schema
        self.columns = [c.name for c in self.schema.used]
        self.shape = (codec.width,)  # the generator's output (its rows in the generator's space)
        self.latent_dim: int = meta["generator"]["latent_dim"]
        self.conditions = Conditions(codec)  # unconditional draws by the training frequencies kept in the schema
        self.label_name = self.schema.label or "label"

    @property
    def device(self) -> torch.device:
        return next(self.G.parameters()).device

    def where_of(self, label=None, where: dict | None = None) -> dict[str, str]:
        """``--label`` is a condition on the label column (a run with ``data.label_column``)."""
        out = {str(k): str(v) for k, v in (where or {}).items()}
        if label is not None:
            if self.schema.label is None:
                raise GankitError(f"this table run has no label column, so {arg('label')} cannot be used; "
                                  f"condition on any category column with --where COLUMN=VALUE")
            out[self.schema.label] = str(label)
        return out

    @torch.inference_mode()
    def samples(self, n: int, *, seed: int | None = None, label=None, where: dict | None = None,
                batch_size: int = 4096, truncation: float | None = None) -> np.ndarray:
        """(n, C) rows in column space (numbers, category indices, NaN where missing), for evaluation."""
        if n < 1:
            raise GankitError(f"{arg('n')} must be >= 1, got {n}")
        given = self.where_of(label, where)
        if given and not self.conditions.columns:
            raise GankitError("this table has no categorical column to condition on")
        gen = torch.Generator()  # fresh noise without a seed; the global RNG is left alone either way
        if seed is not None:
            gen.manual_seed(seed)
        else:
            gen.seed()
        out = []
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=gen)))  # the Gumbel-softmax draws
            for i in range(0, n, batch_size):
                m = min(batch_size, n - i)
                z = draw(m, self.latent_dim, gen, truncation)
                cond, mask = self.conditions.where(m, given) if given else self.conditions.sample_free(m, gen)
                z, cond, mask = z.to(self.device), cond.to(self.device), mask.to(self.device)
                rows = self.conditions.enforce(self.G(torch.cat([z, cond], 1)), cond, mask)
                out.append(self.codec.decode(rows.float()))
        return torch.cat(out).numpy()

    def network(self):
        """The generator without its Gumbel noise, as ``gankit export`` writes it
        (:class:`gankit.tasks.table_export.TableNetwork`): (z, cond) -> rows in the generator's space."""
        import copy

        from gankit.tasks.table_export import TableNetwork

        spans = [self.codec.one_hot_span(c) for c in self.conditions.columns]
        return TableNetwork(copy.deepcopy(self.G).cpu().eval(), self.codec.width, spans)

    def exportable(self, **options):
        """:meth:`network` with example inputs, and the JSON that says how to decode its output."""
        from gankit.tasks.base import Exportable
        from gankit.tasks.table_export import describe

        gen = torch.Generator().manual_seed(0)
        inputs = {"z": torch.randn(2, self.latent_dim, generator=gen)}
        if self.conditions.columns:  # a table of numbers only has no conditional vector
            inputs["cond"] = self.conditions.sample_free(2, gen)[0]
        return Exportable(self.network(), inputs, {k: {0: ("batch", 1, 1)} for k in inputs}, ("rows",),
                          describe(self.codec, self.conditions, self.latent_dim))

    def interpolate(self, z0, z1, steps: int, *, label=None):
        raise GankitError("latent walks are for generators that start from noise alone (images, numeric tables); "
                          "a table run's rows also depend on its conditional vector: sample rows with --seed, --where")

    def sample(self, n: int, *, seed: int | None = None, label=None, where: dict | None = None,
               truncation: float | None = None):
        """``n`` synthetic rows as a pandas DataFrame: the training table's columns in their order and
        kinds (integers as integers, numbers in the observed range with the source's decimals,
        categories only as seen in training, dates, missing cells at the real rate).

        * ``seed``: the same seed gives the same rows;
        * ``where``: ``{"column": "value", ...}``: every row has exactly these values (categorical
          columns), and the other columns follow them as in the data;
        * ``label``: for a run with ``data.label_column``, the same as ``where={label_column: label}``;
        * ``truncation``: noise components beyond ``±truncation`` drawn again (BigGAN's truncation trick).
        """
        from gankit.tables.read import to_frame

        values = self.samples(n, seed=seed, label=label, where=where, truncation=truncation)
        df = to_frame(values, self.schema, rng=np.random.default_rng(seed))
        for name, value in self.where_of(label, where).items():
            col = self.schema.column(name)
            member = [p for p in col.pooled if p.strip() == str(value).strip()]
            if member:  # a rare category pooled in training: G made the pool; the member asked for is this one
                df[name] = member[0]
        return df

    def save(self, x, out, *, nrow=None, labels=None) -> Path:
        """Write a sample DataFrame: .csv (as the source wrote its cells), .parquet, or .png (column plots)."""
        out = Path(out)
        try:
            return self._write(x, out)
        except OSError as e:
            raise GankitError(f"cannot write {out} ({e.strerror})") from None

    def _write(self, x, out: Path) -> Path:
        from gankit.modalities.base import is_folder

        if is_folder(out):
            raise GankitError("a folder of files is for images; write tables to .csv, .parquet or .png")
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = out.suffix.lower()
        if suffix == ".csv":
            from gankit.tables.read import write_csv

            write_csv(x, self.schema, out)
        elif suffix == ".parquet":
            try:
                x.to_parquet(out)
            except ImportError:
                raise GankitError("writing .parquet needs pyarrow: pip install 'gankit[parquet]'") from None
        elif suffix == ".png":
            from gankit.report.tables import column_plots
            from gankit.tables.read import to_values

            column_plots(None, to_values(x, self.schema, unseen="missing"), self.schema, out)
        else:
            raise GankitError(f"--out {out}: unknown format {suffix!r}; use .csv, .parquet or .png")
        return out

    def __repr__(self) -> str:
        return f"TrainedTable(columns={self.columns})"


def load_table_generator(state: dict, meta: dict, source: str, device: str = "cpu") -> TrainedTable:
    """Rebuild the table generator a generator.json describes and load its weights."""
    from dataclasses import fields, replace

    from gankit.config.schema import GeneratorConfig
    from gankit.models import build_generator
    from gankit.tables.transform import MixedCodec

    try:
        codec = MixedCodec.from_dict(meta["data"]["table"])
        names = {f.name for f in fields(GeneratorConfig)}
        cfg = GeneratorConfig(**{k: v for k, v in meta["generator"].items() if k in names})
        cfg = replace(cfg, latent_dim=cfg.latent_dim + int(meta["cond_dim"]))
        G = build_generator(cfg, (codec.width,), heads=codec.heads())
        G.load_state_dict(state["G"])
        return TrainedTable(G.to(device), meta, codec)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise GankitError(f"{source}: table generator weights do not match their description ({e}); "
                          f"the file is damaged or from another tool") from None
