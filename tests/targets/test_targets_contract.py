"""The engine's contract for targets, over every geometric entry of the transform registry."""

from __future__ import annotations

import pytest
import torch
from registry import REGISTRY, build

from augloader._batch import slice_params

# Pixel-kind containers holding geometric ops refuse targets (tested in test_targets_routing).
_MIXED = {"RandAugment", "TrivialAugmentWide", "RandomApply", "RandomChoice", "ComposeAffineBlur"}
NAMES = sorted(
    n
    for n in REGISTRY
    if n not in _MIXED and (build(n).kind == "geometric" or n.startswith("Compose") or n == "ResizeAntialias")
)


def _targets(b: int, h: int, w: int):
    g = torch.Generator().manual_seed(11)
    xy = torch.rand(b, 6, 2, generator=g) * torch.tensor([w - 12.0, h - 12.0])
    boxes = torch.cat([xy, xy + 2 + torch.rand(b, 6, 2, generator=g) * 10], dim=-1)
    mask = torch.randint(0, 5, (b, h, w), generator=g, dtype=torch.uint8)
    points = torch.rand(b, 5, 2, generator=g) * torch.tensor([float(w), float(h)])
    return {"boxes": boxes, "box_labels": torch.arange(b * 6).view(b, 6), "mask": mask, "keypoints": points}


@pytest.mark.parametrize("name", NAMES)
def test_targets_batch_equals_per_sample_replay_and_no_mutation(name, images_u8, generator):
    b, _, h, w = images_u8.shape
    batch = {"image": images_u8, **_targets(b, h, w)}
    before = {k: v.clone() for k, v in batch.items()}
    t = build(name)
    out = t(batch, generator=generator)
    for k, v in before.items():
        assert torch.equal(batch[k], v), f"{k} was mutated"
    again = t(batch, params=t.last_params)
    for key in ("boxes", "boxes_valid", "mask", "keypoints", "keypoints_visible", "box_labels"):
        assert torch.equal(out[key], again[key]), key
    oh, ow = out["image"].shape[-2:]
    assert out["mask"].shape == (b, oh, ow) and out["mask"].dtype == torch.uint8
    assert (out["boxes"][..., 0::2] <= ow).all() and (out["boxes"][..., 1::2] <= oh).all() and (out["boxes"] >= 0).all()
    params = t.last_params
    for i in range(b):
        single = t({k: v[i : i + 1] for k, v in batch.items()}, params=slice_params(params, i))
        for key in ("boxes", "boxes_valid", "mask", "keypoints_visible"):
            assert torch.equal(single[key], out[key][i : i + 1]), (key, i)
        torch.testing.assert_close(single["keypoints"], out["keypoints"][i : i + 1])
