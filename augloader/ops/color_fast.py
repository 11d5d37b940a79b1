"""Point colour ops as policies run them: exact uint8 versions, and float versions without ``torch.where``.

Each equals its reference in :mod:`augloader.ops.color` bit for bit:

- the ``*_u8`` functions work on uint8 in integer arithmetic and equal the float op applied to
  ``image / 255`` and converted back with rounding (``augloader._batch.from_working``); a policy
  runs them on the uint8 samples that drew exactly one op, with no float round trip;
- the float functions select with a 0/1 blend instead of ``torch.where``, which on the CPU costs
  several times more per element than the arithmetic around it.

Arguments are the float ones (thresholds and additions on the ``[0, 1]`` scale, kept bits), one
per sample.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _b(x: Tensor) -> Tensor:
    return x.view(-1, 1, 1, 1)


def _levels(device: torch.device) -> Tensor:
    """The 256 uint8 levels as the float working form has them (``to_working``'s arithmetic)."""
    return torch.arange(256, device=device).to(torch.float32).mul_(1.0 / 255.0)


# ---- uint8 -----------------------------------------------------------------------------------------
def invert_u8(image: Tensor, _: Tensor | None = None) -> Tensor:
    """``255 - image``.

    Shape:
        ``(B, C, H, W)`` uint8 -> same.
    """
    return torch.bitwise_not(image)


def posterize_u8(image: Tensor, bits: Tensor) -> Tensor:
    """Keeps the top ``bits`` bits per sample (``bits >= 8`` keeps the sample).

    Shape:
        ``image: (B, C, H, W)`` uint8, ``bits: (B,)`` -> ``(B, C, H, W)`` uint8.
    """
    drop = (8.0 - bits.to(torch.float32)).clamp(0.0, 8.0).to(torch.int64)
    mask = (256 - torch.pow(2, drop)).to(torch.uint8)  # 0xFF << drop, within a byte
    return image & _b(mask)


def solarize_u8(image: Tensor, threshold: Tensor) -> Tensor:
    """Inverts the values whose working form is at or above ``threshold`` (per sample, ``[0, 1]`` scale).

    Shape:
        ``image: (B, C, H, W)`` uint8, ``threshold: (B,)`` -> ``(B, C, H, W)`` uint8.
    """
    # The first level the float op inverts, found with the float op's own comparison.
    first = (_levels(image.device) < threshold.to(torch.float32).view(-1, 1)).sum(dim=1)  # (B,)
    flip = (image >= _b(first.clamp(max=255).to(torch.uint8))) & _b(first <= 255)
    return image ^ flip.view(torch.uint8).neg()  # x ^ 0xFF = 255 - x where flip


def solarize_add_u8(image: Tensor, addition: Tensor, threshold: float = 127.5 / 255.0) -> Tensor:
    """Adds ``addition`` (``[0, 1]`` scale, per sample) to values below ``threshold``, saturating at 255.

    Shape:
        ``image: (B, C, H, W)`` uint8, ``addition: (B,)`` -> ``(B, C, H, W)`` uint8.
    """
    first = int((_levels(torch.device("cpu")) < threshold).sum())  # levels below it: 0 .. first - 1
    add = torch.round(addition.to(torch.float32) * 255.0).clamp(0.0, 255.0).to(torch.uint8)
    if first == 0:
        return image.clone()
    below = (image < first).view(torch.uint8) if first <= 255 else torch.ones_like(image)
    return image + torch.minimum(below * _b(add), torch.bitwise_not(image))  # never past 255


def _equalize_lut(levels: Tensor) -> tuple[Tensor, Tensor]:
    """PIL's equalisation LUT per sample and channel, and which channels keep their values.

    Shape:
        ``levels: (B, C, N)`` int64 -> ``lut (B, C, 256)`` int64, ``keep (B, C, 1)`` bool.
    """
    b, c, n = levels.shape
    hist = torch.zeros(b, c, 256, dtype=torch.int64, device=levels.device)
    hist.scatter_add_(2, levels, torch.ones_like(levels))
    cum = hist.cumsum(dim=2)
    top = (hist > 0).to(torch.int64).mul(torch.arange(256, device=levels.device)).argmax(dim=2, keepdim=True)
    step = (n - hist.gather(2, top)) // 255  # PIL: pixels not at the highest level, // 255
    lut = (cum[..., :-1] + step // 2) // step.clamp(min=1)
    return torch.cat([torch.zeros_like(lut[..., :1]), lut.clamp_(0, 255)], dim=2), step == 0


def equalize_u8(image: Tensor, _: Tensor | None = None) -> Tensor:
    """Histogram equalisation per sample and channel (PIL's LUT, as ``ops.color.equalize``).

    Shape:
        ``(B, C, H, W)`` uint8 -> same.
    """
    b, c, h, w = image.shape
    if image.numel() == 0:
        return image.clone()
    levels = image.reshape(b, c, h * w).to(torch.int64)
    lut, keep = _equalize_lut(levels)
    lut = torch.where(keep, torch.arange(256, device=image.device), lut).to(torch.uint8)  # (B, C, 256): small
    return lut.gather(2, levels).view(b, c, h, w)


# ---- float, where-free ----------------------------------------------------------------------------
def solarize(image: Tensor, threshold: Tensor) -> Tensor:
    """``ops.color.solarize``: ``|x - [x >= threshold]|`` is ``1 - x`` where inverted, ``x`` elsewhere."""
    return (image - (image >= _b(threshold).to(image.dtype)).to(image.dtype)).abs_()


def posterize(image: Tensor, bits: Tensor) -> Tensor:
    """``ops.color.posterize`` (8-bit levels; ``bits >= 8`` keeps the sample)."""
    bits = _b(bits).to(image.dtype)
    step = torch.pow(2.0, 8.0 - bits)
    q = torch.round(image * 255.0).div_(step).floor_().mul_(step).mul_(1.0 / 255.0)
    return torch.lerp(q, image, (bits >= 8.0).to(image.dtype))  # a 0/1 weight picks exactly


def solarize_add(image: Tensor, addition: Tensor, threshold: float = 127.5 / 255.0) -> Tensor:
    """``ops.color.solarize_add``: ``addition`` added below ``threshold``, saturating at 1."""
    added = (image + _b(addition).to(image.dtype)).clamp_(max=1.0)
    return torch.lerp(image, added, (image < threshold).to(image.dtype))


def equalize(image: Tensor, _: Tensor | None = None) -> Tensor:
    """``ops.color.equalize`` on float images in ``[0, 1]``; a sample holding NaN or inf is returned
    unchanged, and a permuted or sliced input is valid, as there."""
    b, c, h, w = image.shape
    if image.numel() == 0:
        return image.clone()
    finite = torch.isfinite(image).reshape(b, -1).all(dim=1).view(b, 1, 1)  # (B, 1, 1)
    levels = torch.round(image * 255.0).nan_to_num_(0.0).clamp_(0, 255).to(torch.int64).reshape(b, c, h * w)
    lut, keep = _equalize_lut(levels)
    eq = lut.gather(2, levels).view(b, c, h, w).to(image.dtype).mul_(1.0 / 255.0)
    keep = keep | ~finite  # (lerp would turn inf into NaN: inf - (inf - eq) * 0)
    return torch.where(keep.view(b, c, 1, 1), image, eq)


def autocontrast(image: Tensor, _: Tensor | None = None) -> Tensor:
    """``ops.color.autocontrast``: each channel stretched to ``[0, 1]`` (flat channels unchanged).

    (``amin`` and ``amax``: on the CPU ``torch.aminmax`` over a dimension is several times slower.)
    """
    lo, hi = image.amin(dim=(2, 3), keepdim=True), image.amax(dim=(2, 3), keepdim=True)
    flat = hi <= lo
    scale = torch.where(flat, torch.ones_like(hi), 1.0 / torch.where(flat, torch.ones_like(hi), hi - lo))
    lo = torch.where(flat, torch.zeros_like(lo), lo)
    return (image - lo).mul_(scale).clamp_(0.0, 1.0)
