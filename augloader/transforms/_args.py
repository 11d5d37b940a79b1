"""Argument checks shared by every constructor: clear errors for bad configuration, raised at construction.

Each helper takes the argument's ``name`` and raises a ``TypeError`` (wrong kind of value: a ``str``
or a ``bool`` where a number is meant, a float where an int is meant) or a ``ValueError`` (NaN, inf,
out of range, wrong length) whose message starts with that name. Messages show the offending value
through :func:`show`, which never builds an unbounded ``repr``.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any, Iterable, Optional, Sequence

from ..ops.warp import INTERPOLATIONS, PADDING_MODES

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict = 3, 6, 6, 6
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def show(value: Any) -> str:
    """A short, bounded ``repr`` of ``value`` for error messages (nested or huge values are elided)."""
    return _REPR.repr(value)


def is_number(value: Any) -> bool:
    """A real number that is not a ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """An integer that is not a ``bool``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_pair_like(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _bounds_text(low: Optional[float], high: Optional[float], low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"{'<' if high_open else '<='} {high:g}"


def number(
    value: Any,
    name: str,
    low: Optional[float] = None,
    high: Optional[float] = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number (NaN and inf refused), optionally within ``[low, high]`` (open ends on request)."""
    if not is_number(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {show(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {show(value)}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        raise ValueError(f"{name} must be {_bounds_text(low, high, low_open, high_open)}, got {show(value)}")
    return v


def integer(value: Any, name: str, low: Optional[int] = None, high: Optional[int] = None) -> int:
    """An ``int`` (a ``bool`` or a float such as ``2.5`` is refused, never truncated) within ``[low, high]``."""
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {show(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be an int {_bounds_text(low, high, False, False)}, got {show(value)}")
    return v


def probability(value: Any, name: str = "p") -> float:
    """A probability in ``[0, 1]``."""
    if not is_number(value) or not 0.0 <= float(value) <= 1.0:
        kind = TypeError if not is_number(value) else ValueError
        raise kind(f"{name} must be a probability in [0, 1], got {show(value)}")
    return float(value)


def flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (a string such as ``"no"`` would otherwise count as true)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":  # numpy's bool too
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {show(value)}")
    return bool(value)


def choice(value: Any, name: str, options: Sequence[Any]) -> Any:
    """One of ``options``."""
    if not any(value is o or (type(value) is type(o) and value == o) for o in options):
        raise ValueError(f"{name} must be one of {tuple(options)}, got {show(value)}")
    return value


def numbers_seq(value: Any, name: str, length: Optional[int] = None) -> list[float]:
    """A non-empty sequence (of ``length`` items, if given) of finite numbers."""
    if not _is_pair_like(value):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(value).__name__} {show(value)}")
    if (length is not None and len(value) != length) or len(value) == 0:
        want = f"{length} numbers" if length is not None else "at least one number"
        raise ValueError(f"{name} must hold {want}, got {len(value)}: {show(value)}")
    return [number(v, f"{name}[{i}]") for i, v in enumerate(value)]


def pair(value: Any, name: str) -> tuple[int, int]:
    """An ``int`` or ``(h, w)`` as a ``(h, w)`` tuple of positive ints."""
    if is_int(value):
        value = (value, value)
    if not (_is_pair_like(value) and len(value) == 2 and all(is_int(v) and v > 0 for v in value)):
        kind = ValueError if (is_number(value) or _is_pair_like(value)) else TypeError
        raise kind(f"{name} must be a positive int or a (height, width) pair of positive ints, got {show(value)}")
    return int(value[0]), int(value[1])


def symmetric_range(
    value: Any, name: str, center: float = 0.0, bound: tuple[float, float] | None = None
) -> tuple[float, float]:
    """A number ``v`` as ``(center - v, center + v)``, or a ``(low, high)`` pair, finite and validated."""
    if is_number(value):
        v = number(value, name)
        if v < 0:
            raise ValueError(f"{name} must be non-negative when a single number, got {show(value)}")
        low, high = center - v, center + v
    elif _is_pair_like(value) and len(value) == 2:
        low, high = number(value[0], f"{name}[0]"), number(value[1], f"{name}[1]")
    else:
        kind = ValueError if _is_pair_like(value) else TypeError
        raise kind(f"{name} must be a number or a (low, high) pair, got {type(value).__name__} {show(value)}")
    if low > high:
        raise ValueError(f"{name} range must have low <= high, got ({low}, {high})")
    if bound is not None:
        low, high = max(low, bound[0]), min(high, bound[1])
    return low, high


def interval(
    value: Any, name: str, low_bound: float | None = None, high_bound: float | None = None
) -> tuple[float, float]:
    """A ``(low, high)`` pair of finite numbers with ``low <= high`` (within ``[low_bound, high_bound]``)."""
    if not (_is_pair_like(value) and len(value) == 2):
        kind = ValueError if _is_pair_like(value) or is_number(value) else TypeError
        raise kind(f"{name} must be a (low, high) pair of numbers, got {type(value).__name__} {show(value)}")
    low, high = number(value[0], f"{name}[0]"), number(value[1], f"{name}[1]")
    if low > high or (low_bound is not None and low < low_bound) or (high_bound is not None and high > high_bound):
        bounds = "".join(
            [
                f" and low >= {low_bound:g}" if low_bound is not None else "",
                f" and high <= {high_bound:g}" if high_bound is not None else "",
            ]
        )
        raise ValueError(f"{name} must satisfy low <= high{bounds}, got {show(value)}")
    return low, high


def value_range(value: Any, name: str, low_bound: float = 0.0, high_bound: float | None = None) -> tuple[float, float]:
    """A fixed number ``v`` as ``(v, v)``, or a ``(low, high)`` range, within ``[low_bound, high_bound]``."""
    if is_number(value):
        v = number(value, name, low_bound, high_bound)
        return v, v
    return interval(value, name, low_bound=low_bound, high_bound=high_bound)


def kernel_size(value: Any, name: str = "kernel_size") -> tuple[int, int]:
    """A positive odd int or ``(kx, ky)`` of positive odd ints, as ``(kx, ky)``."""
    sizes = (value, value) if is_int(value) else value
    if not (_is_pair_like(sizes) and len(sizes) == 2 and all(is_int(k) for k in sizes)):
        kind = ValueError if _is_pair_like(sizes) else TypeError
        raise kind(f"{name} must be a positive odd int or a (kx, ky) pair of them, got {show(value)}")
    if not all(k > 0 and k % 2 == 1 for k in sizes):
        raise ValueError(f"{name} must be positive and odd, got {show(value)}")
    return int(sizes[0]), int(sizes[1])


def interpolation(value: Any, name: str = "interpolation") -> str:
    """A validated interpolation name (torchvision's ``InterpolationMode`` is accepted too)."""
    mode = getattr(value, "value", value)
    if not isinstance(mode, str) or mode not in INTERPOLATIONS:
        raise ValueError(f"unknown {name} {show(value)}; choose one of {INTERPOLATIONS}")
    return mode


def padding_mode(value: Any) -> str:
    """A validated padding mode."""
    if not isinstance(value, str) or value not in PADDING_MODES:
        raise ValueError(f"unknown padding_mode {show(value)}; choose one of {PADDING_MODES}")
    return value


def padding(value: Any, name: str = "padding") -> tuple[int, int, int, int]:
    """torchvision's padding spec (int, (all,), (lr, tb) or (l, t, r, b)) as ``(left, top, right, bottom)``."""
    if is_int(value):
        value = [value] * 4
    elif _is_pair_like(value) and len(value) == 1:
        value = [value[0]] * 4
    elif _is_pair_like(value) and len(value) == 2:
        value = [value[0], value[1], value[0], value[1]]
    if not (_is_pair_like(value) and len(value) == 4 and all(is_int(v) and v >= 0 for v in value)):
        raise ValueError(
            f"{name} must be a non-negative int, (left/right, top/bottom) or (left, top, right, bottom), "
            f"got {show(value)}"
        )
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def fill_value(value: Any, name: str = "fill") -> float | list[float]:
    """A fill: a finite number or a non-empty sequence of them (one per channel, checked per call)."""
    if is_number(value):
        return number(value, name)
    if _is_pair_like(value):
        return numbers_seq(value, name)
    raise TypeError(
        f"{name} must be a number or a sequence of numbers (one per channel), got {type(value).__name__} {show(value)}"
    )


def check_fill(fill: Any, channels: int, owner: str, name: str = "fill") -> None:
    """Raises unless ``fill`` (a number or one per channel) fits an image of ``channels`` channels."""
    if isinstance(fill, (list, tuple)) and len(fill) not in (1, channels):
        raise ValueError(
            f"{owner}: {name} has {len(fill)} values but the image has {channels} channels "
            f"(give one number, or one per channel)"
        )


def op_names(ops: Any, known: Sequence[str], label: str = "policy ops") -> tuple[str, ...]:
    """A non-empty list of op names, each one of ``known`` (a policy's ``ops=`` argument)."""
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be a list of op names, got {type(ops).__name__} {show(ops)}")
    ops = tuple(ops)
    unknown = [o for o in ops if o not in known]
    if unknown or not ops:
        raise ValueError(f"unknown {label} {unknown}; choose from {tuple(known)}")
    return ops


def transform_list(transforms: Any, owner: str, kind: type, kind_name: str) -> list:
    """A non-empty list of ``kind`` instances (a container's ``transforms`` argument).

    Raises:
        TypeError: a single transform (wrap it in a list), not a list, or an item of another type.
        ValueError: an empty list.
    """
    if isinstance(transforms, kind):
        name = type(transforms).__name__
        raise TypeError(f"{owner} takes a list of transforms; got a {name}, wrap it in a list: {owner}([{name}(...)])")
    if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Iterable):
        raise TypeError(f"{owner} takes a list of transforms, got {type(transforms).__name__} {show(transforms)}")
    transforms = list(transforms)
    if not transforms:
        raise ValueError(f"{owner} needs at least one transform in transforms, got an empty list")
    for i, t in enumerate(transforms):
        if not isinstance(t, kind):
            raise TypeError(f"{owner}: transforms[{i}] is a {type(t).__name__}, not {kind_name}")
    return transforms
