"""Decode fused with the crop: a per-sample pipeline whose first stage crops and resizes decides its box
from the file header, decodes only the scale that box needs, then resizes only the crop.

``RandomResizedCrop(224)`` on a 4000x3000 photo: the box is drawn on the header size (the same draws
as on the full image), the JPEG decodes at 1/2, 1/4 or 1/8 scale as long as the box still has at
least 224 pixels a side, the box is mapped into the decoded image and resized (antialiased). The
result equals full decode + crop within the DCT scaling's tolerance (and exactly at full scale).
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from .._batch import BatchView
from ..ops.resize import RESIZE_INTERPOLATIONS, axis_aligned_boxes, resized_crop
from ..transforms.base import Transform
from ..transforms.compose import Compose
from ..transforms.stages import GeometricStage, execute, plan, stage_matrix
from .lazy import LazyImage


def _plan(transform: Transform) -> list:
    """The execution stages of ``transform`` (a Compose's own plan, or a one-transform plan)."""
    return list(transform.stages) if isinstance(transform, Compose) else plan([transform])


def _param_list(transform: Transform, params: Any) -> list:
    """Params per transform, in plan order (a Compose keys them by position)."""
    if isinstance(transform, Compose):
        return [params[str(i)] for i in range(len(transform.transforms))]
    return [params]


def _leading_crop(stages: list) -> Optional[GeometricStage]:
    first = stages[0] if stages else None
    if (
        isinstance(first, GeometricStage)
        and all(t.axis_aligned for t in first.transforms)
        and first.interpolation in RESIZE_INTERPOLATIONS
    ):
        return first
    return None


def transform_lazy(transform: Any, image: LazyImage, generator: Optional[torch.Generator] = None) -> Tensor:
    """Runs ``transform`` on a lazily opened image, decoding only what its leading crop needs.

    Transforms that do not start with a crop/resize stage (or are not augloader transforms) get the
    fully decoded image.

    Shape:
        the file's ``(C, H, W)`` -> what ``transform`` makes of it, e.g. uint8 ``(3, 224, 224)``.
    """
    if not isinstance(transform, Transform) or getattr(transform, "needs_targets", False):
        return _call(transform, image.decode(), generator)
    stages = _plan(transform)
    first = _leading_crop(stages)
    if first is None:
        return _call(transform, image.decode(), generator)
    h, w = image.size
    params = transform.sample_params((1, image.channels, h, w), generator)
    param_list = _param_list(transform, params)
    n_first = len(first.transforms)
    total, _, frames, _, out_size = stage_matrix(first, param_list[:n_first], (h, w), 1, "cpu")
    boxes = axis_aligned_boxes(total, out_size, (h, w), frames)
    if boxes is None:  # this draw reaches outside the image (padding): decode it all and replay the draw
        return transform(image.decode(), params=params)
    box, hflip, vflip = boxes
    left, top, right, bottom = box[0].tolist()
    antialias = any(t.antialias for t in first.transforms)
    at_least = image.draft_size((bottom - top, right - left), out_size)
    if antialias and image.reducible(at_least):
        # A smaller DCT scale covers the box: decode at it and resize the box with its exact position.
        crop = image.decode_resized((left, top, right, bottom), out_size, at_least, first.interpolation)
        out = resized_crop(
            crop.unsqueeze(0),
            torch.tensor([[0, 0, out_size[1], out_size[0]]]),
            out_size,
            first.interpolation,
            antialias,
            hflip,
            vflip,
        )
    else:
        out = resized_crop(image.decode().unsqueeze(0), box, out_size, first.interpolation, antialias, hflip, vflip)
    if len(stages) > 1:
        out = execute(stages[1:], BatchView(out, False, None), param_list)
    transform.last_params = params
    return out.squeeze(0)


def _call(transform: Any, image: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    if isinstance(transform, Transform):
        return transform(image, generator=generator)
    return transform(image)
