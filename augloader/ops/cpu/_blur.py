"""Separable blur per sample as a numba loop over ``(C, H, W)`` planes: ``ops.filters.gaussian_blur``'s values.

Per channel plane: every row of the (reflect-padded) plane is blurred horizontally into a scratch
plane that stays in cache, then each output row is a weighted sum of ``ky`` scratch rows; both
loops run along contiguous rows and vectorise. uint8 input is read as it is (no cast pass) and the
result is float32. Imported only when numba is installed (see ``augloader.ops.cpu``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

from ..._memory import working_batch


@numba.njit(cache=True)
def _reflect(idx: int, n: int) -> int:
    """torch's ``reflect`` padding of an index (about the edge pixels, edge not repeated)."""
    if 0 <= idx < n:
        return idx
    if n == 1:
        return 0
    period = 2 * (n - 1)
    r = idx % period
    return period - r if r >= n else r


@numba.njit(cache=True, fastmath={"nsz", "arcp", "contract", "afn", "reassoc"})
def _blur_planes(src, kx, ky, out) -> None:
    """``out[c]``: ``src[c]`` correlated with ``kx[c]`` along rows and ``ky[c]`` along columns, reflect padding."""
    c, h, w = src.shape
    nx, ny = kx.shape[1], ky.shape[1]
    rx, ry = nx // 2, ny // 2
    line = np.empty(w + 2 * rx, np.float32)
    tmp = np.empty((h + 2 * ry, w), np.float32)
    for k in range(c):
        for p in range(h + 2 * ry):
            r = _reflect(p - ry, h)
            for j in range(w):
                line[rx + j] = np.float32(src[k, r, j])
            for t in range(rx):
                line[rx - 1 - t] = line[rx + _reflect(-1 - t, w)]
                line[rx + w + t] = line[rx + _reflect(w + t, w)]
            for j in range(w):
                tmp[p, j] = kx[k, 0] * line[j]
            for t in range(1, nx):
                wt = kx[k, t]
                for j in range(w):
                    tmp[p, j] += wt * line[j + t]
        for i in range(h):
            for j in range(w):
                out[k, i, j] = ky[k, 0] * tmp[i, j]
            for t in range(1, ny):
                wt = ky[k, t]
                for j in range(w):
                    out[k, i, j] += wt * tmp[i + t, j]


def blur(image: Tensor, kernel_x: Tensor, kernel_y: Tensor) -> Tensor:
    """Separable filter per sample and channel with torch's ``reflect`` padding.

    Shape:
        ``image: (B, C, H, W)`` uint8 or float32 (any layout), ``kernel_x: (B, C, kx)``,
        ``kernel_y: (B, C, ky)`` -> float32 ``(B, C, H, W)`` contiguous.
    """
    b, c, h, w = image.shape
    kx = kernel_x.detach().to("cpu", torch.float32).contiguous().numpy()
    ky = kernel_y.detach().to("cpu", torch.float32).contiguous().numpy()
    out = working_batch((b, c, h, w), torch.float32)
    src, dst = image.numpy(), out.numpy()
    for i in range(b):
        _blur_planes(src[i], kx[i], ky[i], dst[i])
    return out
