"""Command line: ``gankit train | sample | eval | report | summary | presets | evaluator``.

Only argparse is imported up front; torch and friends load inside the subcommand that needs
them, so ``gankit --help`` and ``gankit presets`` answer at once. User errors (GankitError) print
one line and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gankit import __version__
from gankit.errors import GankitError, Interrupted, cli_wording

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 1  # what Python's docs suggest for a reader that went away

EPILOG_TRAIN = """\
examples:
  gankit train                                  # the default preset (digits), no download
  gankit train mnist-mlp train.epochs=3 generator.hidden=[256,256] loss=mse
  gankit train my.yaml --out runs/mine          # YAML may say `preset: mnist-mlp` to start from it
  gankit train ring train.seed=3 train.steps=2000
  gankit train --resume runs/mine               # continue from the last checkpoint
  gankit train ring eval.every=500 eval.patience=4   # score during training, keep best/, stop early

common keys (see `gankit train --keys` for all):
  train.steps  train.epochs  train.batch_size  train.seed  train.device  train.n_critic
  generator.hidden  generator.lr  discriminator.hidden  discriminator.lr  loss
  data.name  data.path  eval.every  eval.metrics  eval.best_metric  log.tensorboard
"""

EPILOG_EVAL = """\
examples:
  gankit eval runs/digits-20261122-120000          # classifier FID/KID, precision/recall, class histogram
  gankit eval runs/ring-20261122-120000            # + mode coverage (VEEGAN/PacGAN protocol, 2,500 samples)
  gankit eval RUN --metrics fid,prdc --n 5000 --json
  gankit eval RUN --extractor inception --inception-weights weights-inception-2015-12-05-6726825d.pth
  gankit evaluator train --data mnist              # train/cache the MNIST classifier explicitly
