"""Helpers of the audio tests: the ALSA speech files, test signals, a frequency estimate."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

ALSA = Path("/usr/share/sounds/alsa")
SPEECH = [
    "Front_Center",
    "Front_Left",
    "Front_Right",
    "Rear_Center",
    "Rear_Left",
    "Rear_Right",
    "Side_Left",
    "Side_Right",
]
SR = 16000


def alsa_file(name: str) -> Path:
    path = ALSA / f"{name}.wav"
    if not path.is_file():
        pytest.fail(f"{path} is missing: install the Debian package alsa-utils (make testdata)")
    return path


def sine(freq: float, n: int = SR, sr: int = SR, batch: int = 1) -> torch.Tensor:
    """``(batch, 1, n)`` sine of ``freq`` Hz, amplitude 0.5."""
    t = torch.arange(n, dtype=torch.float64) / sr
    return (0.5 * torch.sin(2 * math.pi * freq * t)).float().view(1, 1, n).repeat(batch, 1, 1)


def dominant_frequency(audio: torch.Tensor, sr: int = SR) -> torch.Tensor:
    """Frequency (Hz) of the largest peak of each sample's windowed spectrum, with parabolic refinement.

    Shape:
        ``(B, C, T)`` -> ``(B, C)``.
    """
    n = audio.shape[-1]
    mag = (
        torch.fft.rfft(audio.double() * torch.hann_window(n, dtype=torch.float64), dim=-1).abs().clamp(min=1e-30).log()
    )
    k = mag.argmax(dim=-1, keepdim=True).clamp(1, mag.shape[-1] - 2)
    a, b, c = mag.gather(-1, k - 1), mag.gather(-1, k), mag.gather(-1, k + 1)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return ((k + offset) * sr / n).squeeze(-1)


def spectral_scale(
    x: torch.Tensor, y: torch.Tensor, lo: float = 100.0, hi: float = 3000.0, sr: int = SR
) -> list[float]:
    """Per sample, the factor ``s`` for which ``y``'s log spectrum at ``s * f`` best matches ``x``'s at ``f``.

    The log power spectra are averaged over STFT frames; ``s`` is searched on a 0.01 grid in [0.4, 2.5].
    """
    import numpy as np

    def log_psd(a: torch.Tensor) -> np.ndarray:
        window = torch.hann_window(1024, dtype=torch.float64)
        spec = torch.stft(a[:, 0].double(), 1024, 256, window=window, return_complex=True)
        return spec.abs().square().mean(-1).clamp(min=1e-12).log().numpy()  # (B, 513)

    px, py = log_psd(x), log_psd(y)
    f = np.arange(px.shape[1]) * sr / 1024
    band = (f >= lo) & (f <= hi)
    scales = np.round(np.arange(0.4, 2.5001, 0.01), 2)
    best = []
    for b in range(px.shape[0]):
        scores = [np.corrcoef(px[b, band], np.interp(f[band] * s, f, py[b]))[0, 1] for s in scales]
        best.append(float(scales[int(np.argmax(scores))]))
    return best
