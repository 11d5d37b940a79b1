"""A dispatch mode that fails on every host sync of a device tensor, for tests on the meta device.

A "device" tensor is any tensor not on the CPU (``meta`` in tests, ``cuda`` in real use). Under
:class:`NoSyncMode` these raise :class:`HostSyncError`, naming the op and the augloader frames that
called it:

- a host read of a device value: ``aten._local_scalar_dense`` (``item()``, ``tolist()``, ``bool()``,
  ``int()``), ``aten.is_nonzero`` and any op tagged ``data_dependent_output`` (``equal``, ``allclose``);
- an op whose output shape depends on the data (tagged ``dynamic_output_shape``): ``nonzero``,
  ``masked_select``, ``unique*``, ``argwhere``, boolean-mask indexing (``aten.index.Tensor`` with a bool
  index), ``repeat_interleave`` with tensor repeats and no ``output_size``; boolean-mask assignment
  (``index_put`` with a bool index) too;
- a copy from a device tensor to the CPU (``_to_copy`` / ``copy_`` device -> cpu);
- an op mixing a device tensor with a CPU tensor of one or more dimensions (CUDA refuses those).

Host -> device copies are allowed (parameters are drawn on the CPU generator by design and moved
to the batch's device) and counted: :attr:`NoSyncMode.h2d` in all, :attr:`NoSyncMode.h2d_blocking`
those not marked ``non_blocking`` (a blocking copy waits for the stream on CUDA).

With ``strict=False`` the mode records the syncs in :attr:`NoSyncMode.syncs` instead of raising and
lets the op run when the device can run it (a meta tensor has no value to read: such ops still fail).

Example::

    with NoSyncMode() as mode:
        out = transform(torch.empty(8, 3, 64, 64, dtype=torch.uint8, device="meta"))
    assert mode.h2d_blocking == 0
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

aten = torch.ops.aten

#: Ops that read a device value on the host, whatever their tags say.
_HOST_READS = {aten._local_scalar_dense.default, aten.is_nonzero.default}
#: Assignment through an index: a bool index makes it a nonzero() first.
_INDEX_PUTS = {aten.index_put.default, aten.index_put_.default, aten._index_put_impl_.default}
_COPIES = {aten._to_copy.default, aten.copy_.default}


class HostSyncError(RuntimeError):
    """An op that would make the host wait for the device (or fail there) ran under :class:`NoSyncMode`."""


@dataclass
class Sync:
    """One sync found: the op, why it syncs and the augloader frames that called it (innermost last)."""

    op: str
    why: str
    stack: list[str]

    def __str__(self) -> str:
        frames = "\n    ".join(self.stack) or "(no augloader frame)"
        return f"{self.op}: {self.why}\n    {frames}"


def _is_device(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.device.type != "cpu"


def _is_bool_index(x: Any) -> bool:
    """A bool (or legacy uint8) mask on the device: indexing with it needs its count on the host."""
    return _is_device(x) and x.dtype in (torch.bool, torch.uint8)


def _stack() -> list[str]:
    """The augloader frames of the current Python stack (where a sync was called from)."""
    frames = traceback.extract_stack()[:-3]
    keep = [f for f in frames if "/augloader/" in f.filename.replace("\\", "/")]
    return [f"{f.filename.split('/augloader/')[-1]}:{f.lineno} in {f.name}: {f.line}" for f in keep]


class NoSyncMode(TorchDispatchMode):
    """Raises :class:`HostSyncError` on any host sync of a non-CPU tensor; counts host -> device copies.

    Args:
        strict: raise at the first sync (default); ``False`` records every sync in ``syncs``.
    """

    def __init__(self, strict: bool = True) -> None:
        super().__init__()
        self.strict = strict
        self.syncs: list[Sync] = []
        self.h2d = 0
        self.h2d_blocking = 0
        self.blocking_sites: list[Sync] = []  # where each blocking host -> device copy came from

    # ---- the checks ------------------------------------------------------------------------------
    def _why(self, func: Any, args: tuple, kwargs: dict) -> str | None:
        """Why ``func(*args, **kwargs)`` syncs (or cannot run on a GPU); ``None`` when it does not."""
        leaves = tree_leaves((args, kwargs))
        on_device = [x for x in leaves if _is_device(x)]
        if func in _COPIES:
            return self._copy(func, args, kwargs)
        if not on_device:
            return None  # host work on host tensors: parameter draws, by design
        if func in _HOST_READS or torch.Tag.data_dependent_output in func.tags:
            return "reads a device value on the host"
        if func is aten.index.Tensor:
            if any(_is_bool_index(i) for i in args[1] if i is not None):
                return "boolean-mask indexing: the output size is the mask's count"
            return self._mixed(leaves)
        if func in _INDEX_PUTS:
            if any(_is_bool_index(i) for i in args[1] if i is not None):
                return "boolean-mask assignment: runs nonzero() on the mask"
            return self._mixed(leaves)
        if func is aten.repeat_interleave.Tensor:
            if kwargs.get("output_size") is None:
                return "repeat_interleave with tensor repeats and no output_size sums them on the host"
            return None
        if torch.Tag.dynamic_output_shape in func.tags:
            return "its output shape depends on the data"
        return self._mixed(leaves)

    @staticmethod
    def _mixed(leaves: list) -> str | None:
        host = [x for x in leaves if isinstance(x, torch.Tensor) and x.device.type == "cpu" and x.dim() > 0]
        if host:
            return f"mixes device tensors with a CPU tensor of shape {tuple(host[0].shape)} (CUDA refuses it)"
        return None

    def _copy(self, func: Any, args: tuple, kwargs: dict) -> str | None:
        if func is aten._to_copy.default:
            src, dst_device = args[0], kwargs.get("device")
            dst_type = src.device.type if dst_device is None else torch.device(dst_device).type
            src_type = src.device.type
            non_blocking = bool(kwargs.get("non_blocking", False))
        else:
            dst, src = args[0], args[1]
            dst_type, src_type = dst.device.type, src.device.type
            non_blocking = bool(args[2] if len(args) > 2 else kwargs.get("non_blocking", False))
        if src_type != "cpu" and dst_type == "cpu":
            return "copies a device tensor to the host"
        if src_type == "cpu" and dst_type != "cpu":
            self.h2d += 1
            if not non_blocking:
                self.h2d_blocking += 1
                self.blocking_sites.append(Sync(str(func), "blocking host -> device copy", _stack()))
        return None

    # ---- the mode -------------------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        why = self._why(func, args, kwargs)
        if why is not None:
            sync = Sync(str(func), why, _stack())
            self.syncs.append(sync)
            if self.strict:
                raise HostSyncError(f"host sync: {sync}")
        return func(*args, **kwargs)


def meta_images(b: int = 8, c: int = 3, h: int = 64, w: int = 64, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    """An image batch on the meta device (shapes and dtypes only, no values).

    Shape:
        ``(B, C, H, W)``.
    """
    return torch.empty(b, c, h, w, dtype=dtype, device="meta")
