"""Pitch: shift each sample by its own number of semitones, keeping the duration."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from ._common import _exact_dtype
from .filters import _lowpass_response
from .resample import interpolate
from .stft import istft, phase_vocoder, stft

__all__ = ["semitones_to_factor", "pitch_shift"]


def semitones_to_factor(semitones: Tensor) -> Tensor:
    """Frequency ratio of a pitch shift: ``2 ** (semitones / 12)``."""
    return torch.pow(2.0, semitones / 12.0)


def pitch_shift(
    audio: Tensor,
    semitones: Tensor,
    n_fft: int,
    hop_length: int,
    window: Tensor,
    max_semitones: Optional[float] = None,
    mode: str = "cubic",
) -> Tensor:
    """Shifts each sample's pitch by its own number of semitones, keeping the duration.

    Batched: one STFT, a phase vocoder stretching every sample by its own factor
    ``f = 2 ** (semitones / 12)`` on a shared frame grid, a per-sample low-pass at ``1 / f`` of
    Nyquist in the STFT domain (shifting up cannot alias), one inverse STFT, then each sample read
    back at ``f`` times the speed. ``max_semitones`` bounds the grid; transforms pass their configured
    range; ``None`` reads it from ``semitones`` (one host sync). 0 semitones is the identity.

    Shape:
        ``audio (B, C, T)``, ``semitones (B,)`` -> ``(B, C, T)``.
    """
    t = audio.shape[-1]
    if max_semitones is None:
        max_semitones = float(semitones.max()) if semitones.numel() else 0.0
    max_factor = max(2.0 ** (max_semitones / 12.0), 1.0)
    st = semitones.to(audio.device, audio.dtype)
    factor = semitones_to_factor(st)  # (B,)
    spec = stft(audio, n_fft, hop_length, window)  # (B, C, F, N)
    n_frames = math.ceil(spec.shape[-1] * max_factor) + 1
    cutoff = (1.0 / factor).view(-1, 1, 1, 1)  # fraction of Nyquist, per sample
    response = torch.where(
        cutoff >= 1.0,
        torch.ones((), dtype=audio.dtype, device=audio.device),
        _lowpass_response(spec.shape[-2], cutoff, 0.02).transpose(-1, -2),
    )  # (B, 1, F, 1)
    stretched = phase_vocoder(spec, 1.0 / factor, hop_length, n_frames, gain=response)  # (B, C, F, M): f times longer
    long = istft(stretched, n_fft, hop_length, window, (n_frames - 1) * hop_length)  # (B, C, L)
    exact = _exact_dtype(audio.device)
    positions = torch.arange(t, device=audio.device, dtype=exact) * factor.to(exact).view(-1, 1)  # (B, T)
    out = interpolate(long, positions, None, mode)
    return torch.where(st.view(-1, 1, 1) == 0, audio, out)
