"""Separable blur per sample as numba loops over ``(C, H, W)`` planes: ``ops.filters.gaussian_blur``'s values.

Per channel plane: the plane is copied into a reflect-padded float32 plane (``(H + 2 ry, W + 2 rx)``),
blurred horizontally and then vertically with loops that run over the whole padded plane at once (long
loops vectorise; a loop per row of 224 pixels spent most of its time entering and leaving), and the
result is scaled (and rounded to uint8 when the pipeline ends here) on the way out. Everything a sample
needs stays in cache. uint8 input is read as it is (no cast pass). ``_warp`` warps straight into the
padded plane and reuses the rest. Imported only when numba is installed (see ``augloader.ops.cpu``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

from ..._memory import working_batch

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}


@numba.njit(cache=True, inline="always")
def _reflect(idx: int, n: int) -> int:
    """torch's ``reflect`` padding of an index (about the edge pixels, edge not repeated)."""
    if 0 <= idx < n:
        return idx
    if n == 1:
        return 0
    period = 2 * (n - 1)
    r = idx % period
    return period - r if r >= n else r


@numba.njit(cache=True)
def pad_reflect(padded, ry, rx, h, w):
    """Fills the border of ``padded`` (``(h + 2 ry, w + 2 rx)``) around its interior
    ``[ry:ry + h, rx:rx + w]`` with torch's ``reflect`` padding."""
    for i in range(ry, ry + h):
        for t in range(rx):
            padded[i, rx - 1 - t] = padded[i, rx + _reflect(-1 - t, w)]
            padded[i, rx + w + t] = padded[i, rx + _reflect(w + t, w)]
    for t in range(ry):
        padded[ry - 1 - t, :] = padded[ry + _reflect(-1 - t, h), :]
        padded[ry + h + t, :] = padded[ry + _reflect(h + t, h), :]


@numba.njit(cache=True, fastmath=_FLAGS)
def _correlate(src, k, step, n, dst):
    """``dst[q] = sum_t k[t] * src[q + t * step]`` for ``q < n``.

    Each tap reads its own slice of ``src`` (with offsets computed in the loop, LLVM does not vectorise
    it when ``step`` is only known at run time: 8x slower). 3, 5 and 7 taps run in one pass with every
    tap in the loop body; other lengths accumulate a tap per pass.
    """
    nk = k.shape[0]
    d = dst[:n]
    a0 = src[:n]
    if nk == 3:
        a1, a2 = src[step : step + n], src[2 * step : 2 * step + n]
        k0, k1, k2 = k[0], k[1], k[2]
        for q in range(n):
            d[q] = k0 * a0[q] + k1 * a1[q] + k2 * a2[q]
    elif nk == 5:
        a1, a2 = src[step : step + n], src[2 * step : 2 * step + n]
        a3, a4 = src[3 * step : 3 * step + n], src[4 * step : 4 * step + n]
        k0, k1, k2, k3, k4 = k[0], k[1], k[2], k[3], k[4]
        for q in range(n):
            d[q] = k0 * a0[q] + k1 * a1[q] + k2 * a2[q] + k3 * a3[q] + k4 * a4[q]
    elif nk == 7:
        a1, a2 = src[step : step + n], src[2 * step : 2 * step + n]
        a3, a4 = src[3 * step : 3 * step + n], src[4 * step : 4 * step + n]
        a5, a6 = src[5 * step : 5 * step + n], src[6 * step : 6 * step + n]
        k0, k1, k2, k3, k4, k5, k6 = k[0], k[1], k[2], k[3], k[4], k[5], k[6]
        for q in range(n):
            d[q] = k0 * a0[q] + k1 * a1[q] + k2 * a2[q] + k3 * a3[q] + k4 * a4[q] + k5 * a5[q] + k6 * a6[q]
    else:
        k0 = k[0]
        for q in range(n):
            d[q] = k0 * a0[q]
        for t in range(1, nk):
            at, kt = src[t * step : t * step + n], k[t]
            for q in range(n):
                d[q] += kt * at[q]


