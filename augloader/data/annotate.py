"""Annotations for previews: a sidecar JSON next to an image, and drawing boxes, masks and keypoints.

Sidecar format (``photo.json`` next to ``photo.png``; every key optional)::

    {"boxes": [[x1, y1, x2, y2], ...], "keypoints": [[x, y], ...], "mask": "photo_mask.png"}

Coordinates are pixels of the image file; ``mask`` is a path relative to the JSON file (non-zero
pixels are the foreground).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor

from .imagefiles import PathLike, read_image

BOX_COLOR, KEYPOINT_COLOR, MASK_COLOR = (255, 40, 40), (40, 255, 40), (40, 120, 255)


def read_sidecar(image_path: PathLike) -> dict[str, Tensor]:
    """Targets from ``<image stem>.json`` next to ``image_path`` (an empty dict when there is none).

    Returns:
        ``boxes`` float ``(N, 4)``, ``keypoints`` float ``(K, 2)``, ``mask`` uint8 ``(H, W)``, as present.

    Raises:
        ValueError: a sidecar that is not valid JSON or has malformed entries (named in the message).
    """
    path = Path(image_path).with_suffix(".json")
    if not path.is_file():
        return {}
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected an object with 'boxes', 'keypoints' and/or 'mask'")
    out: dict[str, Tensor] = {}
    for key, width in (("boxes", 4), ("keypoints", 2)):
        if key in spec:
            try:
                value = torch.tensor(spec[key], dtype=torch.float32).reshape(-1, width)
            except (TypeError, ValueError, RuntimeError) as err:
                raise ValueError(
                    f"{path}: '{key}' must be a list of [{', '.join(['x', 'y', 'x2', 'y2'][:width])}] rows"
                ) from err
            out[key] = value
    if "mask" in spec:
        out["mask"] = (read_image(path.parent / spec["mask"])[0] > 0).to(torch.uint8)
    return out


def draw_annotations(
    image: Tensor, boxes: Optional[Tensor] = None, keypoints: Optional[Tensor] = None, mask: Optional[Tensor] = None
) -> Tensor:
    """Draws targets on a uint8 ``(C, H, W)`` image and returns an RGB uint8 ``(3, H, W)`` copy.

    Args:
        boxes: ``(N, 4)`` xyxy pixels, outlined in red (rows of NaN or zero area are skipped).
        keypoints: ``(K, 2)`` xy pixels, dotted in green.
        mask: ``(H, W)``; non-zero pixels tinted blue.
    """
    from PIL import Image, ImageDraw

    rgb = image.expand(3, -1, -1) if image.shape[0] == 1 else image[:3]
    array = rgb.permute(1, 2, 0).contiguous().cpu().numpy().copy()
    if mask is not None:
        on = mask.reshape(mask.shape[-2:]).cpu().numpy() > 0
        array[on] = (0.55 * array[on] + 0.45 * np.array(MASK_COLOR)).astype(np.uint8)
    picture = Image.fromarray(array)
    draw = ImageDraw.Draw(picture)
    width = max(1, round(min(picture.size) / 100))
    for box in [] if boxes is None else boxes.reshape(-1, 4).tolist():
        if all(np.isfinite(box)) and box[2] > box[0] and box[3] > box[1]:
            draw.rectangle(box, outline=BOX_COLOR, width=width)
    radius = 1.5 * width + 1
    for x, y in [] if keypoints is None else keypoints.reshape(-1, 2).tolist():
        if np.isfinite(x) and np.isfinite(y):
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=KEYPOINT_COLOR)
    return torch.from_numpy(np.asarray(picture).copy()).permute(2, 0, 1).contiguous()


def has_targets(targets: dict[str, Any]) -> bool:
    return any(k in targets for k in ("boxes", "keypoints", "mask"))
