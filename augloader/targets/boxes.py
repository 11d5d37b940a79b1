"""Boxes: formats, validation, moving by per-sample matrices, clipping and filtering.

The canonical form inside augloader is padded: ``boxes (B, N, 4)`` xyxy in continuous pixel
coordinates (a pixel spans ``[j, j + 1)``) plus ``valid (B, N)`` bool, the form MixUp/CutMix use.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor


def to_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    """Converts boxes from ``fmt`` to xyxy.

    Shape:
        ``(..., 4)`` -> ``(..., 4)``.
    """
    if fmt == "xyxy":
        return boxes
    a, b, c, d = boxes.unbind(-1)
    if fmt == "xywh":
        return torch.stack([a, b, a + c, b + d], dim=-1)
    if fmt == "cxcywh":
        return torch.stack([a - c / 2, b - d / 2, a + c / 2, b + d / 2], dim=-1)
    raise ValueError(f"unknown box format {fmt!r}")


def from_xyxy(boxes: Tensor, fmt: str) -> Tensor:
    """Converts xyxy boxes to ``fmt``.

    Shape:
        ``(..., 4)`` -> ``(..., 4)``.
    """
    if fmt == "xyxy":
        return boxes
    x0, y0, x1, y1 = boxes.unbind(-1)
    if fmt == "xywh":
        return torch.stack([x0, y0, x1 - x0, y1 - y0], dim=-1)
    if fmt == "cxcywh":
        return torch.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dim=-1)
    raise ValueError(f"unknown box format {fmt!r}")


def scale_normalized(boxes: Tensor, size: tuple[int, int], inverse: bool = False) -> Tensor:
    """Normalized ``[0, 1]`` xyxy boxes to pixels (or back with ``inverse``) for an image of ``size``.

    Shape:
        ``(..., 4)`` -> ``(..., 4)``.
    """
    h, w = size
    # Python scalars, not a (4,) tensor: no host-to-device copy per call on a GPU.
    x, y = boxes[..., 0::2], boxes[..., 1::2]
    x, y = (x / w, y / h) if inverse else (x * w, y * h)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], dim=-1)


def validate(boxes: Tensor, valid: Tensor, normalized: bool, fmt: str) -> None:
    """Raises ``ValueError`` naming the first malformed box (NaN, x2 < x1, y2 < y1, out of ``[0, 1]``).

    Shape:
        ``boxes: (B, N, 4)`` xyxy (in the caller's units), ``valid: (B, N)``.
    """
    bad_nan = torch.isnan(boxes).any(-1) | torch.isinf(boxes).any(-1)
    bad_order = (boxes[..., 2] < boxes[..., 0]) | (boxes[..., 3] < boxes[..., 1])
    bad = (bad_nan | bad_order) & valid
    if normalized:
        out_of_range = ((boxes < -1e-6) | (boxes > 1 + 1e-6)).any(-1) & valid
        bad = bad | out_of_range
    if not bool(bad.any()):
        return
    s, n = (int(v) for v in bad.nonzero()[0])
    value = [round(float(v), 4) for v in boxes[s, n]]
    if bool(bad_nan[s, n]):
        why = "is not finite"
    elif bool(bad_order[s, n]):
        why = "has x2 < x1 or y2 < y1" + (f" (given as {fmt})" if fmt != "xyxy" else "")
    else:
        why = "is outside [0, 1] for normalized boxes"
    raise ValueError(f"box {n} of sample {s} {why}: xyxy {value}")


def area(boxes: Tensor) -> Tensor:
    """Areas of xyxy boxes (0 for empty ones).

    Shape:
        ``(..., 4)`` -> ``(...)``.
    """
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def _apply(points: Tensor, matrix: Tensor) -> Tensor:
    """Points ``(B, P, 2)`` through ``(B, 3, 3)`` matrices (projective division included)."""
    m = matrix.to(points.dtype)
    xy = points @ m[:, :2, :2].transpose(1, 2) + m[:, None, :2, 2]  # (B, P, 2)
    den = points @ m[:, 2:, :2].transpose(1, 2) + m[:, None, 2:, 2]  # (B, P, 1)
    return xy / den


def transform(boxes: Tensor, matrix: Tensor, mode: str = "corners", projective: bool = False) -> Tensor:
    """The box around each transformed box: its 4 corners (``"corners"``), or its inscribed ellipse.

    ``"ellipse"`` bounds the image of the ellipse inscribed in the box (exact for affine maps; for
    projective matrices the corners are used). It is tighter for rotated round-ish objects and equal
    for flips, crops and scales.

    Shape:
        ``boxes: (B, N, 4)`` xyxy, ``matrix: (B, 3, 3)`` -> ``(B, N, 4)``.
    """
    b, n = boxes.shape[:2]
    if mode == "ellipse" and not projective:
        m = matrix.to(boxes.dtype)
        c = torch.stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2], dim=-1)
        r = torch.stack([(boxes[..., 2] - boxes[..., 0]) / 2, (boxes[..., 3] - boxes[..., 1]) / 2], dim=-1)
        centre = _apply(c, matrix)  # (B, N, 2)
        # Half extents of the ellipse image: sqrt((a rx)^2 + (b ry)^2) per output axis.
        ext = torch.sqrt((m[:, None, :2, 0] * r[..., 0:1]) ** 2 + (m[:, None, :2, 1] * r[..., 1:2]) ** 2)  # (B, N, 2)
        return torch.cat([centre - ext, centre + ext], dim=-1)
    x0, y0, x1, y1 = boxes.unbind(-1)
    corners = torch.stack([torch.stack(p, -1) for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], dim=2)  # (B, N, 4, 2)
    out = _apply(corners.reshape(b, n * 4, 2), matrix).view(b, n, 4, 2)
    return torch.cat([out.amin(dim=2), out.amax(dim=2)], dim=-1)


def clip(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clips xyxy boxes to ``[0, W] x [0, H]``.

    Shape:
        ``(B, N, 4)`` -> ``(B, N, 4)``.
    """
    h, w = size
    x = boxes[..., 0::2].clamp(0, w)
    y = boxes[..., 1::2].clamp(0, h)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], dim=-1)


