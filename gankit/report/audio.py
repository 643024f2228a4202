"""report.html's "Listen" section for sound runs: the fixed-noise clips over training, playable in place.

Each preview step keeps a few of its clips as WAV files (``samples/audio/step_*/NN_<class>.wav``, written
by the sound modality: one clip per class for a conditional run); the real clips turned back into sound
through the codec are in ``samples/audio/real/``. Every clip becomes an ``<audio controls>`` element whose
source is the WAV itself as a ``data:audio/wav;base64`` URI: no server, no network, the page plays
anywhere. Rows are training steps (at most :data:`MAX_STEPS`, evenly spaced, the last one always),
columns the clips (the same fixed noise in every row), so a clip can be followed over training.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from gankit.audio import PREVIEW_AUDIO

MAX_STEPS = 10


def _audio(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f'<audio controls preload="metadata" title="{html.escape(path.stem)}" '
            f'src="data:audio/wav;base64,{data}"></audio>')


def _column_name(path: Path) -> str:
    """``03_7.wav`` -> ``7`` (the class), ``03.wav`` -> ``clip 3``."""
    index, _, label = path.stem.partition("_")
    return label or f"clip {int(index)}" if index.isdigit() else path.stem


def _steps(folders: list[Path]) -> list[Path]:
    if len(folders) <= MAX_STEPS:
        return folders
    return [folders[round(i * (len(folders) - 1) / (MAX_STEPS - 1))] for i in range(MAX_STEPS)]


def audio_section(run: Path, samples: str) -> str:
    """The section's HTML ("" for a run without preview clips: images, tables)."""
    root = Path(run) / samples / PREVIEW_AUDIO
    if not root.is_dir():
        return ""
    rows = [(f.name, sorted(f.glob("*.wav"))) for f in _steps(sorted(root.glob("step_*")))]
    real = sorted((root / "real").glob("*.wav"))
    if real:
        rows.append(("real (through Griffin–Lim)", real))
    rows = [(name, clips) for name, clips in rows if clips]
    if not rows:
        return ""
    width = max(len(clips) for _, clips in rows)
    head = "".join(f"<th>{html.escape(_column_name(p))}</th>" for p in max((c for _, c in rows), key=len))
    body = "".join(f"<tr><th>{html.escape(name)}</th>" + "".join(f"<td>{_audio(p)}</td>" for p in clips)
                   + "<td></td>" * (width - len(clips)) + "</tr>" for name, clips in rows)
    return ("<h2>Listen</h2><p>The fixed-noise clips over training (the same noise in every row), as "
            "<code>gankit sample</code> writes them: spectrograms turned into sound by Griffin–Lim.</p>"
            f"<div class=audio><table><tr><th>step</th>{head}</tr>{body}</table></div>")
