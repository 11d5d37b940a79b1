"""Type aliases shared by the base class and the engine (a leaf module: it imports no augloader code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Parameters drawn for one call: names to ``(B, ...)`` tensors (or nested dicts of them).
Params = dict[str, Any]
#: A per-channel affine ``(scale, bias)`` (host numbers, one per channel) a pixel transform may fold into its last pass.
Tail = tuple[tuple[float, ...], tuple[float, ...]]
#: ``(B, C, H, W)`` of the batch a transform receives.
Shape = tuple[int, int, int, int]


@dataclass(frozen=True)
class Drawn:
    """The host half of one call: params drawn for a batch of ``shape`` and prepared (``Transform.draw``).

    Pass it as ``transform(batch, params=drawn)`` to run the device half: one copy, then pixel work.
    """

    params: Params  # what last_params will hold (moved to the batch's device)
    prepared: list  # per execution stage, the parameter-sized algebra (stages.prepare)
    shape: Shape  # the (B, C, H, W) it was drawn for
