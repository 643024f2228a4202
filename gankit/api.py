"""The library's face: train, load and inspect GANs from Python (``gankit train``, ``sample`` and
``summary`` go through it; the library never imports the CLI).

    import gankit
    run = gankit.train("digits", "train.steps=500")          # -> the run folder (a Path)
    run = gankit.train("digits", {"train.steps": 500})       # overrides as a dict
    g = gankit.load(run)                                     # the trained generator
    x = g.sample(1000, seed=0)                               # numpy, in the data's own space
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

def _as_list(overrides) -> list[str]:
    """``("a=1", "b=2")``, ``["a=1"]`` or ``{"a": 1}`` -> ["a=1", ...] (dict values written as YAML)."""
    out: list[str] = []
    for item in overrides:
        if isinstance(item, Mapping):
            from gankit.config.schema import yaml_text

            out += [f"{k}={v if isinstance(v, str) else yaml_text(v)}" for k, v in item.items()]
        elif isinstance(item, (list, tuple)):
            out += _as_list(item)
        else:
            out.append(str(item))
    return out


def load_config(source=None, *overrides):
    """A validated :class:`gankit.config.Config`: a preset name or YAML file, then overrides.

    ``source`` is a preset (``gankit.list_presets()``), a YAML file (which may start from one with
    ``preset: NAME``) or None for the default preset. Overrides are ``"key=value"`` strings or dicts
    of dotted keys; values are YAML, as on the command line. Nothing is trained or loaded.

    Examples::

        cfg = gankit.load_config("mnist-dcgan", "train.steps=500")
        cfg = gankit.load_config("digits", {"generator.hidden": [256, 256], "loss": "hinge"})
        cfg.train.batch_size                      # 64
        run = gankit.train(cfg)                   # train exactly this config

    Raises :class:`gankit.errors.GankitError` naming the key and the fix.
    """
    from gankit.config import load

    return load(source, _as_list(overrides))


def resolve_config(source=None, overrides=(), resume=None):
    """The config ``train`` would use: a run's own (``resume``), a Config, a preset or a YAML file."""
    from gankit.config import Config, apply_overrides, validate
    from gankit.errors import GankitError
    from gankit.presets import DEFAULT_PRESET
    from gankit.run.folder import load_run_config

    overrides = _as_list(overrides)
    if isinstance(source, Config):
        cfg = validate(apply_overrides(source, overrides))
        if resume is not None:  # a run's own config: its data.name stays as it was trained
            return cfg
        from gankit.config.resolve import resolve

        return resolve(cfg)  # made without gankit.config.load: settle what data.path means here
    if resume is not None:
        cfg = load_run_config(resume)
        if source is not None and source != cfg.preset:  # naming the run's own preset changes nothing
            raise GankitError(f"resuming {resume} continues the run with its own config (preset {cfg.preset}); "
                              f"give no preset or config file, only key=value overrides")
        return validate(apply_overrides(cfg, overrides))
    return load_config(source or DEFAULT_PRESET, overrides)


def train(source=None, *overrides, out=None, resume=None, quiet: bool = False, data=None) -> Path:
    """Train a GAN and return its run folder (a :class:`pathlib.Path`).

    * ``source``: a preset name (``"digits"``, the default; ``gankit.list_presets()``), a YAML file,
      or a :class:`gankit.config.Config` (``gankit.load_config``);
    * ``overrides``: ``"key=value"`` strings or dicts of dotted keys (``gankit train --keys`` lists
      them all); values are YAML, as on the command line;
    * ``out``: the run folder (default ``runs/<preset>-<time>``); it must be new or empty;
    * ``resume``: a run folder to continue from its newest checkpoint (overrides may then change
      what does not shape the networks or the data: lengths, learning rates, logging);
    * ``quiet``: print nothing;
    * ``data``: a pandas DataFrame to train the table task on, instead of ``data.path`` (give it again
      to resume such a run).

    Examples::

        run = gankit.train("digits", "train.steps=500")
        run = gankit.train("digits", {"train.steps": 500, "generator.hidden": [256, 256]}, out="runs/try")
        run = gankit.train("my.yaml")
        gankit.train(resume="runs/try")                        # continue an interrupted run
        gankit.train(None, "train.steps=2000", resume="runs/try")  # ... or train it for longer
        x = gankit.load(run).sample(100)
        run = gankit.train("table", data=df)                   # a synthetic copy of a DataFrame
        synthetic = gankit.load(run).sample(1000)              # ... as a DataFrame

    Raises :class:`gankit.errors.GankitError` (one line saying what to change) for anything the
    caller can fix: an unknown key, a wrong value, missing data, a taken ``out`` folder.
    """
    from gankit.run.session import train as _train

    cfg = resolve_config(source, overrides, resume)
    return _train(cfg, out, resume=resume, quiet=quiet, frame=data)


