"""Valid lengths of padded clips: which time indices lie inside each clip."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["length_mask"]


def length_mask(lengths: Tensor, size: int) -> Tensor:
    """True where a time index is inside its clip.

    Shape:
        ``lengths (B,)`` int -> ``(B, size)`` bool.
    """
    return torch.arange(size, device=lengths.device) < lengths.view(-1, 1)
