"""Filters: a zero-phase low-pass in the frequency domain with a per-sample cutoff."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["lowpass"]


def lowpass(audio: Tensor, cutoff: Tensor, transition: float = 0.02) -> Tensor:
    """Zero-phase low-pass in the frequency domain, a per-sample cutoff as a fraction of Nyquist.

    The gain falls from 1 to 0 over a raised-cosine band of width ``transition`` (fraction of
    Nyquist) that ends at ``cutoff``. A cutoff of 1 or more returns the sample unchanged.

    Shape:
        ``audio (B, C, T)``, ``cutoff (B,)`` -> ``(B, C, T)``.
    """
    t = audio.shape[-1]
    spec = torch.fft.rfft(audio, dim=-1)
    cut = cutoff.to(audio.device, audio.dtype).view(-1, 1, 1)
    filtered = torch.fft.irfft(spec * _lowpass_response(spec.shape[-1], cut, transition), n=t, dim=-1)
    return torch.where(cut >= 1.0, audio, filtered)


def _lowpass_response(n_bins: int, cutoff: Tensor, transition: float) -> Tensor:
    """Gain of each of ``n_bins`` bins from DC to Nyquist: 1 below ``cutoff - transition``, a raised
    cosine down to 0 at ``cutoff`` (fractions of Nyquist). ``cutoff`` broadcasts against ``(n_bins,)``."""
    freq = torch.linspace(0.0, 1.0, n_bins, device=cutoff.device, dtype=cutoff.dtype)
    x = ((freq - (cutoff - transition)) / transition).clamp(0.0, 1.0)
    return 0.5 * (1.0 + torch.cos(math.pi * x))
