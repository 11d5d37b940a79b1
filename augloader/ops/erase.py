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


def erase(
    image: Tensor, boxes: Tensor, value: Tensor | None, seed: Tensor | None = None, inplace: bool = False
) -> Tensor:
    """Fills each sample's box with ``value`` (``(C,)`` or scalar) or, when None, uniform noise.

    On the CPU only the boxes are written (into a copy, or into ``image`` itself with ``inplace``);
    elsewhere one masked pass over the batch (no host read of the boxes).

    Shape:
        ``image: (B, C, H, W)``, ``boxes: (B, 4)`` -> ``(B, C, H, W)``.
    """
    if image.device.type == "cpu":
        return _erase_boxes(image if inplace else image.clone(), boxes, value, seed)
    mask = box_mask(boxes, tuple(image.shape[-2:]))
    if value is None:
        fill = uniform_field(seed, tuple(image.shape[1:])).to(image.dtype)
    else:
        fill = value.to(image.dtype).view(1, -1, 1, 1)
    return torch.where(mask, fill, image)


def _erase_boxes(out: Tensor, boxes: Tensor, value: Tensor | None, seed: Tensor | None) -> Tensor:
    """Writes each non-empty box of ``out`` (CPU): cost follows the erased area, not the batch."""
    for i, (x, y, w, h) in enumerate(boxes.round().to(torch.int64).tolist()):
        if w <= 0 or h <= 0:
            continue
        region = out[i, :, y : y + h, x : x + w]
        if value is None:
            noise = uniform_field(seed[i : i + 1], tuple(out.shape[1:]))[0, :, y : y + h, x : x + w]
            region.copy_(noise.to(out.dtype))
        else:
            region.copy_(value.to(out.dtype).view(-1, 1, 1).expand_as(region))
    return out
