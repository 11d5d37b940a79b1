"""Masks: resampled with nearest through the image's inverse matrix, integer and bool dtypes kept."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from ..ops.warp import Frame, warp, warp_integer


def move(
    mask: Tensor,
    inverse: Tensor,
    size: tuple[int, int],
    fill: int | float = 0,
    padding_mode: str = "constant",
    frames: Sequence[Frame] = (),
    integer: bool = False,
    projective: bool = False,
) -> Tensor:
    """Resamples a mask batch with nearest neighbour; outside the input it takes ``fill``.

    ``integer``: the map is axis-aligned (flips, crops, pads, resizes, resized crops), so nearest is
    one exact gather of ``floor(coordinate)`` per axis (torch's ``nearest-exact``), in any dtype.
    Others cast to float32 (exact for label values below 2**24), warp with nearest and cast back.

    Shape:
        ``mask: (B, K, H, W)`` any dtype, ``inverse: (B, 3, 3)`` -> ``(B, K, H_out, W_out)``.
    """
    dtype = mask.dtype
    m = mask.to(torch.uint8) if dtype == torch.bool else mask
    fill_v = int(bool(fill)) if dtype == torch.bool else fill
    if integer:
        out = warp_integer(m, inverse, size, padding_mode, fill_v, frames, may_sample_outside=True)
    else:
        work = m if m.dtype in (torch.float32, torch.float64) else m.to(torch.float32)
        out = warp(work, inverse, size, "nearest", padding_mode, float(fill_v), frames, projective)
        out = (
            out if out.dtype == m.dtype else out.round_().to(m.dtype) if not m.is_floating_point() else out.to(m.dtype)
        )
    return out.to(torch.bool) if dtype == torch.bool else out