def load(run, device: str = "cpu", checkpoint: str | None = None):
    """The trained model of a run folder, ready to sample: a :class:`gankit.tasks.trained.TrainedGenerator`.

    * ``run``: a run folder written by :func:`train` or ``gankit train`` (or its ``best/`` folder,
      kept with ``eval.every=K``), or a ``generator.json`` file;
    * ``device``: ``"cpu"`` (default), ``"cuda"``, ...;
    * ``checkpoint``: sample a training checkpoint instead of the final model: ``"latest"`` (the
      newest one; works while the run is still training), a step number or a checkpoint file.
      The checkpoint's sampling generator is used (the EMA copy when ``ema.decay`` is on).

    What it returns has ``sample(n, *, seed=None, label=None)`` -> numpy array in the data's own
    space: images (n, C, H, W) in [0, 1], tables (n, D) in the original units; ``label`` picks a
    class of a class-conditional run (by name or index), ``seed`` makes samples reproducible. It
    also has ``num_classes``, ``classes``, ``columns``, ``shape`` and ``class_names_for(n, label)``.

    Examples::

        g = gankit.load("runs/digits-20261122-120000")
        x = g.sample(1000, seed=0)                    # (1000, 1, 8, 8) in [0, 1]
        sevens = g.sample(64, label=7)                # class-conditional runs
        g = gankit.load("runs/live-run", checkpoint="latest")   # a run still training

    Raises :class:`gankit.errors.GankitError` when the folder is missing, holds no trained model
    yet (the message says whether it is still training and what to do) or is damaged.
    """
    from gankit.sampling import load as _load

    return _load(run, device, checkpoint=checkpoint)


def best_run(run) -> Path:
    """A run's best/ folder (kept when training with eval.every=K), or a one-line error saying how to get one."""
    from gankit.errors import GankitError
    from gankit.run.folder import BEST

    best = Path(run) / BEST
    if not (best / "generator.json").exists():
        raise GankitError(f"{run}: no best generator ({best} is missing); it is kept when training with "
                          f"eval.every=K (e.g. gankit train ... eval.every=500)")
    return best


def upscale(run, src, out, *, tile: int | None = None, device: str = "cpu") -> list:
    """``gankit upscale RUN IN --out OUT``: an image file (or every image of a folder) made ``scale`` times
    larger by a super-resolution run; returns the files written. ``OUT`` is a file for one image, a
    folder for a folder."""
    from gankit.errors import GankitError

    g = load(run, device)
    if not hasattr(g, "upscale_file"):
        raise GankitError(f"{run} is not a super-resolution run (task={g.meta.get('task', 'noise')}); train one with "
                          f"gankit train sr-t91 data.path=FOLDER")
    return _each_image(src, out, lambda f, o: g.upscale_file(f, o, tile))


def translate(run, src, out, *, to: str | None = None, seed: int = 0, device: str = "cpu") -> list:
    """``gankit translate RUN IN --out OUT [--to A|B]``: an image file (or every image of a folder)
    translated by a pix2pix or CycleGAN run into domain ``to`` (default: the run's data.direction);
    returns the files written."""
    from gankit.errors import GankitError

    g = load(run, device)
    if not hasattr(g, "translate_file"):
        raise GankitError(f"{run} is not a translation run (task={g.meta.get('task', 'noise')}); train one with "
                          f"gankit train facades-pix2pix or facades-cyclegan")
    g.generator(to)  # a domain it does not have fails before any file is read
    return _each_image(src, out, lambda f, o: g.translate_file(f, o, to, seed))


