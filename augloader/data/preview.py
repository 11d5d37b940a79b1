"""Preview grids: each source image next to augmented variants of it, as one uint8 image."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..transforms.base import Transform


def make_grid(rows: list[Tensor], pad: int = 4, fill: int = 255) -> Tensor:
    """Tiles rows of uint8 ``(C, H, W)`` images (sizes may differ) into one image.

    Shape:
        ``rows[r][k]: (C, H, W)`` -> ``(C, H_total, W_total)``.
    """
    cell_h = max(img.shape[-2] for row in rows for img in row)
    cell_w = max(img.shape[-1] for row in rows for img in row)
    n_cols = max(len(row) for row in rows)
    c = rows[0][0].shape[0]
    grid = torch.full((c, pad + len(rows) * (cell_h + pad), pad + n_cols * (cell_w + pad)), fill, dtype=torch.uint8)
    for r, row in enumerate(rows):
        for k, img in enumerate(row):
            y, x = pad + r * (cell_h + pad), pad + k * (cell_w + pad)
            grid[:, y : y + img.shape[-2], x : x + img.shape[-1]] = img
    return grid


def _display(image: Tensor) -> Tensor:
    """Any augloader output as displayable uint8: undo nothing, but rescale normalised floats."""
    if image.dtype == torch.uint8:
        return image
    x = image.float()
    lo, hi = x.amin(dim=(-3, -2, -1), keepdim=True), x.amax(dim=(-3, -2, -1), keepdim=True)
    if float(lo.min()) < 0.0 or float(hi.max()) > 1.0:  # normalised: stretch each image for display
        x = (x - lo) / (hi - lo).clamp_min(1e-6)
    return x.mul(255).round_().clamp_(0, 255).to(torch.uint8)


def preview_grid(
    images: Tensor,
    transform: Transform,
    variants: int = 6,
    generator: Optional[torch.Generator] = None,
    cell: Optional[int] = None,
) -> Tensor:
    """One row per source image: the original, then ``variants`` augmented draws of it.

    Args:
        images: uint8 ``(B, C, H, W)`` sources.
        transform: any augloader transform; each row is one batch of ``variants`` copies, so the
            draws differ per sample.
        variants: augmented copies per image.
        generator: makes the preview reproducible.
        cell: if given, every tile is resized to this height (keeping the aspect ratio).

    Shape:
        ``(B, C, H, W)`` -> ``(C, H_grid, W_grid)`` uint8.
    """
    rows = []
    for img in images:
        batch = img.unsqueeze(0).expand(variants, -1, -1, -1).contiguous()
        out = _display(transform(batch, generator=generator))
        row = [img] + list(out)
        if cell is not None:
            row = [_fit(t, cell) for t in row]
        rows.append(row)
    return make_grid(rows)


def _fit(img: Tensor, height: int) -> Tensor:
    h, w = img.shape[-2:]
    size = (height, max(1, round(w * height / h)))
    return (
        F.interpolate(img.unsqueeze(0).float(), size=size, mode="bilinear", antialias=True, align_corners=False)[0]
        .round()
        .clamp(0, 255)
        .to(torch.uint8)
    )


def save_image(image: Tensor, path: str | Path) -> Path:
    """Writes a uint8 ``(C, H, W)`` tensor as an image file (format from the suffix: .png, .jpg) and returns the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    array = image.permute(1, 2, 0).contiguous().numpy()
    Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(path)
    return path
