"""Argument checks shared by the audio transforms (clear errors at construction).

The generic checks (finite numbers, ints, ranges, choices) are :mod:`augloader.transforms._args`'s;
this module adds the audio-specific ones: decibel ranges, STFT sizes, clip durations.
"""

from __future__ import annotations

from typing import Any

import torch

from ..transforms._args import choice, flag, integer, interval, is_number, number, show, symmetric_range

__all__ = [
    "DB_LIMIT",
    "choice",
    "decibel_range",
    "flag",
    "interval",
    "number",
    "symmetric_range",
    "positive_range",
    "positive_int",
    "show",
    "stft_sizes",
    "hann_window",
    "check_duration",
]

#: Largest magnitude of a level in dB: 200 dB is a factor of 1e10, beyond which float32 audio
#: overflows to inf or vanishes into the rounding of the signal.
DB_LIMIT = 200.0


def decibel_range(value: Any, name: str, symmetric: bool = True) -> tuple[float, float]:
    """A finite ``(low, high)`` range in dB within ``[-DB_LIMIT, DB_LIMIT]`` (``g`` means ``(-g, g)``)."""
    low, high = symmetric_range(value, name) if symmetric else interval(value, name)
    if low < -DB_LIMIT or high > DB_LIMIT:
        raise ValueError(f"{name} must lie within [-{DB_LIMIT:g}, {DB_LIMIT:g}] dB, got {show(value)}")
    return low, high


def positive_range(value: Any, name: str) -> tuple[float, float]:
    """A positive number ``v`` as ``(v, v)`` or a ``(low, high)`` pair of positive finite numbers."""
    if is_number(value):
        value = (value, value)
    low, high = interval(value, name)
    if low <= 0:
        raise ValueError(f"{name} must be positive, got {show(value)}")
    return low, high


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An int ``>= minimum`` (a bool or a float is refused)."""
    return integer(value, name, low=minimum)


def stft_sizes(
    n_fft: Any, win_length: Any, hop_length: Any, hop_divisor: int = 4, overlap: bool = True
) -> tuple[int, int, int]:
    """Validated ``(n_fft, win_length, hop_length)``; ``win_length`` defaults to ``n_fft`` and
    ``hop_length`` to ``win_length // hop_divisor``. ``overlap`` (needed to invert the STFT) requires
    ``hop_length <= win_length // 2``."""
    n_fft = positive_int(n_fft, "n_fft", 2)
    win_length = n_fft if win_length is None else positive_int(win_length, "win_length")
    if win_length > n_fft:
        raise ValueError(f"win_length ({win_length}) must be <= n_fft ({n_fft})")
    hop_length = max(win_length // hop_divisor, 1) if hop_length is None else positive_int(hop_length, "hop_length")
    if overlap and hop_length > win_length // 2:
        raise ValueError(f"hop_length ({hop_length}) must be <= win_length // 2 ({win_length // 2}) so frames overlap")
    return n_fft, win_length, hop_length


def hann_window(win_length: int) -> torch.Tensor:
    """Periodic Hann window (torch's and torchaudio's default)."""
    return torch.hann_window(win_length, periodic=True)


def check_duration(size: int, n_fft: int, owner: str) -> None:
    """STFT transforms reflect-pad by ``n_fft // 2``, which needs longer clips."""
    if size <= n_fft // 2:
        raise ValueError(f"{owner} needs clips longer than n_fft // 2 = {n_fft // 2} samples, got {size}")
