"""Which kernels the ops use: eager torch kernels (the reference) or forms a compiler can fuse.

Eager, ``grid_sample`` and ``bmm`` are the fastest way to warp and colour-transform a batch. Under
``torch.compile`` they are opaque calls that split the work into several passes over memory; written
as index arithmetic, gathers and per-pixel sums instead, inductor fuses a warp, a colour matrix, the
exact HSV hue and Normalize into one loop. :func:`fusable_kernels` switches the ops to those forms;
``augloader.compile`` sets it while it traces and runs a pipeline. This is the one place the choice
is made.
"""

from __future__ import annotations

import contextlib
from typing import Iterator


class KernelSwitch:
    """A process-wide choice between two kernel families, with a scoped override.

    ``on`` is read by the ops at each call; :meth:`scoped` sets it for a block and restores it after.
    Not thread-safe: the setting is process-wide while the block runs.
    """

    def __init__(self, on: bool) -> None:
        self.on = bool(on)

    @contextlib.contextmanager
    def scoped(self, enabled: bool = True) -> Iterator[None]:
        previous, self.on = self.on, bool(enabled)
        try:
            yield
        finally:
            self.on = previous


_FUSABLE = KernelSwitch(False)


def fusable() -> bool:
    """Whether the ops should use their compiler-friendly (fusable) kernels."""
    return _FUSABLE.on


def fusable_kernels(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Within the block, ops use their fusable kernels (``enabled=True``) or the eager ones.

    Not thread-safe: the setting is process-wide while the block runs.
    """
    return _FUSABLE.scoped(enabled)
