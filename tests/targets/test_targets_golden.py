"""Golden values: boxes, masks and keypoints against torchvision.transforms.v2.functional, same parameters."""

from __future__ import annotations

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torchvision import tv_tensors as tv

import augloader as A

H, W = 48, 64


def _targets():
    g = torch.Generator().manual_seed(3)
    xy = torch.rand(1, 12, 2, generator=g) * torch.tensor([W - 12.0, H - 12.0])
    wh = 2 + torch.rand(1, 12, 2, generator=g) * 10
    boxes = torch.cat([xy, xy + wh], dim=-1)  # (1, 12, 4) xyxy
    mask = torch.zeros(1, H, W, dtype=torch.uint8)
    for k, (x0, y0, x1, y1) in enumerate(boxes[0].round().long().tolist()[:6]):
        mask[0, y0:y1, x0:x1] = k + 1
    points = torch.rand(1, 9, 2, generator=g) * torch.tensor([W - 1.0, H - 1.0])
    return boxes, mask, points


# (augloader transform, its params for one sample, torchvision functional call f(inpt) -> out). Resizes
# compare with NEAREST_EXACT: pixel-centre nearest, which augloader uses (torch's legacy "nearest" is
# floor(i * scale), half a pixel off).
CASES = {
    "hflip": (A.RandomHorizontalFlip(1.0), {"flip": torch.tensor([True])}, lambda x: TF.horizontal_flip(x)),
    "vflip": (A.RandomVerticalFlip(1.0), {"flip": torch.tensor([True])}, lambda x: TF.vertical_flip(x)),
    "affine": (
        A.RandomAffine(30, interpolation="nearest"),
        {
            "angle": torch.tensor([17.0]),
            "translate": torch.tensor([[3.0, -2.0]]),
            "scale": torch.tensor([0.9]),
            "shear": torch.tensor([[5.0, 0.0]]),
        },
        lambda x: TF.affine(x, angle=17.0, translate=[3, -2], scale=0.9, shear=[5.0, 0.0]),
    ),
    "affine_no_rotation": (
        A.RandomAffine(0, interpolation="nearest"),
        {
            "angle": torch.tensor([0.0]),
            "translate": torch.tensor([[-4.0, 5.0]]),
            "scale": torch.tensor([1.2]),
            "shear": torch.tensor([[0.0, 0.0]]),
        },
        lambda x: TF.affine(x, angle=0.0, translate=[-4, 5], scale=1.2, shear=[0.0, 0.0]),
    ),
    "rotation": (
        A.RandomRotation(40, interpolation="nearest"),
        {"angle": torch.tensor([-25.0])},
        lambda x: TF.rotate(x, -25.0),
    ),
    "crop": (
        A.RandomCrop((30, 40)),
        {"top": torch.tensor([7]), "left": torch.tensor([11])},
        lambda x: TF.crop(x, 7, 11, 30, 40),
    ),
    "resize": (
        A.Resize((36, 80), interpolation="nearest"),
        {"scale": torch.tensor([[80 / W, 36 / H]])},
        lambda x: TF.resize(x, [36, 80], interpolation=TF.InterpolationMode.NEAREST_EXACT),
    ),
    "resized_crop": (
        A.RandomResizedCrop((32, 32), interpolation="nearest"),
        {"box": torch.tensor([[10.0, 6.0, 40.0, 30.0]])},
        lambda x: TF.resized_crop(x, 6, 10, 30, 40, [32, 32], interpolation=TF.InterpolationMode.NEAREST_EXACT),
    ),
    "perspective": (
        A.RandomPerspective(0.5, p=1.0, interpolation="nearest"),
        {
            "startpoints": torch.tensor([[[0.0, 0.0], [63.0, 0.0], [63.0, 47.0], [0.0, 47.0]]]),
            "endpoints": torch.tensor([[[5.0, 3.0], [60.0, 1.0], [58.0, 44.0], [2.0, 46.0]]]),
        },
        lambda x: TF.perspective(
            x,
            [[0, 0], [63, 0], [63, 47], [0, 47]],
            [[5, 3], [60, 1], [58, 44], [2, 46]],
            interpolation=TF.InterpolationMode.NEAREST,
        ),
    ),
}


def _run(name):
    t, params, ref = CASES[name]
    boxes, mask, points = _targets()
    image = torch.zeros(1, 3, H, W, dtype=torch.uint8)
    out = t({"image": image, "boxes": boxes, "mask": mask, "keypoints": points}, params=params)
    return out, ref, boxes, mask, points


@pytest.mark.parametrize("name", sorted(CASES))
def test_boxes_match_torchvision(name):
    out, ref, boxes, _, _ = _run(name)
    tv_boxes = tv.BoundingBoxes(boxes[0], format="XYXY", canvas_size=(H, W))
    expected = TF.clamp_bounding_boxes(ref(tv_boxes)).as_subclass(torch.Tensor)
    valid = out["boxes_valid"][0]
    assert valid.sum() >= 6, "most boxes should survive these mild transforms"
    # torchvision keeps boxes that left the image as empty boxes on the border; we drop them.
    exp_area = (expected[:, 2] - expected[:, 0]) * (expected[:, 3] - expected[:, 1])
    assert torch.equal(valid, exp_area > 0) or name == "perspective"
    tol = 1e-3 if name != "perspective" else 0.05
    torch.testing.assert_close(out["boxes"][0][valid], expected[valid], atol=tol, rtol=0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_masks_match_torchvision(name):
    out, ref, _, mask, _ = _run(name)
    # tv.Mask always resizes with torch's legacy nearest (floor(i * scale), half a pixel off), whatever
    # the interpolation; through the image kernel the NEAREST_EXACT of the case is honoured.
    resizes = name in ("resize", "resized_crop")
    expected = ref(mask if resizes else tv.Mask(mask)).as_subclass(torch.Tensor)
    got = out["mask"]
    assert got.dtype == mask.dtype and got.shape == expected.shape
    mismatch = (got != expected).float().mean().item()
    exact = name in ("hflip", "vflip", "crop")
    # nearest on ties (exact half-pixel positions) may round the other way in sampled transforms
    assert mismatch == 0.0 if exact else mismatch < 0.01, mismatch


@pytest.mark.parametrize("name", sorted(CASES))
def test_keypoints_match_torchvision(name):
    out, ref, _, _, points = _run(name)
    expected = ref(tv.KeyPoints(points[0], canvas_size=(H, W))).as_subclass(torch.Tensor).clone()
    # torchvision flips keypoints as pixel indices (x -> W - 1 - x) but moves them as continuous
    # coordinates everywhere else; augloader is continuous throughout (x -> W - x).
    if name == "hflip":
        expected[:, 0] += 1
    if name == "vflip":
        expected[:, 1] += 1
    tol = 1e-3 if name != "perspective" else 0.05
    torch.testing.assert_close(out["keypoints"][0], expected, atol=tol, rtol=0)
    oh, ow = out["image"].shape[-2:]
    inside = (expected[:, 0] >= 0) & (expected[:, 0] < ow) & (expected[:, 1] >= 0) & (expected[:, 1] < oh)
    assert torch.equal(out["keypoints_visible"][0], inside)
