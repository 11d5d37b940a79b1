"""Erasing rectangles per sample with a constant or per-pixel random value."""

from __future__ import annotations

import torch
from torch import Tensor

from .noise import uniform_field


def box_mask(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Boolean masks of axis-aligned boxes ``(x, y, w, h)`` in whole pixels, built by broadcasting.

    Shape:
        ``boxes: (B, 4)`` -> ``(B, 1, H, W)``.
    """
    h, w = size
    ys = torch.arange(h, device=boxes.device).view(1, h, 1)
    xs = torch.arange(w, device=boxes.device).view(1, 1, w)
    x0, y0, bw, bh = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    return ((xs >= x0) & (xs < x0 + bw) & (ys >= y0) & (ys < y0 + bh)).unsqueeze(1)


def erase(image: Tensor, boxes: Tensor, value: Tensor | None, seed: Tensor | None = None) -> Tensor:
    """Fills each sample's box with ``value`` (``(C,)`` or scalar) or, when None, uniform noise.

    Shape:
        ``image: (B, C, H, W)``, ``boxes: (B, 4)`` -> ``(B, C, H, W)``.
    """
    mask = box_mask(boxes, tuple(image.shape[-2:]))
    if value is None:
        fill = uniform_field(seed, tuple(image.shape[1:])).to(image.dtype)
    else:
        fill = value.to(image.dtype).view(1, -1, 1, 1)
    return torch.where(mask, fill, image)
