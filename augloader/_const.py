"""Small constant tensors, created once per device and reused.

Building a tensor from Python numbers on a GPU copies it from host memory, which waits for the
stream. Ops call :func:`const` instead, so after the first call no per-call copy happens. The
returned tensors are shared: never modify them in place.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor


def _freeze(values: Any) -> Any:
    if isinstance(values, (list, tuple)):
        return tuple(_freeze(v) for v in values)
    return float(values)


@functools.lru_cache(maxsize=512)
def _cached(values: Any, device: str, dtype: torch.dtype) -> Tensor:
    return torch.tensor(values, dtype=dtype).to(device)


def const(values: Any, device: torch.device | str, dtype: torch.dtype = torch.float32) -> Tensor:
    """A read-only tensor of ``values`` on ``device``, cached per (values, device, dtype)."""
    return _cached(_freeze(values), str(torch.device(device)), dtype)
