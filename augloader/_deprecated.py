"""Deprecated aliases: an old class name kept for one release that warns and builds the new class.

``Old = deprecated_alias("Old", New, "0.3")`` makes a subclass of ``New`` named ``Old``. Calling
``Old(...)`` emits a :class:`DeprecationWarning` naming ``New`` and returns a plain ``New`` instance,
so reprs, configs written back and pickles carry the new name; ``isinstance(x, Old)`` is true for any
``New`` instance, and a user's ``class Mine(Old)`` keeps working (it warns once, at class creation).
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

__all__ = ["deprecated_alias", "deprecation_message"]

T = TypeVar("T", bound=type)


def deprecation_message(old: str, new: str, removed_in: str) -> str:
    return f"{old} is deprecated and will be removed in augloader {removed_in}; use {new} (same arguments)"


def deprecated_alias(old: str, new: T, removed_in: str) -> T:
    """Returns a class named ``old`` that warns and constructs ``new``."""
    message = deprecation_message(old, new.__name__, removed_in)
    meta = type(new)

    class _AliasMeta(meta):  # type: ignore[misc, valid-type]
        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, new) if cls is alias else meta.__instancecheck__(cls, obj)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, new) if cls is alias else meta.__subclasscheck__(cls, sub)

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            if cls is alias:
                warnings.warn(message, DeprecationWarning, stacklevel=2)
                return new(*args, **kwargs)
            return meta.__call__(cls, *args, **kwargs)

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        super(alias, cls).__init_subclass__(**kwargs)

    alias = _AliasMeta(
        old,
        (new,),
        {
            "__module__": new.__module__,
            "__qualname__": old,
            "__doc__": f"Deprecated alias of :class:`{new.__name__}`. {message}.",
            "__init_subclass__": classmethod(__init_subclass__),
            "_deprecated_alias_of": new,
        },
    )
    return alias
