"""Time-domain transforms with a parameter per sample: RandomTimeShift, RandomSpeed, RandomTimeStretch, RandomPitchShift.

All keep the input length: RandomSpeed and RandomTimeStretch crop or zero-pad their output to ``T`` (and
update a dict's ``"lengths"``); RandomPitchShift keeps the duration by construction.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from .. import _random as R
from . import _args
from . import ops as O
from .base import AudioShape, AudioTransform, Params

__all__ = ["RandomTimeShift", "RandomSpeed", "RandomTimeStretch", "RandomPitchShift"]


class RandomTimeShift(AudioTransform):
    """Shifts each sample in time by its own whole number of samples.

    Args:
        shift: ``(low, high)``, or ``s`` for ``(-s, s)``; positive moves the audio later.
        unit: ``"fraction"`` of the clip length, or ``"samples"``.
        mode: ``"roll"`` wraps the end around to the start; ``"zero"`` pads with silence.
        p: probability of shifting a sample.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float.
    """

    def __init__(
        self, shift: float | Sequence[float] = 0.5, unit: str = "fraction", mode: str = "roll", p: float = 1.0
    ) -> None:
        super().__init__(p)
        self.unit = _args.choice(unit, "unit", ("fraction", "samples"))
        self.mode = _args.choice(mode, "mode", ("roll", "zero"))
        self.shift = _args.symmetric_range(shift, "shift")
        if self.unit == "samples" and not all(float(s).is_integer() for s in self.shift):
            raise ValueError(f"shift in samples must be whole numbers, got {_args.show(shift)}")

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b, t = shape[0], shape[-1]
        on = R.bernoulli(b, self.p, generator)
        if self.unit == "samples":
            shift = R.randint(b, int(self.shift[0]), int(self.shift[1]) + 1, generator)
        else:
            shift = torch.round(R.uniform(b, *self.shift, generator) * t).to(torch.int64)
        return {"shift": torch.where(on, shift, torch.zeros_like(shift))}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.time_shift(audio, params["shift"], self.mode)

    def extra_repr(self) -> str:
        return f"shift={self.shift}, unit={self.unit!r}, mode={self.mode!r}, p={self.p}"


class RandomSpeed(AudioTransform):
    """Plays each sample faster or slower (tempo and pitch together) by resampling; keeps length ``T``.

    A factor ``f`` makes a clip last ``T / f``: faster clips end in silence, slower ones are cropped.
    Speeding up is low-passed first (no aliasing).

    Args:
        factor: ``(low, high)`` speed factors (> 0), drawn uniformly per sample.
        interpolation: ``"cubic"`` or ``"linear"``.
        antialias: low-pass before speeding up.
        p: probability of changing a sample's speed.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float.
    """

    def __init__(
        self, factor: Sequence[float] = (0.9, 1.1), interpolation: str = "cubic", antialias: bool = True, p: float = 1.0
    ) -> None:
        super().__init__(p)
        self.factor = _args.positive_range(factor, "factor")
        self.interpolation = _args.choice(interpolation, "interpolation", ("cubic", "linear"))
        self.antialias = _args.flag(antialias, "antialias")

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"factor": R.gate(R.uniform(b, *self.factor, generator), on, 1.0)}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.speed_change(audio, params["factor"], lengths, self.antialias, self.interpolation)

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        return O.speed_lengths(lengths, params["factor"], size)

    def extra_repr(self) -> str:
        return f"factor={self.factor}, interpolation={self.interpolation!r}, p={self.p}"


def _init_stft(module: AudioTransform, n_fft: int, hop_length: Optional[int]) -> None:
    """STFT settings shared by RandomTimeStretch and RandomPitchShift: sizes, and a Hann window kept as a buffer."""
    module.n_fft, _, module.hop_length = _args.stft_sizes(n_fft, None, hop_length)
    module.register_buffer("window", _args.hann_window(module.n_fft), persistent=False)


def _window(module: AudioTransform, audio: Tensor) -> Tensor:
    """The module's window on the batch's device, after checking the clips are long enough."""
    _args.check_duration(audio.shape[-1], module.n_fft, type(module).__name__)
    return module.window.to(audio.device, audio.dtype)


class RandomTimeStretch(AudioTransform):
    """Changes each sample's tempo by its own rate with a phase vocoder, keeping the pitch.

    One batched STFT, a phase vocoder with a per-sample rate on a shared frame grid, one inverse
    STFT. A rate ``r`` makes a clip last ``T / r``; the output is cropped or zero-padded to ``T``.

    Args:
        rate: ``(low, high)`` rates (> 1 faster), drawn uniformly per sample.
        n_fft: FFT size (512 is 32 ms at 16 kHz); ``hop_length`` defaults to ``n_fft // 4``.
        p: probability of stretching a sample.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float, ``T > n_fft // 2``.
    """

    def __init__(
        self, rate: Sequence[float] = (0.8, 1.25), n_fft: int = 512, hop_length: Optional[int] = None, p: float = 1.0
    ) -> None:
        super().__init__(p)
        _init_stft(self, n_fft, hop_length)
        self.rate = _args.positive_range(rate, "rate")

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"rate": R.gate(R.uniform(b, *self.rate, generator), on, 1.0)}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.time_stretch(audio, params["rate"], self.n_fft, self.hop_length, _window(self, audio), lengths)

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        return O.speed_lengths(lengths, params["rate"], size)

    def extra_repr(self) -> str:
        return f"rate={self.rate}, n_fft={self.n_fft}, hop_length={self.hop_length}, p={self.p}"


class RandomPitchShift(AudioTransform):
    """Shifts each sample's pitch by its own number of semitones, keeping the duration.

    Fully batched (torch-audiomentations loops over examples): a phase vocoder stretches every sample
    by its own factor ``2 ** (semitones / 12)`` in one call, a per-sample low-pass in the STFT domain
    removes what would alias, then one interpolation reads each sample back at its own speed.

    Args:
        semitones: ``(low, high)``, or ``s`` for ``(-s, s)``, drawn uniformly per sample. Replayed
            params must lie in this range (it sizes the frame grid).
        n_fft: FFT size; ``hop_length`` defaults to ``n_fft // 4``.
        interpolation: ``"cubic"`` or ``"linear"`` for the final resampling.
        p: probability of shifting a sample.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float, ``T > n_fft // 2``.
    """

    def __init__(
        self,
        semitones: float | Sequence[float] = (-4.0, 4.0),
        n_fft: int = 512,
        hop_length: Optional[int] = None,
        interpolation: str = "cubic",
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        _init_stft(self, n_fft, hop_length)
        self.semitones = _args.symmetric_range(semitones, "semitones")
        if max(abs(s) for s in self.semitones) > 24:
            raise ValueError(f"semitones must lie within two octaves (-24, 24), got {_args.show(semitones)}")
        self.interpolation = _args.choice(interpolation, "interpolation", ("cubic", "linear"))

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"semitones": R.gate(R.uniform(b, *self.semitones, generator), on, 0.0)}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.pitch_shift(
            audio,
            params["semitones"],
            self.n_fft,
            self.hop_length,
            _window(self, audio),
            max_semitones=max(self.semitones[1], 0.0),
            mode=self.interpolation,
        )

    def extra_repr(self) -> str:
        return f"semitones={self.semitones}, n_fft={self.n_fft}, hop_length={self.hop_length}, p={self.p}"
