"""configs/detection.yaml and configs/segmentation.yaml build and move their targets."""

from __future__ import annotations

from pathlib import Path

import torch

from augloader.config import from_config

ROOT = Path(__file__).resolve().parents[2]


def test_detection_config_keeps_boxes_and_labels_aligned():
    cfg = from_config(ROOT / "configs" / "detection.yaml")
    t = cfg.transform
    assert t.target_options.min_visibility == 0.3 and t.invariances == {"vertical_flip": False, "max_rotation": 15}
    g = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (2, 3, 96, 128), dtype=torch.uint8, generator=g)
    xy = torch.rand(2, 5, 2, generator=g) * 80
    boxes = torch.cat([xy, xy + 10], dim=-1)
    labels = torch.arange(10).view(2, 5)
    out = t({"image": image, "boxes": boxes, "box_labels": labels}, generator=g)
    assert out["image"].shape == (2, 3, 512, 512) and out["boxes"].shape == (2, 5, 4)
    assert torch.equal(out["box_labels"], labels) and out["boxes_valid"].any()


def test_segmentation_config_fills_with_the_ignore_index():
    cfg = from_config(ROOT / "configs" / "segmentation.yaml")
    image = torch.zeros(2, 3, 64, 64, dtype=torch.uint8)
    mask = torch.ones(2, 64, 64, dtype=torch.int64)
    out = cfg.transform({"image": image, "mask": mask}, generator=torch.Generator().manual_seed(3))
    assert out["mask"].shape == (2, 512, 512) and out["mask"].dtype == torch.int64
    assert set(out["mask"].unique().tolist()) <= {1, 255}
