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
        from ..transforms import _args  # a late import: transforms import this module

        _args.choice(self.boxes_format, "boxes_format", BOX_FORMATS)
        _args.choice(self.box_mode, "box_mode", BOX_MODES)
        _args.flag(self.normalized, "normalized")
        _args.number(self.min_visibility, "min_visibility", 0.0, 1.0)
        _args.number(self.min_area, "min_area", low=0.0)
        if not _args.is_number(self.mask_fill):
            raise TypeError(
                f"mask_fill must be a number: the mask value where the output sees no input, e.g. 0 "
                f"(background) or an ignore index such as 255; got {type(self.mask_fill).__name__} "
                f"{_args.show(self.mask_fill)}"
            )
        _args.number(self.mask_fill, "mask_fill")
        if self.validate is not None:
            _args.flag(self.validate, "validate")
        if self.flip_pairs is not None:
            if isinstance(self.flip_pairs, (str, bytes)) or not isinstance(self.flip_pairs, Sequence):
                raise TypeError(
                    f"flip_pairs must be a list of (i, j) keypoint index pairs, got {_args.show(self.flip_pairs)}"
                )
            pairs = [tuple(p) if isinstance(p, Sequence) and not isinstance(p, str) else (p,) for p in self.flip_pairs]
            if not all(len(p) == 2 and all(_args.is_int(i) and i >= 0 for i in p) for p in pairs):
                raise ValueError(
                    f"flip_pairs must be pairs of non-negative keypoint indices, got {_args.show(self.flip_pairs)}"
                )
            object.__setattr__(self, "flip_pairs", tuple((int(i), int(j)) for i, j in pairs))


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
