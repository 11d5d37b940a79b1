"""Mixing the targets that live in image space: segmentation masks (CutMix) and detection boxes."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..transforms._types import Params
from ._images import lerp_partner, paste_mask, select_partner


def mix_masks(mask: Tensor, params: Params) -> Tensor:
    """CutMix for segmentation masks: the partner's mask is pasted in the same box as its image.

    Shape:
        ``(B, H, W)`` or ``(B, K, H, W)`` -> same shape and dtype.
    """
    if not params["static"]["cutmix"]:
        return mask
    m4 = mask.unsqueeze(1) if mask.dim() == 3 else mask  # (B, K or 1, H, W)
    out = torch.empty_like(m4, memory_format=torch.contiguous_format)
    size = tuple(m4.shape[-2:])
    if m4.is_floating_point():
        lerp_partner(m4.contiguous(), paste_mask(params, size).to(m4.dtype), params, out)
    else:
        select_partner(m4.contiguous(), paste_mask(params, size, m4.dtype), params, out)
    return out.squeeze(1) if mask.dim() == 3 else out


def _area(b: Tensor) -> Tensor:
    return (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)


def _intersect(a: Tensor, r: Tensor) -> Tensor:
    return torch.cat([torch.maximum(a[..., :2], r[..., :2]), torch.minimum(a[..., 2:], r[..., 2:])], dim=-1)


def mix_boxes(
    boxes: Tensor,
    valid: Tensor,
    params: Params,
    min_visibility: float = 0.25,
    box_labels: Optional[Tensor] = None,
    box_weights: Optional[Tensor] = None,
) -> dict[str, Tensor]:
    """Detection targets after mixing: own boxes first, then the partner's, along N.

    MixUp samples keep both images' boxes, weighted ``lam`` (own) and ``1 - lam`` (partner's).
    CutMix samples keep their own boxes where at least ``min_visibility`` of the box area stays outside the
    pasted region (trimmed to the visible part when that part is a rectangle) and the partner's boxes
    clipped to the region when at least ``min_visibility`` of their area lies inside it; kept boxes
    weigh 1. A box with no visible area is always dropped. Dropped slots are zeroed and marked invalid.

    Shape:
        ``boxes: (B, N, 4)`` xyxy pixels, ``valid: (B, N)`` bool, ``box_labels``/``box_weights: (B, N)`` ->
        ``boxes: (B, 2N, 4)``, ``boxes_valid``/``box_weights``/``box_labels: (B, 2N)``.
    """
    b, n = boxes.shape[:2]
    dev = boxes.device
    partner = params["partner"]
    lam = params["lam"].to(boxes.dtype).view(b, 1)  # (B, 1)
    cut = params["use_cutmix"].view(b, 1)  # (B, 1)
    region = params["box"].to(boxes.dtype).view(b, 1, 4)  # (B, 1, 4)
    weights = (
        box_weights.to(boxes.dtype) if box_weights is not None else torch.ones(b, n, dtype=boxes.dtype, device=dev)
    )
    blends = ~cut & (lam < 1)  # (B, 1) MixUp samples that take anything from their partner

    # Own boxes under a CutMix paste: visible fraction, and trimming when the hidden part is a side band.
    area = _area(boxes)  # (B, N)
    hidden = _area(_intersect(boxes, region))
    vis_own = torch.where(area > 0, 1.0 - hidden / area.clamp(min=1e-12), (hidden == 0).to(boxes.dtype))
    x0, y0, x1, y1 = boxes.unbind(-1)
    rx0, ry0, rx1, ry1 = region.unbind(-1)
    spans_v = (ry0 <= y0) & (ry1 >= y1)
    spans_h = (rx0 <= x0) & (rx1 >= x1)
    trimmed = torch.stack(
        [
            torch.where(spans_v & (rx0 <= x0) & (rx1 > x0), torch.maximum(x0, rx1), x0),
            torch.where(spans_h & (ry0 <= y0) & (ry1 > y0), torch.maximum(y0, ry1), y0),
            torch.where(spans_v & (rx1 >= x1) & (rx0 < x1), torch.minimum(x1, rx0), x1),
            torch.where(spans_h & (ry1 >= y1) & (ry0 < y1), torch.minimum(y1, ry0), y1),
        ],
        dim=-1,
    )  # (B, N, 4)
    keep_own = (vis_own > 0) & (vis_own >= min_visibility)
    own = torch.where(cut.unsqueeze(-1), trimmed, boxes)
    own_valid = valid & (keep_own | ~cut)
    own_w = weights * torch.where(cut, torch.ones_like(lam), lam)

    # Partner boxes: clipped to the pasted region under CutMix, unchanged under MixUp.
    p_boxes = boxes.index_select(0, partner)  # (B, N, 4)
    p_valid = valid.index_select(0, partner)
    p_area = _area(p_boxes)
    clipped = _intersect(p_boxes, region)
    vis_p = _area(clipped) / p_area.clamp(min=1e-12)
    keep_p = (vis_p > 0) & (vis_p >= min_visibility)
    other = torch.where(cut.unsqueeze(-1), clipped, p_boxes)
    other_valid = p_valid & ((cut & keep_p) | blends)
    other_w = weights.index_select(0, partner) * torch.where(cut, torch.ones_like(lam), 1.0 - lam)

    out_valid = torch.cat([own_valid, other_valid], dim=1)  # (B, 2N)
    result = {
        "boxes": torch.where(out_valid.unsqueeze(-1), torch.cat([own, other], dim=1), 0.0),  # (B, 2N, 4)
        "boxes_valid": out_valid,
        "box_weights": torch.where(out_valid, torch.cat([own_w, other_w], dim=1), 0.0),
    }
    if box_labels is not None:
        result["box_labels"] = torch.cat([box_labels, box_labels.index_select(0, partner)], dim=1)
    return result
