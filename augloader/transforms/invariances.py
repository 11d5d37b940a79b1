"""Label integrity: the invariances a pipeline's labels allow, checked when the pipeline is built.

``Compose([...], invariances={"max_rotation": 30, "vertical_flip": False})`` for digits (a 180
degree turn makes a 6 a 9). A transform that can break a declared invariance is rejected with a
message naming it; RandAugment-style policies drop the offending ops instead.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterator, Mapping, Optional, Sequence

from . import _args

#: name -> kind of value: a bound in degrees, or whether the transform is allowed at all.
KNOWN = {
    "max_rotation": "degrees",
    "max_shear": "degrees",
    "horizontal_flip": "bool",
    "vertical_flip": "bool",
    "perspective": "bool",
}


def parse(invariances: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """Validated invariances (unknown names and bad values are errors)."""
    if invariances is None:
        return {}
    if not isinstance(invariances, Mapping):
        raise TypeError(f"invariances must be a dict, got {type(invariances).__name__}")
    out = {}
    for key, value in invariances.items():
        if key not in KNOWN:
            raise ValueError(f"unknown invariance {key!r}; known: {sorted(KNOWN)}")
        if KNOWN[key] == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"invariance {key!r} must be True or False, got {_args.show(value)}")
        elif isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:  # NaN too
            raise ValueError(f"invariance {key!r} must be a non-negative number of degrees, got {_args.show(value)}")
        out[key] = value
    return out


def _walk(transforms: Sequence[Any]) -> Iterator[Any]:
    for t in transforms:
        yield t
        subs = getattr(t, "transforms", None)
        if subs is not None:
            yield from _walk(list(subs))


def _max_abs(pair: Sequence[float]) -> float:
    return max(abs(float(v)) for v in pair)


def violation(t: Any, inv: Mapping[str, Any]) -> Optional[str]:
    """Why ``t`` breaks ``inv``, or ``None``."""
    name = type(t).__name__
    p = getattr(t, "p", 1.0)
    if name == "RandomHorizontalFlip" and inv.get("horizontal_flip") is False and p > 0:
        return f"it mirrors images left-right (p={p}) but horizontal_flip=False"
    if name == "RandomVerticalFlip" and inv.get("vertical_flip") is False and p > 0:
        return f"it mirrors images top-bottom (p={p}) but vertical_flip=False"
    if name == "RandomPerspective" and inv.get("perspective") is False and p > 0:
        return "it distorts perspective but perspective=False"
    if name in ("RandomRotation", "RandomAffine") and "max_rotation" in inv and p > 0:
        worst = _max_abs(t.degrees)
        if worst > inv["max_rotation"]:
            return f"it rotates up to {worst:g} degrees but max_rotation={inv['max_rotation']:g}"
    if name == "RandomAffine" and "max_shear" in inv and p > 0:
        worst = max(abs(v) for v in t.shear)
        if worst > inv["max_shear"]:
            return f"it shears up to {worst:g} degrees but max_shear={inv['max_shear']:g}"
    return None


def check(transforms: Sequence[Any], invariances: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """Raises ``ValueError`` naming the first transform that breaks ``invariances``; policies drop ops.

    Returns the parsed invariances.
    """
    inv = parse(invariances)
    if not inv:
        return inv
    for i, t in enumerate(_walk(transforms)):
        if hasattr(t, "restrict_ops"):
            t.restrict_ops(inv)
            continue
        why = violation(t, inv)
        if why is not None:
            raise ValueError(f"{type(t).__name__} breaks the declared invariances: {why}")
    return inv


def allowed_policy_ops(
    ops: Sequence[str], inv: Mapping[str, Any], max_rotate: float, max_shear_tan: float
) -> tuple[str, ...]:
    """The policy ops that respect ``inv``, given the policy's largest rotation and shear (as tan)."""
    shear_deg = math.degrees(math.atan(max_shear_tan))
    keep = []
    for op in ops:
        if op == "Rotate" and max_rotate > inv.get("max_rotation", math.inf):
            continue
        if op in ("ShearX", "ShearY") and shear_deg > inv.get("max_shear", math.inf):
            continue
        keep.append(op)
    if not keep:
        raise ValueError(f"the invariances {dict(inv)} leave no op of the policy {list(ops)}")
    return tuple(keep)
