"""Type aliases shared by the base class and the engine (a leaf module: it imports no augloader code)."""

from __future__ import annotations

from typing import Any

#: Parameters drawn for one call: names to ``(B, ...)`` tensors (or nested dicts of them).
Params = dict[str, Any]
#: A per-channel affine ``(scale, bias)`` (host numbers, one per channel) a pixel transform may fold into its last pass.
Tail = tuple[tuple[float, ...], tuple[float, ...]]
#: ``(B, C, H, W)`` of the batch a transform receives.
Shape = tuple[int, int, int, int]
