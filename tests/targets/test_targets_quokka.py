"""Real image: the quokka photo and annotations shipped in the imgaug 0.4.0 wheel (``make testdata``).

The files are read from the installed package folder; imgaug itself is never imported (it is broken
on current numpy). One box, 7 keypoints and a polygon rasterised into a mask move through random
affine warps and resized crops; the moved box must enclose the moved mask and every visible
keypoint must lie on or next to it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import augloader as A


def _quokka():
    spec = importlib.util.find_spec("imgaug")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("imgaug 0.4.0 data wheel not installed (run `make testdata`)")
    root = Path(list(spec.submodule_search_locations)[0])
    from PIL import Image
    from skimage.draw import polygon

    image = torch.from_numpy(np.array(Image.open(root / "quokka.jpg").convert("RGB"))).permute(2, 0, 1).contiguous()
    ann = json.loads((root / "quokka_annotations.json").read_text())
    h, w = image.shape[-2:]
    box = ann["bounding_boxes"][0]
    boxes = torch.tensor([[[box["x1"], box["y1"], box["x2"], box["y2"]]]], dtype=torch.float32)
    points = torch.tensor([[[float(k["x"]), float(k["y"])] for k in ann["keypoints"]]])
    polys = ann["polygons"]
    polys = ast.literal_eval(polys) if isinstance(polys, str) else polys  # stored as a Python literal string
    xs = [p["x"] for p in polys[0]["keypoints"]]
    ys = [p["y"] for p in polys[0]["keypoints"]]
    rr, cc = polygon(np.array(ys), np.array(xs), shape=(h, w))
    mask = torch.zeros(1, h, w, dtype=torch.uint8)
    mask[0, torch.from_numpy(rr), torch.from_numpy(cc)] = 1
    # The annotated box misses the polygon by 5 pixels on the left (x1 = 148, polygon from 143): the
    # box used here is the union of both, so that "the box encloses the mask" holds before any transform.
    boxes[0, 0, 0] = min(float(boxes[0, 0, 0]), float(cc.min()))
    boxes[0, 0, 2] = max(float(boxes[0, 0, 2]), float(cc.max() + 1))
    boxes[0, 0, 1] = min(float(boxes[0, 0, 1]), float(rr.min()))
    boxes[0, 0, 3] = max(float(boxes[0, 0, 3]), float(rr.max() + 1))
    return image.unsqueeze(0), boxes, points, mask


def _near(mask: torch.Tensor, points: torch.Tensor, radius: int) -> torch.Tensor:
    """Whether each point's pixel lies within ``radius`` pixels of the mask. ``(B, K)``."""
    grown = F.max_pool2d(mask.float().unsqueeze(1), 2 * radius + 1, stride=1, padding=radius)[:, 0] > 0  # (B, H, W)
    b, h, w = grown.shape
    x = points[..., 0].floor().long().clamp(0, w - 1)
    y = points[..., 1].floor().long().clamp(0, h - 1)
    return grown[torch.arange(b).unsqueeze(1), y, x]


def test_quokka_annotations_are_consistent_before_any_transform():
    _, boxes, points, mask = _quokka()
    ys, xs = torch.nonzero(mask[0], as_tuple=True)
    assert xs.min() >= boxes[0, 0, 0] - 1 and xs.max() + 1 <= boxes[0, 0, 2] + 1
    assert _near(mask, points, 3).all()


@pytest.mark.parametrize(
    "pipeline",
    [
        lambda: A.Compose(
            [A.RandomAffine(35, (0.15, 0.15), (0.6, 1.3), 10), A.RandomResizedCrop((240, 320), scale=(0.2, 1.0))]
        ),
        lambda: A.Compose(
            [A.RandomResizedCrop((256, 256), scale=(0.1, 0.6)), A.RandomHorizontalFlip()],
            targets={"flip_pairs": [(0, 1), (2, 3), (5, 6)]},
        ),
        lambda: A.Compose([A.RandomRotation(60), A.RandomPerspective(0.4, p=1.0), A.Resize((200, 300))]),
    ],
)
def test_moved_box_encloses_moved_mask_and_keypoints_stay_on_it(pipeline):
    image, boxes, points, mask = _quokka()
    b = 12
    batch = {
        "image": image.expand(b, -1, -1, -1),
        "boxes": boxes.expand(b, -1, -1),
        "keypoints": points.expand(b, -1, -1),
        "mask": mask.expand(b, -1, -1),
    }
    t = pipeline()
    out = t(batch, generator=torch.Generator().manual_seed(7))
    m = out["mask"]
    for i in range(b):  # checking each sample's result (the transform itself ran on the whole batch)
        ys, xs = torch.nonzero(m[i], as_tuple=True)
        if ys.numel() == 0:
            continue
        assert bool(out["boxes_valid"][i, 0]), f"sample {i}: mask visible but the box was dropped"
        x0, y0, x1, y1 = out["boxes"][i, 0].tolist()
        # nearest resampling may put a mask pixel up to one pixel past the exact box edge
        assert xs.min() >= x0 - 1 and xs.max() + 1 <= x1 + 1 and ys.min() >= y0 - 1 and ys.max() + 1 <= y1 + 1, i
    vis = out["keypoints_visible"]
    assert vis.any()
    # within 5 output pixels: thin parts (the ear tips are 2-3 pixel spikes) vanish when nearest
    # resampling shrinks the mask
    near = _near(m, out["keypoints"], 5)
    assert (near | ~vis).all(), (near, vis)
