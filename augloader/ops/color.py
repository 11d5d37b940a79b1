"""Pure batched colour ops on float images in ``[0, 1]`` with per-sample factors.

Factors are ``(B,)`` tensors (one per sample). Linear ops (brightness, contrast, saturation,
grayscale) are expressed as per-sample 3x3 colour matrices plus offsets so a chain of them costs one
pass over the pixels (:func:`color_affine`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import _host_math
from .._const import const
from .._memory import working_batch
from ._kernels import fusable

#: ITU-R 601-2 luma weights, as torchvision and PIL use them.
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _b(x: Tensor, n: int = 3) -> Tensor:
    """Reshapes a ``(B,)`` factor to broadcast against ``(B, C, H, W)``."""
    return x.view(-1, *([1] * n))


def rgb_to_grayscale(image: Tensor) -> Tensor:
    """Luma of RGB images (single-channel images are returned as they are).

    Shape:
        ``(B, 3, H, W)`` -> ``(B, 1, H, W)``.
    """
    if image.shape[1] == 1:
        return image
    r, g, b = image.unbind(1)
    return (r * GRAY_WEIGHTS[0] + g * GRAY_WEIGHTS[1] + b * GRAY_WEIGHTS[2]).unsqueeze(1)


def color_affine(image: Tensor, matrix: Tensor, offset: Tensor, clamp: bool = True) -> Tensor:
    """``out[c] = sum_k matrix[c, k] * image[k] + offset[c]`` per pixel and per sample, in one pass.

    Eager a ``bmm``; with fusable kernels (``ops._kernels``) a broadcast sum that inductor fuses.

    Shape:
        ``image: (B, C, H, W)``, ``matrix: (B, C, C)``, ``offset: (B, C)`` -> ``(B, C, H, W)``.
    """
    b, c, h, w = image.shape
    if fusable():  # a per-pixel sum over c (inductor unrolls it) fuses with its neighbours; bmm would not
        out = (matrix.to(image.dtype).view(b, c, c, 1, 1) * image.unsqueeze(1)).sum(2)
    else:
        out = torch.bmm(matrix.to(image.dtype), image.reshape(b, c, h * w)).view(b, c, h, w)
    out = out.add_(offset.to(image.dtype).view(b, c, 1, 1))
    return out.clamp_(0.0, 1.0) if clamp else out


def _weights(c: int, device, dtype=torch.float32) -> Tensor:
    if c not in (1, 3):
        raise ValueError(f"colour ops need 1 (gray) or 3 (RGB) channels, got an image with {c} channels")
    if c == 1:
        return torch.ones(1, device=device, dtype=dtype)
    return const(GRAY_WEIGHTS, device, dtype)


def brightness_matrix(factor: Tensor, channels: int = 3) -> tuple[Tensor, Tensor]:
    """``x * factor``. Returns ``(matrix (B, C, C), offset (B, C))``."""
    eye = torch.eye(channels, device=factor.device)
    return factor.view(-1, 1, 1) * eye, torch.zeros(factor.shape[0], channels, device=factor.device)


def saturation_matrix(factor: Tensor, channels: int = 3) -> tuple[Tensor, Tensor]:
    """``factor * x + (1 - factor) * gray(x)``. Returns ``(matrix, offset)``."""
    eye = torch.eye(channels, device=factor.device)
    to_gray = torch.ones(channels, 1, device=factor.device) * _weights(channels, factor.device).view(1, -1)  # 1 w^T
    f = factor.view(-1, 1, 1)
    return f * eye + (1.0 - f) * to_gray, torch.zeros(factor.shape[0], channels, device=factor.device)


def contrast_matrix(factor: Tensor, mean_gray: Tensor, channels: int = 3) -> tuple[Tensor, Tensor]:
    """``factor * x + (1 - factor) * mean_gray``, ``mean_gray (B,)`` the image's mean luma."""
    eye = torch.eye(channels, device=factor.device)
    f = factor.view(-1, 1)
    return factor.view(-1, 1, 1) * eye, ((1.0 - f) * mean_gray.view(-1, 1)).expand(-1, channels).contiguous()


