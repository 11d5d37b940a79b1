"""Spectrogram (and waveform) masks: bands along time or frequency set to a value, per sample."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["mask_along_axis"]


def mask_along_axis(x: Tensor, start: Tensor, width: Tensor, axis: int, value: float = 0.0) -> Tensor:
    """Sets ``[start, start + width)`` along ``axis`` to ``value``, one or more masks per sample.

    ``start``/``width`` are ``(B, M)`` (shared across channels) or ``(B, C, M)`` (one set per
    channel); ``M`` masks per sample may overlap. ``axis`` is -1 (time) or -2 (frequency of a
    spectrogram).

    Shape:
        ``x (B, C, ...)`` -> same shape.
    """
    if axis not in (-1, -2) or x.dim() + axis < 2:
        raise ValueError(f"axis must be -1 or -2 and leave (B, C) in front, got {axis} for shape {tuple(x.shape)}")
    if start.shape != width.shape or start.dim() not in (2, 3):
        raise ValueError(
            f"start and width must both be (B, M) or (B, C, M), got {tuple(start.shape)} and {tuple(width.shape)}"
        )
    size = x.shape[axis]
    s = start.to(x.device, torch.int64)
    e = s + width.to(x.device, torch.int64)
    if s.dim() == 2:  # shared across channels: (B, 1, M)
        s, e = s.unsqueeze(1), e.unsqueeze(1)
    idx = torch.arange(size, device=x.device)
    covered = (idx >= s.unsqueeze(-1)) & (idx < e.unsqueeze(-1))  # (B, C or 1, M, size)
    covered = covered.squeeze(2) if covered.shape[2] == 1 else covered.any(dim=2)  # (B, C or 1, size)
    # Give the mask x's rank: (B, C|1, size) then unit dims after the channel axis.
    shape = [covered.shape[0], covered.shape[1]] + [1] * (x.dim() - 2)
    shape[axis] = size
    return x.masked_fill(covered.view(shape), value)
