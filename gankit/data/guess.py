"""What ``data.path`` holds, and what a config's data settings mean before anything is loaded.

Giving ``data.path`` means "train on my data", whatever the preset: a preset's built-in set that
reads no files (digits, ring, ...) or an MNIST-format set given something else than its IDX folder
gives way to what the path holds (``data.name=auto``):

* a folder of images, or an archive of them (.zip, .tar.gz, .tgz, .tar) -> ``images``
  (class sub-folders = classes), a folder of MNIST IDX files -> ``mnist``;
* a table (.csv, .tsv, .txt, .npy, .npz, .parquet) -> ``table``;
* a folder of audio files (.wav, .flac, ...) -> ``sound``;
* what gankit cannot train on this way is named as such (sound in an archive, A/B translation folders).

:func:`resolve` writes the outcome into the config once, when a new run's config is made (so
``--dry-run`` shows the data.name and data.image_size the run will use, and config.yaml keeps them).
Torch-free: it reads only names and image headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gankit.audio import SOUNDS
from gankit.data import archives
from gankit.data.archives import IMAGES, one_image
from gankit.errors import GankitError

TABLES = (".csv", ".tsv", ".txt", ".npy", ".npz", ".parquet")
#: built-in sets made in memory or bundled: a data.path means the user's own data instead
NO_FILES = ("digits", "gaussian-1d", "ring", "grid")
#: sets read from a folder of IDX files: another path means the user's own data
IDX_SETS = ("mnist", "fashion-mnist")
#: sub-folder pairs of image-to-image translation sets (CycleGAN's trainA/trainB, pix2pix's A/B)
PAIRED = ({"A", "B"}, {"trainA", "trainB"})
#: images-dcgan and other DCGANs on an image folder: the largest side chosen without data.image_size
MAX_AUTO_SIZE = 64


def _sound_archive(p: Path) -> GankitError:
    return GankitError(f"{p}: an archive of sound files; gankit reads sound from a folder: unpack it and give "
                       f"data.path=FOLDER")


def _one_sound(p: Path) -> GankitError:
    return GankitError(f"data.path {str(p)!r} is one audio file; give the folder that holds the clips (one "
                       f"sub-folder per class, or data.label_pattern for classes in the file names)")


def _kind_of_stream(names: Iterable[str]) -> str | None:
    """images, sound or None, from file names (images win: a folder of pictures with a stray .wav is images).
    It stops at the first image: the guess runs at every config load, and a large folder would be listed
    twice, CIFAR-10's 50,000-member tar.gz decompressed whole each time."""
    sound = False
    for name in names:
        suffix = Path(name).suffix.lower()
        if suffix in IMAGES:
            return "images"
        sound = sound or suffix in SOUNDS
    return "sound" if sound else None


def guess_from_path(path: str) -> tuple[str, str]:
    """(data.name, what it was guessed from: "the folder", "the file", "the archive") of ``data.path``."""
    p = Path(path)
    suffix = p.suffix.lower()
    if archives.is_archive(p):
        if not p.is_file():
            raise GankitError(f"data.path {path!r}: no such archive file")
        kind = _kind_of_stream(parts[-1] for parts in archives.members(p))
        if kind is None:
            raise GankitError(f"{p}: the archive holds no images ({', '.join(IMAGES)}); give an archive of "
                              f"images, one sub-folder per class")
        if kind == "sound":
            raise _sound_archive(p)
        return "images", "the archive"
    if p.is_file() or suffix in TABLES:
        if suffix in IMAGES:
            raise one_image(p)
        if suffix in SOUNDS:
            raise _one_sound(p)
        return "table", "the file"
    if p.is_dir():
        return _guess_folder(p), "the folder"
    raise GankitError(f"data.path {path!r} does not exist; give an existing folder or archive (.zip, .tar.gz) of "
                      f"images, an MNIST IDX folder, or a .csv/.npy/.npz/.parquet file")


