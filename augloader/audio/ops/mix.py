"""Mixing: MixUp of each sample with a partner by a per-sample weight."""

from __future__ import annotations

import torch
from torch import Tensor

from ._common import _per_sample

__all__ = ["mix"]


def mix(audio: Tensor, index: Tensor, lam: Tensor) -> Tensor:
    """``lam * audio + (1 - lam) * audio[index]`` per sample (MixUp).

    Shape:
        ``audio (B, ...)``, ``index (B,)`` int, ``lam (B,)`` -> ``(B, ...)``.
    """
    w = _per_sample(lam, audio)
    partner = audio.index_select(0, index.to(audio.device, torch.int64))
    return torch.lerp(partner, audio, w)