def grayscale_matrix(on: Tensor, channels: int = 3) -> tuple[Tensor, Tensor]:
    """Replaces every channel by the luma where ``on`` (a bool ``(B,)``), identity elsewhere."""
    return saturation_matrix(torch.where(on, 0.0, 1.0).to(torch.float32), channels)


def mean_gray(image: Tensor) -> Tensor:
    """Mean luma per sample. ``(B, C, H, W)`` -> ``(B,)``."""
    means = image.mean(dim=(2, 3))  # (B, C)
    return means @ _weights(image.shape[1], image.device, image.dtype)


def adjust_brightness(image: Tensor, factor: Tensor) -> Tensor:
    """torchvision's ``adjust_brightness`` with a factor per sample."""
    return (image * _b(factor).to(image.dtype)).clamp_(0.0, 1.0)


def adjust_contrast(image: Tensor, factor: Tensor) -> Tensor:
    """torchvision's ``adjust_contrast`` with a factor per sample (blend with the mean luma)."""
    f = _b(factor).to(image.dtype)
    return (image * f + (1.0 - f) * _b(mean_gray(image))).clamp_(0.0, 1.0)


def adjust_saturation(image: Tensor, factor: Tensor) -> Tensor:
    """torchvision's ``adjust_saturation`` with a factor per sample (blend with the luma image)."""
    f = _b(factor).to(image.dtype)
    return (image * f + (1.0 - f) * rgb_to_grayscale(image)).clamp_(0.0, 1.0)


def adjust_hue(image: Tensor, shift: Tensor) -> Tensor:
    """Rotates the HSV hue by ``shift`` (in turns, ``[-0.5, 0.5]``) per sample; value and saturation kept.

    Exact HSV arithmetic (torchvision's result within float rounding), arranged to need only the
    per-pixel min, chroma and new hue ``h`` (in sixths of a turn): each output channel is
    ``min + chroma * ramp(h)`` with the ramps ``R = clamp(|h - 3| - 1)``, ``G = clamp(2 - |h - 2|)``,
    ``B = clamp(2 - |h - 4|)``. About 25 plane passes, most in place; no ``out=`` writes, so it
    compiles without graph breaks.

    Shape:
        ``image: (B, 3, H, W)``, ``shift: (B,)`` -> ``(B, 3, H, W)``.
    """
    if image.shape[1] != 3:
        return image
    if image.requires_grad and torch.is_grad_enabled():
        return _adjust_hue_autograd(image, shift)
    r, g, b = image.unbind(1)
    minc, maxc = torch.aminmax(image, dim=1)  # (B, H, W)
    chroma = maxc - minc
    inv = torch.where(chroma > 0, chroma, torch.ones((), dtype=image.dtype, device=image.device)).reciprocal_()
    # Hue numerator by which channel is the maximum (torchvision's tie order: red, then green).
    num = torch.where(
        maxc == r,
        g - b,
        torch.where(maxc == g, (b - r).add_(chroma, alpha=2.0), (r - g).add_(chroma, alpha=4.0)),
    )
    h6 = num.mul_(inv).add_(_b(shift, 2).to(image.dtype) * 6.0)  # in [-4, 8)
    h6 = h6.sub_(torch.floor(h6 * (1.0 / 6.0)).mul_(6.0))  # wrapped to [0, 6)
    # The three ramps at once, (B, 3, H, W): sign * |h - centre| + base, clamped to [0, 1].
    centre, sign, base = (const(v, image.device, image.dtype).view(1, 3, 1, 1) for v in _HUE_RAMPS)
    ramp = torch.addcmul(base, sign, (h6.unsqueeze(1) - centre).abs_()).clamp_(0.0, 1.0)
    return torch.addcmul(minc.unsqueeze(1), chroma.unsqueeze(1), ramp)


#: ``adjust_hue``'s ramps per output channel as (centres, signs, bases): R = |h - 3| - 1,
#: G = 2 - |h - 2|, B = 2 - |h - 4|.
_HUE_RAMPS = ((3.0, 2.0, 4.0), (1.0, -1.0, -1.0), (-1.0, 2.0, 2.0))


