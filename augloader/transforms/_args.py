"""Argument parsing shared by transforms: clear errors for bad configuration, raised at construction."""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from ..ops.warp import INTERPOLATIONS, PADDING_MODES


def pair(value: Any, name: str) -> tuple[int, int]:
    """An ``int`` or ``(h, w)`` as a ``(h, w)`` tuple of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value), int(value))
    if (
        not isinstance(value, Sequence)
        or len(value) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValueError(f"{name} must be a positive int or a (height, width) pair of positive ints, got {value!r}")
    return int(value[0]), int(value[1])


def symmetric_range(value: Any, name: str, center: float = 0.0, bound: tuple[float, float] | None = None) -> tuple[float, float]:
    """A number ``v`` as ``(center - v, center + v)``, or a ``(low, high)`` pair, validated."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be non-negative when a single number, got {value!r}")
        low, high = center - float(value), center + float(value)
    elif isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value):
        low, high = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{name} must be a number or a (low, high) pair, got {value!r}")
    if low > high:
        raise ValueError(f"{name} range must have low <= high, got ({low}, {high})")
    if bound is not None:
        low, high = max(low, bound[0]), min(high, bound[1])
    return low, high


def interval(value: Any, name: str, low_bound: float | None = None) -> tuple[float, float]:
    """A ``(low, high)`` pair with ``low <= high`` (and ``low >= low_bound``)."""
    if not (isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value)):
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {value!r}")
    low, high = float(value[0]), float(value[1])
    if low > high or (low_bound is not None and low < low_bound):
        bound = f" and low >= {low_bound}" if low_bound is not None else ""
        raise ValueError(f"{name} must satisfy low <= high{bound}, got {value!r}")
    return low, high


def interpolation(value: str) -> str:
    """A validated interpolation name (torchvision's ``InterpolationMode`` is accepted too)."""
    name = getattr(value, "value", value)
    if name not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {value!r}; choose one of {INTERPOLATIONS}")
    return name


def padding_mode(value: str) -> str:
    """A validated padding mode."""
    if value not in PADDING_MODES:
        raise ValueError(f"unknown padding_mode {value!r}; choose one of {PADDING_MODES}")
    return value


def padding(value: Any) -> tuple[int, int, int, int]:
    """torchvision's padding spec (int, (lr, tb) or (l, t, r, b)) as ``(left, top, right, bottom)``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [int(value)] * 4
    elif isinstance(value, Sequence) and len(value) == 2:
        value = [value[0], value[1], value[0], value[1]]
    if not (isinstance(value, Sequence) and len(value) == 4 and all(isinstance(v, numbers.Integral) and v >= 0 for v in value)):
        raise ValueError(f"padding must be a non-negative int, (left/right, top/bottom) or (left, top, right, bottom), got {value!r}")
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def fill_value(value: Any) -> float | list[float]:
    """A fill: a number or one number per channel."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Sequence) and value and all(isinstance(v, numbers.Real) for v in value):
        return [float(v) for v in value]
    raise ValueError(f"fill must be a number or a sequence of numbers (one per channel), got {value!r}")
