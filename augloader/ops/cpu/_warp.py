"""Affine warps per sample as numba loops, optionally with the separable blur that follows in the same call.

``ops.warp.warp``'s values (``grid_sample`` with ``align_corners=False``): bilinear or nearest, padding
``constant`` (with a fill), ``edge``, ``reflect`` or ``symmetric``. Per sample, the input is copied into
float32 planes that stay in cache (so uint8 needs no cast pass over the batch); per output row the
source coordinates, tap offsets and weights are computed once, then each pixel is four gathers and
multiply-adds per channel (the three channels of an RGB image share the taps; for them the gathers
are vector gathers, ``_simd``). No sampling grid is written to memory.

With a blur after the warp (``GaussianBlur`` right after ``RandomAffine`` and flips, as in P3), each
sample is warped into the blur's reflect-padded planes and blurred from there into the output; when
the pipeline ends there, the engine's last step (round, clamp, cast to uint8) is done in the same pass.
Measured on one core (``docs/kernels.md``): P3 0.85 -> about 0.5 ms per 224x224 image.
Imported only when numba is installed (see ``augloader.ops.cpu``).
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from torch import Tensor

from ..._memory import working_batch
from ._blur import _store_rows, blur_padded, pad_reflect
from ._simd import bilinear_rows3

_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: Padding codes of the kernels.
PADDINGS = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}


@numba.njit(cache=True, inline="always")
def _fold(p, n, padding):
    """Pixel-index coordinate ``p`` folded into ``[0, n - 1]`` like ``ops.warp``'s padding modes."""
    if padding == 2:  # reflect about the first and last pixel centres
        if n == 1:
            return np.float32(0.0)
        period = np.float32(2.0 * (n - 1))
        u = p - period * np.floor(p / period)
        if u > n - 1:
            u = period - u
        return u
    if padding == 3:  # symmetric: about the image border, edge pixel repeated
        period = np.float32(2.0 * n)
        q = p + np.float32(0.5)
        u = q - period * np.floor(q / period)
        if u > n:
            u = period - u
        p = u - np.float32(0.5)
    return min(max(p, np.float32(0.0)), np.float32(n - 1.0))  # edge (and the end of symmetric)


# A plain call, not numba's inline="always": inlined at numba's level, a freshly compiled warp ran at
# half the speed of the same code loaded from the cache (0.87 vs 0.37 ms per image); LLVM inlines it.
@numba.njit(cache=True, fastmath=_FLAGS)
def _bilinear_tap(px, py, h, w, j, o0, o1, o2, o3, w0, w1, w2, w3):
    """The four taps of pixel-index coordinate ``(px, py)`` into column ``j``: offsets into an ``(H * W)``
    plane (clamped into it) and weights, zero for taps outside the image (``grid_sample``'s zeros)."""
    one, zero = np.float32(1.0), np.float32(0.0)
    x0f = np.floor(px)
    y0f = np.floor(py)
    fx = px - x0f
    fy = py - y0f
    x0 = np.int32(min(max(x0f, np.float32(-2.0)), np.float32(w)))  # far outside is outside all the same
    y0 = np.int32(min(max(y0f, np.float32(-2.0)), np.float32(h)))
    wx0 = one - fx if (x0 >= 0) & (x0 < w) else zero
    wx1 = fx if (x0 >= -1) & (x0 < w - 1) else zero
    wy0 = one - fy if (y0 >= 0) & (y0 < h) else zero
    wy1 = fy if (y0 >= -1) & (y0 < h - 1) else zero
    xa = min(max(x0, 0), w - 1)
    xb = min(max(x0 + 1, 0), w - 1)
    ya = min(max(y0, 0), h - 1) * w
    yb = min(max(y0 + 1, 0), h - 1) * w
    o0[j] = ya + xa
    o1[j] = ya + xb
    o2[j] = yb + xa
    o3[j] = yb + xb
    w0[j] = wy0 * wx0
    w1[j] = wy0 * wx1
    w2[j] = wy1 * wx0
    w3[j] = wy1 * wx1