def _adjust_hue_autograd(image: Tensor, shift: Tensor) -> Tensor:
    """:func:`adjust_hue` without in-place or ``out=`` ops, for inputs that require grad (slower)."""
    r, g, b = image.unbind(1)
    maxc, minc = image.amax(dim=1), image.amin(dim=1)  # (B, H, W)
    chroma = maxc - minc
    inv = 1.0 / torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    num = torch.where(maxc == r, g - b, torch.where(maxc == g, b - r + 2.0 * chroma, r - g + 4.0 * chroma))
    h6 = num * inv + _b(shift, 2).to(image.dtype) * 6.0
    h6 = h6 - torch.floor(h6 / 6.0) * 6.0  # wrapped to [0, 6)
    ramps = ((h6 - 3.0).abs() - 1.0, 2.0 - (h6 - 2.0).abs(), 2.0 - (h6 - 4.0).abs())
    return torch.stack([minc + chroma * ramp.clamp(0.0, 1.0) for ramp in ramps], dim=1)


def hue_rotation_matrix(shift: Tensor) -> Tensor:
    """A linear stand-in for a hue shift: rotation by ``shift`` turns about the gray axis of RGB space.

    Keeps each pixel's mean and its distance from the gray axis, so it folds into a colour matrix
    (no extra pass). It follows the HSV hue circle on a circle instead of HSV's hexagon: on natural
    images the mean absolute difference to the exact shift is about 0.03 for shifts up to 0.1 turn.

    Shape:
        ``shift: (B,)`` -> ``(B, 3, 3)``.
    """
    angle = shift.to(torch.float32) * (2.0 * math.pi)
    cos, sin = _host_math.cos(angle).view(-1, 1, 1), _host_math.sin(angle).view(-1, 1, 1)
    eye = torch.eye(3, device=shift.device)
    ones = torch.full((3, 3), 1.0 / 3.0, device=shift.device)
    cross = const([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]], shift.device) / math.sqrt(3.0)
    # Rodrigues' rotation about (1, 1, 1) / sqrt(3); positive turns go red -> yellow -> green like HSV.
    return cos * eye + (1.0 - cos) * ones + sin * cross


def adjust_gamma(image: Tensor, gamma: Tensor, gain: Tensor | float = 1.0) -> Tensor:
    """``gain * image ** gamma`` per sample, clamped to ``[0, 1]``."""
    out = image.pow(_b(gamma).to(image.dtype))
    if not (isinstance(gain, float) and gain == 1.0):
        out = out * (_b(gain) if isinstance(gain, Tensor) else gain)
    return out.clamp_(0.0, 1.0)


def solarize(image: Tensor, threshold: Tensor) -> Tensor:
    """Inverts pixels at or above ``threshold`` (per sample; a threshold above 1 changes nothing)."""
    return torch.where(image >= _b(threshold).to(image.dtype), 1.0 - image, image)


def solarize_add(image: Tensor, addition: Tensor, threshold: Tensor | float = 127.5 / 255.0) -> Tensor:
    """Adds ``addition`` (per sample) to pixels below ``threshold``, saturating at 1 (timm's SolarizeAdd).

    The default threshold lies between the 8-bit levels 127 and 128, so levels below 128 change,
    whatever the float rounding of ``level / 255``.

    Shape:
        ``image: (B, C, H, W)``, ``addition: (B,)`` -> ``(B, C, H, W)``.
    """
    thr = _b(threshold).to(image.dtype) if isinstance(threshold, Tensor) else threshold
    added = (image + _b(addition).to(image.dtype)).clamp_(max=1.0)
    return torch.where(image < thr, added, image)


def posterize(image: Tensor, bits: Tensor) -> Tensor:
    """Keeps the top ``bits`` bits of each 8-bit value per sample (uint8 semantics).

    ``bits >= 8`` returns the sample untouched (the neutral value of skipped samples), also for float
    values between 8-bit levels, which quantising would otherwise move.
    """
    bits = _b(bits).to(image.dtype)  # (B, 1, 1, 1)
    step = torch.pow(2.0, 8.0 - bits)
    v = torch.round(image * 255.0)
    return torch.where(bits >= 8.0, image, torch.floor(v / step).mul_(step).mul_(1.0 / 255.0))