@numba.njit(cache=True, fastmath=_FLAGS)
def _store_rows(flat, stride, out, factor, to_uint8):
    """``out[i, j] = flat[i * stride + j] * factor``; rounded half to even and clamped to [0, 255] when
    ``to_uint8`` (the engine's finish, ``round_().clamp_(0, 255)``)."""
    h, w = out.shape
    for i in range(h):
        row, src = out[i], flat[i * stride : i * stride + w]  # slices: the loops vectorise (see _correlate)
        if to_uint8:  # clamped first: the same result, and the float32 -> int32 -> uint8 chain vectorises
            for j in range(w):
                v = min(max(src[j] * factor, np.float32(0.0)), np.float32(255.0))
                row[j] = np.uint8(np.int32(np.rint(v)))
        else:
            for j in range(w):
                row[j] = src[j] * factor


@numba.njit(cache=True)
def blur_padded(padded, kx, ky, out, factor, to_uint8, horizontal, vertical):
    """``out`` (``(H, W)``) = the padded plane's interior correlated with ``kx`` along rows and ``ky``
    along columns, times ``factor`` (rounded to uint8 when ``to_uint8``).

    ``padded`` is ``(H + 2 ry, W + 2 rx)`` with its border already filled; ``horizontal`` and ``vertical``
    are flat float32 scratch of at least ``(H + 2 ry) * (W + 2 rx)`` elements.
    """
    hp, wp = padded.shape
    h = out.shape[0]
    flat = padded.reshape(hp * wp)
    nh = hp * wp - (kx.shape[0] - 1)  # a row's last outputs read the next row: they are never stored
    _correlate(flat, kx, 1, nh, horizontal)
    _correlate(horizontal, ky, wp, h * wp, vertical)
    _store_rows(vertical, wp, out, factor, to_uint8)


@numba.njit(cache=True)
def _blur_batch(src, kx, ky, out, factor, to_uint8):
    b, c, h, w = src.shape
    rx, ry = kx.shape[2] // 2, ky.shape[2] // 2
    hp, wp = h + 2 * ry, w + 2 * rx
    padded = np.empty((hp, wp), np.float32)
    horizontal = np.zeros(hp * wp, np.float32)
    vertical = np.zeros(hp * wp, np.float32)
    for s in range(b):
        for k in range(c):
            plane = src[s, k]
            for i in range(h):
                row = padded[ry + i]
                for j in range(w):
                    row[rx + j] = plane[i, j]
            pad_reflect(padded, ry, rx, h, w)
            blur_padded(padded, kx[s, k], ky[s, k], out[s, k], factor, to_uint8, horizontal, vertical)


def blur(image: Tensor, kernel_x: Tensor, kernel_y: Tensor, scale: float = 1.0, to_uint8: bool = False) -> Tensor:
    """Separable filter per sample and channel with torch's ``reflect`` padding.

    Args:
        image: uint8 (read without the 1/255) or float32, any layout.
        kernel_x: the row kernels.
        kernel_y: the column kernels.
        scale: the result is multiplied by this.
        to_uint8: round half to even, clamp to [0, 255] and return uint8 (the engine's finish).

    Shape:
        ``image: (B, C, H, W)``, ``kernel_x: (B, C, kx)``, ``kernel_y: (B, C, ky)`` -> ``(B, C, H, W)``
        float32 contiguous (uint8 with ``to_uint8``).
    """
    b, c, h, w = image.shape
    kx = kernel_x.detach().to("cpu", torch.float32).contiguous().numpy()
    ky = kernel_y.detach().to("cpu", torch.float32).contiguous().numpy()
    out = working_batch((b, c, h, w), torch.uint8 if to_uint8 else torch.float32)
    src = image.detach()
    if not src.is_contiguous():
        src = src.contiguous()
    _blur_batch(src.numpy(), kx, ky, out.numpy(), np.float32(scale), to_uint8)
    return out