@numba.njit(cache=True, fastmath=_FLAGS)
def _row_taps(m, i, h, w, padding, nearest, use_fill, offsets, weights, coverage):
    """Tap offsets ``(4, Wo)`` (uint32, into a ``(H * W)`` plane) and weights ``(4, Wo)`` of output row ``i``;
    ``coverage``: the share of each pixel's weight inside the image (for a constant fill)."""
    wo = offsets.shape[1]
    fi = np.float32(i)
    bx = m[0, 1] * fi + m[0, 2]
    by = m[1, 1] * fi + m[1, 2]
    one, zero, half = np.float32(1.0), np.float32(0.0), np.float32(0.5)
    wf, hf = np.float32(w), np.float32(h)
    o0, o1, o2, o3 = offsets[0], offsets[1], offsets[2], offsets[3]
    w0, w1, w2, w3 = weights[0], weights[1], weights[2], weights[3]
    if not nearest and padding == 0 and not use_fill:  # the common case in a loop of its own: it vectorises
        for j in range(wo):
            fj = np.float32(j)
            _bilinear_tap(m[0, 0] * fj + bx, m[1, 0] * fj + by, h, w, j, o0, o1, o2, o3, w0, w1, w2, w3)
        return
    for j in range(wo):
        fj = np.float32(j)
        px = m[0, 0] * fj + bx
        py = m[1, 0] * fj + by
        if use_fill:  # ops.warp's coverage: a box for nearest, a triangle for bilinear
            if nearest:
                inside = (px >= -half) & (px < wf - half) & (py >= -half) & (py < hf - half)
                coverage[j] = one if inside else zero
            else:
                cx = min(max(min(px + one, wf - px), zero), one)
                coverage[j] = cx * min(max(min(py + one, hf - py), zero), one)
        if padding != 0:
            px = _fold(px, w, padding)
            py = _fold(py, h, padding)
        if nearest:
            xr = np.rint(px)
            yr = np.rint(py)
            xi = np.int32(min(max(xr, zero), wf - one))
            yi = np.int32(min(max(yr, zero), hf - one))
            o0[j] = yi * w + xi
            w0[j] = one if (xr >= zero) & (xr < wf) & (yr >= zero) & (yr < hf) else zero
        else:
            _bilinear_tap(px, py, h, w, j, o0, o1, o2, o3, w0, w1, w2, w3)


@numba.njit(cache=True, fastmath=_FLAGS)
def _warp_sample(src, m, padding, nearest, fill, use_fill, dst, ry, rx, planes, offsets, weights, coverage):
    """``dst[c, ry + i, rx:rx + Wo]`` (float32) = ``src[c]`` sampled at ``m @ (j, i, 1)`` for every output
    row ``i`` (``dst`` may be a blur's padded planes; ``ry = rx = 0`` fills it whole).

    ``planes`` (``(C, H * W)`` float32) is scratch: the sample as float32 (cheaper gathers).
    """
    c, h, w = src.shape
    wo = offsets.shape[1]
    ho = dst.shape[1] - 2 * ry
    flat = src.reshape(c, h * w)
    for k in range(c):
        for q in range(h * w):
            planes[k, q] = flat[k, q]
    o0, o1, o2, o3 = offsets[0], offsets[1], offsets[2], offsets[3]
    w0, w1, w2, w3 = weights[0], weights[1], weights[2], weights[3]
    for i in range(ho):
        _row_taps(m, i, np.int32(h), np.int32(w), padding, nearest, use_fill, offsets, weights, coverage)
        if nearest:
            for k in range(c):
                p, row = planes[k], dst[k, ry + i, rx : rx + wo]
                for j in range(wo):
                    row[j] = w0[j] * p[o0[j]]
        elif c == 3:  # the tap offsets and weights are loaded once for the three channels
            p0, p1, p2 = planes[0], planes[1], planes[2]
            r0, r1, r2 = dst[0, ry + i, rx : rx + wo], dst[1, ry + i, rx : rx + wo], dst[2, ry + i, rx : rx + wo]
            done = bilinear_rows3(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, wo)  # vector gathers
            for j in range(done, wo):
                a, b, d, e = o0[j], o1[j], o2[j], o3[j]
                va, vb, vd, ve = w0[j], w1[j], w2[j], w3[j]
                r0[j] = va * p0[a] + vb * p0[b] + vd * p0[d] + ve * p0[e]
                r1[j] = va * p1[a] + vb * p1[b] + vd * p1[d] + ve * p1[e]
                r2[j] = va * p2[a] + vb * p2[b] + vd * p2[d] + ve * p2[e]
        else:
            for k in range(c):
                p, row = planes[k], dst[k, ry + i, rx : rx + wo]
                for j in range(wo):
                    row[j] = w0[j] * p[o0[j]] + w1[j] * p[o1[j]] + w2[j] * p[o2[j]] + w3[j] * p[o3[j]]
        if use_fill:
            for k in range(c):
                f, row = fill[k], dst[k, ry + i, rx : rx + wo]
                for j in range(wo):
                    row[j] += (np.float32(1.0) - coverage[j]) * f


