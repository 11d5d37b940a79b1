"""Argument checks shared by the audio transforms (clear errors at construction)."""

from __future__ import annotations

import numbers
from typing import Any

import torch

from ..transforms._args import interval, symmetric_range

__all__ = [
    "interval",
    "symmetric_range",
    "positive_range",
    "positive_int",
    "choice",
    "stft_sizes",
    "hann_window",
    "check_duration",
]


def positive_range(value: Any, name: str) -> tuple[float, float]:
    """A positive number ``v`` as ``(v, v)`` or a ``(low, high)`` pair of positive numbers."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = (value, value)
    low, high = interval(value, name)
    if low <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return low, high


def positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """An int ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


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
