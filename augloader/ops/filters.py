"""Pure batched filters: separable Gaussian blur with a sigma per sample, sharpening."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _host_math
from ._kernels import fusable


def gaussian_kernels(kernel_size: int, sigma: Tensor) -> Tensor:
    """Normalised 1-D Gaussian kernels, one per sample (torchvision's sampling of the Gaussian).

    Shape:
        ``sigma: (B,)`` -> ``(B, kernel_size)``.
    """
    half = (kernel_size - 1) * 0.5
    x = torch.linspace(-half, half, kernel_size, device=sigma.device, dtype=torch.float32)
    k = _host_math.exp(-0.5 * (x / sigma.view(-1, 1).to(torch.float32)) ** 2)
    return k / k.sum(dim=1, keepdim=True)


def channel_kernels(kernel_size: tuple[int, int], sigma: Tensor, channels: int) -> tuple[Tensor, Tensor]:
    """:func:`gaussian_blur`'s kernels, one per sample repeated over its channels (parameter-sized).

    Shape:
        ``sigma: (B, 2)`` -> ``(B, C, kx)`` and ``(B, C, ky)``.
    """
    kx, ky = kernel_size
    wx = gaussian_kernels(kx, sigma[:, 0])  # (B, kx)
    wy = gaussian_kernels(ky, sigma[:, 1])  # (B, ky)
    b = sigma.shape[0]
    return wx.unsqueeze(1).expand(b, channels, kx).contiguous(), wy.unsqueeze(1).expand(b, channels, ky).contiguous()


def gaussian_blur(
    image: Tensor, kernel_size: tuple[int, int], sigma: Tensor, kernels: tuple[Tensor, Tensor] | None = None
) -> Tensor:
    """Blurs each sample with its own ``(sigma_x, sigma_y)``: two 1-D passes, reflect padding.

    ``kernels``: :func:`channel_kernels` of ``sigma`` computed beforehand (e.g. on the host), else here.

    Shape:
        ``image: (B, C, H, W)``, ``sigma: (B, 2)`` -> ``(B, C, H, W)``.
    """
    b, c, h, w = image.shape
    if image.numel() == 0:
        return image.clone()
    kx, ky = kernel_size
    wx, wy = kernels if kernels is not None else channel_kernels(kernel_size, sigma, c)  # (B, C, k)
    if fusable():  # shifted weighted sums: a grouped conv fixes b * c, so a compiled graph would pin the batch size
        x = F.pad(image, (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect")
        wx, wy = wx.to(image.dtype).unsqueeze(-2).unsqueeze(-2), wy.to(image.dtype).unsqueeze(-2).unsqueeze(-2)
        x = sum(x[..., i : i + w] * wx[..., i] for i in range(kx))  # (B, C, H + 2 (ky // 2), W)
        return sum(x[..., j : j + h, :] * wy[..., j] for j in range(ky))
    # One reflect pad for both passes: padding rows commutes with the horizontal blur.
    x = F.pad(image.reshape(1, b * c, h, w), (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect")
    # One group per (sample, channel): the sample's kernel repeated over its channels.
    x = F.conv2d(x, wx.to(image.dtype).reshape(b * c, 1, 1, kx), groups=b * c)
    x = F.conv2d(x, wy.to(image.dtype).reshape(b * c, 1, ky, 1), groups=b * c)
    return x.view(b, c, h, w)


def sharpen(image: Tensor, factor: Tensor) -> Tensor:
    """torchvision's ``adjust_sharpness`` per sample: blend with a 3x3 smoothed image, borders kept.

    Shape:
        ``image: (B, C, H, W)``, ``factor: (B,)`` -> ``(B, C, H, W)``.
    """
    b, c, h, w = image.shape
    if image.numel() == 0 or h <= 2 or w <= 2:
        return image.clone()
    kernel = torch.ones(3, 3, dtype=image.dtype, device=image.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(c, 1, 3, 3)
    smooth = F.conv2d(image, kernel, groups=c)  # (B, C, H-2, W-2): interior only
    degenerate = image.clone()
    degenerate[..., 1:-1, 1:-1] = smooth
    f = factor.view(-1, 1, 1, 1).to(image.dtype)
    return (image * f + degenerate * (1.0 - f)).clamp_(0.0, 1.0)
