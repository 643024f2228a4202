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
    return GankitError(f"{path}: not a readable archive ({e}); check the file or unpack it and give the folder")


def members(path: str | Path) -> list[tuple[str, ...]]:
    """The regular, visible files of an archive, as path parts (names only: nothing is decompressed
    for a zip; a compressed tar is read through once)."""
    return [parts for parts, _ in _walk(Path(path), read=False)]


def read(path: str | Path, suffixes: set[str]) -> list[tuple[tuple[str, ...], bytes]]:
    """(path parts, content) of the visible regular files whose suffix is in ``suffixes``, in name order."""
    return sorted(_walk(Path(path), read=True, suffixes=suffixes), key=lambda item: item[0])


def _walk(path: Path, *, read: bool, suffixes: set[str] | None = None) -> list[tuple[tuple[str, ...], bytes]]:
    if not path.is_file():
        raise GankitError(f"data.path {str(path)!r}: no such archive file")
    out = []

    def want(parts: tuple[str, ...]) -> bool:
        return suffixes is None or PurePosixPath(parts[-1]).suffix.lower() in suffixes

    try:
        if path.name.lower().endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                for info in z.infolist():
                    parts = _parts(info.filename)
                    if info.is_dir() or not parts or hidden(parts) or not want(parts):
                        continue
                    out.append((parts, z.read(info) if read else b""))
        else:
            with tarfile.open(path, "r:*") as t:
                for m in t:
                    parts = _parts(m.name)
                    if not m.isfile() or not parts or hidden(parts) or not want(parts):
                        continue
                    f = t.extractfile(m) if read else None
                    out.append((parts, f.read() if f is not None else b""))
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, RuntimeError) as e:
        raise _bad(path, e) from None  # RuntimeError: an encrypted zip member
    return out


def strip_wrapper(parts: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop the top-level folders that wrap every member (``tar czf shapes.tar.gz shapes``), so the
    archive's class sub-folders are the unpacked folder's (one class left is no labels)."""
    while parts and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    return parts


def one_image(p: Path) -> GankitError:
    """The error for one picture given where the folder that holds it was meant."""
    return GankitError(f"data.path={p} is one image; give the folder that holds the images (data.path={p.parent}), "
                       f"one sub-folder per class")
