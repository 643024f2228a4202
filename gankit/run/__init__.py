"""Run folders: what a training run leaves on disk, and reading it back."""
