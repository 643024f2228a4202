"""The command line's arguments (argparse): each command's options, help and examples.

:mod:`gankit.cli` runs the commands; this module only describes them, so that ``gankit --help``
imports nothing but argparse.
"""

from __future__ import annotations

import argparse

from gankit import __version__

EPILOG_TRAIN = """\
examples:
  gankit train                                  # the default preset (digits), no download
  gankit train mnist-mlp train.epochs=3 generator.hidden=[256,256] loss=mse
  gankit train my.yaml --out runs/mine          # YAML may say `preset: mnist-mlp` to start from it
  gankit train ring train.seed=3 train.steps=2000
  gankit train --resume runs/mine               # continue from the last checkpoint
  gankit train ring eval.every=500 eval.patience=4   # score during training, keep best/, stop early
  gankit train cifar10-sngan data.path=cifar10/train.tar.gz   # colour images: a class-conditional ResNet GAN

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
  gankit evaluator train --data cifar10-sngan --threads 1   # the CIFAR-10 one (84%, ~10 min; estimated first)
"""


def thresholds(text: str) -> list[float]:
    """``0.5,0.7,1`` -> [0.5, 0.7, 1.0] (argparse type of eval --truncation)."""
    try:
        out = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        out = []
    if not out:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas (e.g. 0.5,0.7,1.0), got {text!r}")
    return out


def networks_epilog() -> str:
    """The network families (and sound representations) a config may name, from the registries (torch-free:
    names and one line each)."""
    import textwrap

    from gankit.audio.representations import REPRESENTATIONS
    from gankit.models import DISCRIMINATORS, GENERATORS

    lines = ["networks (generator.arch=NAME, discriminator.arch=NAME; `gankit presets` for ready recipes) and what "
             "sound trains as (data.representation=NAME):"]
    for key, registry in (("generator.arch", GENERATORS), ("discriminator.arch", DISCRIMINATORS),
                          ("data.representation", REPRESENTATIONS)):
        for name in registry:
            lines += textwrap.wrap(f"{key}={name}: {registry.help(name)}", 100, initial_indent="  ",
                                   subsequent_indent="      ")
    return "\n".join(lines) + "\n"


