"""Pure batched ops: no randomness, parameters are per-sample tensors. See each module."""

from . import color, erase, filters, matrices, noise, resize, warp

__all__ = ["color", "erase", "filters", "matrices", "noise", "resize", "warp"]
