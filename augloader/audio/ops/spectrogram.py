"""Spectrograms: magnitude or power spectrograms and triangular mel filterbanks (as torchaudio)."""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import Tensor

from .stft import stft

__all__ = ["spectrogram", "mel_filterbank"]


def spectrogram(audio: Tensor, n_fft: int, hop_length: int, window: Tensor, power: float = 2.0) -> Tensor:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram.

    Shape:
        ``(B, C, T)`` -> ``(B, C, n_fft // 2 + 1, T // hop_length + 1)``.
    """
    magnitude = stft(audio, n_fft, hop_length, window).abs()
    return magnitude if power == 1.0 else magnitude.pow(power)


def _hz_to_mel(freq: Tensor, scale: str) -> Tensor:
    if scale == "htk":
        return 2595.0 * torch.log10(1.0 + freq / 700.0)
    # Slaney: linear below 1 kHz, logarithmic above.
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    linear = freq / f_sp
    log = min_log_hz / f_sp + torch.log(freq.clamp(min=min_log_hz) / min_log_hz) / logstep
    return torch.where(freq >= min_log_hz, log, linear)


def _mel_to_hz(mels: Tensor, scale: str) -> Tensor:
    if scale == "htk":
        return 700.0 * (torch.pow(10.0, mels / 2595.0) - 1.0)
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return torch.where(mels >= min_log_mel, min_log_hz * torch.exp(logstep * (mels - min_log_mel)), f_sp * mels)


def mel_filterbank(
    n_freqs: int,
    f_min: float,
    f_max: float,
    n_mels: int,
    sample_rate: int,
    norm: Optional[str] = None,
    mel_scale: str = "htk",
) -> Tensor:
    """Triangular mel filters, as ``torchaudio.functional.melscale_fbanks``.

    Shape:
        ``(n_freqs, n_mels)``.
    """
    if mel_scale not in ("htk", "slaney"):
        raise ValueError(f"mel_scale must be 'htk' or 'slaney', got {mel_scale!r}")
    if norm not in (None, "slaney"):
        raise ValueError(f"norm must be None or 'slaney', got {norm!r}")
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs, dtype=torch.float64)
    m_pts = torch.linspace(
        float(_hz_to_mel(torch.tensor(float(f_min)), mel_scale)),
        float(_hz_to_mel(torch.tensor(float(f_max)), mel_scale)),
        n_mels + 2,
        dtype=torch.float64,
    )
    f_pts = _mel_to_hz(m_pts, mel_scale)  # (n_mels + 2,) filter edges in Hz
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = torch.minimum(down, up).clamp(min=0.0)
    if norm == "slaney":
        fb = fb * (2.0 / (f_pts[2 : n_mels + 2] - f_pts[:n_mels]))
    return fb.to(torch.float32)