def _train_parser(sub) -> None:
    t = sub.add_parser("train", help="train a GAN into a run folder",
                       description="Train a GAN from a preset or YAML config, with key=value overrides.",
                       epilog=EPILOG_TRAIN + "\n" + networks_epilog(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
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


def _image_command(sub, name: str, help: str, description: str, what: str):
    """A command that turns images into images with a run: RUN INPUT --out OUT --device."""
    c = sub.add_parser(name, help=help, description=description)
    c.add_argument("run", help=f"run folder of a {what} run")
    c.add_argument("input", help="an image file or a folder of images")
    c.add_argument("--out", required=True, help="output file (one image) or folder")
    c.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    return c


def _use_parsers(sub) -> None:
    """Commands that use a trained model on its own: upscale, translate, export."""
    u = _image_command(sub, "upscale", "make images larger with a super-resolution run",
                       "Upscale an image (or a folder of images) of any size with a super-resolution run "
                       "(task=superres), tile by tile so that memory stays bounded.", "super-resolution")
    u.add_argument("--tile", type=int, default=None, help="input tile side in pixels (default: the run's sr.tile)")
    t = _image_command(sub, "translate", "translate images with a pix2pix or CycleGAN run",
                       "Translate an image (or a folder of images) of any size with a translation run "
                       "(task=pix2pix or cyclegan); the output has the input's size.", "translation")
    t.add_argument("--to", default=None, help="domain to translate into, A or B (default: the run's data.direction)")
    t.add_argument("--seed", type=int, default=0, help="pix2pix: seed of the dropout noise (default 0)")
    x = sub.add_parser("export", help="write a run's generator as ONNX, torch.export (.pt2) or TorchScript",
                       description="Write the run's generator as a file that runs without gankit (ONNX: onnxruntime "
                       "alone), and FILE.json beside it: inputs, how to decode the output, a read-back check.")
    x.add_argument("run", help="run folder")
    x.add_argument("--format", choices=["onnx", "pt2", "torchscript"], default="onnx", help="onnx (default; needs "
                   "pip install 'gankit[export]'), pt2 (torch.export, PyTorch's recommended), torchscript (deprecated)")
    x.add_argument("--out", required=True, help="output file, e.g. generator.onnx")
    x.add_argument("--to", default=None, help="translation runs: the domain it translates into, A or B")


EPILOG_AUGMENT = """\
examples:
  gankit augment images-dcgan data.path=shapes/ --ratio 1 --out aug/        # twice the items, half synthetic
  gankit augment mnist-cgan data.path=mnist100/ --per-class 100 --measure --out aug/
  gankit augment table data.path=adult.csv data.label_column=income --balance --measure --out aug/
  gankit augment aug/run --balance --measure --pool more/ --filter 0.9 --out aug2/   # reuse the generator
"""


def _augment_parser(sub) -> None:
    a = sub.add_parser("augment", help="more labelled data from a conditional GAN, and its gain measured",
                       description="Train a class-conditional generator (or reuse a run), write the data set "
                       "augmented with synthetic items per class (images: class folders + manifest.csv; tables: "
                       "a CSV with a synthetic column), and with --measure train a classifier on real only vs "
                       "real + synthetic, beside standard augmentation and extra real items, on a real holdout "
                       "that nothing was trained on (gain.json, gain.md).",
                       epilog=EPILOG_AUGMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("source", nargs="?", help="preset (default: a conditional one for data.path) or a run folder "
                   "to reuse")
    a.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, e.g. data.path=FOLDER")
    how = a.add_mutually_exclusive_group(required=True)
    how.add_argument("--per-class", type=int, metavar="N", help="N synthetic items of every class")
    how.add_argument("--balance", action="store_true", help="bring every class up to the largest class's count")
    how.add_argument("--ratio", type=float, metavar="K", help="K synthetic items per real item of each class")
    a.add_argument("--out", required=True, help="a new folder for the run, the augmented set and the reports")
    a.add_argument("--measure", action="store_true", help="measure the gain: classifiers on real only vs real + "
                   "synthetic (and baselines), tested on the real holdout")
    a.add_argument("--seeds", type=int, default=3, help="--measure: seeds per arm (default 3)")
    a.add_argument("--classifier", help="cnn (images); gradient_boosting,logistic (tables; default both)")
    a.add_argument("--filter", type=float, metavar="P", help="keep synthetic items a classifier of the real "
                   "training split gives at least P for their class (e.g. 0.9)")
    a.add_argument("--no-ema", action="store_true", help="sample G's own weights, not their moving average")
    a.add_argument("--pool", metavar="PATH", help="extra real items (same kind as data.path) for the positive "
                   "control: as many real items as synthetic ones")
    a.add_argument("--baseline", default="crop", help="images' standard augmentation: crop (shifts), flip, or "
                   "crop,flip (default crop); tables use SMOTE")
    a.add_argument("--cnn-steps", type=int, default=1000, help="training steps of the built-in CNN (default 1000)")
    a.add_argument("--seed", type=int, default=0, help="seed of the synthetic draw and the first measured seed")
    a.add_argument("--device", default="cpu", help="cpu (default), cuda, ... (sampling and the CNN)")
    a.add_argument("--quiet", action="store_true", help="print only the result")


def _eval_parsers(sub) -> None:
    """gankit eval, and gankit evaluator (the domain classifiers behind the image metrics)."""
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
    e.add_argument("--truncation", type=thresholds, default=None, metavar="T,T,...", help="score again with "
                   "the latent truncated at each threshold (BigGAN's trick), e.g. 0.5,0.7,1.0: the fidelity/"
                   "diversity trade, in eval.json's 'truncation'")
    e.add_argument("--seed", type=int, default=0, help="seed for sampling and subsets (default 0)")
    e.add_argument("--device", default="cpu", help="cpu (default), cuda, ...")
    e.add_argument("--json", action="store_true", help="print the eval.json document instead of a table")

    ev = sub.add_parser("evaluator", help="train the domain classifier behind image metrics",
                        description="Manage the domain classifiers gankit uses as feature extractors.")
    evsub = ev.add_subparsers(dest="evaluator_command", metavar="ACTION", required=True)
    et = evsub.add_parser("train", help="train and cache the classifier of a labelled image set",
                          description="Train the domain classifier of a labelled image set (greyscale: a small "
                          "CNN; colour: a small residual net, ~10 min on one CPU thread for CIFAR-10) and cache it "
                          "(safetensors + JSON with its accuracy, on the test split when the data has one, and "
                          "weights sha256) under the cache folder's evaluators/. It prints an estimate of its "
                          "training time first. Built-in sets and class folders also train it on first `gankit eval`.")
    et.add_argument("--data", default="digits", help="digits (default), mnist, fashion-mnist, a preset's data "
                    "(cifar10-sngan: CIFAR-10's archives and test split), or a folder or archive "
                    "of images with one sub-folder per class")
    et.add_argument("overrides", nargs="*", metavar="key=value", help="data.* keys, e.g. data.cache_dir=DIR")
    et.add_argument("--epochs", type=int, default=None, help="training epochs (default: the network's rule; "
                    "small CNN ~15k images seen, colour net 6 epochs of CIFAR-10)")
    et.add_argument("--network", default=None, help="image (the small CNN) or resnet (colour images); default: "
                    "resnet for colour images of at least 8x8 pixels, image for the rest")
    et.add_argument("--threads", type=int, default=None, help="CPU threads for training (default: PyTorch's)")
    et.add_argument("--seed", type=int, default=0, help="seed for the split, initialisation and order")
    et.add_argument("--force", action="store_true", help="train again even when a cached classifier exists")
    et.add_argument("--quiet", action="store_true", help="print only the result")


def parser() -> argparse.ArgumentParser:
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

    _use_parsers(sub)
    _augment_parser(sub)

    m = sub.add_parser("summary", help="print Keras-style model tables",
                       description="Print layer / output shape / parameter tables for G, D and the "
                       "combined G->D model of a preset, YAML config or run folder.")
    m.add_argument("source", nargs="?", help="preset, YAML file or run folder (default: digits)")
    m.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")

    sub.add_parser("presets", help="list the built-in presets", description="List the built-in presets.")

    _eval_parsers(sub)

    r = sub.add_parser("report", help="(re)build a run's self-contained report.html",
                       description="Write RUN/report.html: status, health warnings, metrics with provenance, "
                       "sample grids over time, curves, model summaries and config, with every image embedded "
                       "(open it in any browser; no server, no network).")
    r.add_argument("run", help="run folder")
    return p
