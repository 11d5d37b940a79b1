"""Parsing and validating what a mixer is given: batch structures, targets, output buffers, options."""

from __future__ import annotations

import numbers
from typing import Any, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor

from .._batch import check_image
from ..transforms._args import show

MixBatch = Union[tuple, list, Mapping[str, Any]]


def minmax_arg(value: Optional[Sequence[float]]) -> Optional[tuple[float, float]]:
    if value is None:
        return None
    numbers_only = (
        all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
        if isinstance(value, Sequence)
        else False
    )
    if not (isinstance(value, Sequence) and len(value) == 2 and numbers_only):
        raise ValueError(f"cutmix_minmax / minmax must be a (min, max) pair of numbers, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"cutmix_minmax / minmax must satisfy 0 <= min < max <= 1, got {value!r}")
    return lo, hi


def flag_arg(value: Any, name: str) -> bool:
    """A constructor switch: ``True`` or ``False`` only (``"no"`` would otherwise count as true)."""
    if not isinstance(value, bool) and type(value).__name__ != "bool_":
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {show(value)}")
    return bool(value)


_TARGET_KEYS = ("mask", "boxes", "boxes_valid", "box_labels", "box_weights")


def parse_batch(batch: MixBatch) -> tuple[Tensor, Optional[Tensor], dict[str, Tensor], Any]:
    """Splits a batch into image, labels, targets and a function rebuilding the caller's structure."""
    if isinstance(batch, (tuple, list)):
        if len(batch) != 2:
            raise ValueError(f"a tuple batch must be (images, labels), got {len(batch)} items")
        image, labels = batch
        if not isinstance(labels, Tensor):
            raise TypeError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
        kind = type(batch)

        def rebuild(img: Tensor, lab: Optional[Tensor], updates: dict[str, Any]) -> MixBatch:
            return kind((img, lab))

    elif isinstance(batch, Mapping):
        if "image" not in batch:
            raise KeyError(f"batch dict has no 'image' key (keys: {sorted(batch)})")
        if "keypoints" in batch:
            raise ValueError("MixUp/CutMix do not support 'keypoints' targets; drop them or mix before adding them")
        image, labels = batch["image"], batch.get("label")
        if labels is not None and not isinstance(labels, Tensor):
            raise TypeError(f"batch['label'] must be a torch.Tensor, got {type(labels).__name__}")
        targets = {k: batch[k] for k in _TARGET_KEYS if batch.get(k) is not None}

        def rebuild(img: Tensor, lab: Optional[Tensor], updates: dict[str, Any]) -> MixBatch:
            result = dict(batch)
            result["image"] = img
            if lab is not None:
                result["label"] = lab
            result.update(updates)
            return result

    else:
        raise TypeError(
            f"expected (images, labels) or a dict with an 'image' key, got {type(batch).__name__}; "
            "a bare image tensor cannot be mixed without its labels"
        )
    if not isinstance(image, Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(image).__name__}")
    check_image(image)
    return image, labels, (targets if isinstance(batch, Mapping) else {}), rebuild


def check_targets(targets: dict[str, Tensor], image: Tensor) -> None:
    b, _, h, w = image.shape
    for key, value in targets.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"batch[{key!r}] must be a torch.Tensor, got {type(value).__name__}")
        if value.device != image.device:
            raise ValueError(f"batch[{key!r}] is on {value.device}, the image on {image.device}")
    mask = targets.get("mask")
    if mask is not None and (mask.dim() not in (3, 4) or mask.shape[0] != b or tuple(mask.shape[-2:]) != (h, w)):
        raise ValueError(
            f"mask must have shape (B, H, W) or (B, K, H, W) = ({b}, [K,] {h}, {w}), got {tuple(mask.shape)}"
        )
    boxes = targets.get("boxes")
    if boxes is None:
        extra = [k for k in ("boxes_valid", "box_labels", "box_weights") if k in targets]
        if extra:
            raise ValueError(f"{extra} given without 'boxes'")
        return
    if boxes.dim() != 3 or boxes.shape[0] != b or boxes.shape[2] != 4:
        raise ValueError(f"boxes must have shape (B, N, 4) with B = {b} (padded xyxy pixels), got {tuple(boxes.shape)}")
    if not boxes.is_floating_point():
        raise TypeError(f"boxes must be a float tensor (xyxy pixels), got dtype {boxes.dtype}")
    n = boxes.shape[1]
    valid = targets.get("boxes_valid")
    if valid is not None and (valid.dtype != torch.bool or tuple(valid.shape) != (b, n)):
        raise ValueError(
            f"boxes_valid must be a bool tensor of shape ({b}, {n}), got {valid.dtype} {tuple(valid.shape)}"
        )
    for key in ("box_labels", "box_weights"):
        value = targets.get(key)
        if value is not None and tuple(value.shape[:2]) != (b, n):
            raise ValueError(f"{key} must have shape ({b}, {n}, ...) to match boxes, got {tuple(value.shape)}")
    if boxes.device.type == "cpu" and boxes.numel():  # checked where it costs no device sync
        check_box_values(boxes, valid)


def check_box_values(boxes: Tensor, valid: Optional[Tensor]) -> None:
    """Raises a ValueError naming the first sample with a valid box that is NaN/inf or inverted.

    Padding slots (``valid`` False) are not read.

    Shape:
        ``boxes: (B, N, 4)`` xyxy pixels, ``valid: (B, N)`` bool or None (all valid).
    """
    x0, y0, x1, y1 = boxes.unbind(-1)  # (B, N) each
    live = torch.ones_like(x0, dtype=torch.bool) if valid is None else valid
    problems = (
        (~torch.isfinite(boxes).all(dim=-1), "is NaN or inf"),
        ((x1 < x0) | (y1 < y0), "is inverted (x1 < x0 or y1 < y0; boxes are xyxy)"),
    )
    for bad, what in problems:
        bad = bad & live  # (B, N)
        if bool(bad.any()):
            i, j = (int(v) for v in bad.nonzero()[0])
            raise ValueError(
                f"box {j} of sample {i} {what}: {boxes[i, j].tolist()}; mark it invalid in "
                f"'boxes_valid' or fix it ({int(bad.sum())} such boxes)"
            )


def check_out(out: Tensor, image: Tensor, dtype: torch.dtype) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a torch.Tensor, got {type(out).__name__}")
    if out.shape != image.shape or out.dtype != dtype or out.device != image.device or not out.is_contiguous():
        raise ValueError(
            f"out must be a contiguous {dtype} tensor of shape {tuple(image.shape)} on {image.device}, "
            f"got {out.dtype} {tuple(out.shape)} on {out.device}"
        )
    if out.untyped_storage().data_ptr() == image.untyped_storage().data_ptr():
        raise ValueError("out must not share memory with the input images (the input is read while out is written)")
