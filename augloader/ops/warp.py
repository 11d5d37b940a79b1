"""Resampling an image batch through per-sample 3x3 matrices: one interpolation for a whole chain.

Two paths:
- :func:`warp` builds the sampling grid by broadcasting (no ``affine_grid``) and calls ``grid_sample``;
- :func:`warp_integer` handles chains of flips, crops and pads exactly with one gather, in any dtype.

Both take ``frames``: intermediate image frames a chained pipeline would have clipped to (a crop
followed by a rotation must not bring back pixels the crop removed). Points outside any of them get
the fill value, so the fused result matches the step-by-step chain.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from .._const import const

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


def sampling_grid(
    inverse: Tensor, in_size: tuple[int, int], out_size: tuple[int, int], projective: bool = False
) -> Tensor:
    """Normalised ``grid_sample`` coordinates of every output pixel centre.

    Shape:
        ``inverse: (B, 3, 3)`` (output -> input, continuous pixels) -> ``(B, H_out, W_out, 2)``.
    """
    (h_in, w_in), (h_out, w_out) = in_size, out_size
    b = inverse.shape[0]
    dev = inverse.device
    # Fold "pixel index -> centre" and "input pixels -> [-1, 1]" into the matrix:
    # k = N_in @ inverse @ D_out, D_out adds 0.5 to (j, i), N_in scales by 2/size and subtracts 1.
    # Written with scalars so that no constant is copied to the device.
    a = inverse.to(torch.float32)
    a = torch.cat([a[:, :, :2], (a[:, :, 2] + 0.5 * (a[:, :, 0] + a[:, :, 1])).unsqueeze(-1)], dim=2)  # @ D_out
    k = torch.stack([a[:, 0] * (2.0 / w_in) - a[:, 2], a[:, 1] * (2.0 / h_in) - a[:, 2], a[:, 2]], dim=1)  # N_in @
    xs = torch.arange(w_out, device=dev, dtype=torch.float32)
    ys = torch.arange(h_out, device=dev, dtype=torch.float32)
    grid = torch.empty(b, h_out, w_out, 2, device=dev)
    if projective:
        den = k[:, 2, 0, None, None] * xs + (k[:, 2, 1, None] * ys + k[:, 2, 2, None])[:, :, None]  # (B, H, W)
    for axis in (0, 1):
        row = k[:, axis, 1, None] * ys + k[:, axis, 2, None]  # (B, H)
        col = k[:, axis, 0, None, None] * xs  # (B, 1, W)
        if projective:
            # N_in's -1 multiplies the homogeneous coordinate too (row 2 of k is den), so the
            # quotient is already normalised: (2 X / w - den) / den = 2 (X / den) / w - 1.
            torch.div(col + row[:, :, None], den, out=grid[..., axis])
        else:
            torch.add(col, row[:, :, None], out=grid[..., axis])
    return grid


def warp(
    image: Tensor,
    inverse: Tensor,
    out_size: tuple[int, int],
    interpolation: str = "bilinear",
    padding_mode: str = "constant",
    fill: float | Sequence[float] = 0.0,
    frames: Sequence[Frame] = (),
    projective: bool = False,
) -> Tensor:
    """Resamples ``image`` at ``inverse @ (output pixel centre)`` per sample.

    Args:
        image: float images.
        inverse: output -> input matrices in continuous pixel coordinates.
        out_size: ``(H_out, W_out)``.
        interpolation: ``"bilinear"``, ``"nearest"`` or ``"bicubic"``.
        padding_mode: ``"constant"`` (``fill``), ``"edge"``, ``"reflect"`` or ``"symmetric"``.
        fill: value (or one per channel) for points outside the image, in the image's value scale.
        frames: intermediate frames that also clip (see the module docstring).
        projective: the matrices may have a non-trivial last row (perspective); else affine is assumed.

    Shape:
        ``image: (B, C, H, W)``, ``inverse: (B, 3, 3)`` -> ``(B, C, H_out, W_out)``.
    """
    b, c, h, w = image.shape
    if b == 0 or out_size[0] == 0 or out_size[1] == 0:
        return image.new_zeros((b, c, *out_size))
    grid = sampling_grid(inverse, (h, w), out_size, projective)  # (B, Ho, Wo, 2)
    needs_coverage = padding_mode == "constant" and (bool(frames) or _nonzero(fill))
    coverage = None
    if needs_coverage:
        px = (grid[..., 0] + 1.0) * (w / 2.0) - 0.5  # pixel-index coordinates, (B, Ho, Wo)
        py = (grid[..., 1] + 1.0) * (h / 2.0) - 0.5
        coverage = _axis_coverage(px, w, interpolation) * _axis_coverage(py, h, interpolation)
    if padding_mode == "symmetric":
        grid = _fold_symmetric(grid)
    elif padding_mode == "reflect":
        grid = torch.stack([_fold_reflect(grid[..., 0], w), _fold_reflect(grid[..., 1], h)], dim=-1)
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
    if constant and not frames and image.device.type == "cpu" and not isinstance(fill, (list, tuple)):
        # CPU: pad once with the fill and gather without a mask (2x faster than gather + where). The
        # pad size needs the index range, a host read that costs nothing on CPU.
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
