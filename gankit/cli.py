"""Command line: ``gankit train | sample | upscale | translate | export | augment | eval | report | summary |
presets | evaluator`` (their arguments: :mod:`gankit.cli_parser`).

Only argparse is imported up front; torch and friends load inside the subcommand that needs them,
so ``gankit --help`` and ``gankit presets`` answer at once. User errors (GankitError) print
one line and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gankit.cli_parser import parser as make_parser
from gankit.errors import GankitError, Interrupted, cli_wording

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 1  # what Python's docs suggest for a reader that went away

# ----------------------------------------------------------------------------- commands


def cmd_presets(_args) -> int:
    from gankit.presets import DEFAULT_PRESET, describe

    rows = describe()
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        print(f"{name:<{width}}  {desc}" + (" (default)" if name == DEFAULT_PRESET else ""))
    return 0


def cmd_train(args) -> int:
    from gankit.config import dump, keys_text

    if args.keys:
        print(keys_text())
        return 0
    source, overrides = args.source, list(args.overrides)
    if source is not None and "=" in source:  # `gankit train train.steps=10`: no preset given
        overrides.insert(0, source)
        source = None
    from gankit import api

    cfg = api.resolve_config(source, overrides, resume=args.resume)
    if args.dry_run:
        print(dump(cfg), end="")
        columns = api.column_table(cfg)  # the table task: the inferred column kinds, before any training
        if columns:
            print("\n" + columns)
        return 0
    api.train(cfg, out=args.out, resume=args.resume, quiet=args.quiet)
    return 0


def cmd_sample(args) -> int:
    from gankit.api import best_run, load, parse_where

    if args.best and args.checkpoint is not None:
        raise GankitError("--best and --checkpoint each choose a generator; give one of them")
    run = best_run(args.run) if args.best else args.run
    if args.interpolate is not None:
        return _walk(run, args)
    if args.to_seed is not None:
        raise GankitError("--to-seed is for walks: add --interpolate STEPS")
    g = load(run, device=args.device, checkpoint=args.checkpoint)
    args.n = 64 if args.n is None else args.n
    where, extra = parse_where(args.where), {"truncation": args.truncation} if args.truncation is not None else {}
    if where and not hasattr(g, "where_of"):
        raise GankitError(f"--where is for table runs (gankit train table ...); {args.run} is not one"
                          + ("; use --label CLASS" if g.num_classes else ""))
    x = g.sample(args.n, seed=args.seed, label=args.label, **({"where": where} if where else {}), **extra)
    per_class = g.num_classes > 0 and args.label is None and args.n % g.num_classes == 0
    out = g.save(x, args.out, nrow=args.n // g.num_classes if per_class else None,
                 labels=g.class_names_for(args.n, args.label))
    step = getattr(g, "meta", {}).get("step") if args.checkpoint is not None else None
    print(f"wrote {len(x)} samples of shape {tuple(x.shape[1:])} to {out}"
          + (f" (checkpoint of step {step})" if step is not None else ""))
    return 0


def _walk(run, args) -> int:
    from gankit.api import walk

    out, shape = walk(run, args.interpolate, args.out, n=4 if args.n is None else args.n, seed=args.seed,
                      to_seed=args.to_seed, truncation=args.truncation, label=args.label, device=args.device,
                      checkpoint=args.checkpoint)
    print(f"wrote walks of {args.interpolate} steps (array {tuple(shape)}) to {out}")
    return 0


def cmd_export(args) -> int:
    from gankit.api import export

    doc = export(args.run, args.format, args.out, to=args.to)
    c = doc["check"]
    said = f"{c['runtime']}: max |difference| {c['max_abs_diff']:.1e} vs gankit" if "runtime" in c else c["skipped"]
    print(f"wrote {args.out} ({args.format}) and {doc['sidecar']}; {said}")
    return 0


def cmd_augment(args) -> int:
    from gankit.api import augment

    source, overrides = args.source, list(args.overrides)
    if source is not None and "=" in source:  # `gankit augment data.path=x ...`: no preset given
        overrides.insert(0, source)
        source = None
    doc = augment(source, overrides, out=args.out, per_class=args.per_class, balance=args.balance, ratio=args.ratio,
                  measure=args.measure, seeds=args.seeds, classifier=args.classifier, filter=args.filter,
                  ema=not args.no_ema, pool=args.pool, baseline=args.baseline, seed=args.seed, cnn_steps=args.cnn_steps,
                  device=args.device, quiet=args.quiet)
    made = sum(doc["synthetic_per_class"])
    print(f"wrote {doc['train']['items']:,} real + {made:,} synthetic items to {doc['files']['data']}"
          + (f"; the gain: {Path(args.out) / 'gain.md'}" if "gain" in doc else ""))
    return 0


def cmd_upscale(args) -> int:
    from gankit.api import upscale

    written = upscale(args.run, args.input, args.out, tile=args.tile, device=args.device)
    print(f"wrote {written[0]}" if len(written) == 1 else f"wrote {len(written)} images to {args.out}")
    return 0


def cmd_translate(args) -> int:
    from gankit.api import translate

    written = translate(args.run, args.input, args.out, to=args.to, seed=args.seed, device=args.device)
    print(f"wrote {written[0]}" if len(written) == 1 else f"wrote {len(written)} images to {args.out}")
    return 0


def cmd_summary(args) -> int:
    from gankit.api import summary

    print(summary(args.source, list(args.overrides)))
    return 0


def cmd_eval(args) -> int:
    import json

    from gankit.metrics.evaluate import EVAL_FILE, evaluate_run, format_scores

    doc = evaluate_run(args.run, metrics=args.metrics, n=args.n, extractor=args.extractor,
                       inception_weights=args.inception_weights, seed=args.seed, device=args.device,
                       quiet=args.json, target=args.target, truncation=args.truncation)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(format_scores(doc))
        print(f"wrote {Path(args.run) / EVAL_FILE}")
    return 0


def cmd_evaluator(args) -> int:
    from gankit.config import Config, apply_overrides, load, validate
    from gankit.data import DATASETS
    from gankit.metrics.classifier import TrainSettings, describe_accuracy, train_evaluator
    from gankit.presets import PRESETS
    from gankit.training.rng import torch_settings

    bad = [o for o in args.overrides if not o.startswith("data.")]
    if bad:
        raise GankitError(f"{bad[0]}: `gankit evaluator train` takes only data.* keys (e.g. data.cache_dir=DIR)")
    if args.threads is not None and args.threads < 1:
        raise GankitError(f"--threads must be >= 1, got {args.threads}")
    if args.data not in DATASETS and args.data in PRESETS:  # a preset's data: cifar10-sngan reads CIFAR-10's archives
        cfg = load(args.data, args.overrides)
    else:
        named = args.data == "auto" or args.data in DATASETS
        first = f"data.name={args.data}" if named else f"data.path={args.data}"
        cfg = validate(apply_overrides(Config(), [first, *args.overrides]))
    with torch_settings(args.threads, deterministic=False):
        _, meta, sha, path = train_evaluator(cfg.data, TrainSettings(network=args.network, epochs=args.epochs,
                                                                     seed=args.seed), force=args.force, quiet=args.quiet)
    kind = "test" if meta.get("accuracy_on") == "test split" else "held-out"
    print(f"{meta['dataset']} classifier: {kind} accuracy {describe_accuracy(meta)}; network "
          f"{meta.get('network') or meta['data_kind']}, {meta['epochs']} epochs in {meta['train_seconds']:.1f}s; "
          f"weights sha256 {sha[:12]}; {path}")
    return 0


def cmd_report(args) -> int:
    from gankit.report.html import build_report

    print(f"wrote {build_report(args.run, summary_text=_safe_summary(args.run))}")
    return 0


def _safe_summary(run: str) -> str | None:
    from gankit.api import summary

    try:
        return summary(run)
    except GankitError:
        return None  # a report must not fail because, say, the data folder moved


def _own_error() -> bool:
    """Whether this process prints its error. Under torchrun, an error raised before the processes
    have joined comes from the config or the environment, the same on every rank: rank 0 alone
    prints it (the others still exit 2). Once joined, each process prints its own."""
    if os.environ.get("RANK", "0") == "0":
        return True
    dist = sys.modules.get("gankit.distributed")
    return dist is not None and dist.joined


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "upscale": cmd_upscale, "translate": cmd_translate,
            "summary": cmd_summary, "presets": cmd_presets, "export": cmd_export, "augment": cmd_augment,
            "eval": cmd_eval, "evaluator": cmd_evaluator, "report": cmd_report}


def main(argv: list[str] | None = None) -> int:
    """Run one command; output piped into a reader that stops early (``| head``) ends quietly."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a pipe closed early fails here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader has gone (`gankit train --keys | head`): the standard answer, as in the Python
        # docs' note on SIGPIPE, is to point stdout at devnull, so the exit's flush fails silently
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
            pass
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    # key=value overrides may come after options (`train digits --out x a=b`): argparse leaves them over
    stray = [e for e in extra if e.startswith("-") or "=" not in e]
    if stray or (extra and not hasattr(args, "overrides")):
        parser.error(f"unrecognized arguments: {' '.join(stray or extra)}")
    if extra:
        args.overrides = list(args.overrides or []) + extra
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with cli_wording():  # messages name --options and gankit commands, not Python arguments
            return COMMANDS[args.command](args)
    except GankitError as e:
        if args.debug:
            raise
        if _own_error():
            print(f"gankit: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as e:
        print(f"gankit: {e}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
