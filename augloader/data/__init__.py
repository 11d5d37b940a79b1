"""Data integration: previews now; the Dataset wrapper, collate_fn and device hook follow."""

from .preview import make_grid, preview_grid, save_image

__all__ = ["make_grid", "preview_grid", "save_image"]
