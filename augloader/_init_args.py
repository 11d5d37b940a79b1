"""Constructor arguments recorded at construction, so a pipeline can be written back as a config.

:func:`record_init_args` wraps an ``__init__``; the outermost call (the most derived class) stores the
arguments the caller actually passed, by name, in ``obj._init_args``. :func:`init_args` reads them.
Defaults are not stored, so a config written back lists exactly what was given.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

_ATTR = "_init_args"


def record_init_args(init: Callable[..., None]) -> Callable[..., None]:
    """Wraps ``init`` so that the outermost constructor call records its bound arguments."""
    if getattr(init, "__records_init_args__", False):
        return init
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if type(self).__init__ is not __init__:  # a subclass's __init__ records its own arguments
            return
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:  # init accepted them, so this cannot happen; never fail a construction
            return
        recorded: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:  # drop self
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                recorded.update(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                if value:
                    recorded[f"*{name}"] = list(value)
            else:
                recorded[name] = value
        object.__setattr__(self, _ATTR, recorded)

    __init__.__records_init_args__ = True  # type: ignore[attr-defined]
    return __init__


def init_args(obj: Any) -> dict[str, Any] | None:
    """The arguments ``obj`` was constructed with (by name), or None if they were not recorded."""
    args = obj.__dict__.get(_ATTR)
    return None if args is None else dict(args)


def set_init_args(obj: Any, args: dict[str, Any]) -> None:
    """Records ``args`` as ``obj``'s constructor arguments (for classes without the hook)."""
    object.__setattr__(obj, _ATTR, dict(args))
