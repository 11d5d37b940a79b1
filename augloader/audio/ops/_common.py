"""Private helpers shared by the audio ops: per-sample broadcasting and the exact dtype for positions."""

from __future__ import annotations

import torch
from torch import Tensor


def _per_sample(values: Tensor, like: Tensor) -> Tensor:
    """``(B,)`` values shaped to broadcast against ``like`` (``(B, ...)``), in its dtype."""
    return values.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


def _exact_dtype(device: torch.device) -> torch.dtype:
    """float64 for time positions and step grids, where the device has it (MPS does not)."""
    return torch.float32 if device.type == "mps" else torch.float64
