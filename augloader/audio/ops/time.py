"""Time: shift by whole samples, change speed (pitch and tempo together), stretch tempo keeping the pitch."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import _exact_dtype
from .filters import lowpass
from .lengths import length_mask
from .resample import interpolate
from .stft import istft, phase_vocoder, stft

__all__ = ["time_shift", "speed_change", "speed_lengths", "time_stretch"]


def time_shift(audio: Tensor, shift: Tensor, mode: str = "roll") -> Tensor:
    """Moves each sample by its own whole number of samples (positive: later in time).

    ``mode="roll"`` wraps around the end; ``"zero"`` fills the vacated part with zeros. Each output
    is one contiguous window of a doubled (roll) or zero-padded buffer, picked per sample by advanced
    indexing: row copies, no per-element index arithmetic.

    Shape:
        ``audio (B, C, T)``, ``shift (B,)`` int -> ``(B, C, T)``.
    """
    if mode not in ("roll", "zero"):
        raise ValueError(f"time_shift mode must be 'roll' or 'zero', got {mode!r}")
    b, c, t = audio.shape
    shift = shift.to(audio.device, torch.int64)
    if mode == "roll":
        buffer = torch.cat([audio, audio], dim=-1)  # (B, C, 2T)
        start = t - shift.remainder(max(t, 1))  # in (0, T]
    else:
        buffer = F.pad(audio, (t, t))  # (B, C, 3T): silence on both sides
        start = t - shift.clamp(-t, t)  # in [0, 2T]
    windows = buffer.unfold(2, t, 1)  # (B, C, T + 1 (roll) or 2T + 1 (zero), T) view
    return windows[torch.arange(b, device=audio.device), :, start]


def speed_change(
    audio: Tensor, factor: Tensor, lengths: Optional[Tensor] = None, antialias: bool = True, mode: str = "cubic"
) -> Tensor:
    """Plays each sample ``factor`` times faster (pitch and tempo together), cropped/padded to ``T``.

    Output sample ``n`` is the input at time ``n * factor``; a clip of ``L`` valid samples lasts
    :func:`speed_lengths` afterwards and is followed by zeros. Speeding up first low-passes at
    ``1 / factor`` of Nyquist so nothing aliases. Factor 1 is the identity.

    Shape:
        ``audio (B, C, T)``, ``factor (B,)`` -> ``(B, C, T)``.
    """
    b, c, t = audio.shape
    f = factor.to(audio.device, audio.dtype)
    source = lowpass(audio, 1.0 / f.clamp(min=1e-6)) if antialias else audio
    exact = _exact_dtype(audio.device)
    positions = torch.arange(t, device=audio.device, dtype=exact) * factor.to(audio.device, exact).view(-1, 1)
    out = interpolate(source, positions, lengths, mode)  # (B, C, T)
    return torch.where(f.view(-1, 1, 1) == 1.0, audio, out)


def speed_lengths(lengths: Tensor, factor: Tensor, size: int) -> Tensor:
    """Valid samples after :func:`speed_change`: the ``n`` with ``n * factor <= length - 1``, at most ``size``."""
    exact = _exact_dtype(lengths.device)
    f = factor.to(lengths.device, exact)
    n = torch.floor((lengths.to(exact) - 1).clamp(min=0) / f + 1e-6).to(torch.int64) + 1
    return torch.where(lengths > 0, n, torch.zeros_like(n)).clamp(max=size)


def time_stretch(
    audio: Tensor, rate: Tensor, n_fft: int, hop_length: int, window: Tensor, lengths: Optional[Tensor] = None
) -> Tensor:
    """Changes each sample's tempo by ``rate`` (> 1 faster) keeping the pitch; cropped/padded to ``T``.

    A clip of ``L`` valid samples lasts :func:`speed_lengths` ``(L, rate)`` afterwards, then zeros.
    Rate 1 is the identity.

    Shape:
        ``audio (B, C, T)``, ``rate (B,)`` -> ``(B, C, T)``.
    """
    t = audio.shape[-1]
    spec = stft(audio, n_fft, hop_length, window)  # (B, C, F, N)
    out = istft(phase_vocoder(spec, rate, hop_length, spec.shape[-1]), n_fft, hop_length, window, t)
    valid = torch.full((audio.shape[0],), t, device=audio.device, dtype=torch.int64) if lengths is None else lengths
    out = out * length_mask(speed_lengths(valid, rate, t), t).unsqueeze(1).to(out.dtype)
    return torch.where(rate.to(audio.device).view(-1, 1, 1) == 1.0, audio, out)
