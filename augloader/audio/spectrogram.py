"""Spectrograms in pure torch (when torchaudio is absent) and SpecAugment masks with per-sample draws."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from .. import _random as R
from . import _args
from . import ops as O
from .base import AudioShape, AudioTransform, Params

__all__ = ["Spectrogram", "MelSpectrogram", "RandomFrequencyMasking", "RandomTimeMasking"]


class Spectrogram(AudioTransform):
    """Magnitude or power spectrogram of every channel (``torchaudio.transforms.Spectrogram`` defaults).

    Args:
        n_fft: FFT size; ``win_length`` defaults to ``n_fft`` and ``hop_length`` to ``win_length // 2``.
        power: 1 for magnitude, 2 for power.

    Shape:
        waveform ``(B, C, T)`` -> ``(B, C, n_fft // 2 + 1, T // hop_length + 1)`` (or unbatched).
    """

    domain = "waveform"
    output_domain = "spectrogram"
    randomized = False

    def __init__(
        self, n_fft: int = 400, win_length: Optional[int] = None, hop_length: Optional[int] = None, power: float = 2.0
    ) -> None:
        super().__init__()
        self.n_fft, self.win_length, self.hop_length = _args.stft_sizes(
            n_fft, win_length, hop_length, hop_divisor=2, overlap=False
        )
        if isinstance(power, bool) or power not in (1, 2, 1.0, 2.0):
            raise ValueError(f"power must be 1 (magnitude) or 2 (power), got {_args.show(power)}")
        self.power = float(power)
        self.register_buffer("window", _args.hann_window(self.win_length), persistent=False)

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        _args.check_duration(audio.shape[-1], self.n_fft, type(self).__name__)
        return O.spectrogram(audio, self.n_fft, self.hop_length, self.window.to(audio.device, audio.dtype), self.power)

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        return torch.div(lengths, self.hop_length, rounding_mode="floor") + 1  # frames that hold valid samples

    def output_shape(self, shape: AudioShape) -> AudioShape:
        return (*shape[:-1], self.n_fft // 2 + 1, shape[-1] // self.hop_length + 1)

    def extra_repr(self) -> str:
        return f"n_fft={self.n_fft}, win_length={self.win_length}, hop_length={self.hop_length}, power={self.power}"


class MelSpectrogram(AudioTransform):
    """Mel-scaled spectrogram with torchaudio's defaults and filters (HTK scale, no norm).

    Args:
        sample_rate: of the waveform, in Hz.
        n_fft, win_length, hop_length, power: as :class:`Spectrogram`.
        f_min, f_max: frequency range of the filters (``f_max`` defaults to ``sample_rate / 2``).
        n_mels: number of mel bands.
        norm: ``None`` or ``"slaney"`` (area normalisation).
        mel_scale: ``"htk"`` or ``"slaney"``.

    Shape:
        waveform ``(B, C, T)`` -> ``(B, C, n_mels, T // hop_length + 1)`` (or unbatched).
    """

    domain = "waveform"
    output_domain = "spectrogram"
    randomized = False

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 400,
        win_length: Optional[int] = None,
        hop_length: Optional[int] = None,
        f_min: float = 0.0,
        f_max: Optional[float] = None,
        n_mels: int = 128,
        power: float = 2.0,
        norm: Optional[str] = None,
        mel_scale: str = "htk",
    ) -> None:
        super().__init__()
        self.spectrogram = Spectrogram(n_fft, win_length, hop_length, power)
        self.sample_rate = _args.positive_int(sample_rate, "sample_rate")
        self.n_mels = _args.positive_int(n_mels, "n_mels")
        self.f_min = _args.number(f_min, "f_min")
        self.f_max = float(sample_rate) / 2 if f_max is None else _args.number(f_max, "f_max")
        if not 0.0 <= self.f_min < self.f_max <= sample_rate / 2:
            raise ValueError(f"need 0 <= f_min < f_max <= sample_rate / 2, got f_min={f_min}, f_max={f_max}")
        _args.choice(norm, "norm", (None, "slaney"))
        _args.choice(mel_scale, "mel_scale", ("htk", "slaney"))
        n_freqs = self.spectrogram.n_fft // 2 + 1
        fb = O.mel_filterbank(n_freqs, self.f_min, self.f_max, self.n_mels, self.sample_rate, norm, mel_scale)
        if not bool(torch.isfinite(fb).all()):
            raise ValueError(f"f_min ({f_min}) and f_max ({f_max}) are too close for {self.n_mels} mel filters")
        self.register_buffer("filters", fb, persistent=False)  # (F, n_mels)

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        spec = self.spectrogram.apply(audio, params, lengths)  # (B, C, F, N)
        fb = self.filters.to(spec.device, spec.dtype)
        return torch.matmul(spec.transpose(-1, -2), fb).transpose(-1, -2)  # (B, C, n_mels, N)

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        return self.spectrogram.apply_lengths(lengths, params, size)

    def output_shape(self, shape: AudioShape) -> AudioShape:
        return (*shape[:-1], self.n_mels, self.spectrogram.output_shape(shape)[-1])

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, n_mels={self.n_mels}, f_min={self.f_min}, f_max={self.f_max}"


def _init_masks(module: AudioTransform, max_width: int, num_masks: int, per_channel: bool, mask_value: float) -> None:
    """Validated SpecAugment settings shared by RandomFrequencyMasking and RandomTimeMasking."""
    module.max_width = _args.positive_int(max_width, "max_width", 0)
    module.num_masks = _args.positive_int(num_masks, "num_masks")
    module.per_channel = _args.flag(per_channel, "per_channel")
    module.mask_value = _args.number(mask_value, "mask_value")


def _draw_masks(module: AudioTransform, shape: AudioShape, axis: int, generator: Optional[torch.Generator]) -> Params:
    """Per sample (and channel, if ``per_channel``) ``num_masks`` widths uniform in ``[0, max_width]`` and
    starts uniform where the mask fits, ``(B, M)`` or ``(B, C, M)`` int64; skipped samples get width 0."""
    b, c, size = shape[0], shape[1], shape[axis]
    on = R.bernoulli(b, module.p, generator)
    per_sample = (c, module.num_masks) if module.per_channel else (module.num_masks,)
    widest = min(module.max_width, size)
    width = torch.floor(R.uniform(b, 0.0, 1.0, generator, per_sample) * (widest + 1)).to(torch.int64)
    start = torch.floor(R.uniform(b, 0.0, 1.0, generator, per_sample) * (size - width + 1)).to(torch.int64)
    width = torch.where(on.view(-1, *([1] * len(per_sample))), width, torch.zeros_like(width))
    return {"start": start, "width": width}


def _masks_repr(module: AudioTransform) -> str:
    return f"max_width={module.max_width}, num_masks={module.num_masks}, per_channel={module.per_channel}, p={module.p}"


class RandomFrequencyMasking(AudioTransform):
    """Zeroes ``num_masks`` bands of up to ``max_width`` frequency bins per sample (SpecAugment).

    Widths are drawn uniformly in ``[0, max_width]`` and starts uniformly where the band fits.

    Args:
        max_width: the widest band, in bins.
        num_masks: bands per sample (they may overlap).
        per_channel: draw each channel's bands independently (default: shared across channels).
        mask_value: value written into the bands.
        p: probability of masking a sample.

    Shape:
        spectrogram ``(C, F, N)`` or ``(B, C, F, N)``.
    """

    domain = "spectrogram"

    def __init__(
        self, max_width: int, num_masks: int = 1, per_channel: bool = False, mask_value: float = 0.0, p: float = 1.0
    ) -> None:
        super().__init__(p)
        _init_masks(self, max_width, num_masks, per_channel, mask_value)

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        return _draw_masks(self, shape, -2, generator)

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.mask_along_axis(audio, params["start"], params["width"], -2, self.mask_value)

    def extra_repr(self) -> str:
        return _masks_repr(self)


class RandomTimeMasking(AudioTransform):
    """Zeroes ``num_masks`` spans of up to ``max_width`` frames per sample (SpecAugment).

    Widths are drawn uniformly in ``[0, max_width]`` and starts uniformly where the span fits. On a
    waveform (``domain="waveform"``) the spans are in samples.

    Args:
        max_width: the longest span, in frames (or samples).
        num_masks: spans per sample (they may overlap).
        per_channel: draw each channel's spans independently (default: shared across channels).
        mask_value: value written into the spans.
        domain: ``"spectrogram"`` or ``"waveform"``.
        p: probability of masking a sample.

    Shape:
        spectrogram ``(C, F, N)`` / ``(B, C, F, N)``, or waveform ``(C, T)`` / ``(B, C, T)``.
    """

    def __init__(
        self,
        max_width: int,
        num_masks: int = 1,
        per_channel: bool = False,
        mask_value: float = 0.0,
        domain: str = "spectrogram",
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        _init_masks(self, max_width, num_masks, per_channel, mask_value)
        self.domain = _args.choice(domain, "domain", ("spectrogram", "waveform"))

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        return _draw_masks(self, shape, -1, generator)

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.mask_along_axis(audio, params["start"], params["width"], -1, self.mask_value)

    def extra_repr(self) -> str:
        return f"{_masks_repr(self)}, domain={self.domain!r}"
