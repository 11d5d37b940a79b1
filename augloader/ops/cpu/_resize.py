"""Crop, resize and flip per sample as two separable numba passes over ``(C, H, W)`` planes.

The taps are torch's ``interpolate(..., mode="bilinear", align_corners=False)``: with ``antialias``
a triangle filter as wide as the scale when downscaling (``_upsample_bilinear2d_aa``), plain bilinear
otherwise. uint8 follows torch's uint8 kernel (PIL's scheme): integer weights, a horizontal pass
rounded to uint8, then the vertical pass, so the result is ``ops.resize.resized_crop``'s, bit for
bit; float32 keeps float weights. Reading and writing planes, the colour kernel that usually
follows reads the result without a transposition.

The horizontal taps are scalar loads (LLVM does not vectorise these gathers); what keeps them
cheap: uint32 indices (numba then skips its negative-index wraparound) and, for uint8, three
channels sharing each tap's index and weight. Integer sums are exact in any order, so none of this
changes a value.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
import torch
from torch import Tensor

from ..._memory import working_batch

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}


@functools.lru_cache(maxsize=4096)
def axis_taps(n_in: int, n_out: int, antialias: bool, flip: bool, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Each output index's input indices and weights along one axis (torch's, see the module doc).

    Returns:
        ``(index (K, n_out) int64, weights (K, n_out) float32)``: tap ``t`` of output ``j`` reads input
        ``index[t, j]`` (clamped into range; taps past the input weigh zero). Cached: read only.
    """
    scale = n_in / n_out
    support = scale if (antialias and scale >= 1.0) else 1.0
    inv = 1.0 / support
    centre = scale * (np.arange(n_out, dtype=np.float64) + 0.5)
    start = np.maximum(np.trunc(centre - support + 0.5), 0.0)
    stop = np.minimum(np.trunc(centre + support + 0.5), n_in)
    k = max(1, int((stop - start).max()))
    pos = start[None, :] + np.arange(k)[:, None]  # (K, n_out)
    w = np.clip(1.0 - np.abs((pos - centre[None, :] + 0.5) * inv), 0.0, None) * (pos < stop[None, :])
    w = w / w.sum(axis=0, keepdims=True)
    index = np.minimum(pos, n_in - 1).astype(np.int64)
    if flip:
        index, w = index[:, ::-1], w[:, ::-1]
    index, w = np.ascontiguousarray(index), np.ascontiguousarray(w, dtype=dtype)
    index.flags.writeable = w.flags.writeable = False
    return index, w


