"""Optional TensorBoard logging (``log.tensorboard=true``) beside the CSV files, which are always written.

``torch.utils.tensorboard`` needs the ``tensorboard`` package, which gankit does not require: asking
for TensorBoard without it is a user error reported before the run folder is made. Event files go to
``RUN/tensorboard/``; a resumed run purges the events after its checkpoint's step (``purge_step``),
so TensorBoard shows one timeline, as metrics.csv does.
"""

from __future__ import annotations

from pathlib import Path

from gankit.errors import GankitError

LOG_DIR = "tensorboard"


def summary_writer_class() -> type:
    """``torch.utils.tensorboard.SummaryWriter``, or a GankitError saying how to get it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise GankitError("log.tensorboard=true needs the tensorboard package, which is not installed: "
                          "pip install tensorboard (or set log.tensorboard=false; metrics.csv is written "
                          "either way)") from None
    return SummaryWriter


class TensorBoardLog:
    """Scalars to ``RUN/tensorboard/``: training rows as ``train/*``, evaluation scores as ``eval/*``."""

    def __init__(self, run_dir: Path, writer_class: type, resume_step: int | None = None) -> None:
        # purge_step: drop events a killed session wrote after the checkpoint this one resumes from
        self.writer = writer_class(log_dir=str(run_dir / LOG_DIR),
                                   purge_step=resume_step + 1 if resume_step is not None else None)

    def scalars(self, group: str, values: dict[str, float], step: int) -> None:
        for name, v in values.items():
            self.writer.add_scalar(f"{group}/{name}", v, step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
