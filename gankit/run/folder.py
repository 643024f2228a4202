"""A run folder as one object: its layout, every file name, run.json, and the CSV logs.

    RUN/
      config.yaml          the resolved config (train it again: gankit train RUN/config.yaml)
      run.json             status (running / complete / stopped_early / interrupted / failed), sizes, timing
      metrics.csv          step, epoch, the task's statistics by name, seconds
      samples/step_*.png   previews from fixed inputs; samples.gif over training
      samples/real.png     real data beside them (images)
      checkpoints/step_*   resumable training state (safetensors + JSON), each sampleable on its own
      generator.*          the trained model the task exports (safetensors + JSON to rebuild and decode it)
      curves.png           the statistics over steps
      health.jsonl         health warnings
      eval_metrics.csv, metric_curves.png, best/   with eval.every=K
      eval.json            after `gankit eval`
      report.html          everything above on one page
      tensorboard/         with log.tensorboard=true

Nothing here imports torch; the report, the evaluation and ``gankit sample`` read the same names.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

from gankit.errors import GankitError, arg

CONFIG = "config.yaml"
INFO = "run.json"
METRICS = "metrics.csv"
SAMPLES = "samples"
REAL = "real.png"  # in samples/: real items, drawn once per run
CHECKPOINTS = "checkpoints"
HEALTH = "health.jsonl"
CURVES = "curves.png"
EVAL_CSV = "eval_metrics.csv"
EVAL_JSON = "eval.json"
METRIC_CURVES = "metric_curves.png"
BEST = "best"
REPORT = "report.html"
SAMPLES_GIF = "samples.gif"
TENSORBOARD = "tensorboard"
MODEL = "generator"  # the exported model's file stem (generator.json + generator.safetensors)


def atomic_write(path: Path, data: bytes) -> None:
    from gankit.checkpoint import atomic_write as write

    write(path, data)


class RunFolder:
    """Paths and small files of one run folder (only rank 0 of a torchrun world writes them)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def __str__(self) -> str:
        return str(self.path)

    @property
    def samples(self) -> Path:
        return self.path / SAMPLES

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def real_path(self) -> Path:
        return self.samples / REAL

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:08d}.png"

    def checkpoint_stem(self, step: int) -> Path:
        return self.checkpoints / f"step_{step:08d}"

    # ------------------------------------------------------------------ creating

    def refuse_taken(self) -> None:
        """An output folder that is a file or a non-empty folder is refused (checked before the data is
        loaded). Messages name the option as the caller wrote it: ``--out`` or ``out=``."""
        out = self.path
        if out.exists() and not out.is_dir():
            raise GankitError(f"{arg('out', out)} is a file; choose a folder path")
        if out.is_dir() and any(out.iterdir()):
            raise GankitError(f"{arg('out', out)} already exists and is not empty; choose another folder, "
                              f"or continue it with {arg('resume', out)}")

    def create(self) -> None:
        """Create an empty run folder, refusing anything that would overwrite or fail later."""
        self.refuse_taken()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            probe_writable(self.path / ".write-test")
        except OSError as e:
            raise GankitError(f"cannot write to {arg('out', self.path)} ({e.strerror}); choose a writable "
                              f"folder") from None

    def make_dirs(self) -> None:
        self.samples.mkdir(exist_ok=True)
        self.checkpoints.mkdir(exist_ok=True)

    # ------------------------------------------------------------------ files

    def write_json(self, name: str, data: dict) -> None:
        atomic_write(self.path / name, json.dumps(data, indent=1).encode())

    def read_info(self) -> dict:
        """run.json, or {} when it is missing or damaged."""
        try:
            info = json.loads((self.path / INFO).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return {}
        return info if isinstance(info, dict) else {}

    def append_jsonl(self, name: str, rows: list[dict]) -> None:
        with open(self.path / name, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")

    def cut_jsonl(self, name: str, step: int) -> None:
        """Keep the rows of a JSON-lines log up to ``step`` (a resume or a rollback goes back there)."""
        path = self.path / name
        if not path.exists():
            return
        keep = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a half-written line of a killed process
            if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= step:
                keep.append(line + "\n")
        atomic_write(path, "".join(keep).encode())

    def load_config(self):
        """The run's resolved config (config.yaml)."""
        from gankit.config import from_dict, read_yaml

        p = self.path / CONFIG
        if not p.exists():
            raise GankitError(f"{self.path}: not a gankit run folder (no {CONFIG})")
        return from_dict(read_yaml(p), source=str(p))


def probe_writable(path: Path) -> None:
    """Write and remove an empty ``path`` (OSError when it cannot be): checked before long work, not after."""
    if path.is_dir():
        raise IsADirectoryError(21, "it is a folder")
    path.write_bytes(b"")
    path.unlink()


def load_run_config(run_dir: str | Path):
    return RunFolder(run_dir).load_config()


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")


class CsvLog:
    """An append-only CSV file with a fixed header, cut back to a step on resume or rollback."""

    def __init__(self, path: Path, columns: list[str], *, one_row_per_step: bool = True) -> None:
        self.path, self.columns = path, columns
        self.one_row_per_step = one_row_per_step
        self.file = None
        self.writer = None

    def open(self) -> None:
        new = not self.path.exists()
        self.file = open(self.path, "a", newline="")
        self.writer = csv.writer(self.file)
        if new:
            self.writer.writerow(self.columns)
            self.file.flush()

    def write(self, rows: list[list]) -> None:
        self.writer.writerows(rows)
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def truncate(self, step: int) -> None:
        """Keep the header and the complete rows up to ``step`` (a killed run may leave a half row).
        Rows are in step order; in a long-format log several rows share a step."""
        was_open = self.file is not None
        self.close()
        if self.path.exists():
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            keep, last = [self.columns], 0
            for line in lines[1:]:
                row = next(csv.reader([line]), [])
                if (line.endswith("\n") and len(row) == len(self.columns) and row[0].isdigit()
                        and (last < int(row[0]) or not self.one_row_per_step and last == int(row[0]))
                        and int(row[0]) <= step):
                    keep.append(row)
                    last = int(row[0])
            buf = io.StringIO()
            csv.writer(buf).writerows(keep)
            atomic_write(self.path, buf.getvalue().encode())
        if was_open:
            self.open()