@functools.lru_cache(maxsize=4096)
def axis_taps_fixed(n_in: int, n_out: int, antialias: bool, flip: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`axis_taps` as torch's uint8 kernel rounds them: integer weights with ``precision``
    fraction bits (the most that keep the largest weight below 2**15; PIL's resampling scheme).

    Returns:
        ``(index (K, n_out) int64, weights (K, n_out) int32, precision)``. Cached: read only.
    """
    index, w = axis_taps(n_in, n_out, antialias, flip, np.float64)
    w_max = float(w.max())
    precision = 0
    while precision < 22 and int(0.5 + w_max * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    fixed = np.trunc(w * (1 << precision) + 0.5).astype(np.int32)  # weights are >= 0: round half up
    fixed.flags.writeable = False
    return index, fixed, precision


@functools.lru_cache(maxsize=4096)
def _kernel_taps(n_in: int, n_out: int, antialias: bool, flip: bool, fixed: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """The kernels' taps: :func:`axis_taps_fixed` (``fixed``) or :func:`axis_taps` with the index as
    uint32. numba then knows an index is not negative and skips the wraparound (about 30% of the
    horizontal pass, whose taps are scalar loads). Cached: read only."""
    if fixed:
        index, w, precision = axis_taps_fixed(n_in, n_out, antialias, flip)
    else:
        (index, w), precision = axis_taps(n_in, n_out, antialias, flip), 0
    index = index.astype(np.uint32)
    index.flags.writeable = False
    return index, w, precision


@numba.njit(cache=True, boundscheck=False)
def _resize_planes_fixed(src, yi, wy, py: int, xi, wx, px: int, tmp, dst) -> None:
    """uint8 ``dst[c] = Wy @ src[c] @ Wx^T`` in torch's fixed point: the horizontal pass rounds to uint8
    (into ``tmp (C, H, W_out)``), then the vertical pass; each rounds half up and saturates. Integer
    sums are exact, so the order of the taps and channels is free: three channels share each tap's
    index and weight loads."""
    c, h, w = src.shape
    h_out, w_out = dst.shape[1], dst.shape[2]
    kx, ky = wx.shape[0], wy.shape[0]
    half_x, half_y = np.int32(1 << (px - 1)), np.int32(1 << (py - 1))
    n = 3 if c == 3 else 1  # channels per horizontal pass
    acc = np.empty((n, w_out), np.int32)
    line = np.empty((n, w), np.int32)  # the rows widened once (contiguous), then read by the taps
    if n == 3:
        for r in range(h):
            for k in range(3):
                for j in range(w):
                    line[k, j] = src[k, r, j]
            for j in range(w_out):
                q, wt = xi[0, j], wx[0, j]
                acc[0, j] = half_x + wt * line[0, q]
                acc[1, j] = half_x + wt * line[1, q]
                acc[2, j] = half_x + wt * line[2, q]
            for t in range(1, kx):
                for j in range(w_out):
                    q, wt = xi[t, j], wx[t, j]
                    acc[0, j] += wt * line[0, q]
                    acc[1, j] += wt * line[1, q]
                    acc[2, j] += wt * line[2, q]
            for k in range(3):
                for j in range(w_out):
                    tmp[k, r, j] = min(max(acc[k, j] >> px, 0), 255)
    else:
        for k in range(c):
            for r in range(h):
                for j in range(w):
                    line[0, j] = src[k, r, j]
                for j in range(w_out):
                    acc[0, j] = half_x + wx[0, j] * line[0, xi[0, j]]
                for t in range(1, kx):
                    for j in range(w_out):
                        acc[0, j] += wx[t, j] * line[0, xi[t, j]]
                for j in range(w_out):
                    tmp[k, r, j] = min(max(acc[0, j] >> px, 0), 255)
    for k in range(c):
        for i in range(h_out):
            r0 = yi[0, i]
            w0 = wy[0, i]
            if ky == 2:  # every upscale: one loop, no accumulator (25% faster)
                r1, w1 = yi[1, i], wy[1, i]
                for j in range(w_out):
                    v = half_y + w0 * np.int32(tmp[k, r0, j]) + w1 * np.int32(tmp[k, r1, j])
                    dst[k, i, j] = min(max(v >> py, 0), 255)
                continue
            for j in range(w_out):
                acc[0, j] = half_y + w0 * np.int32(tmp[k, r0, j])
            for t in range(1, ky):
                r, wt = yi[t, i], wy[t, i]
                for j in range(w_out):
                    acc[0, j] += wt * np.int32(tmp[k, r, j])
            for j in range(w_out):
                dst[k, i, j] = min(max(acc[0, j] >> py, 0), 255)


@numba.njit(cache=True, fastmath=_FLAGS)
def _resize_planes(src, yi, wy, xi, wx, tmp, dst) -> None:
    """``dst[c] = Wy @ src[c] @ Wx^T`` with banded weights: horizontal pass into ``tmp``, then vertical.

    ``xi, wx``: ``(Kx, W_out)`` taps per output column; ``yi, wy``: ``(Ky, H_out)`` per output row.
    """
    c, h, w = src.shape
    h_out, w_out = dst.shape[1], dst.shape[2]
    kx, ky = wx.shape[0], wy.shape[0]
    line = np.empty(w, np.float32)
    row = np.empty(w_out, np.float32)
    for k in range(c):
        for r in range(h):
            for j in range(w):
                line[j] = np.float32(src[k, r, j])
            for j in range(w_out):
                tmp[r, j] = wx[0, j] * line[xi[0, j]]
            for t in range(1, kx):
                for j in range(w_out):
                    tmp[r, j] += wx[t, j] * line[xi[t, j]]
        for i in range(h_out):
            r0, w0 = yi[0, i], wy[0, i]
            for j in range(w_out):
                row[j] = w0 * tmp[r0, j]
            for t in range(1, ky):
                r, wt = yi[t, i], wy[t, i]
                for j in range(w_out):
                    row[j] += wt * tmp[r, j]
            for j in range(w_out):
                dst[k, i, j] = row[j]


def resized_crop(
    image: Tensor, boxes: list[list[int]], size: tuple[int, int], antialias: bool, hflip: list[bool], vflip: list[bool]
) -> Tensor:
    """``ops.resize.resized_crop`` (bilinear) for uint8 or float32 images, one numba call per sample.

    Args:
        image: ``(B, C, H, W)`` uint8 or float32, any layout.
        boxes: per sample ``[left, top, right, bottom]`` inside the image.
        size: output ``(H, W)``.
        antialias: low-pass when downscaling (torch's antialiased bilinear).
        hflip, vflip: per sample, mirror the output.

    Shape:
        ``(B, C, H, W)`` -> ``(B, C, size[0], size[1])`` contiguous, same dtype.
    """
    b, c = image.shape[:2]
    h_out, w_out = size
    out = working_batch((b, c, h_out, w_out), image.dtype)
    src, dst = image.numpy(), out.numpy()
    fixed = image.dtype == torch.uint8
    tmp = np.empty((c, image.shape[2], w_out), np.uint8) if fixed else np.empty((image.shape[2], w_out), np.float32)
    for i, (left, top, right, bottom) in enumerate(boxes):
        crop = src[i, :, top:bottom, left:right]
        xi, wx, px = _kernel_taps(right - left, w_out, antialias, hflip[i], fixed)
        yi, wy, py = _kernel_taps(bottom - top, h_out, antialias, vflip[i], fixed)
        if fixed:
            _resize_planes_fixed(crop, yi, wy, py, xi, wx, px, tmp, dst[i])
        else:
            _resize_planes(crop, yi, wy, xi, wx, tmp, dst[i])
    return out
