"""Noise: white noise shaped to a 1 / f ** decay spectrum, and noise added at a per-sample SNR."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .gain import db_to_amplitude, rms
from .lengths import length_mask

__all__ = ["colored_noise", "add_at_snr"]


def colored_noise(white: Tensor, decay: Tensor) -> Tensor:
    """Shapes white noise to a power spectral density ``1 / f ** decay`` per sample, unit RMS.

    ``decay`` 0 is white, 1 pink (-3 dB per octave), 2 brown/red (-6 dB per octave); the DC bin of
    coloured noise is removed.

    Shape:
        ``white (B, C, T)``, ``decay (B,)`` -> ``(B, C, T)``.
    """
    t = white.shape[-1]
    spec = torch.fft.rfft(white, dim=-1)  # (B, C, T // 2 + 1)
    k = torch.arange(spec.shape[-1], device=white.device, dtype=white.dtype)  # frequency bin
    d = decay.to(white.dtype).view(-1, 1, 1)
    scale = k.clamp(min=1.0).pow(-0.5 * d)  # amplitude ~ f ** (-decay / 2)
    scale = torch.where((k == 0) & (d != 0), torch.zeros((), dtype=white.dtype, device=white.device), scale)
    noise = torch.fft.irfft(spec * scale, n=t, dim=-1)
    return noise / rms(noise).clamp(min=1e-12).view(-1, 1, 1)


def add_at_snr(audio: Tensor, noise: Tensor, snr_db: Tensor, lengths: Optional[Tensor] = None) -> Tensor:
    """Adds ``noise`` scaled so that each sample's signal-to-noise ratio is ``snr_db``.

    Powers are measured over channels and the valid part of each clip (``lengths``); the padding
    stays silent. A silent clip stays silent; ``snr_db = inf`` adds nothing.

    Shape:
        ``audio (B, C, T)``, ``noise (B, C or 1, T)``, ``snr_db (B,)`` -> ``(B, C, T)``.
    """
    noise = noise.expand_as(audio)
    ratio = db_to_amplitude(snr_db.to(audio.dtype))  # signal rms / noise rms
    scale = rms(audio, lengths) / (rms(noise, lengths).clamp(min=1e-12) * ratio)  # (B,)
    scaled = noise * scale.view(-1, 1, 1)
    if lengths is not None:
        scaled = scaled * length_mask(lengths, audio.shape[-1]).unsqueeze(1)
    return audio + scaled
