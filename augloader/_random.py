"""Vectorised parameter draws: one call per parameter, ``(B, ...)`` tensors, an optional generator.

Parameters are drawn on the generator's device (CPU by default) and moved to the batch's device
afterwards, so the same seed gives the same augmentation on every device.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor


def _device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def uniform(
    n: int, low: float, high: float, generator: torch.Generator | None = None, size: Sequence[int] = ()
) -> Tensor:
    """``n`` (times ``size``) draws from ``U(low, high)`` as float32."""
    u = torch.rand((n, *size), generator=generator, device=_device(generator))
    return u.mul_(high - low).add_(low)


def bernoulli(n: int, p: float, generator: torch.Generator | None = None) -> Tensor:
    """``n`` booleans, each True with probability ``p`` (drawn even for p in {0, 1}, keeping streams aligned)."""
    return torch.rand(n, generator=generator, device=_device(generator)) < p


def randint(n: int, low: Tensor | int, high: Tensor | int, generator: torch.Generator | None = None) -> Tensor:
    """``n`` integers in ``[low, high)``; ``low``/``high`` may be per-sample tensors."""
    u = torch.rand(n, generator=generator, device=_device(generator), dtype=torch.float64)
    low_t = torch.as_tensor(low, dtype=torch.float64)
    span = torch.as_tensor(high, dtype=torch.float64) - low_t
    return (low_t + torch.floor(u * span)).to(torch.int64)


def log_uniform(n: int, low: float, high: float, generator: torch.Generator | None = None) -> Tensor:
    """``n`` draws whose logarithm is uniform in ``[log low, log high]``."""
    import math

    from ._host_math import exp

    return exp(uniform(n, math.log(low), math.log(high), generator))


def gate(values: Tensor, apply: Tensor, neutral: float) -> Tensor:
    """Replaces ``values`` by ``neutral`` where ``apply`` is False (the ``p`` gate as neutral parameters)."""
    shape = (-1,) + (1,) * (values.dim() - 1)
    return torch.where(apply.view(shape), values, torch.full_like(values, neutral))
