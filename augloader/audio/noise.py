"""Level and noise: RandomGain, AudioGaussianNoise (white/pink/brown) and RandomBackgroundNoise, each per sample."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from .. import _random as R
from . import _args
from . import ops as O
from .base import AudioShape, AudioTransform, Params

__all__ = ["RandomGain", "AudioGaussianNoise", "RandomBackgroundNoise", "NOISE_COLORS"]

#: Exponent of the noise power spectral density ``1 / f ** decay`` for each colour.
NOISE_COLORS = {"white": 0.0, "pink": 1.0, "brown": 2.0}


class RandomGain(AudioTransform):
    """Multiplies each sample by a gain drawn uniformly in decibels.

    Args:
        gain_db: ``(low, high)`` in dB, or ``g`` for ``(-g, g)``.
        p: probability of changing a sample (others get 0 dB).

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float.
    """

    def __init__(self, gain_db: float | Sequence[float] = (-6.0, 6.0), p: float = 1.0) -> None:
        super().__init__(p)
        self.gain_db = _args.decibel_range(gain_db, "gain_db")

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"gain_db": R.gate(R.uniform(b, *self.gain_db, generator), on, 0.0)}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.gain(audio, params["gain_db"])

    def extra_repr(self) -> str:
        return f"gain_db={self.gain_db}, p={self.p}"


class AudioGaussianNoise(AudioTransform):
    """Adds coloured Gaussian noise at a signal-to-noise ratio drawn per sample.

    The noise is scaled against each clip's own RMS (over channels and its valid length), so the SNR
    is exactly the drawn one; every channel gets its own noise. The white noise itself is a ``(B, C, T)``
    parameter drawn from the generator in one call (on its device: pass a CUDA generator to draw it on
    the GPU), so replaying params, or slicing them per sample, reproduces it exactly.

    Args:
        snr_db: ``(low, high)`` SNR in dB, drawn uniformly per sample.
        color: ``"white"``, ``"pink"``, ``"brown"``, or a list of them to choose from per sample.
        p: probability of adding noise to a sample.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float.
    """

    def __init__(
        self, snr_db: Sequence[float] = (3.0, 30.0), color: str | Sequence[str] = "white", p: float = 1.0
    ) -> None:
        super().__init__(p)
        self.snr_db = _args.decibel_range(snr_db, "snr_db", symmetric=False)
        colors = [color] if isinstance(color, str) else list(color) if isinstance(color, Sequence) else None
        if not colors or any(not isinstance(c, str) or c not in NOISE_COLORS for c in colors):
            raise ValueError(
                f"color must be one of {tuple(NOISE_COLORS)} or a non-empty list of them, got {_args.show(color)}"
            )
        self.colors = tuple(colors)
        self._decays = torch.tensor([NOISE_COLORS[c] for c in colors])
        self._coloured = any(NOISE_COLORS[c] != 0.0 for c in colors)

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        snr = R.gate(R.uniform(b, *self.snr_db, generator), on, math.inf)
        pick = R.randint(b, 0, len(self.colors), generator)
        noise = torch.randn(shape, generator=generator, device=R._device(generator))  # (B, C, T)
        return {"snr_db": snr, "decay": self._decays.to(pick.device)[pick], "noise": noise}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        noise = params["noise"].to(audio.dtype)
        if self._coloured:
            noise = O.colored_noise(noise, params["decay"])
        return O.add_at_snr(audio, noise, params["snr_db"], lengths)

    def extra_repr(self) -> str:
        return f"snr_db={self.snr_db}, color={list(self.colors)}, p={self.p}"


Sounds = Union[Tensor, str, Path, Sequence[Tensor]]


def _sound_bank(sounds: Sounds, sample_rate: Optional[int]) -> tuple[Tensor, Tensor]:
    """Clips as a zero-padded bank ``(N, C, L)`` and their lengths ``(N,)``."""
    if isinstance(sounds, (str, Path)):
        from .io import load_folder

        if sample_rate is None:
            raise ValueError(
                "RandomBackgroundNoise needs sample_rate to load sounds from files (they are resampled to it)"
            )
        clips = load_folder(sounds, sample_rate)
    elif isinstance(sounds, Tensor):
        if sounds.dim() not in (2, 3) or not sounds.dtype.is_floating_point:
            raise ValueError(
                f"sounds: a tensor of sounds must be float (N, L) or (N, C, L), got {sounds.dtype} {tuple(sounds.shape)}"
            )
        clips = list(sounds if sounds.dim() == 3 else sounds.unsqueeze(1))
    elif isinstance(sounds, Sequence) and all(isinstance(s, Tensor) for s in sounds):
        clips = [s if s.dim() == 2 else s.unsqueeze(0) for s in sounds]
        if any(s.dim() != 2 or not s.dtype.is_floating_point for s in clips):
            raise ValueError("sounds: each sound must be a float tensor (L,) or (C, L)")
    else:
        raise TypeError(
            f"sounds must be a folder path, a tensor (N, L) / (N, C, L) or a list of tensors, got {type(sounds).__name__}"
        )
    if not clips:
        raise ValueError("RandomBackgroundNoise needs at least one sound in sounds, got none")
    channels = {c.shape[0] for c in clips}
    if len(channels) != 1:
        raise ValueError(f"sounds must all have the same number of channels, got {sorted(channels)}")
    lengths = torch.tensor([c.shape[-1] for c in clips], dtype=torch.int64)
    if int(lengths.min()) == 0:
        raise ValueError("sounds must not be empty clips")
    bank = torch.zeros(len(clips), channels.pop(), int(lengths.max()))
    for i, clip in enumerate(clips):  # construction only, not a hot path
        bank[i, :, : clip.shape[-1]] = clip.float()
    return bank, lengths


class RandomBackgroundNoise(AudioTransform):
    """Mixes in a clip from a bank of sounds (a folder of WAV files or tensors) at a random SNR.

    Each sample draws a clip, a random starting point in it (clips shorter than the batch loop) and an
    SNR. The bank lives in buffers, so ``.to(device)`` moves it with the module.

    Args:
        sounds: a folder (or single file) of ``.wav``, a tensor ``(N, L)`` / ``(N, C, L)``, or a list of
            ``(L,)`` / ``(C, L)`` tensors. Channels must be 1 (mixed into every channel) or the batch's.
        snr_db: ``(low, high)`` SNR in dB.
        sample_rate: rate files are resampled to (needed for files, ignored for tensors).
        p: probability of adding a background to a sample.

    Shape:
        ``(C, T)`` or ``(B, C, T)``, float.
    """

    def __init__(
        self, sounds: Sounds, snr_db: Sequence[float] = (3.0, 30.0), sample_rate: Optional[int] = None, p: float = 1.0
    ) -> None:
        super().__init__(p)
        self.snr_db = _args.decibel_range(snr_db, "snr_db", symmetric=False)
        if sample_rate is not None:
            sample_rate = _args.positive_int(sample_rate, "sample_rate")
        bank, lengths = _sound_bank(sounds, sample_rate)
        if not bool(torch.isfinite(bank).all()):
            raise ValueError("sounds must hold finite values (a NaN or inf would spread into every mixed sample)")
        self.register_buffer("bank", bank, persistent=False)  # (N, C, L), zero-padded
        self.register_buffer("bank_lengths", lengths, persistent=False)  # (N,)

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {
            "snr_db": R.gate(R.uniform(b, *self.snr_db, generator), on, math.inf),
            "index": R.randint(b, 0, self.bank.shape[0], generator),
            "offset": R.uniform(b, 0.0, 1.0, generator),  # start, as a fraction of the chosen clip
        }

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        b, c, t = audio.shape
        bank = self.bank.to(audio.device, audio.dtype)
        if bank.shape[1] not in (1, c):
            raise ValueError(f"background sounds have {bank.shape[1]} channels; the batch has {c} (use mono or {c})")
        index = params["index"].to(torch.int64)
        clip_len = self.bank_lengths.to(audio.device)[index]  # (B,)
        start = (params["offset"].to(O._exact_dtype(audio.device)) * clip_len).floor().to(torch.int64)
        pos = (start.view(-1, 1) + torch.arange(t, device=audio.device)).remainder(clip_len.view(-1, 1))  # (B, T)
        rows = bank.index_select(0, index)  # (B, C or 1, L)
        noise = rows.gather(2, pos.unsqueeze(1).expand(b, rows.shape[1], t))
        return O.add_at_snr(audio, noise, params["snr_db"], lengths)

    def extra_repr(self) -> str:
        return f"sounds={self.bank.shape[0]}, snr_db={self.snr_db}, p={self.p}"
