"""Crop first, then resize only the crop: the fast path of axis-aligned geometric stages.

A stage made only of crops, resizes and flips (``RandomResizedCrop``, ``Resize``, ``CenterCrop``,
``RandomCrop`` without padding, flips) maps every sample's output onto an integer box of its input.
Slicing that box and resizing it with ``F.interpolate`` reads each input pixel of the box once and
runs torch's SIMD kernels in the input's own dtype (uint8 stays uint8, with antialiasing when it
downscales, as torchvision v2 ``resized_crop(..., antialias=True)``). The generic warp would convert
to float, build a grid and call ``grid_sample`` on the whole frame.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

#: Interpolations the fast path serves (``nearest`` keeps the warp's pixel-centre rounding).
RESIZE_INTERPOLATIONS = ("bilinear", "bicubic")


def axis_aligned_boxes(
    total: Tensor, out_size: tuple[int, int], in_size: tuple[int, int], frames: list, tol: float = 1e-3
) -> Optional[tuple[Tensor, Tensor, Tensor]]:
    """The integer input box of every sample when ``total`` is a pure per-axis scale and shift.

    Args:
        total: ``(B, 3, 3)`` input -> output continuous pixel coordinates, on the CPU.
        out_size: ``(H_out, W_out)``.
        in_size: ``(H_in, W_in)``; the box must lie inside it.
        frames: intermediate frames ``(output -> frame matrix, (H, W))``; the box must lie inside each.
        tol: how far from an integer a box edge may be.

    Returns:
        ``(boxes (B, 4) int64 as left, top, right, bottom; hflip (B,) bool; vflip (B,) bool)``, or
        None when some sample rotates, shears, samples outside a frame or has a fractional box.

    Shape:
        ``total: (B, 3, 3)`` -> ``(B, 4)``, ``(B,)``, ``(B,)``.
    """
    if total.device.type != "cpu" or total.shape[0] == 0:
        return None
    h_out, w_out = out_size
    h_in, w_in = in_size
    # Plain Python on the host: a handful of floats per sample, far cheaper than small tensor ops.
    boxes, hflip, vflip = [], [], []
    for (a, b, c), (d, e, f), (g, h, _) in total.tolist():
        if abs(b) > 1e-9 or abs(d) > 1e-9 or abs(g) > 1e-9 or abs(h) > 1e-9 or abs(a) < 1e-12 or abs(e) < 1e-12:
            return None
        x0, x1 = -c / a, (w_out - c) / a  # input x of the output's left and right edges
        y0, y1 = -f / e, (h_out - f) / e
        box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        r = [round(v) for v in box]
        if any(abs(v - q) > tol for v, q in zip(box, r)):
            return None
        if r[0] < 0 or r[1] < 0 or r[2] > w_in or r[3] > h_in or r[2] <= r[0] or r[3] <= r[1]:
            return None
        boxes.append(r)
        hflip.append(a < 0)
        vflip.append(e < 0)
    for to_frame, (fh, fw) in frames:  # the chain clips to these frames; the box must not reach past them
        for (a, b, c), (d, e, f), (g, h, i) in to_frame.tolist():
            for x, y in ((0.0, 0.0), (float(w_out), float(h_out))):
                z = g * x + h * y + i
                fx, fy = (a * x + b * y + c) / z, (d * x + e * y + f) / z
                if fx < -tol or fy < -tol or fx > fw + tol or fy > fh + tol:
                    return None
    return torch.tensor(boxes, dtype=torch.int64), torch.tensor(hflip), torch.tensor(vflip)


def resized_crop(
    image: Tensor,
    boxes: Tensor,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    antialias: bool = True,
    hflip: Optional[Tensor] = None,
    vflip: Optional[Tensor] = None,
) -> Tensor:
    """Crops each sample to its box and resizes the crop to ``size``, then flips where asked.

    Args:
        image: ``(B, C, H, W)``, uint8 or float, any memory layout (channels-last uint8 is fastest).
        boxes: ``(B, 4)`` int64 ``left, top, right, bottom`` inside the image, on the CPU.
        size: output ``(H, W)``.
        interpolation: ``"bilinear"`` or ``"bicubic"``.
        antialias: low-pass when downscaling (torchvision's default); no effect when upscaling.
        hflip, vflip: ``(B,)`` bool, mirror the output left-right / top-bottom.

    Shape:
        ``(B, C, H, W)`` -> ``(B, C, size[0], size[1])``, same dtype.
    """
    if interpolation not in RESIZE_INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {RESIZE_INTERPOLATIONS}, got {interpolation!r}")
    b, c = image.shape[:2]
    boxes_list = boxes.tolist()
    hf = hflip.tolist() if hflip is not None else [False] * b
    vf = vflip.tolist() if vflip is not None else [False] * b
    if b > 0 and all(bx == boxes_list[0] for bx in boxes_list) and len(set(hf)) == 1 and len(set(vf)) == 1:
        out = _flip(_resize(_crop(image, boxes_list[0]), size, interpolation, antialias), hf[0], vf[0])  # one call
        return out.clone() if _shares_memory(out, image) else out  # never a view of the caller's tensor
    out = torch.empty((b, c, *size), dtype=image.dtype, device=image.device)
    for i in range(b):  # one write per sample: a crop without resize or flip is copied straight into place
        out[i] = _flip(_resize(_crop(image[i : i + 1], boxes_list[i]), size, interpolation, antialias), hf[i], vf[i])[0]
    return out


def _crop(image: Tensor, box: list[int]) -> Tensor:
    left, top, right, bottom = box
    return image[:, :, top:bottom, left:right]


def _shares_memory(a: Tensor, b: Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def _resize(crop: Tensor, size: tuple[int, int], interpolation: str, antialias: bool) -> Tensor:
    if tuple(crop.shape[-2:]) == tuple(size):
        return crop  # a view; the caller copies it once
    if crop.dtype == torch.uint8 and not (interpolation == "bilinear" or antialias):
        # torch has no uint8 bicubic without antialias on every device: compute in float, round back
        out = F.interpolate(crop.float(), size=size, mode=interpolation, align_corners=False)
        return out.round_().clamp_(0, 255).to(torch.uint8)
    if crop.dtype in (torch.float16, torch.bfloat16) and crop.device.type == "cpu":
        return F.interpolate(crop.float(), size=size, mode=interpolation, align_corners=False, antialias=antialias).to(
            crop.dtype
        )
    return F.interpolate(crop, size=size, mode=interpolation, align_corners=False, antialias=antialias)


def _flip(image: Tensor, h: bool, v: bool) -> Tensor:
    dims = [d for d, on in ((-1, h), (-2, v)) if on]
    return image.flip(dims) if dims else image