def export(run, format: str = "onnx", out=None, *, to: str | None = None) -> dict:
    """``gankit export RUN --format onnx|pt2|torchscript --out FILE``: the run's generator as a file that runs
    without gankit, and FILE.json beside it (inputs, decoding, the read-back check); returns that JSON.

    Example::

        doc = gankit.export("runs/digits-20261122-120000", "onnx", "digits.onnx")
        doc["check"]["max_abs_diff"]            # onnxruntime against gankit's network, e.g. 1e-7
    """
    from gankit.run.export import SUFFIX, export_run

    return export_run(run, format, out if out is not None else Path(str(run)).name + SUFFIX.get(format, ""), to=to)


def augment(source=None, *overrides, out, per_class: int | None = None, balance: bool = False,
            ratio: float | None = None, measure: bool = False, seeds: int = 3, classifier=None,
            filter: float | None = None, ema: bool = True, pool=None, baseline: str = "crop", seed: int = 0,
            cnn_steps: int = 1000, device: str = "cpu", data=None, quiet: bool = True) -> dict:
    """``gankit augment``: more labelled items from a class-conditional generator, and their gain measured.

    * ``source``: a preset (trained with ``overrides``, class-conditional, holding out 20% when the data
      has no held-out part), or a run folder to reuse (``overrides`` may then only say where its data is:
      ``data.path``); None picks a conditional preset for what ``data.path`` holds;
    * exactly one of ``per_class=N`` (N synthetic items per class), ``balance=True`` (every class up to
      the largest) or ``ratio=K`` (K synthetic items per real item of each class);
    * ``out``: a new folder: ``run/`` (the generator), ``data/`` (images: class folders + manifest.csv) or
      ``data.csv`` (tables: a ``synthetic`` column), ``holdout/``, ``augment.json``;
    * ``measure``: train a classifier on real only vs real + synthetic (and the baselines) with ``seeds``
      seeds, test it on the held-out real items, write ``gain.json`` and ``gain.md``;
    * ``classifier``: built-in ``"cnn"`` (images), ``"gradient_boosting"``, ``"logistic"`` (tables; both by
      default), or any scikit-learn estimator; ``filter=0.9``: keep synthetic items that a classifier of
      the real training split gives >= 90% for their class; ``ema=False``: sample G, not its moving
      average; ``pool``: a folder/file of extra real items for the positive control; ``baseline``: images'
      standard augmentation, ``"crop"`` (shifts) and/or ``"flip"``; ``data``: a DataFrame (tables).

    Returns augment.json's document (``doc["gain"]["headline"]``: the verdict in one sentence). Example::

        doc = gankit.augment("images-dcgan", "data.path=shapes/", out="aug", ratio=1, measure=True)
        doc["gain"]["classifiers"]["cnn"]["gan"]["verdict"]      # "gain", "loss" or "no measurable gain"
    """
    from gankit.augmentation.build import augment as _augment
    from gankit.augmentation.build import default_preset, prepare
    from gankit.augmentation.options import AugmentOptions
    from gankit.errors import GankitError

    opts = AugmentOptions(per_class=per_class, balance=balance, ratio=ratio, measure=measure, seeds=seeds,
                          classifier=classifier, filter=filter, ema=ema, pool=None if pool is None else str(pool),
                          baseline=baseline, seed=seed, cnn_steps=cnn_steps, device=device).check()
    overrides = _as_list(overrides)
    keys = {o.partition("=")[0].strip() for o in overrides}
    run = Path(str(source)) if source is not None and Path(str(source)).is_dir() else None
    if run is not None:
        bad = sorted(keys - {"data.path", "data.cache_dir", "data.download", "train.threads"})
        if bad:
            raise GankitError(f"{bad[0]}: a run folder is used as it was trained (its held-out data too); only "
                              f"data.path (where its data lies now), data.cache_dir and train.threads may be given")
        cfg = resolve_config(None, overrides, resume=run)
    else:
        path = next((o.partition("=")[2] for o in overrides if o.startswith("data.path=")), None)
        source = source if source is not None else "table" if data is not None else default_preset(path)
        cfg, notes = prepare(resolve_config(source, overrides), keys)
        opts.notes += notes
    return _augment(cfg, opts, out, run=run, frame=data, say=(lambda line: None) if quiet else print, quiet=quiet)


