"""Resampling an image batch through per-sample 3x3 matrices: one interpolation for a whole chain.

Two paths:
- :func:`warp` builds the sampling grid by broadcasting (no ``affine_grid``) and calls ``grid_sample``;
  with fusable kernels (``ops._kernels``, set by ``augloader.compile``) bilinear and nearest are index
  arithmetic plus gathers instead, which inductor fuses with the colour ops that follow;
- :func:`warp_integer` handles chains of flips, crops and pads exactly with one gather, in any dtype.

Both take ``frames``: intermediate image frames a chained pipeline would have clipped to (a crop
followed by a rotation must not bring back pixels the crop removed). Points outside any of them get
the fill value, so the fused result matches the step-by-step chain.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .._const import const
from ._kernels import fusable

PADDING_MODES = ("constant", "edge", "reflect", "symmetric")
INTERPOLATIONS = ("bilinear", "nearest", "bicubic")

#: An intermediate frame: a matrix from output continuous coordinates to that frame's, and its (H, W).
Frame = tuple[Tensor, tuple[int, int]]


def _fold_symmetric(g: Tensor) -> Tensor:
    """Reflects normalised coordinates about the image border (edge pixel repeated)."""
    u = torch.remainder(g + 1.0, 4.0)
    return torch.where(u > 2.0, 4.0 - u, u) - 1.0


def _fold_reflect(g: Tensor, size: int) -> Tensor:
    """Reflects normalised coordinates about the first and last pixel centres (edge not repeated)."""
    if size == 1:
        return torch.zeros_like(g)
    lo = -1.0 + 1.0 / size
    span = 2.0 - 2.0 / size
    u = torch.remainder(g - lo, 2.0 * span)
    return torch.where(u > span, 2.0 * span - u, u) + lo


def _axis_coverage(p: Tensor, size: int, interpolation: str) -> Tensor:
    """Share of the interpolation weight at pixel-index coordinate ``p`` that falls inside ``[0, size)``."""
    if interpolation == "nearest":
        return ((p >= -0.5) & (p < size - 0.5)).to(p.dtype)
    return torch.clamp(torch.minimum(p + 1.0, size - p), 0.0, 1.0)


def grid_matrix(inverse: Tensor, in_size: tuple[int, int]) -> Tensor:
    """``k = N_in @ inverse @ D_out``: output pixel index ``(j, i, 1)`` -> normalised input coordinates.

    ``D_out`` adds 0.5 to ``(j, i)`` (pixel centres), ``N_in`` scales by ``2 / size`` and subtracts 1.
    Written with scalars so that no constant is copied to the device. Parameter-sized: the engine
    computes it on the host when it prepares a call and passes it to :func:`warp`.

    Shape:
        ``(B, 3, 3)`` -> ``(B, 3, 3)``.
    """
    h_in, w_in = in_size
    a = inverse.to(torch.float32)
    a = torch.cat([a[:, :, :2], (a[:, :, 2] + 0.5 * (a[:, :, 0] + a[:, :, 1])).unsqueeze(-1)], dim=2)  # @ D_out
    return torch.stack([a[:, 0] * (2.0 / w_in) - a[:, 2], a[:, 1] * (2.0 / h_in) - a[:, 2], a[:, 2]], dim=1)  # N_in @


def _denominator(k: Tensor, xs: Tensor, ys: Tensor) -> Tensor:
    """The homogeneous coordinate of every output pixel. ``(B, H, W)``.

    N_in's -1 multiplies it too (row 2 of k is the denominator), so dividing by it gives normalised
    coordinates directly: ``(2 X / w - den) / den = 2 (X / den) / w - 1``.
    """
    return k[:, 2, 0, None, None] * xs + (k[:, 2, 1, None] * ys + k[:, 2, 2, None])[:, :, None]


def _pixel_indices(n: int, device: torch.device) -> Tensor:
    """``0, 1, ..., n - 1`` as float32 on ``device`` (cached: no launch per call)."""
    return const(tuple(range(n)), device)


def _grid_planes(
    inverse: Tensor,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    projective: bool = False,
    matrix: Tensor | None = None,
) -> Tensor:
    """Normalised ``grid_sample`` x and y coordinates of every output pixel centre, as two planes.

    One broadcast op writes both planes contiguously (no ``out=`` writes, so it compiles).

    Shape:
        ``inverse: (B, 3, 3)`` (output -> input, continuous pixels) -> ``(B, 2, H_out, W_out)``.
    """
    h_out, w_out = out_size
    k = grid_matrix(inverse, in_size) if matrix is None else matrix.to(torch.float32)
    xs, ys = _pixel_indices(w_out, inverse.device), _pixel_indices(h_out, inverse.device)
    row = k[:, :2, 1, None] * ys + k[:, :2, 2, None]  # (B, 2, H)
    planes = (
        k[:, :2, 0, None, None] * xs + row[..., None]
    )  # (B, 2, H, W): k[b, a, 0] * j + (k[b, a, 1] * i + k[b, a, 2])
    if projective:
        planes = planes.div_(_denominator(k, xs, ys).unsqueeze(1))
    return planes


def sampling_grid(
    inverse: Tensor,
    in_size: tuple[int, int],
    out_size: tuple[int, int],
    projective: bool = False,
    matrix: Tensor | None = None,
) -> Tensor:
    """Normalised ``grid_sample`` coordinates of every output pixel centre (a channels-last view of the
    two coordinate planes; ``grid_sample`` reads it as fast as a contiguous grid).

    Shape:
        ``inverse: (B, 3, 3)`` (output -> input, continuous pixels) -> ``(B, H_out, W_out, 2)``.
    """
    return _grid_planes(inverse, in_size, out_size, projective, matrix).permute(0, 2, 3, 1)


def _sample_gather(image: Tensor, gx: Tensor, gy: Tensor, interpolation: str, border: bool) -> Tensor:
    """``grid_sample(image, (gx, gy), align_corners=False)`` as index arithmetic and gathers.

    Bilinear: four gathers, weights from each point's fractional position; nearest: one gather.
    ``border`` clamps points into the image (``padding_mode="border"``), else corners outside it
    count as zero. Reads ``image`` in its own dtype (uint8 too) and returns float, so under
    ``torch.compile`` the whole resampling is one fusable loop.

    Shape:
        ``image: (B, C, H, W)``, ``gx, gy: (B, Ho, Wo)`` -> ``(B, C, Ho, Wo)``.
    """
    b, c, h, w = image.shape
    h_out, w_out = gx.shape[1:]
    dtype = image.dtype if image.is_floating_point() else torch.float32
    flat = image.reshape(b, c, h * w)
    px = ((gx + 1.0) * w - 1.0) * 0.5  # pixel-index coordinates, (B, Ho, Wo)
    py = ((gy + 1.0) * h - 1.0) * 0.5
    if border:
        px, py = px.clamp(0.0, w - 1.0), py.clamp(0.0, h - 1.0)
    else:  # far-away points read nothing; the clamp keeps the integer conversion in range
        px, py = px.clamp(-2.0, w + 1.0), py.clamp(-2.0, h + 1.0)

    def read(yi: Tensor, xi: Tensor) -> Tensor:  # (B, Ho, Wo) int64, in range -> (B, C, Ho, Wo)
        index = (yi * w + xi).view(b, 1, h_out * w_out).expand(b, c, h_out * w_out)
        return flat.gather(2, index).view(b, c, h_out, w_out).to(dtype)

    if interpolation == "nearest":
        xi, yi = torch.round(px).to(torch.int64), torch.round(py).to(torch.int64)
        out = read(yi.clamp(0, h - 1), xi.clamp(0, w - 1))
        if border:
            return out
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        return out * inside.unsqueeze(1).to(dtype)
    x0f, y0f = torch.floor(px), torch.floor(py)
    wx1, wy1 = px - x0f, py - y0f  # weights of the right / lower neighbours
    wx0, wy0 = 1.0 - wx1, 1.0 - wy1
    x0, y0 = x0f.to(torch.int64), y0f.to(torch.int64)
    x1, y1 = x0 + 1, y0 + 1
    if not border:  # a corner outside the image weighs nothing
        wx0, wx1 = wx0 * ((x0 >= 0) & (x0 < w)), wx1 * ((x1 >= 0) & (x1 < w))
        wy0, wy1 = wy0 * ((y0 >= 0) & (y0 < h)), wy1 * ((y1 >= 0) & (y1 < h))
    x0, x1 = x0.clamp(0, w - 1), x1.clamp(0, w - 1)
    y0, y1 = y0.clamp(0, h - 1), y1.clamp(0, h - 1)
    wx0, wx1, wy0, wy1 = (t.unsqueeze(1).to(dtype) for t in (wx0, wx1, wy0, wy1))  # (B, 1, Ho, Wo)
    top = read(y0, x0) * wx0 + read(y0, x1) * wx1
    bottom = read(y1, x0) * wx0 + read(y1, x1) * wx1
    return top * wy0 + bottom * wy1


def warp(
    image: Tensor,
    inverse: Tensor,
    out_size: tuple[int, int],
    interpolation: str = "bilinear",
    padding_mode: str = "constant",
    fill: float | Sequence[float] = 0.0,
    frames: Sequence[Frame] = (),
    projective: bool = False,
    matrix: Tensor | None = None,
) -> Tensor:
    """Resamples ``image`` at ``inverse @ (output pixel centre)`` per sample.

    Eager, the resampling is ``grid_sample``; with fusable kernels (``ops._kernels``, set by
    ``augloader.compile``) bilinear and nearest are index arithmetic and gathers that inductor fuses
    with the ops around them. Both give the same values within float rounding.

    Args:
        image: float images (uint8 too with fusable kernels).
        inverse: output -> input matrices in continuous pixel coordinates.
        out_size: ``(H_out, W_out)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: ``"constant"`` (``fill``), ``"edge"``, ``"reflect"`` or ``"symmetric"``.
        fill: value (or one per channel) for points outside the image, in the image's value scale.
        frames: intermediate frames that also clip (see the module docstring).
        projective: the matrices may have a non-trivial last row (perspective); else affine is assumed.
        matrix: :func:`grid_matrix` of ``inverse`` and the input size, computed beforehand (on the host).

    Shape:
        ``image: (B, C, H, W)``, ``inverse: (B, 3, 3)`` -> ``(B, C, H_out, W_out)``.
    """
    b, c, h, w = image.shape
    if b == 0 or out_size[0] == 0 or out_size[1] == 0:
        return image.new_zeros((b, c, *out_size))
    gather = fusable() and interpolation in ("bilinear", "nearest")
    grid = sampling_grid(inverse, (h, w), out_size, projective, matrix)  # (B, Ho, Wo, 2)
    gx, gy = grid[..., 0], grid[..., 1]  # (B, Ho, Wo) each
    needs_coverage = padding_mode == "constant" and (bool(frames) or _nonzero(fill))
    coverage = None
    if needs_coverage:
        px = (gx + 1.0) * (w / 2.0) - 0.5  # pixel-index coordinates, (B, Ho, Wo)
        py = (gy + 1.0) * (h / 2.0) - 0.5
        coverage = _axis_coverage(px, w, interpolation) * _axis_coverage(py, h, interpolation)
    if padding_mode == "symmetric":
        gx, gy = _fold_symmetric(gx), _fold_symmetric(gy)
    elif padding_mode == "reflect":
        gx, gy = _fold_reflect(gx, w), _fold_reflect(gy, h)
    if gather:
        out = _sample_gather(image, gx, gy, interpolation, border=padding_mode != "constant")
    else:
        if padding_mode in ("symmetric", "reflect"):
            grid = torch.stack([gx, gy], dim=-1)
        torch_padding = "zeros" if padding_mode == "constant" else "border"
        out = F.grid_sample(
            image, grid.to(image.dtype), mode=interpolation, padding_mode=torch_padding, align_corners=False
        )
    if coverage is None:
        return out
    if frames:
        inside = _frames_coverage(frames, out_size, interpolation, image.device)  # (B, Ho, Wo)
        out = out.mul_(inside.unsqueeze(1).to(out.dtype))
        coverage = coverage * inside
    if _nonzero(fill):
        fill_t = const(fill, out.device, out.dtype).reshape(1, -1, 1, 1)
        out = out.add_((1.0 - coverage).unsqueeze(1).to(out.dtype) * fill_t)
    return out


def _nonzero(fill: float | Sequence[float]) -> bool:
    return any(float(v) != 0.0 for v in (fill if isinstance(fill, (list, tuple)) else [fill]))


def _frames_coverage(frames: Sequence[Frame], out_size: tuple[int, int], interpolation: str, device) -> Tensor:
    """Product of the coverages of every intermediate frame at each output pixel. ``(B, Ho, Wo)``."""
    h_out, w_out = out_size
    xs = torch.arange(w_out, device=device, dtype=torch.float32) + 0.5
    ys = torch.arange(h_out, device=device, dtype=torch.float32) + 0.5
    total = None
    for q, (fh, fw) in frames:
        q = q.to(device=device, dtype=torch.float32)
        den = q[:, 2, 0, None, None] * xs + (q[:, 2, 1, None] * ys + q[:, 2, 2, None])[:, :, None]
        cov = None
        for axis, size in ((0, fw), (1, fh)):
            num = q[:, axis, 0, None, None] * xs + (q[:, axis, 1, None] * ys + q[:, axis, 2, None])[:, :, None]
            a = _axis_coverage(num / den - 0.5, size, interpolation)
            cov = a if cov is None else cov * a
        total = cov if total is None else total * cov
    return total


def _integer_axis(inverse: Tensor, axis: int, n_out: int) -> Tensor:
    """Input pixel index for each output index along one axis of a flip/crop/pad matrix. ``(B, n_out)``."""
    centres = torch.arange(n_out, device=inverse.device, dtype=torch.float32) + 0.5
    coord = inverse[:, axis, axis, None] * centres + inverse[:, axis, 2, None]  # continuous
    return torch.floor(coord).to(torch.int64)


def _fold_index(idx: Tensor, size: int, padding_mode: str) -> Tensor:
    if padding_mode == "edge" or padding_mode == "constant":
        return idx.clamp(0, size - 1)
    if size == 1:
        return torch.zeros_like(idx)
    if padding_mode == "reflect":
        period = 2 * (size - 1)
        r = torch.remainder(idx, period)
        return torch.where(r >= size, period - r, r)
    period = 2 * size  # symmetric
    r = torch.remainder(idx, period)
    return torch.where(r >= size, period - 1 - r, r)


def warp_integer(
    image: Tensor,
    inverse: Tensor,
    out_size: tuple[int, int],
    padding_mode: str = "constant",
    fill: float | Sequence[float] = 0.0,
    frames: Sequence[Frame] = (),
    may_sample_outside: bool = True,
) -> Tensor:
    """Exact resampling for axis-aligned integer maps (flips, crops, pads) with one gather, any dtype.

    ``inverse`` must be ``[[+-1, 0, tx], [0, +-1, ty], [0, 0, 1]]`` with integer ``tx, ty``.

    Shape:
        ``image: (B, C, H, W)``, ``inverse: (B, 3, 3)`` -> ``(B, C, H_out, W_out)``.
    """
    b, c, h, w = image.shape
    h_out, w_out = out_size
    if b == 0 or h_out == 0 or w_out == 0:
        return image.new_zeros((b, c, h_out, w_out))
    xi = _integer_axis(inverse, 0, w_out)  # (B, Wo)
    yi = _integer_axis(inverse, 1, h_out)  # (B, Ho)
    constant = may_sample_outside and padding_mode == "constant"
    if constant and not frames and image.device.type == "cpu" and not isinstance(fill, (list, tuple)) and not fusable():
        # CPU, eager: pad once with the fill and gather without a mask (2x faster than gather + where).
        # The pad size needs the index range, a host read that costs nothing on CPU (but that a
        # compiled graph cannot hold, so fusable kernels take the masked gather below).
        top, left = max(0, -int(yi.min())), max(0, -int(xi.min()))
        bottom, right = max(0, int(yi.max()) - h + 1), max(0, int(xi.max()) - w + 1)
        if top or left or bottom or right:
            image = F.pad(image, (left, right, top, bottom), value=float(fill))
            xi, yi, h, w = xi + left, yi + top, h + top + bottom, w + left + right
        return _gather(image, yi, xi)
    valid = None
    if constant:
        vx = (xi >= 0) & (xi < w)
        vy = (yi >= 0) & (yi < h)
        for q, (fh, fw) in frames:
            fx = _integer_axis(q, 0, w_out)
            fy = _integer_axis(q, 1, h_out)
            vx &= (fx >= 0) & (fx < fw)
            vy &= (fy >= 0) & (fy < fh)
        valid = vy[:, :, None] & vx[:, None, :]  # (B, Ho, Wo)
    if may_sample_outside:
        xi = _fold_index(xi, w, padding_mode)
        yi = _fold_index(yi, h, padding_mode)
    out = _gather(image, yi, xi)
    if valid is not None:
        fill_t = const(fill, image.device, image.dtype).reshape(1, -1, 1, 1)
        out = torch.where(valid.unsqueeze(1), out, fill_t)
    return out


def _gather(image: Tensor, yi: Tensor, xi: Tensor) -> Tensor:
    """``out[b, c, i, j] = image[b, c, yi[b, i], xi[b, j]]`` with one flat gather (indices in range).

    Shape:
        ``image: (B, C, H, W)``, ``yi: (B, Ho)``, ``xi: (B, Wo)`` -> ``(B, C, Ho, Wo)``.
    """
    b, c, h, w = image.shape
    h_out, w_out = yi.shape[1], xi.shape[1]
    flat = (yi[:, :, None] * w + xi[:, None, :]).view(b, 1, h_out * w_out)  # (B, 1, Ho*Wo)
    return image.reshape(b, c, h * w).gather(2, flat.expand(b, c, h_out * w_out)).view(b, c, h_out, w_out)


def _axis_taps(a: Tensor, t: Tensor, n_out: int, n_in: int, antialias: bool) -> tuple[Tensor, Tensor]:
    """Resize taps along one axis of an axis-aligned map ``x_in = a * x_out + t`` (a flip when ``a < 0``).

    The crop is ``[min, max)`` of the output edges' images (integers); the taps are torch's bilinear
    ``interpolate`` of that crop (``align_corners=False``; antialiased, a triangle ``scale`` wide, when
    ``antialias`` and downscaling), so the values equal ``ops.resize.resized_crop``'s.

    Returns:
        ``(weights, indices)``, each ``(B, n_out, K)``: input indices (clamped into range) and weights
        summing to 1, ``K`` a bound from the shapes alone.
    """
    a, t = a.to(torch.float32), t.to(torch.float32)
    edge = a * n_out + t
    left = torch.round(torch.minimum(t, edge))  # (B,)
    size = torch.round(torch.maximum(t, edge)) - left  # crop length, >= 1
    scale = size / n_out  # input pixels per output pixel
    j = torch.arange(n_out, device=a.device, dtype=torch.float32)
    j = torch.where(a[:, None] < 0, n_out - 1.0 - j, j)  # a flipped axis reads its resize backwards
    centre = scale[:, None] * (j + 0.5)  # crop coordinates, (B, n_out)
    widen = scale >= 1.0 if antialias else torch.zeros_like(scale, dtype=torch.bool)
    support = torch.where(widen, scale, 1.0)[:, None]  # the triangle's half-width
    inv_support = 1.0 / support
    lo = torch.floor(centre - support + 0.5).clamp(min=0.0)
    hi = torch.minimum(torch.floor(centre + support + 0.5), size[:, None])
    k_max = max(2, math.ceil(2.0 * max(n_in / n_out, 1.0) - 1e-9)) if antialias else 2
    k = torch.arange(k_max, device=a.device, dtype=torch.float32)
    pos = lo[:, :, None] + k  # (B, n_out, K), crop coordinates
    weights = (1.0 - ((pos - centre[:, :, None] + 0.5) * inv_support[:, :, None]).abs()).clamp(min=0.0)
    weights = weights * (pos < hi[:, :, None])
    weights = weights / weights.sum(dim=2, keepdim=True)
    indices = (pos + left[:, None, None]).clamp(0.0, n_in - 1.0).to(torch.int64)
    return weights, indices


def resized_crop_fusable(image: Tensor, inverse: Tensor, out_size: tuple[int, int], antialias: bool = True) -> Tensor:
    """``ops.resize.resized_crop`` (bilinear) read from a stage's matrix, as gathers a compiled graph fuses.

    The eager path reads each sample's integer box on the host; this one computes the taps of every
    output pixel on the device from ``inverse`` (no host read, no data-dependent shape), so under
    ``torch.compile`` the crop, resize and flip become one loop with the ops after them. ``inverse``
    must map output to input pixels by a per-axis scale and shift (crops, resizes, flips) whose crop
    edges are whole pixels inside the image, the condition ``ops.resize.axis_aligned_boxes`` checks.

    Args:
        image: ``(B, C, H, W)``, uint8 or float.
        inverse: ``(B, 3, 3)`` output -> input continuous pixel coordinates.
        out_size: ``(H_out, W_out)``.
        antialias: low-pass when downscaling, as torch's ``interpolate(..., antialias=True)``.

    Shape:
        ``(B, C, H, W)`` -> ``(B, C, H_out, W_out)``, same dtype (uint8 rounded).
    """
    b, c, h, w = image.shape
    h_out, w_out = out_size
    if b == 0 or h_out == 0 or w_out == 0:
        return image.new_zeros((b, c, h_out, w_out))
    wy, iy = _axis_taps(inverse[:, 1, 1], inverse[:, 1, 2], h_out, h, antialias)  # (B, Ho, Ky)
    wx, ix = _axis_taps(inverse[:, 0, 0], inverse[:, 0, 2], w_out, w, antialias)  # (B, Wo, Kx)
    dtype = image.dtype if image.is_floating_point() else torch.float32
    flat = image.reshape(b, c, h * w)
    out = None
    for ky in range(wy.shape[2]):
        for kx in range(wx.shape[2]):
            index = iy[:, :, ky, None] * w + ix[:, None, :, kx]  # (B, Ho, Wo)
            weight = (wy[:, :, ky, None] * wx[:, None, :, kx]).unsqueeze(1).to(dtype)  # (B, 1, Ho, Wo)
            value = flat.gather(2, index.view(b, 1, -1).expand(b, c, -1)).view(b, c, h_out, w_out).to(dtype)
            out = value * weight if out is None else out + value * weight
    if image.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.to(image.dtype)
