"""Command line: ``gankit train | sample | summary | presets``.

Only argparse is imported up front; torch and friends load inside the subcommand that needs
them, so ``gankit --help`` and ``gankit presets`` answer at once. User errors (GankitError) print
one line and exit with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gankit import __version__
from gankit.errors import GankitError, Interrupted

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG_TRAIN = """\
examples:
  gankit train                                  # the default preset (digits), no download
  gankit train mnist-mlp train.epochs=3 generator.hidden=[256,256] loss=mse
  gankit train my.yaml --out runs/mine          # YAML may say `preset: mnist-mlp` to start from it
  gankit train ring train.seed=3 train.steps=2000
  gankit train --resume runs/mine               # continue from the last checkpoint

common keys (see `gankit train --keys` for all):
  train.steps  train.epochs  train.batch_size  train.seed  train.device  train.n_critic
  generator.hidden  generator.lr  discriminator.hidden  discriminator.lr  loss
  data.name  data.path
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gankit",
        description="Train, inspect and use Generative Adversarial Networks.",
        epilog="Run `gankit COMMAND --help` for each command's options.",
    )
    p.add_argument("--version", action="version", version=f"gankit {__version__}")
    p.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a GAN into a run folder",
                       description="Train a GAN from a preset or YAML config, with key=value overrides.",
                       epilog=EPILOG_TRAIN, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("source", nargs="?", help="preset name (see `gankit presets`) or YAML config file; "
                   "default: digits")
    t.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. train.epochs=3")
    t.add_argument("--out", help="run folder (default runs/<preset>-<timestamp>)")
    t.add_argument("--resume", metavar="RUN", help="continue the run folder RUN from its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="print nothing but errors")
    t.add_argument("--keys", action="store_true", help="list every config key with its default and exit")
    t.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")

    s = sub.add_parser("sample", help="generate samples from a trained run",
                       description="Generate N samples from a run's generator. The output form follows "
                       "--out: .npy (data space: images (N,C,H,W) in [0,1], tables in original units), "
                       ".png (a grid, or a plot for tables), .csv (one row per sample), or folder/ "
                       "(one PNG per image).")
    s.add_argument("run", help="run folder written by `gankit train`")
    s.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument("--out", required=True, help="x.npy | x.png | x.csv | folder/")
    s.add_argument("--seed", type=int, default=None, help="random seed for reproducible samples")
    s.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")

    m = sub.add_parser("summary", help="print Keras-style model tables",
                       description="Print layer / output shape / parameter tables for G, D and the "
                       "combined G->D model of a preset, YAML config or run folder.")
    m.add_argument("source", nargs="?", help="preset, YAML file or run folder (default: digits)")
    m.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")

    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")
    return p


# ----------------------------------------------------------------------------- commands


def cmd_presets(_args) -> int:
    from gankit.presets import DEFAULT_PRESET, describe

    rows = describe()
    width = max(len(n) for n, _ in rows)
    for name, desc in rows:
        mark = " (default)" if name == DEFAULT_PRESET else ""
        print(f"{name:<{width}}  {desc}{mark}")
    return 0


def cmd_train(args) -> int:
    from gankit.config import all_keys, dump, load

    if args.keys:
        from gankit.config import Config, to_dict

        flat = to_dict(Config())
        for key in all_keys():
            v = flat
            for part in key.split("."):
                v = v[part]
            print(f"{key} = {v!r}")
        return 0
    source, overrides = args.source, list(args.overrides)
    if source is not None and "=" in source:  # `gankit train train.steps=10`: no preset given
        overrides.insert(0, source)
        source = None
    if args.resume:
        if source is not None:
            raise GankitError("--resume continues a run with its own config; give only key=value overrides")
        from gankit.runner import load_run_config
        from gankit.config import apply_overrides, validate

        cfg = validate(apply_overrides(load_run_config(args.resume), overrides))
    else:
        from gankit.presets import DEFAULT_PRESET

        cfg = load(source or DEFAULT_PRESET, overrides)
    if args.dry_run:
        print(dump(cfg), end="")
        return 0
    from gankit.runner import train

    train(cfg, args.out, resume=args.resume, quiet=args.quiet)
    return 0


def cmd_sample(args) -> int:
    from gankit.sampling import load, save_samples

    g = load(args.run, device=args.device)
    x = g.sample(args.n, seed=args.seed)
    out = save_samples(x, g.kind, args.out, columns=g.columns)
    print(f"wrote {len(x)} samples of shape {tuple(x.shape[1:])} to {out}")
    return 0


def summary_text(source: str | None, overrides: list[str]) -> str:
    from gankit.config import load
    from gankit.data import data_shape
    from gankit.models import build_discriminator, build_generator
    from gankit.models.summary import gan_summary

    if source is not None and Path(source).is_dir():
        from gankit.config import apply_overrides, validate
        from gankit.runner import load_run_config

        cfg = validate(apply_overrides(load_run_config(source), overrides))
    else:
        from gankit.presets import DEFAULT_PRESET

        cfg = load(source or DEFAULT_PRESET, overrides)
    shape = data_shape(cfg.data)
    G = build_generator(cfg.generator, shape)
    D = build_discriminator(cfg.discriminator, shape)
    return gan_summary(G, D, cfg.generator.latent_dim)


def cmd_summary(args) -> int:
    print(summary_text(args.source, list(args.overrides)))
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "summary": cmd_summary, "presets": cmd_presets}


def main(argv: list[str] | None = None) -> int:
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
        return COMMANDS[args.command](args)
    except GankitError as e:
        if args.debug:
            raise
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
