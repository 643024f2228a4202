"""Pictures of a run: sample grids (Pillow) and plots (matplotlib, imported only when used)."""