@numba.njit(cache=True)
def _warp_batch(src, mats, padding, nearest, fill, use_fill, kx, ky, blur, out, factor, to_uint8):
    """Every sample: warp into float32 planes (padded for the blur), then blur them into ``out`` or store
    them there (scaled; rounded to uint8 when ``to_uint8``)."""
    b, c, h, w = src.shape
    ho, wo = out.shape[2], out.shape[3]
    rx, ry = (kx.shape[2] // 2, ky.shape[2] // 2) if blur else (0, 0)
    hp, wp = ho + 2 * ry, wo + 2 * rx
    offsets = np.zeros((4, wo), np.uint32)  # unsigned: numba indexes without the negative-index wraparound
    weights = np.zeros((4, wo), np.float32)
    coverage = np.ones(wo, np.float32)
    planes = np.empty((c, h * w), np.float32)
    warped = np.zeros((c, hp, wp), np.float32)
    horizontal = np.zeros(hp * wp, np.float32)
    vertical = np.zeros(hp * wp, np.float32)
    for s in range(b):
        _warp_sample(
            src[s], mats[s], padding, nearest, fill, use_fill, warped, ry, rx, planes, offsets, weights, coverage
        )
        for k in range(c):
            if blur:
                pad_reflect(warped[k], ry, rx, ho, wo)
                blur_padded(warped[k], kx[s, k], ky[s, k], out[s, k], factor, to_uint8, horizontal, vertical)
            else:
                _store_rows(warped[k].reshape(hp * wp), wp, out[s, k], factor, to_uint8)


def pixel_matrices(inverse: Tensor) -> np.ndarray:
    """Output pixel index ``(j, i)`` -> input pixel-index coordinates, from output -> input matrices in
    continuous coordinates (pixel centres at +0.5).

    Shape:
        ``(B, 3, 3)`` -> ``(B, 2, 3)`` float32 (the precision of ``ops.warp``'s sampling grid).
    """
    a = inverse.detach().to("cpu", torch.float64).numpy()[:, :2, :]
    out = np.array(a)
    out[:, :, 2] = a[:, :, 2] + 0.5 * (a[:, :, 0] + a[:, :, 1]) - 0.5
    return np.ascontiguousarray(out, dtype=np.float32)


def warp(
    image: Tensor,
    inverse: Tensor,
    out_size: tuple[int, int],
    interpolation: str,
    padding_mode: str,
    fill: list[float] | None,
    blur: tuple[Tensor, Tensor] | None = None,
    scale: float = 1.0,
    to_uint8: bool = False,
) -> Tensor:
    """Warps every sample through its matrix, then blurs it with its kernels when ``blur`` is given.

    Args:
        image: uint8 or float32, any layout (read as it is, uint8 without the 1/255).
        inverse: output -> input matrices in continuous pixel coordinates.
        out_size: ``(H_out, W_out)``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        padding_mode: a key of :data:`PADDINGS`.
        fill: per-channel fill for ``constant`` padding in the image's value scale (None: zero).
        blur: ``(kernel_x (B, C, kx), kernel_y (B, C, ky))`` of a separable blur applied after the warp.
        scale: the result is multiplied by this.
        to_uint8: round half to even, clamp to [0, 255] and return uint8 (the engine's finish).

    Shape:
        ``image: (B, C, H, W)``, ``inverse: (B, 3, 3)`` -> ``(B, C, H_out, W_out)`` float32 (uint8 with
        ``to_uint8``).
    """
    b, c = image.shape[:2]
    src = image.detach()
    if not src.is_contiguous():
        src = src.contiguous()
    mats = pixel_matrices(inverse)
    use_fill = padding_mode == "constant" and fill is not None and any(v != 0.0 for v in fill)
    fill_arr = np.asarray(fill if use_fill else [0.0] * c, np.float32).reshape(-1)
    if fill_arr.shape[0] == 1:
        fill_arr = np.repeat(fill_arr, c)
    out = working_batch((b, c, *out_size), torch.uint8 if to_uint8 else torch.float32)
    if blur is not None:
        kx = blur[0].detach().to("cpu", torch.float32).contiguous().numpy()
        ky = blur[1].detach().to("cpu", torch.float32).contiguous().numpy()
    else:
        kx = ky = np.zeros((b, c, 1), np.float32)
    _warp_batch(
        src.numpy(),
        mats,
        PADDINGS[padding_mode],
        interpolation == "nearest",
        fill_arr,
        use_fill,
        kx,
        ky,
        blur is not None,
        out.numpy(),
        np.float32(scale),
        to_uint8,
    )
    return out