def _guess_folder(p: Path) -> str:
    names = {q.name for q in p.iterdir()}
    if any(n.startswith("train-images-idx3-ubyte") for n in names):
        return "mnist"
    subs = {q.name for q in p.iterdir() if q.is_dir()}
    if any(pair <= subs for pair in PAIRED):
        raise GankitError(f"{p} has A/ and B/ sub-folders (an image-to-image translation set): train on it with "
                          f"task=pix2pix (paired, e.g. gankit train facades-pix2pix data.path={p}) or task=cyclegan; "
                          f"to train on them as two classes set data.name=images")
    if _kind_of_stream(q.name for q in p.rglob("*")) == "sound":
        return "sound"
    return "images"  # the image loader says what it looked for


def resolve_name(name: str, path: str | None) -> tuple[str, str | None]:
    """(the data set a config reads, what it was guessed from or None when named), without loading it."""
    if name == "auto" and path is None:
        return "digits", None
    if path is None or not (name == "auto" or name in NO_FILES or name in IDX_SETS):
        return name, None
    if name in IDX_SETS and not _other_than_idx(Path(path)):
        return name, None  # its own IDX folder (its loader names what is missing or wrong there)
    return guess_from_path(path)


def _other_than_idx(p: Path) -> bool:
    """A path that is the user's own data, not an IDX folder: a folder without IDX files, an archive or a
    table file (another file, say a lone .gz, is left to the IDX loader, which says to give the folder)."""
    if p.is_dir():
        return not any("-ubyte" in q.name for q in p.iterdir())
    return p.is_file() and (archives.is_archive(p) or p.suffix.lower() in TABLES)


def auto_image_size(path: str, multiple: int, cap: int = MAX_AUTO_SIZE) -> int | None:
    """The square side to resize a folder's images to when data.image_size is unset: the largest
    multiple of ``multiple`` (a DCGAN's 2^stages) that fits every image, at most ``cap``; None when
    the images can be used as they are (one size the networks support, at most ``cap``)."""
    from gankit.data.images import image_sizes

    sizes = set(image_sizes(path))
    w, h = next(iter(sizes))
    if len(sizes) == 1 and w % multiple == 0 and h % multiple == 0 and max(w, h) <= cap:
        return None
    side = min(min(s) for s in sizes)
    size = min(side, cap) // multiple * multiple
    if size < max(multiple, 4):
        raise GankitError(f"{path}: the smallest image is {side} pixels on a side, too small for "
                          f"{multiple}x{multiple} (the generator's stages); use fewer generator.channels")
    return size


def resolve(data, multiple: int) -> None:
    """Write the guessed data.name (and, for a DCGAN on images, the size to resize to) into a DataConfig.

    ``multiple``: what image sides must divide by for the networks (a DCGAN's 2^stages; 1 for an MLP,
    which takes the images as they are). A path that does not exist is left to the data loader, which
    says so when the run starts (a config may name data that is not on this machine yet).
    """
    if data.path is None or not Path(data.path).exists():
        return
    data.name, _ = resolve_name(data.name, data.path)
    if data.name == "images" and data.image_size is None and multiple > 1:
        data.image_size = auto_image_size(data.path, multiple)


def describe(data) -> tuple[str, list[str]]:
    """How a run names its data: (``shapes/``, [``images, guessed from the folder``, ``resized to 32x32``])
    for the user's files, (``digits``, []) for a built-in set."""
    name, _ = resolve_name(data.name, data.path)
    if data.path is None:
        return name, []
    try:
        guessed, source = guess_from_path(data.path)
    except GankitError:
        guessed, source = None, ""
    notes = [f"{name}, guessed from {source}" if guessed == name else name]
    if name == "images" and data.image_size is not None:
        notes.append(f"resized to {data.image_size}x{data.image_size}")
    return data.path, notes


def run_name(data, preset: str | None, own: str | None) -> str:
    """A run folder's name: the preset for a built-in set; the user's data set, then what the preset adds
    to its own set's name, for their files (``shapes`` + ``digits-dcgan`` -> ``shapes-dcgan``).
    ``own``: the preset's own data.name."""
    import re

    preset = preset or ""
    if data.path is None:
        return preset or "run"
    own = "digits" if own in (None, "auto") else own
    head, _, rest = preset.partition("-")
    if preset == own:
        preset = ""
    elif own.startswith(head):  # digits-dcgan, fashion-dcgan (fashion-mnist), images-dcgan
        preset = rest
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", archives.stem(data.path)).strip("._-") or "data"
    return f"{stem}-{preset}" if preset else stem
