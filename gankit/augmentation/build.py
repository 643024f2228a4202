"""``gankit augment``: train (or reuse) a class-conditional generator, write the augmented set, measure it.

Everything that can be refused is refused before the generator trains: the options, the output
folder, unlabelled data, a class too small to hold out, a reused run without classes or without a
recorded holdout, a pool of another kind. Then::

    OUT/run/            the generator's run folder (when augment trains one; reuse it: gankit augment OUT/run)
    OUT/data/ | data.csv   the augmented set (gankit.augmentation.write)
    OUT/holdout/ | holdout.csv   the real items held out of the generator's training, when augment drew them
    OUT/augment.json    what was done: data, split (with the sha256 of the held-out indices), counts, generator
    OUT/gain.json, gain.md   with measure: the gain (gankit.augmentation.gain, .report)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from gankit.augmentation import generate
from gankit.augmentation.options import AugmentOptions
from gankit.augmentation.sets import Split, apart_pool, check_classes, load_split, read_like
from gankit.augmentation.write import write_set
from gankit.errors import GankitError, arg

#: the share augment holds out when the data has no held-out part of its own (as the table preset does)
DEFAULT_HOLDOUT = 0.2
RUN_DIR, INFO_JSON, GAIN_JSON, GAIN_MD = "run", "augment.json", "gain.json", "gain.md"


def default_preset(path: Optional[str]) -> str:
    """The preset augment trains when none is named: a conditional one that fits what ``data.path`` holds."""
    if path is None:
        return "digits-dcgan"
    from gankit.data.guess import guess_from_path

    return {"images": "images-dcgan", "mnist": "mnist-cgan", "table": "table"}.get(guess_from_path(path)[0], "digits")


def prepare(cfg, user_keys: set[str]) -> tuple[object, list[str]]:
    """A preset's config made fit for augment: a class-conditional generator and, when the data has no
    held-out part, ``data.holdout=0.2`` (so that the gain can be measured, now or later). Returns
    (config, what was changed, in words)."""
    from gankit.config import apply_overrides, validate

    changes, notes = [], []
    if cfg.task == "noise" and cfg.conditional.mode == "none" and not cfg.conditional.acgan:
        if "conditional.mode" in user_keys:
            raise GankitError("augment makes items of each class, which needs a class-conditional generator; leave "
                              "out conditional.mode=none (augment then uses projection)")
        changes.append("conditional.mode=projection")
    if cfg.data.holdout == 0 and cfg.data.test_path is None and "data.holdout" not in user_keys \
            and not _own_test_split(cfg):
        changes.append(f"data.holdout={DEFAULT_HOLDOUT}")
    if changes:
        cfg = validate(apply_overrides(cfg, changes))
        notes = [f"augment set {c}" for c in changes]
    return cfg, notes


def _own_test_split(cfg) -> bool:
    from gankit.data import guess_name
    from gankit.data.split import has_test_split

    return has_test_split(guess_name(cfg.data), cfg.data)


def check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GankitError(f"{arg('out', out)} already exists and is not empty; choose a new folder for the "
                          f"augmented set")


def check_reuse(run: Path, cfg, split: Split, measure: bool) -> None:
    """A reused run must have trained on this data, and to be measured must have held some of it out."""
    from gankit.run.folder import RunFolder

    info = RunFolder(run).read_info()
    recorded = (info.get("data") or {}).get("split")
    if measure and split.holdout is None:
        raise GankitError(f"{run} recorded no holdout (it trained on all of its data), so no real item is left that "
                          f"its generator never saw; train a new one with gankit augment PRESET data.path=... "
                          f"(it holds out {DEFAULT_HOLDOUT:.0%}), or gankit train ... data.holdout=0.2")
    items = (info.get("data") or {}).get("items")
    if items is not None and int(items) != split.n_train_rows:
        raise GankitError(f"{run} trained on {items} items, but data.path={cfg.data.path} gives {split.n_train_rows} "
                          f"after its holdout; give the run's own data")
    if split.record is not None and recorded is not None \
            and recorded.get("indices_sha256") != split.record["indices_sha256"]:
        raise GankitError(f"{run}: the held-out items drawn now differ from those the run recorded (sha256 of the "
                          f"indices); give the run's own data, unchanged")
    if split.record is not None and recorded is None:
        raise GankitError(f"{run}: run.json does not record its holdout (data.holdout={cfg.data.holdout}); its "
                          f"held-out items cannot be checked, so augment will not trust them; train a new run")


def augment(cfg, opts: AugmentOptions, out, *, run: Optional[Path] = None, frame=None,
            say: Callable[[str], None] = lambda line: None, quiet: bool = True) -> dict:
    """The whole of ``gankit augment`` for a resolved config (a preset's, made fit by :func:`prepare`,
    or a reused run's own with ``run``); returns augment.json's document (with the gain when measured)."""
    from gankit.training.rng import torch_settings

    opts.check()
    out = Path(out)
    check_out(out)
    split = load_split(cfg, frame)
    check_classes(split, measure=opts.measure)
    counts = opts.plan(split.train.counts(len(split.classes)))
    if counts.sum() == 0:
        raise GankitError(_nothing_to_add(opts, split))
    pool = read_like(cfg, opts.pool, split.classes, split.table, arg("pool"), split.shape) if opts.pool else None
    if pool is not None:
        pool, copies = apart_pool(pool, split, arg("pool", opts.pool))
        opts.notes += [f"left {copies} pool item(s) out: copies of training or held-out items"] if copies else []
    if run is not None:
        check_reuse(Path(run), cfg, split, opts.measure)
    else:
        from gankit.run.session import train

        run = train(cfg, out / RUN_DIR, quiet=quiet, frame=frame)
    with torch_settings(cfg.train.threads, False):
        return _use(cfg, opts, out, Path(run), split, counts, pool, say)


def _nothing_to_add(opts: AugmentOptions, split: Split) -> str:
    biggest = int(split.train.counts(len(split.classes)).max())
    if opts.balance:
        return (f"{arg('balance')}: the classes are already balanced ({biggest} items each), so there is nothing to "
                f"add; use {arg('per_class', 'N')} or {arg('ratio', 'K')} to add items")
    return (f"{arg('ratio', opts.ratio)} adds no item (the ratio times the largest class, {biggest}, rounds to 0); "
            f"raise it")


def _use(cfg, opts: AugmentOptions, out: Path, run: Path, split: Split, counts: np.ndarray, pool, say) -> dict:
    """Sample, write, measure: everything after the generator exists."""
    g, weights = generate.load_sampler(run, ema=opts.ema, has_ema=cfg.ema.decay > 0, device=opts.device)
    labels = generate.check_conditional(g, split, run)
    record = None
    if opts.filter is not None:
        from gankit.augmentation import classifiers

        spec = classifiers.specs(opts.classifier, "image" if split.kind == "image" else "table")[0][1]
        judge = classifiers.fit(spec, split.train.x, split.train.y, split, opts.seed, cnn_steps=opts.cnn_steps,
                                device=opts.device)
        x, y, record = generate.draw_filtered(g, split, labels, counts, opts.seed, judge.proba, opts.filter)
    else:
        x, y = generate.draw(g, split, labels, counts, opts.seed)
    written = write_set(out, split, x, y)
    doc = _document(cfg, opts, run, split, counts, y, weights, written, record)
    say(f"gankit: augment: wrote {len(split.train):,} real and {len(y):,} synthetic items to {written['data']}")
    if opts.measure:
        doc["gain"] = _measure(opts, out, split, counts, g, labels, pool, doc, say)
    (out / INFO_JSON).write_text(json.dumps(doc, indent=1))
    return doc


def _document(cfg, opts, run, split: Split, counts, y, weights, written, record) -> dict:
    k = len(split.classes)
    return {
        "data": str(cfg.data.path or cfg.data.name) if not hasattr(split.source, "columns") else "a DataFrame",
        "kind": split.kind, "mode": opts.mode(), "classes": split.classes,
        "train": {"items": len(split.train), "per_class": split.train.counts(k).tolist(),
                  "indices_sha256": _sha(split.train.index)},
        "holdout": {"items": len(split.holdout) if split.holdout is not None else 0, "source": split.holdout_source,
                    "record": split.record},
        "synthetic_per_class": np.bincount(y, minlength=k).tolist(), "asked_per_class": counts.tolist(),
        "generator": {"run": str(run), "weights": weights, "preset": cfg.preset},
        "filter": {"threshold": opts.filter, "classes": record} if record is not None else None,
        "files": written, "notes": list(opts.notes), "seed": opts.seed,
        "unlabelled_rows_left_out": split.unlabelled,
    }


def _sha(index: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.sort(index).astype("<i8").tobytes()).hexdigest()


def _measure(opts, out: Path, split: Split, counts, g, labels, pool, doc: dict, say) -> dict:
    from gankit.augmentation import gain, report

    def synthetic(seed: int):
        return generate.draw(g, split, labels, counts, seed)

    def filtered(seed: int, proba):
        return generate.draw_filtered(g, split, labels, counts, seed, proba, opts.filter)

    protocol = gain.Protocol(split, counts, opts, synthetic, filtered if opts.filter is not None else None, pool, say)
    raw = gain.measure(protocol)
    context = {k: doc[k] for k in ("data", "kind", "mode", "classes", "train", "holdout", "generator")}
    context["synthetic_per_class"] = counts.tolist()  # what each arm adds (the filtered arm: up to this)
    context["baseline"] = gain.baseline_name(split, opts)
    context["cnn_steps"] = opts.cnn_steps if split.kind == "image" else None
    context["pool"] = {"path": str(opts.pool), "items": len(pool)} if pool is not None else None
    result = report.summarise(raw, context)
    (out / GAIN_JSON).write_text(json.dumps(result, indent=1))
    (out / GAIN_MD).write_text(report.markdown(result) + "\n")
    for name, line in result["headline"].items():
        say(f"gankit: augment: {name}: {line}")
    return result
