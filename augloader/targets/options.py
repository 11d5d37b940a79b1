"""How targets are read and filtered: one small config object, accepted as a dict too."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, Optional, Sequence

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
BOX_MODES = ("corners", "ellipse")


@dataclass(frozen=True)
class TargetOptions:
    """Options for the targets of a batch dict (``Compose(..., targets={...})``).

    Attributes:
        boxes_format: ``"xyxy"`` (default), ``"xywh"`` or ``"cxcywh"``.
        normalized: box coordinates are fractions of the image size in ``[0, 1]`` (else pixels).
        min_visibility: drop a box whose visible share after clipping is below this fraction of its
            transformed (unclipped) area.
        min_area: drop a box whose visible area is below this many output pixels.
        box_mode: ``"corners"`` (tight box of the 4 transformed corners, default) or ``"ellipse"``
            (box of the transformed inscribed ellipse: tighter for rotated objects, may cut corners).
        mask_fill: mask value where the output sees no input (an ignore index such as 255).
        flip_pairs: pairs ``(i, j)`` of keypoint indices swapped on horizontal flips (left/right).
        validate: check boxes for NaN / inverted / out-of-range values (a host sync on GPU); ``None``
            checks on CPU only.
    """

    boxes_format: str = "xyxy"
    normalized: bool = False
    min_visibility: float = 0.0
    min_area: float = 0.0
    box_mode: str = "corners"
    mask_fill: int | float = 0
    flip_pairs: Optional[Sequence[Sequence[int]]] = None
    validate: Optional[bool] = None

    def __post_init__(self) -> None:
        if self.boxes_format not in BOX_FORMATS:
            raise ValueError(f"boxes_format must be one of {BOX_FORMATS}, got {self.boxes_format!r}")
        if self.box_mode not in BOX_MODES:
            raise ValueError(f"box_mode must be one of {BOX_MODES}, got {self.box_mode!r}")
        if not 0.0 <= float(self.min_visibility) <= 1.0:
            raise ValueError(f"min_visibility must be in [0, 1], got {self.min_visibility!r}")
        if float(self.min_area) < 0:
            raise ValueError(f"min_area must be >= 0, got {self.min_area!r}")
        if self.flip_pairs is not None:
            pairs = [tuple(p) for p in self.flip_pairs]
            if not all(len(p) == 2 and all(isinstance(i, int) and i >= 0 for i in p) for p in pairs):
                raise ValueError(f"flip_pairs must be pairs of non-negative keypoint indices, got {self.flip_pairs!r}")
            object.__setattr__(self, "flip_pairs", tuple(pairs))


def target_options(value: Any) -> TargetOptions:
    """``None``, a mapping or a :class:`TargetOptions` as a :class:`TargetOptions` (unknown keys rejected)."""
    if value is None:
        return TargetOptions()
    if isinstance(value, TargetOptions):
        return value
    if isinstance(value, Mapping):
        known = {f.name for f in fields(TargetOptions)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown target options {unknown}; known: {sorted(known)}")
        return TargetOptions(**value)
    raise TypeError(f"targets must be a dict or TargetOptions, got {type(value).__name__}")
