"""Crop with care: pick, per sample, a crop or warp that keeps the boxes visible.

``bbox_safe="all"`` keeps every box at ``min_visibility``, ``"any"`` at least one, a float ``f`` at
least that fraction of them. A transform draws ``tries`` candidates per sample in one vectorised
call, keeps each sample's first safe one, and falls back to its widest safe choice (the whole
image, the identity) where none was safe: what albumentations' ``BBoxSafeRandomCrop`` and DALI's
``random_bbox_crop`` do one image at a time, here on whole batches.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Mapping, Optional

import torch
from torch import Tensor

from .._batch import params_to
from . import boxes as Bx


def check_bbox_safe(value: Any, min_visibility: Any, tries: Any) -> tuple[Optional[str | float], float, int]:
    """Validated ``(bbox_safe, min_visibility, tries)``."""
    if value is not None and value not in ("all", "any"):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 < float(value) <= 1.0:
            raise ValueError(f"bbox_safe must be None, 'all', 'any' or a fraction in (0, 1], got {value!r}")
        value = float(value)
    if (
        isinstance(min_visibility, bool)
        or not isinstance(min_visibility, numbers.Real)
        or not 0.0 <= float(min_visibility) <= 1.0
    ):
        raise ValueError(f"min_visibility must be in [0, 1], got {min_visibility!r}")
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ValueError(f"safe_tries must be a positive int, got {tries!r}")
    return value, float(min_visibility), tries


def safe_mask(
    boxes: Tensor, valid: Tensor, matrix: Tensor, size: tuple[int, int], rule: str | float, min_visibility: float
) -> Tensor:
    """Whether each sample's matrix keeps its boxes visible enough under ``rule``.

    Shape:
        ``boxes: (M, N, 4)``, ``valid: (M, N)``, ``matrix: (M, 3, 3)`` -> ``(M,)`` bool.
    """
    _, vis = Bx.visibility(Bx.transform(boxes, matrix), size)
    good = (vis > 0) & (vis >= min_visibility - 1e-6) & valid  # (M, N)
    count = valid.sum(-1)
    if rule == "all":
        return (good | ~valid).all(-1)
    if rule == "any":
        return good.any(-1) | (count == 0)
    return good.sum(-1) >= torch.ceil(float(rule) * count - 1e-6)


def choose(
    candidates: Mapping[str, Tensor],
    fallback: Mapping[str, Tensor],
    tries: int,
    matrix: Callable[[Mapping[str, Tensor]], Tensor],
    out_size: tuple[int, int],
    targets: Mapping[str, Tensor],
    rule: str | float,
    min_visibility: float,
) -> dict[str, Tensor]:
    """Each sample's first safe candidate, else its fallback, chosen on the boxes' device.

    The candidates are drawn on the generator's device (the CPU by default) and their matrices are
    computed there; both then move to the boxes' device in non-blocking copies and the choice runs
    there, so boxes on a GPU are never read back to the host. The result lives on the boxes' device.

    Shape:
        ``candidates``: ``(B * tries, ...)`` tensors, sample-major; ``fallback``: ``(B, ...)``;
        ``targets``: ``boxes (B, N, 4)`` xyxy pixels and ``boxes_valid (B, N)`` -> ``(B, ...)`` tensors.
    """
    boxes, valid = targets["boxes"], targets["boxes_valid"]
    b = boxes.shape[0]
    dev = boxes.device
    # One move for everything parameter-sized: pinned and non-blocking on CUDA, a no-op on the same device.
    moved = params_to({"candidates": dict(candidates), "fallback": dict(fallback), "matrix": matrix(candidates)}, dev)
    candidates, fallback = moved["candidates"], moved["fallback"]
    rep_boxes = boxes.repeat_interleave(tries, dim=0)  # (B * T, N, 4)
    rep_valid = valid.repeat_interleave(tries, dim=0)
    ok = safe_mask(rep_boxes, rep_valid, moved["matrix"], out_size, rule, min_visibility).view(b, tries)  # (B, T)
    first = ok.to(torch.uint8).argmax(dim=1)  # first safe try (0 when none)
    found = ok.any(dim=1)
    rows = torch.arange(b, device=dev) * tries + first  # (B,) flat candidate index
    out = {}
    for key, value in candidates.items():
        pick = value.index_select(0, rows)
        keep = found.view(-1, *([1] * (pick.dim() - 1)))
        out[key] = torch.where(keep, pick, fallback[key].to(pick.dtype))
    return out