def visibility(moved: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Clipped boxes and the share of each moved box's area that stays inside the image.

    A degenerate (zero-area) box counts as visible when its clipped extent still lies in the image.

    Shape:
        ``(B, N, 4)`` -> ``(B, N, 4)``, ``(B, N)``.
    """
    clipped = clip(moved, size)
    full = area(moved)
    inside = area(clipped)
    degenerate_in = (clipped[..., 2] >= clipped[..., 0]) & (clipped[..., 3] >= clipped[..., 1])
    degenerate_in &= (
        (moved[..., 2] >= 0) & (moved[..., 0] <= size[1]) & (moved[..., 3] >= 0) & (moved[..., 1] <= size[0])
    )
    vis = torch.where(full > 0, inside / full.clamp(min=1e-12), degenerate_in.to(moved.dtype))
    return clipped, vis


def frame_regions(total: Tensor, prefixes: Sequence[tuple[Tensor, tuple[int, int]]]) -> Optional[Tensor]:
    """Output-space boxes around the intermediate frames a fused chain clips to (see ``ops.warp``).

    ``prefixes`` holds, per intermediate frame, the matrix from the stage input to that frame and its
    ``(H, W)``; the frame rectangle is carried to the output by ``total @ prefix^-1``.

    Shape:
        ``total: (B, 3, 3)`` -> ``(B, R, 4)`` xyxy, or ``None`` without frames.
    """
    if not prefixes:
        return None
    from ..ops.matrices import invert

    regions = []
    for prefix, (fh, fw) in prefixes:
        rest = total @ invert(prefix.to(total.device))
        rect = torch.zeros(total.shape[0], 1, 4, device=total.device)  # the frame (0, 0, W, H), built on the device
        rect[..., 2], rect[..., 3] = float(fw), float(fh)
        regions.append(transform(rect, rest, projective=True))
    return torch.cat(regions, dim=1)


def _intersect(boxes: Tensor, regions: Tensor) -> Tensor:
    """Each box cut by every region (an empty result keeps x2 < x1). ``(B, N, 4)``, ``(B, R, 4)``."""
    r = regions.to(boxes.dtype)
    lo = torch.maximum(boxes[..., :2], r[:, None, :, :2].amax(2))
    hi = torch.minimum(boxes[..., 2:], r[:, None, :, 2:].amin(2))
    return torch.cat([lo, torch.maximum(hi, lo)], dim=-1)


def move(
    boxes: Tensor,
    valid: Tensor,
    matrix: Tensor,
    size: tuple[int, int],
    mode: str = "corners",
    projective: bool = False,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
    regions: Optional[Tensor] = None,
) -> tuple[Tensor, Tensor]:
    """Moves, clips and filters padded boxes; dropped slots are zeroed and marked invalid.

    A box is kept when some of it stays inside the image, its visible share is at least
    ``min_visibility`` and its visible area at least ``min_area`` pixels. ``regions`` (see
    :func:`frame_regions`) cut boxes where a fused chain's intermediate frames cut the pixels.

    Shape:
        ``boxes: (B, N, 4)``, ``valid: (B, N)``, ``matrix: (B, 3, 3)`` -> ``(B, N, 4)``, ``(B, N)``.
    """
    moved = transform(boxes, matrix, mode, projective)
    if regions is not None:
        full = area(moved)
        clipped, _ = visibility(_intersect(moved, regions), size)
        vis = torch.where(full > 0, area(clipped) / full.clamp(min=1e-12), (area(clipped) >= 0).to(moved.dtype))
        vis = torch.where((clipped[..., 2] >= clipped[..., 0]) & (clipped[..., 3] >= clipped[..., 1]), vis, 0.0)
    else:
        clipped, vis = visibility(moved, size)
    keep = valid & (vis > 0) & (vis >= min_visibility)
    if min_area > 0:
        keep &= area(clipped) >= min_area
    return torch.where(keep.unsqueeze(-1), clipped, torch.zeros((), dtype=clipped.dtype, device=clipped.device)), keep


def pad_list(boxes: Sequence[Tensor], dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """A list of ``(N_i, 4)`` tensors as padded ``(B, N, 4)`` plus ``valid (B, N)``."""
    b = len(boxes)
    n = max((x.shape[0] for x in boxes), default=0)
    dev = boxes[0].device if b else torch.device("cpu")
    out = torch.zeros(b, n, 4, dtype=dtype, device=dev)
    valid = torch.zeros(b, n, dtype=torch.bool, device=dev)
    for i, x in enumerate(boxes):  # list input is per-sample by nature: one copy per sample
        out[i, : x.shape[0]] = x.to(dtype)
        valid[i, : x.shape[0]] = True
    return out, valid
