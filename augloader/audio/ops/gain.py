"""Levels: decibels to amplitude, per-sample gain, per-sample RMS over the valid part of each clip."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ._common import _per_sample
from .lengths import length_mask

__all__ = ["db_to_amplitude", "gain", "rms"]


def db_to_amplitude(db: Tensor) -> Tensor:
    """``10 ** (db / 20)``: decibels to an amplitude factor (``-inf`` dB gives 0)."""
    return torch.pow(10.0, db / 20.0)


def gain(audio: Tensor, gain_db: Tensor) -> Tensor:
    """Multiplies each sample by its own gain in decibels.

    Shape:
        ``audio (B, C, T)``, ``gain_db (B,)`` -> ``(B, C, T)``.
    """
    return audio * _per_sample(db_to_amplitude(gain_db), audio)


def rms(audio: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
    """Root mean square per sample over channels and (valid) time.

    Shape:
        ``audio (B, C, T)``, ``lengths (B,)`` or None -> ``(B,)``.
    """
    power = audio.square()
    if lengths is None:
        return power.mean(dim=(1, 2)).sqrt()
    valid = length_mask(lengths, audio.shape[-1]).unsqueeze(1)  # (B, 1, T)
    count = (lengths.clamp(min=1) * audio.shape[1]).to(audio.dtype)
    return (power * valid).sum(dim=(1, 2)).div(count).sqrt()
