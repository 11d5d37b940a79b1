"""Counting what a call dispatches to a device, without the device: run it on ``meta`` under
:class:`LaunchCounter`.

A meta tensor has a shape but no data, so every op on it is what would launch a kernel on a GPU
(views excepted: they launch nothing), and any read of its values fails. Parameters drawn on the host
reach the meta batch through host-to-device copies, which the counter counts. Used by
``scripts/bench_launches.py`` and the launch-budget tests.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

_COPIES = (torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default)
_FREE = (torch.ops.aten._unsafe_view.default, torch.ops.aten.lift_fresh.default)


class LaunchCounter(TorchDispatchMode):
    """Counts the device ops (kernels a GPU would launch) and host-to-device copies of the calls inside it.

    ``device_ops``: non-view ops touching a tensor on a device other than the CPU; ``host_to_device``:
    copies from the CPU onto such a device; ``by_op``: device ops per aten op name; ``host_ops``: ops on
    CPU tensors only (parameter algebra, draws).
    """

    def __init__(self) -> None:
        super().__init__()
        self.device_ops = 0
        self.host_to_device = 0
        self.host_ops = 0
        self.by_op: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        devices = {t.device.type for t in tree_leaves((args, kwargs, out)) if isinstance(t, torch.Tensor)}
        if devices - {"cpu"}:
            if func._schema.is_mutable or not (func.is_view or func in _FREE):
                self.device_ops += 1
                self.by_op[func.__name__] += 1
            if func in _COPIES and "cpu" in devices:
                self.host_to_device += 1
        else:
            self.host_ops += 1
        return out
