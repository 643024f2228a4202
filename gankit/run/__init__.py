"""The run folder: the unit users hold (layout, status, CSV logs, checkpoints, resume)."""
