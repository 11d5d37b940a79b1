"""Pure batched waveform ops: a float batch ``(B, C, T)`` plus per-sample parameter tensors ``(B, ...)``.

Nothing here draws random numbers, loops over samples or mutates its input; neutral parameters
(0 dB, shift 0, factor 1, SNR ``inf``) return the input values unchanged.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "db_to_amplitude",
    "gain",
    "rms",
    "length_mask",
    "colored_noise",
    "add_at_snr",
    "time_shift",
    "interpolate",
    "lowpass",
    "speed_change",
    "speed_lengths",
    "resample",
    "mask_along_axis",
    "mix",
    "stft",
    "istft",
    "phase_vocoder",
    "time_stretch",
    "semitones_to_factor",
    "pitch_shift",
    "spectrogram",
    "mel_filterbank",
]


def _per_sample(values: Tensor, like: Tensor) -> Tensor:
    """``(B,)`` values shaped to broadcast against ``like`` (``(B, ...)``), in its dtype."""
    return values.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


def _exact_dtype(device: torch.device) -> torch.dtype:
    """float64 for time positions and step grids, where the device has it (MPS does not)."""
    return torch.float32 if device.type == "mps" else torch.float64


def db_to_amplitude(db: Tensor) -> Tensor:
    """``10 ** (db / 20)``: decibels to an amplitude factor (``-inf`` dB gives 0)."""
    return torch.pow(10.0, db / 20.0)


def gain(audio: Tensor, gain_db: Tensor) -> Tensor:
    """Multiplies each sample by its own gain in decibels.

    Shape:
        ``audio (B, C, T)``, ``gain_db (B,)`` -> ``(B, C, T)``.
    """
    return audio * _per_sample(db_to_amplitude(gain_db), audio)


def length_mask(lengths: Tensor, size: int) -> Tensor:
    """True where a time index is inside its clip.

    Shape:
        ``lengths (B,)`` int -> ``(B, size)`` bool.
    """
    return torch.arange(size, device=lengths.device) < lengths.view(-1, 1)


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


def interpolate(audio: Tensor, positions: Tensor, lengths: Optional[Tensor] = None, mode: str = "cubic") -> Tensor:
    """Reads each sample at its own fractional time positions (zero outside ``[0, length - 1]``).

    One batched ``grid_sample`` on a ``(B, C, 1, L)`` view: ``mode`` is ``"cubic"`` (PyTorch's bicubic,
    a = -0.75, 4 taps) or ``"linear"``. The sampling grid is in the audio's dtype, so float32 positions
    carry an error of about ``L * 6e-8`` samples (1e-3 at 20,000 samples: -54 dB at a quarter of the
    sample rate); float64 audio is exact.

    Shape:
        ``audio (B, C, L)``, ``positions (B, T_out)``, ``lengths (B,)`` or None (all ``L``) ->
        ``(B, C, T_out)``.
    """
    if mode not in ("cubic", "linear"):
        raise ValueError(f"interpolation mode must be 'cubic' or 'linear', got {mode!r}")
    b, c, size = audio.shape
    n_out = positions.shape[-1]
    if lengths is not None:  # nothing is read from the padding
        audio = audio * length_mask(lengths, size).unsqueeze(1).to(audio.dtype)
    end = (size if lengths is None else lengths.view(-1, 1)) - 1
    pos = positions.to(audio.device)
    x = (pos * (2.0 / max(size - 1, 1)) - 1.0).to(audio.dtype)  # align_corners=True: -1 is sample 0, 1 is sample L - 1
    grid = torch.stack([x, torch.zeros_like(x)], dim=-1).view(b, 1, n_out, 2)
    out = F.grid_sample(
        audio.unsqueeze(2),
        grid,
        mode="bicubic" if mode == "cubic" else "bilinear",
        padding_mode="zeros",
        align_corners=True,
    ).view(b, c, n_out)
    within = (pos >= 0) & (pos <= end)  # the output ends exactly where the input does
    return out * within.unsqueeze(1).to(out.dtype)


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


def resample(audio: Tensor, orig_freq: int, new_freq: int, mode: str = "cubic") -> Tensor:
    """Resamples a batch from ``orig_freq`` to ``new_freq`` Hz (band-limited when downsampling).

    Shape:
        ``(B, C, T)`` -> ``(B, C, ceil(T * new_freq / orig_freq))``.
    """
    if orig_freq <= 0 or new_freq <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_freq} and {new_freq}")
    if orig_freq == new_freq:
        return audio
    b, _, t = audio.shape
    step = orig_freq / new_freq
    n_out = math.ceil(t * new_freq / orig_freq)
    if step > 1:
        audio = lowpass(audio, torch.full((b,), 1.0 / step, device=audio.device))
    positions = torch.arange(n_out, device=audio.device, dtype=_exact_dtype(audio.device)) * step
    return interpolate(audio, positions.expand(b, n_out), None, mode)


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


def mix(audio: Tensor, index: Tensor, lam: Tensor) -> Tensor:
    """``lam * audio + (1 - lam) * audio[index]`` per sample (MixUp).

    Shape:
        ``audio (B, ...)``, ``index (B,)`` int, ``lam (B,)`` -> ``(B, ...)``.
    """
    w = _per_sample(lam, audio)
    partner = audio.index_select(0, index.to(audio.device, torch.int64))
    return torch.lerp(partner, audio, w)


# ---- STFT-domain ops ---------------------------------------------------------------------------


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