"""


def _train_parser(sub) -> None:
    t = sub.add_parser("train", help="train a GAN into a run folder",
                       description="Train a GAN from a preset or YAML config, with key=value overrides.",
                       epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("source", nargs="?", help="preset name (see `gankit presets`) or YAML config file; "
                   "default: digits")
    t.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.epochs=3")
    t.add_argument("--out", help="run folder (default runs/<preset>-<timestamp>)")
    t.add_argument("--resume", metavar="RUN", help="continue the run folder RUN from its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="print nothing but errors")
    t.add_argument("--keys", action="store_true", help="list every config key with its default (as you would "
                   "type it) and what it does, then exit")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config (and, for the table task, "
                   "each column's inferred kind) and exit")


def _sample_parser(sub) -> None:
    s = sub.add_parser("sample", help="generate samples from a trained run",
                       description="Generate N samples from a run's generator. The output form follows "
                       "--out: .npy (data space: images (N,C,H,W) in [0,1], tables in original units), "
                       ".png (a grid, or a plot for tables), .csv (one row per sample), or folder/ "
                       "(one PNG per image).")
    s.add_argument("run", help="run folder written by `gankit train` (or its best/ folder)")
    s.add_argument("--best", action="store_true", help="use the run's best generator (RUN/best/, kept when "
                   "training with eval.every=K) instead of the final one")
    s.add_argument("--checkpoint", metavar="latest|STEP|PATH", help="sample a training checkpoint instead of the "
                   "final generator: the newest (latest; works while the run is still training), a step, or a "
                   "checkpoint file (its sampling generator: the EMA copy when ema.decay is on)")
    s.add_argument("--n", type=int, default=None, help="number of samples (default 64; walks: 4)")
    s.add_argument("--out", required=True, help="x.npy | x.png | x.csv | folder/")
    s.add_argument("--seed", type=int, default=None, help="random seed for reproducible samples")
    s.add_argument("--truncation", type=float, default=None, metavar="T", help="truncation trick: latent components "
                   "beyond ±T are drawn again (e.g. 0.7: more typical, less varied samples)")
    s.add_argument("--interpolate", type=int, default=None, metavar="STEPS", help="latent walks of STEPS points "
                   "(spherical): --n walks between random codes, or --seed A --to-seed B; .png grid, .gif, .npy, .csv")
    s.add_argument("--to-seed", type=int, default=None, metavar="B", help="--interpolate: walk to the code of seed B")
    s.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    s.add_argument("--label", help="class-conditional runs: only this class (index or name); without it "
                   "the classes are balanced and a .png grid has one row per class")
    s.add_argument("--where", action="append", metavar="COLUMN=VALUE", default=[],
                   help="table runs: every row has this value in this categorical column, by conditioning the "
                   "generator (repeat for several columns)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gankit",
        description="Train, inspect and use Generative Adversarial Networks.",
        epilog="Run `gankit COMMAND --help` for each command's options.",
    )
    p.add_argument("--version", action="version", version=f"gankit {__version__}")
    p.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    _train_parser(sub)
    _sample_parser(sub)

    u = sub.add_parser("upscale", help="make images larger with a super-resolution run",
                       description="Upscale an image (or a folder of images) of any size with a super-resolution "
                       "run (task=superres), tile by tile so that memory stays bounded.")
    u.add_argument("run", help="run folder of a super-resolution run")
    u.add_argument("input", help="an image file or a folder of images")
    u.add_argument("--out", required=True, help="output file (one image) or folder")
    u.add_argument("--tile", type=int, default=None, help="input tile side in pixels (default: the run's sr.tile)")
    u.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")

    t = sub.add_parser("translate", help="translate images with a pix2pix or CycleGAN run",
                       description="Translate an image (or a folder of images) of any size with a translation run "
                       "(task=pix2pix or cyclegan); the output has the input's size.")
    t.add_argument("run", help="run folder of a translation run")
    t.add_argument("input", help="an image file or a folder of images")
    t.add_argument("--out", required=True, help="output file (one image) or folder")
    t.add_argument("--to", default=None, help="domain to translate into, A or B (default: the run's data.direction)")
    t.add_argument("--seed", type=int, default=0, help="pix2pix: seed of the dropout noise (default 0)")
    t.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")

    x = sub.add_parser("export", help="write a run's generator as ONNX, torch.export (.pt2) or TorchScript",
                       description="Write the run's generator as a file that runs without gankit (ONNX: onnxruntime "
                       "alone), and FILE.json beside it: inputs, how to decode the output, a read-back check.")
    x.add_argument("run", help="run folder")
    x.add_argument("--format", choices=["onnx", "pt2", "torchscript"], default="onnx", help="onnx (default; needs "
                   "pip install 'gankit[export]'), pt2 (torch.export, PyTorch's recommended), torchscript (deprecated)")
    x.add_argument("--out", required=True, help="output file, e.g. generator.onnx")
    x.add_argument("--to", default=None, help="translation runs: the domain it translates into, A or B")

    m = sub.add_parser("summary", help="print Keras-style model tables",
                       description="Print layer / output shape / parameter tables for G, D and the "
                       "combined G->D model of a preset, YAML config or run folder.")
    m.add_argument("source", nargs="?", help="preset, YAML file or run folder (default: digits)")
    m.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")

    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")

    e = sub.add_parser("eval", help="score a trained run (FID, KID, precision/recall, mode coverage)",
                       description="Score a run's final generator against its training data and write "
                       "RUN/eval.json; every score is stored and printed with its provenance (feature "
                       "extractor and weights sha256, n real / generated, reference split, seed, step).",
                       epilog=EPILOG_EVAL, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("run", help="run folder written by `gankit train`")
    e.add_argument("--metrics", help="fid,kid,prdc,modes,classes,classifier_score; tables: fidelity,utility,privacy "
                   "(default: what fits the data)")
    e.add_argument("--target", metavar="COLUMN", help="table runs: the column the utility metric predicts "
                   "(default: the run's eval.target)")
    e.add_argument("--n", type=int, default=None, help="generated samples (default 10000 for images, 2500 "
                   "for tables and toy sets)")
    e.add_argument("--extractor", help="feature space: classifier | inception | raw | standardized (default: "
                   "classifier for labelled images, standardized columns for tables, raw pixels otherwise)")
    e.add_argument("--inception-weights", metavar="FILE", help="local Inception-v3 weights for --extractor "
                   "inception (or set $GANKIT_INCEPTION_WEIGHTS); never downloaded")
    e.add_argument("--seed", type=int, default=0, help="seed for sampling and subsets (default 0)")
    e.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    e.add_argument("--json", action="store_true", help="print the eval.json document instead of a table")

    ev = sub.add_parser("evaluator", help="train the domain classifier behind image metrics",
                        description="Manage the domain classifiers gankit uses as feature extractors.")
    evsub = ev.add_subparsers(dest="evaluator_command", metavar="ACTION", required=True)
    et = evsub.add_parser("train", help="train and cache the classifier of a labelled image set",
                          description="Train the small CNN classifier of a labelled image set and cache it "
                          "(safetensors + JSON with its held-out accuracy and weights sha256) under the "
                          "cache folder's evaluators/. Built-in sets also train it on first `gankit eval`.")
    et.add_argument("--data", default="digits", help="digits (default), mnist, fashion-mnist, or a folder "
                    "of images with one sub-folder per class")
    et.add_argument("overrides", nargs="*", metavar="key=value", help="data.* keys, e.g. data.cache_dir=DIR")
    et.add_argument("--epochs", type=int, default=None, help="training epochs (default: ~15k images seen)")
    et.add_argument("--seed", type=int, default=0, help="seed for the split, initialisation and order")
    et.add_argument("--force", action="store_true", help="train again even when a cached classifier exists")
    et.add_argument("--quiet", action="store_true", help="print only the result")

    r = sub.add_parser("report", help="(re)build a run's self-contained report.html",
                       description="Write RUN/report.html: status, health warnings, metrics with provenance, "
                       "sample grids over time, curves, model summaries and config, with every image embedded "
                       "(open it in any browser; no server, no network).")
    r.add_argument("run", help="run folder")
    return p


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
                       quiet=args.json, target=args.target)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(format_scores(doc))
        print(f"wrote {Path(args.run) / EVAL_FILE}")
    return 0


def cmd_evaluator(args) -> int:
    from gankit.config import Config, apply_overrides, validate
    from gankit.data import DATASETS
    from gankit.metrics.classifier import TrainSettings, train_evaluator

    bad = [o for o in args.overrides if not o.startswith("data.")]
    if bad:
        raise GankitError(f"{bad[0]}: `gankit evaluator train` takes only data.* keys (e.g. data.cache_dir=DIR)")
    named = args.data == "auto" or args.data in DATASETS
    first = f"data.name={args.data}" if named else f"data.path={args.data}"
    cfg = validate(apply_overrides(Config(), [first, *args.overrides]))
    _, meta, sha, path = train_evaluator(cfg.data, TrainSettings(epochs=args.epochs, seed=args.seed),
                                         force=args.force, quiet=args.quiet)
    print(f"{meta['dataset']} classifier: held-out accuracy {meta['accuracy']:.4f} on {meta['n_holdout']} "
          f"images, {meta['epochs']} epochs in {meta['train_seconds']:.1f}s; weights sha256 {sha[:12]}; {path}")
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
            "summary": cmd_summary, "presets": cmd_presets, "export": cmd_export,
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
    parser = _parser()
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
