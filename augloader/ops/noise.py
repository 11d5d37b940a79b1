"""Per-pixel randomness from a counter-based hash: the same (seed, pixel) gives the same value on
every device and for any batch split, so a batch equals its samples done one at a time.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_MASK32 = 0xFFFFFFFF


def _hash32(x: Tensor) -> Tensor:
    """A 32-bit integer mixer (lowbias32) applied elementwise to int64 values in ``[0, 2**32)``."""
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & _MASK32
    x = x ^ (x >> 15)
    x = (x * 0x846CA68B) & _MASK32
    return x ^ (x >> 16)


def uniform_field(seed: Tensor, shape: tuple[int, int, int], stream: int = 0) -> Tensor:
    """Uniform ``[0, 1)`` values for every pixel of every sample, from one seed per sample.

    Shape:
        ``seed: (B,)`` int64 -> ``(B, C, H, W)`` float32.
    """
    n = shape[0] * shape[1] * shape[2]
    counter = torch.arange(n, device=seed.device, dtype=torch.int64)
    key = _hash32((seed.to(torch.int64) * 2654435761 + stream * 40503) & _MASK32)  # (B,)
    x = _hash32((counter.view(1, n) + key.view(-1, 1) * 0x9E3779B1) & _MASK32)
    x = _hash32(x ^ key.view(-1, 1))
    return ((x >> 8).to(torch.float32) * (1.0 / (1 << 24))).view(-1, *shape)


def normal_field(seed: Tensor, shape: tuple[int, int, int]) -> Tensor:
    """Standard normal values per pixel (Box-Muller on two hashed uniform streams). ``(B, C, H, W)``."""
    u1 = uniform_field(seed, shape, stream=1).clamp_(min=1e-7)
    u2 = uniform_field(seed, shape, stream=2)
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos((2.0 * math.pi) * u2)


def gaussian_noise(image: Tensor, sigma: Tensor, seed: Tensor, clip: bool = True) -> Tensor:
    """Adds ``N(0, sigma^2)`` noise per sample (sigma ``(B,)``; 0 leaves a sample unchanged)."""
    noise = normal_field(seed, tuple(image.shape[1:])).to(image.dtype)
    out = image + noise * sigma.view(-1, 1, 1, 1).to(image.dtype)
    return out.clamp_(0.0, 1.0) if clip else out


def salt_and_pepper(image: Tensor, amount: Tensor, seed: Tensor, salt_ratio: float = 0.5) -> Tensor:
    """Sets a share ``amount`` (per sample) of pixels to 0 or 1; each channel of a pixel alike."""
    b, c, h, w = image.shape
    u = uniform_field(seed, (1, h, w))  # (B, 1, H, W): one draw per pixel location
    a = amount.view(-1, 1, 1, 1).to(u.dtype)
    salt = u < a * salt_ratio
    pepper = (u >= a * salt_ratio) & (u < a)
    out = torch.where(salt, torch.ones((), dtype=image.dtype, device=image.device), image)
    return torch.where(pepper, torch.zeros((), dtype=image.dtype, device=image.device), out)
