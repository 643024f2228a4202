"""Files inside an archive (.zip, .tar, .tar.gz, .tgz, .tar.bz2, .tar.xz), read in memory.

People share image sets as one archive; gankit reads it where it lies, member by member, with the
standard library's zipfile and tarfile. Nothing is extracted to disk, so an archive cannot write
outside its folder (``../`` or absolute member names) and leaves nothing behind. Only regular files
are read (links and devices in a tar are skipped). Hidden members (``.DS_Store``, macOS
``__MACOSX/._x.png`` forks) are skipped as they are in folders.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from gankit.errors import GankitError

#: image file suffixes (here: the folder reader, the archive reader and the path guess share them, numpy-free)
IMAGES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")


def is_archive(path: str | Path) -> bool:
    return str(path).lower().endswith(ARCHIVES)


def stem(path: str | Path) -> str:
    """``shapes.tar.gz`` -> ``shapes``: the name of the data set an archive (or file, or folder) holds."""
    name = Path(str(path).rstrip("/\\")).name
    low = name.lower()
    for suffix in ARCHIVES:
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def hidden(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".", ".."))


def _bad(path: Path, e: Exception) -> GankitError:
    """One line: tarfile's "r:*" lists why each compression failed, one per line; the one the name promises
    is the one that matters."""
    lines = [line.strip(" -") for line in str(e).splitlines() if line.strip(" -")] or [type(e).__name__]
    promised = next((m for s, m in _COMPRESSIONS.items() if path.name.lower().endswith(s)), None)
    why = next((line for line in lines[1:] if promised and line.startswith(f"method {promised}:")), lines[0])
    return GankitError(f"{path}: not a readable archive ({why}); check the file or unpack it and give the folder")


#: archive suffix -> tarfile's name for its compression, as its "r:*" error names each
_COMPRESSIONS = {".tar.gz": "gz", ".tgz": "gz", ".tar.bz2": "bz2", ".tar.xz": "xz", ".tar": "tar"}


def members(path: str | Path) -> Iterator[tuple[str, ...]]:
    """The regular, visible files of an archive, as path parts, one at a time in archive order: a caller
    looking for one kind of file stops at the first, and a compressed tar is decompressed only up to it."""
    return (parts for parts, _ in _walk(Path(path), read=False))


def read(path: str | Path, suffixes: set[str]) -> tuple[list[tuple[tuple[str, ...], bytes]], list[tuple[str, ...]]]:
    """(path parts, content) of the visible regular files whose suffix is in ``suffixes``, in name order, and
    the path parts of the visible folders the archive lists (a folder may hold none of the files)."""
    folders: list[tuple[str, ...]] = []
    files = sorted(_walk(Path(path), read=True, suffixes=suffixes, folders=folders), key=lambda item: item[0])
    return files, folders


def _walk(path: Path, *, read: bool, suffixes: set[str] | None = None,
          folders: list[tuple[str, ...]] | None = None) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """The visible regular files (``suffixes``: only these); the visible folders go to ``folders`` if given."""
    if not path.is_file():
        raise GankitError(f"data.path {str(path)!r}: no such archive file")
    folders = [] if folders is None else folders

    def want(parts: tuple[str, ...]) -> bool:
        return suffixes is None or PurePosixPath(parts[-1]).suffix.lower() in suffixes

    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    parts = _parts(info.filename)
                    if not parts or hidden(parts):
                        continue
                    if info.is_dir():
                        folders.append(parts)
                    elif want(parts):
                        yield parts, z.read(info) if read else b""
        else:
            with tarfile.open(path, "r:*") as t:
                for m in t:
                    parts = _parts(m.name)
                    if not parts or hidden(parts):
                        continue
                    if m.isdir():
                        folders.append(parts)
                    elif m.isfile() and want(parts):
                        f = t.extractfile(m) if read else None
                        yield parts, f.read() if f is not None else b""
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, RuntimeError) as e:
        raise _bad(path, e) from None  # RuntimeError: an encrypted zip member


def wrapper_depth(files: list[tuple[str, ...]], folders: list[tuple[str, ...]] = ()) -> int:
    """How many top-level folders wrap every member (``tar czf shapes.tar.gz shapes``: 1); without them the
    archive's class sub-folders are the unpacked folder's (one class left is no labels, unless the archive
    lists a sibling folder beside it)."""
    depth = 0
    while files and all(len(p) > depth + 1 for p in files) and len(
            {p[depth] for p in [*files, *folders] if len(p) > depth}) == 1:
        depth += 1
    return depth


def one_image(p: Path) -> GankitError:
    """The error for one picture given where the folder that holds it was meant."""
    return GankitError(f"data.path={p} is one image; give the folder that holds the images (data.path={p.parent}), "
                       f"one sub-folder per class")
