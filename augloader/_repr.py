"""Bounded ``repr`` for error messages: quoting a user's value never costs more than a few elements.

``f"{value!r:.60}"`` builds the whole ``repr`` before cutting it, which for a YAML alias bomb (10^9
shared leaves) never finishes. :func:`short_repr` looks at a few elements per level and a few levels.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any

__all__ = ["clip", "short_repr"]


class _Bounded(reprlib.Repr):
    """reprlib, but subclasses of the builtin containers (and any Mapping) are also shown in part."""

    def repr1(self, x: Any, level: int) -> str:
        if type(x) not in (dict, list, tuple, set, frozenset):
            for base, method in (
                (list, self.repr_list),
                (tuple, self.repr_tuple),
                (set, self.repr_set),
                (frozenset, self.repr_frozenset),
                (Mapping, self.repr_dict),
            ):
                if isinstance(x, base):
                    return method(x, level)
        return super().repr1(x, level)


_REPR = _Bounded()
_REPR.maxlevel = 3  # nested containers shown this deep, then "..."
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdeque = 6
_REPR.maxdict = 4
_REPR.maxstring = 60
_REPR.maxlong = 40
_REPR.maxother = 60


def clip(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks the cut)."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def short_repr(value: Any, limit: int = 80) -> str:
    """A ``repr`` of ``value`` that inspects a bounded number of elements and is at most ``limit`` long.

    Examples:
        >>> short_repr(list(range(10**6)))
        '[0, 1, 2, 3, 4, 5, ...]'
        >>> short_repr("x" * 1000, limit=12)
        "'xxxxxxxx..."
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # a broken __repr__ must not hide the error being reported
        text = f"<{type(value).__name__} object>"
    return clip(text, limit)
