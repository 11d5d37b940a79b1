"""Transcendental functions of parameter-sized CPU tensors, computed without torch's thread pool.

torch's ``exp``, ``sin``, ``cos``, ``tan`` and ``log`` enter an OpenMP region even for a few hundred
elements. With more than one torch thread and another process keeping a core busy, the region waits
for a thread that is not scheduled: measured here, 10-20% of such calls on a (64, 5) tensor took 6-7 ms
instead of 20 us, which cost P3 a third of its speed with 2 threads beside a busy core (issue 14).
A parameter draw needs none of that parallelism, so on the CPU these small tensors go through numpy
(single-threaded); on other devices, with autograd, under ``torch.compile`` and for large tensors
torch's own op runs. numpy and torch may differ in the last bit of a float32 result.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor

#: Tensors with up to this many elements count as parameter-sized.
SMALL = 1 << 14


def _host(t: Tensor) -> bool:
    return (
        t.device.type == "cpu"
        and t.numel() <= SMALL
        and t.dtype in (torch.float32, torch.float64)
        and not (t.requires_grad and torch.is_grad_enabled())
        and not torch.compiler.is_compiling()
    )


def _unary(
    np_fn: Callable[[np.ndarray], np.ndarray], torch_fn: Callable[[Tensor], Tensor]
) -> Callable[[Tensor], Tensor]:
    def fn(t: Tensor) -> Tensor:
        if _host(t):
            with np.errstate(all="ignore"):  # inf and nan as torch gives them, without numpy's warnings
                out = np.asarray(np_fn(t.detach().numpy()))  # a 0-d input stays 0-d
            return torch.from_numpy(out if out.flags.c_contiguous else out.copy())
        return torch_fn(t)

    fn.__name__ = torch_fn.__name__
    fn.__doc__ = f"``torch.{torch_fn.__name__}`` of ``t``; see the module docstring. Shape: ``(*) -> (*)``."
    return fn


exp = _unary(np.exp, torch.exp)
log = _unary(np.log, torch.log)
sin = _unary(np.sin, torch.sin)
cos = _unary(np.cos, torch.cos)
tan = _unary(np.tan, torch.tan)