def invert(image: Tensor, on: Tensor | None = None) -> Tensor:
    """``1 - image`` (where ``on`` is True, if given)."""
    if on is None:
        return 1.0 - image
    return torch.where(_b(on), 1.0 - image, image)


def autocontrast(image: Tensor, on: Tensor | None = None) -> Tensor:
    """Stretches each channel of each sample to span ``[0, 1]`` (where ``on``); flat channels unchanged."""
    lo = image.amin(dim=(2, 3), keepdim=True)
    hi = image.amax(dim=(2, 3), keepdim=True)
    flat = hi <= lo
    if on is not None:
        flat = flat | ~_b(on)
    scale = torch.where(flat, torch.ones_like(hi), 1.0 / torch.where(flat, torch.ones_like(hi), hi - lo))
    lo = torch.where(flat, torch.zeros_like(lo), lo)
    return ((image - lo) * scale).clamp_(0.0, 1.0)


def equalize(image: Tensor, on: Tensor | None = None) -> Tensor:
    """Histogram equalisation per sample and channel on 8-bit levels (PIL's and torchvision's LUT).

    A sample holding a NaN or an infinity is returned unchanged (its histogram is undefined): the
    non-finite values stay in their own sample, as every other op leaves them.

    Shape:
        ``(B, C, H, W)`` -> ``(B, C, H, W)``.
    """
    b, c, h, w = image.shape
    if image.numel() == 0:
        return image.clone()
    finite = torch.isfinite(image).reshape(b, -1).all(dim=1)  # (B,)
    # reshape, not view: a permuted or sliced input is valid too; NaN would become a garbage index.
    levels = torch.round(image * 255.0).nan_to_num_(0.0).clamp_(0, 255).to(torch.int64).reshape(b, c, h * w)
    hist = torch.zeros(b, c, 256, dtype=torch.int64, device=image.device)
    hist.scatter_add_(2, levels, torch.ones_like(levels))
    cum = hist.cumsum(dim=2)
    # PIL: step = (number of pixels not at the image's highest level) // 255.
    top = (hist > 0).to(torch.int64).mul(torch.arange(256, device=image.device)).argmax(dim=2, keepdim=True)
    step = (h * w - hist.gather(2, top)) // 255  # (B, C, 1)
    lut = (cum[..., :-1] + step // 2) // step.clamp(min=1)
    lut = torch.cat([torch.zeros_like(lut[..., :1]), lut.clamp_(0, 255)], dim=2)  # lut[0] = 0
    eq = lut.gather(2, levels).view(b, c, h, w).to(image.dtype).mul_(1.0 / 255.0)
    keep = (step == 0).view(b, c, 1, 1) | ~finite.view(b, 1, 1, 1)
    if on is not None:
        keep = keep | ~_b(on)
    return torch.where(keep, image, eq)


def normalize(image: Tensor, mean: Tensor, std: Tensor, bias_std: Tensor | None = None) -> Tensor:
    """``(image - mean) / std`` per channel; a uint8 image is scaled to ``[0, 1]`` in the same pass.

    ``bias_std`` (default ``std``) divides the mean alone: ``image / std - mean / bias_std``, which
    lets a caller fold a value scale into ``std``.

    Shape:
        ``image: (B, C, H, W)``, ``mean, std: (C,)`` -> float ``(B, C, H, W)``.
    """
    scale = 1.0 / std.view(1, -1, 1, 1)
    if image.dtype == torch.uint8:
        scale = scale / 255.0
    bias = (-mean / (std if bias_std is None else bias_std)).view(1, -1, 1, 1)
    if image.dtype == torch.uint8:  # cast, then scale in place: faster on CPU than a mixed-dtype multiply
        out = working_batch(tuple(image.shape), torch.float32, image.device)  # shared memory in a DataLoader worker
        return out.copy_(image).mul_(scale).add_(bias)
    return torch.mul(image, scale.to(image.dtype)).add_(bias.to(image.dtype))