def walk(run, steps: int, out, *, n: int = 4, seed: int | None = None, to_seed: int | None = None,
         truncation: float | None = None, label=None, device: str = "cpu", checkpoint: str | None = None):
    """``gankit sample RUN --interpolate STEPS --out walk.png|.gif|.npy|.csv``: latent walks
    (:mod:`gankit.walks`); returns (path, shape of the walk array)."""
    from gankit.walks import write_walk

    return write_walk(load(run, device, checkpoint), steps, out, n=n, seed=seed, to_seed=to_seed, truncation=truncation,
                      label=label)


def parse_where(items: list[str]) -> dict[str, str]:
    """``gankit sample --where``: ``["sex=Female", "a=b=c"]`` -> {"sex": "Female", "a": "b=c"} (at the first =)."""
    from gankit.errors import GankitError

    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise GankitError(f"--where {item!r} is not COLUMN=VALUE (e.g. --where sex=Female)")
        out[column.strip()] = value
    return out


def _each_image(src, out, fn) -> list:
    """``fn(file, its output path)`` on an image file, or on every image of a folder (``out`` a folder)."""
    from pathlib import Path

    from gankit.errors import GankitError

    folder = str(out).endswith(("/", "\\")) or Path(out).is_dir() or Path(out).suffix == ""
    src, out = Path(src), Path(out)
    if src.is_dir():
        from gankit.data.images import EXTENSIONS

        files = sorted(f for f in src.iterdir() if f.suffix.lower() in EXTENSIONS and not f.name.startswith("."))
        if not files:
            raise GankitError(f"{src}: no images found")
        return [fn(f, out / f.name) for f in files]
    if not src.exists():
        raise GankitError(f"{src}: no such image")
    return [fn(src, out / src.name if folder else out)]


def evaluate(run, *, metrics: str | None = None, n: int | None = None, seed: int = 0, target: str | None = None,
             data=None, write: bool = True, quiet: bool = True, truncation: list[float] | None = None) -> dict:
    """Score a run's final generator as ``gankit eval RUN`` does; returns the eval.json document
    (``doc["scores"][name]["value"]``) and writes RUN/eval.json (``write=False``: does not).

    Table runs: ``target`` is the column the utility metric predicts; ``data`` the DataFrame a run
    trained on from Python (the run folder keeps no copy of the rows). ``truncation``: thresholds to
    score again with truncated latent codes (``doc["truncation"]``).
    """
    from gankit.metrics.evaluate import evaluate_run

    return evaluate_run(run, metrics=metrics, n=n, seed=seed, target=target, data=data, write=write, quiet=quiet,
                        truncation=truncation)


def column_table(cfg, data=None) -> str:
    """The table task's view of its data, before training: each column's inferred kind and why, its
    missing share, what is ignored and how to override it ("" for other tasks)."""
    from gankit.tasks import get_task

    if not getattr(get_task(cfg.task), "reads_tables", False):
        return ""
    from gankit.data.frames import load_table
    from gankit.tables.read import describe

    raw = load_table(cfg.data, data)
    return describe(raw.schema, len(raw.x))


def list_presets() -> list[str]:
    from gankit.presets import PRESETS

    return list(PRESETS)


def summary(source=None, *overrides) -> str:
    """Keras-style tables for G, D and the combined model of a preset, YAML file or run folder."""
    from gankit.tasks import get_task

    if source is not None and Path(str(source)).is_dir():
        cfg = resolve_config(None, overrides, resume=source)
    else:
        cfg = resolve_config(source, overrides)
    return get_task(cfg.task).summarize(cfg)
