"""Progress bars for long work: tqdm on stderr with an ETA, silent when nobody is watching.

A bar shows only when stderr is a terminal, the caller did not ask for quiet (``--quiet`` on the
command line) and ``AUGLOADER_QUIET`` is unset or empty (for scripts and ``make`` targets).
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, Optional, TypeVar

from tqdm import tqdm

#: Set to any non-empty value to silence every progress bar.
QUIET_ENV = "AUGLOADER_QUIET"

T = TypeVar("T")


def stderr_is_terminal() -> bool:
    """True when ``sys.stderr`` is an interactive terminal."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def progress_enabled(quiet: bool = False) -> bool:
    """Whether a progress bar should be drawn: on a terminal, not ``quiet``, no ``AUGLOADER_QUIET``."""
    return not quiet and not os.environ.get(QUIET_ENV) and stderr_is_terminal()


def progress(
    iterable: Optional[Iterable[T]] = None,
    total: Optional[int] = None,
    desc: Optional[str] = None,
    unit: str = "it",
    quiet: bool = False,
    leave: bool = True,
) -> "tqdm[T]":
    """A tqdm bar with an ETA on stderr, disabled by :func:`progress_enabled`.

    Args:
        iterable: what to iterate over, or None to call ``update`` by hand.
        total: the number of steps (taken from ``len(iterable)`` when omitted).
        desc: a short label in front of the bar.
        unit: what one step is ("img", "run", ...).
        quiet: never draw the bar.
        leave: keep the finished bar on screen (False: erase it).
    """
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=leave,
        disable=not progress_enabled(quiet),
    )
