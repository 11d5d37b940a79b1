"""The STFT domain: batched forward and inverse STFT, and a phase vocoder with a rate per sample."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ._common import _exact_dtype

__all__ = ["stft", "istft", "phase_vocoder"]


def stft(audio: Tensor, n_fft: int, hop_length: int, window: Tensor) -> Tensor:
    """Centred (reflect-padded) short-time Fourier transform of every channel of every sample.

    Shape:
        ``audio (B, C, T)``, ``window (win_length,)`` -> complex ``(B, C, n_fft // 2 + 1, T // hop_length + 1)``.
    """
    b, c, t = audio.shape
    spec = torch.stft(
        audio.reshape(b * c, t),
        n_fft,
        hop_length,
        win_length=window.shape[0],
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )  # (B * C, F, N)
    return spec.view(b, c, *spec.shape[-2:])


def istft(spec: Tensor, n_fft: int, hop_length: int, window: Tensor, length: int) -> Tensor:
    """Inverse of :func:`stft` (overlap-add), cropped or zero-padded to ``length`` samples.

    Shape:
        complex ``(B, C, F, N)`` -> ``(B, C, length)``.
    """
    b, c, f, n = spec.shape
    out = torch.istft(
        spec.reshape(b * c, f, n),
        n_fft,
        hop_length,
        win_length=window.shape[0],
        window=window,
        center=True,
        length=length,
    )  # (B * C, length)
    return out.view(b, c, length)


def phase_vocoder(spec: Tensor, rate: Tensor, hop_length: int, n_frames: int, gain: Optional[Tensor] = None) -> Tensor:
    """Time-stretches a batched STFT by a per-sample ``rate`` (> 1 faster), keeping the pitch.

    Output frame ``m`` of sample ``b`` is read at input time step ``s = m * rate[b]``: the magnitude is
    interpolated between frames ``floor(s)`` and ``floor(s) + 1``, and the phase advances by the phase
    change between them (torchaudio's ``phase_vocoder``, with a rate per sample). All samples share one
    grid of ``n_frames`` output frames; frames past a sample's end (``s >= N``) are silent. ``gain``
    (broadcastable to ``(B, C, F, 1)``) scales the magnitudes, e.g. a low-pass.

    Phases are carried as unit phasors: an increment is ``u[t + 1] * conj(u[t])`` and the running phase
    a cumulative product, which equals torchaudio's unwrapped angle sums modulo 2 pi without any
    ``atan2``, ``cos`` or ``sin`` (``hop_length`` is therefore not needed; it is kept for the signature).

    Shape:
        complex ``spec (B, C, F, N)``, ``rate (B,)`` -> complex ``(B, C, F, n_frames)``.
    """
    b, c, n_freq, n = spec.shape
    real = spec.real.dtype
    ri = torch.view_as_real(spec)  # (B, C, F, N, 2)
    magnitude = torch.addcmul(ri[..., 0] * ri[..., 0], ri[..., 1], ri[..., 1]).sqrt_()  # |z|, 4x faster than abs()
    unit = ri * torch.where(magnitude > 0, magnitude.reciprocal(), 0.0).unsqueeze(-1)
    unit[..., 0] += magnitude == 0  # z / |z|, and 1 where z = 0 (torch.angle(0) = 0)
    unit = torch.view_as_complex(unit)  # (B, C, F, N)
    step = unit[..., 1:] * unit[..., :-1].conj()  # (B, C, F, N - 1): phase increment from frame t to t + 1
    if n >= 3:
        # Frame 0 sees the reflect padding, so its phases and its increment to frame 1 are not those of
        # the signal. torchaudio starts from them; a stretch slower than 1 then repeats that increment and
        # scrambles the phase relation between neighbouring bins for the whole clip (a steady sine loses
        # ~4 dB). Start instead from frame 1 stepped back by its own increment (and use that increment
        # for step 0).
        start = unit[..., 1:2] * step[..., 1:2].conj()
    else:
        start = unit[..., :1]
    # After the last frame come silent frames (phase 0, as torchaudio's zero padding); the table ends
    # with the start phasor at index N + 2.
    ones = torch.ones((b, c, n_freq, 2), dtype=spec.dtype, device=spec.device)
    table = torch.cat([step, unit[..., -1:].conj(), ones, start], dim=-1)  # (B, C, F, N + 3)
    if gain is not None:
        magnitude = magnitude * gain
    magnitude = F.pad(magnitude, [0, 3])  # (B, C, F, N + 3)

    exact = _exact_dtype(spec.device)
    steps = torch.arange(n_frames, device=spec.device, dtype=exact) * rate.to(spec.device, exact).view(-1, 1)  # (B, M)
    first = steps.floor()
    alpha = (steps - first).to(real).view(b, 1, 1, n_frames)
    idx = torch.where(steps < n, first, torch.full_like(first, n + 1)).to(torch.int64)  # (B, M); past the end: silent
    # Phasor m is the start times the increments of the frames read by outputs 0 .. m - 1.
    inc = torch.cat([torch.full_like(idx[:, :1], n + 2), idx[:, :-1].clamp(min=1 if n >= 3 else 0)], dim=1)
    expand = (b, c, n_freq, n_frames)
    idx = idx.view(b, 1, 1, n_frames).expand(expand)
    out_mag = torch.lerp(magnitude.gather(3, idx), magnitude.gather(3, idx + 1), alpha)
    phasor = table.gather(3, inc.view(b, 1, 1, n_frames).expand(expand)).cumprod(dim=-1)  # (B, C, F, M)
    return torch.view_as_complex(torch.view_as_real(phasor) * out_mag.unsqueeze(-1))  # no complex copy of out_mag
