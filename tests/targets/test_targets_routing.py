"""Routing: formats, list and padded forms, per-box fields, chunks, validation errors, tv_tensors."""

from __future__ import annotations

import pytest
import torch
from torchvision import tv_tensors as tv

import augloader as A
from augloader.targets import boxes as Bx
from augloader.transforms import stages


def _batch(b=3, h=40, w=50, n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(b, n, 2, generator=g) * torch.tensor([w - 10.0, h - 10.0])
    boxes = torch.cat([xy, xy + 1 + torch.rand(b, n, 2, generator=g) * 9], dim=-1)
    image = torch.randint(0, 256, (b, 3, h, w), dtype=torch.uint8, generator=g)
    return image, boxes


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("normalized", [False, True])
def test_formats_round_trip_and_agree(fmt, normalized):
    image, boxes = _batch()
    h, w = image.shape[-2:]
    given = Bx.from_xyxy(boxes, fmt)
    if normalized:
        given = Bx.from_xyxy(Bx.scale_normalized(boxes, (h, w), inverse=True), fmt)
    flip = A.Compose([A.RandomHorizontalFlip(1.0)], targets={"boxes_format": fmt, "normalized": normalized})
    out = flip({"image": image, "boxes": given})
    ref = A.RandomHorizontalFlip(1.0)({"image": image, "boxes": boxes})["boxes"]
    got = Bx.to_xyxy(out["boxes"], fmt)
    if normalized:
        got = Bx.scale_normalized(got, (h, w))
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=0)


def test_list_form_returns_lists_with_fields_aligned():
    image, boxes = _batch(n=6)
    lists = [boxes[0], boxes[1, :2], boxes[2, :0]]
    labels = [torch.arange(6), torch.tensor([10, 11]), torch.zeros(0, dtype=torch.int64)]
    # a crop to the left half drops the boxes on the right
    out = A.RandomCrop((40, 20))(
        {"image": image, "boxes": lists, "box_labels": labels},
        params={"top": torch.zeros(3, dtype=torch.int64), "left": torch.zeros(3, dtype=torch.int64)},
    )
    assert isinstance(out["boxes"], list) and len(out["boxes"]) == 3
    for src, lab, got, got_lab in zip(lists, labels, out["boxes"], out["box_labels"]):
        keep = src[:, 0] < 20
        assert torch.equal(got_lab, lab[keep])
        torch.testing.assert_close(got, Bx.clip(src[keep][None], (40, 20))[0])


def test_padded_fields_stay_aligned_and_dropped_slots_are_invalid():
    image, boxes = _batch(n=8)
    labels = torch.arange(24).view(3, 8)
    out = A.RandomCrop((40, 20))(
        {"image": image, "boxes": boxes, "box_labels": labels},
        params={"top": torch.zeros(3, dtype=torch.int64), "left": torch.zeros(3, dtype=torch.int64)},
    )
    assert torch.equal(out["box_labels"], labels)  # the padded form keeps slots: labels stay where they were
    assert torch.equal(out["boxes_valid"], boxes[..., 0] < 20)
    assert (out["boxes"][~out["boxes_valid"]] == 0).all()


def test_min_visibility_and_min_area_filter():
    image = torch.zeros(1, 3, 20, 20, dtype=torch.uint8)
    boxes = torch.tensor([[[0.0, 0.0, 10.0, 10.0], [8.0, 0.0, 12.0, 4.0], [9.0, 9.0, 10.0, 10.0]]])
    crop = {"top": torch.tensor([0]), "left": torch.tensor([10])}  # keep x in [10, 20)
    t = A.Compose([A.RandomCrop((20, 10))], targets={"min_visibility": 0.5})
    out = t({"image": image, "boxes": boxes}, params={"0": crop})
    assert out["boxes_valid"].tolist() == [[False, True, False]]  # box 1 keeps exactly half
    t = A.Compose([A.RandomCrop((20, 20))], targets={"min_area": 2.0})
    out = t({"image": image, "boxes": boxes}, params={"0": {"top": torch.tensor([0]), "left": torch.tensor([0])}})
    assert out["boxes_valid"].tolist() == [[True, True, False]]


def test_box_leaving_the_image_is_not_an_error():
    image = torch.zeros(2, 3, 20, 20, dtype=torch.uint8)
    boxes = torch.tensor([[[0.0, 0.0, 5.0, 5.0]], [[15.0, 15.0, 20.0, 20.0]]])
    out = A.RandomAffine(0, translate=(0.5, 0.5))(
        {"image": image, "boxes": boxes},
        params={
            "angle": torch.zeros(2),
            "translate": torch.tensor([[-10.0, 0], [10, 10]]),
            "scale": torch.ones(2),
            "shear": torch.zeros(2, 2),
        },
    )
    assert out["boxes_valid"].tolist() == [[False], [False]]


@pytest.mark.parametrize(
    "bad, words",
    [
        (torch.tensor([[[5.0, 1.0, 2.0, 4.0]]]), "box 0 of sample 0 has x2 < x1"),
        (torch.tensor([[[1.0, 1.0, 2.0, 4.0], [1.0, float("nan"), 2.0, 3.0]]]), "box 1 of sample 0 is not finite"),
        (torch.zeros(1, 2, 3), "shape"),
    ],
)
def test_malformed_boxes_name_box_and_sample(bad, words):
    with pytest.raises(ValueError, match=words):
        A.RandomHorizontalFlip()({"image": torch.zeros(1, 3, 8, 8), "boxes": bad})


def test_normalized_out_of_range_is_an_error():
    boxes = torch.tensor([[[0.1, 0.1, 0.2, 0.2]], [[0.1, 0.1, 1.5, 0.2]]])
    t = A.Compose([A.RandomHorizontalFlip()], targets={"normalized": True})
    with pytest.raises(ValueError, match="box 0 of sample 1 is outside"):
        t({"image": torch.zeros(2, 3, 8, 8), "boxes": boxes})


def test_chunked_execution_matches_one_chunk(monkeypatch):
    image, boxes = _batch(b=6, h=32, w=32, n=4)
    mask = torch.rand(6, 2, 32, 32, generator=torch.Generator().manual_seed(1)) > 0.5
    points = boxes[..., :2].clone()
    batch = {
        "image": image,
        "boxes": boxes,
        "mask": mask,
        "keypoints": points,
        "box_labels": torch.arange(24).view(6, 4),
    }
    t = A.Compose([A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2)), A.RandomHorizontalFlip(), A.ColorJitter(0.2)])
    g = torch.Generator().manual_seed(0)
    one = t(batch, generator=g)
    monkeypatch.setattr(stages, "CPU_CHUNK_BYTES", 2 * 3 * 32 * 32 * 4)  # two samples per chunk
    many = t(batch, params=t.last_params)
    for key in ("image", "boxes", "boxes_valid", "mask", "keypoints", "keypoints_visible", "box_labels"):
        assert torch.equal(one[key], many[key]), key


def test_mask_dtypes_and_fill():
    image = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    for dtype in (torch.uint8, torch.int64, torch.bool, torch.int32):
        mask = torch.ones(2, 16, 16, dtype=dtype)
        t = A.Compose([A.RandomRotation((45, 45))], targets={"mask_fill": 255 if dtype != torch.bool else 0})
        out = t({"image": image, "mask": mask})["mask"]
        assert out.dtype == dtype and out.shape == mask.shape
        corner = out[:, 0, 0]
        assert (corner == (0 if dtype == torch.bool else 255)).all()
        assert (out[:, 8, 8] == 1).all()
    # (B, K, H, W) through an integer stage (crop + pad: the gather path) with an ignore index
    mask = torch.arange(2 * 3 * 16 * 16).view(2, 3, 16, 16) % 7
    t = A.Compose([A.RandomCrop(20, pad_if_needed=True)], targets={"mask_fill": 255})
    out = t(
        {"image": image, "mask": mask}, params={"0": {"top": torch.tensor([-2, -4]), "left": torch.tensor([-2, 0])}}
    )["mask"]
    assert out.shape == (2, 3, 20, 20) and out[0, :, 0, 0].eq(255).all() and torch.equal(out[0, :, 2:18, 2:18], mask[0])


def test_keypoints_flip_pairs_and_invisible_outside():
    image = torch.zeros(2, 3, 10, 20, dtype=torch.uint8)
    points = torch.tensor([[[2.0, 5.0], [15.0, 5.0], [10.0, 1.0]]] * 2)
    t = A.Compose([A.RandomHorizontalFlip()], targets={"flip_pairs": [(0, 1)]})
    out = t({"image": image, "keypoints": points}, params={"0": {"flip": torch.tensor([True, False])}})
    assert out["keypoints"][0].tolist() == [[5.0, 5.0], [18.0, 5.0], [10.0, 1.0]]  # mirrored, then 0 <-> 1 swapped
    assert out["keypoints"][1].tolist() == points[1].tolist()
    out = A.RandomCrop((10, 10))(
        {"image": image, "keypoints": points}, params={"top": torch.tensor([0, 0]), "left": torch.tensor([0, 8])}
    )
    assert out["keypoints_visible"].tolist() == [[True, False, False], [False, True, True]]
    assert out["keypoints"].shape == points.shape  # not removed


def test_vertical_flip_counts_as_mirror_and_double_flip_does_not():
    image = torch.zeros(1, 3, 10, 20, dtype=torch.uint8)
    points = torch.tensor([[[2.0, 5.0], [15.0, 5.0]]])
    t = A.Compose([A.RandomHorizontalFlip(1.0), A.RandomVerticalFlip(1.0)], targets={"flip_pairs": [(0, 1)]})
    out = t({"image": image, "keypoints": points})
    assert out["keypoints"][0].tolist() == [[18.0, 5.0], [5.0, 5.0]]  # a 180 degree turn: no swap


def test_torchvision_tv_tensors_in_and_out():
    image = torch.zeros(3, 20, 30, dtype=torch.uint8)  # one sample, unbatched
    boxes = tv.BoundingBoxes(torch.tensor([[2.0, 3.0, 6.0, 9.0]]), format="XYWH", canvas_size=(20, 30))
    mask = tv.Mask(torch.zeros(20, 30, dtype=torch.uint8))
    points = tv.KeyPoints(torch.tensor([[1.0, 2.0]]), canvas_size=(20, 30))
    out = A.Resize((40, 60))({"image": image, "boxes": boxes, "mask": mask, "keypoints": points})
    assert isinstance(out["boxes"], tv.BoundingBoxes) and out["boxes"].format.name == "XYWH"
    assert tuple(out["boxes"].canvas_size) == (40, 60)
    assert out["boxes"].as_subclass(torch.Tensor).tolist() == [[4.0, 6.0, 12.0, 18.0]]
    assert isinstance(out["mask"], tv.Mask) and out["mask"].shape == (40, 60)
    assert isinstance(out["keypoints"], tv.KeyPoints) and tuple(out["keypoints"].canvas_size) == (40, 60)
    assert out["keypoints"].as_subclass(torch.Tensor).tolist() == [[2.0, 4.0]]


def test_policies_move_targets_with_their_warp_and_pixel_only_leaves_them():
    # every sample draws its own ops; the boxes must follow the mask through the policy's one warp
    b, h, w = 32, 40, 48
    image = torch.zeros(b, 3, h, w, dtype=torch.uint8)
    boxes = torch.tensor([[10.0, 8.0, 30.0, 28.0]]).expand(b, 1, 4).contiguous()
    mask = torch.zeros(b, h, w, dtype=torch.uint8)
    mask[:, 8:28, 10:30] = 1
    for policy in (A.RandAugment(2, 12), A.TrivialAugmentWide()):
        out = policy({"image": image, "boxes": boxes, "mask": mask}, generator=torch.Generator().manual_seed(1))
        moved = 0
        for i in range(b):
            ys, xs = out["mask"][i].nonzero(as_tuple=True)
            if len(xs) == 0 or not bool(out["boxes_valid"][i, 0]):
                continue
            mask_box = torch.tensor([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=torch.float32)
            assert (out["boxes"][i, 0] - mask_box).abs().max() <= 1.0, (type(policy).__name__, i)
            moved += not torch.equal(out["boxes"][i, 0], boxes[i, 0])
        assert moved > 3  # the geometric ops did move some samples' boxes
    out = A.RandAugment(ops=["Brightness", "Contrast"])({"image": image, "boxes": boxes})
    assert out["boxes"] is boxes


def test_mixed_containers_refuse_targets():
    image, boxes = _batch()
    with pytest.raises(NotImplementedError, match="RandomChoice"):
        A.RandomChoice([A.RandomRotation(10), A.RandomInvert(1.0)])({"image": image, "boxes": boxes})


def test_fused_chain_cuts_targets_at_intermediate_frames():
    # CenterCrop then a rotation: the fused warp clips to the crop's frame, and so must the targets
    image = torch.zeros(1, 3, 40, 40, dtype=torch.uint8)
    boxes = torch.tensor([[[0.0, 18.0, 40.0, 22.0]]])  # a horizontal bar across the whole image
    points = torch.tensor([[[2.0, 20.0], [20.0, 20.0]]])  # the first is outside the 20x20 central crop
    t = A.Compose([A.CenterCrop(20), A.Pad(10), A.RandomRotation((0.0, 0.0))])
    out = t({"image": image, "boxes": boxes, "keypoints": points})
    assert out["keypoints_visible"].tolist() == [[False, True]]  # back inside the padded frame, but cut away
    assert out["boxes"][0, 0].tolist() == [10.0, 18.0, 30.0, 22.0]


def test_list_of_bounding_boxes_per_image():
    image = torch.zeros(2, 3, 20, 30, dtype=torch.uint8)
    boxes = [
        tv.BoundingBoxes(torch.tensor([[2.0, 3.0, 6.0, 9.0]]), format="XYXY", canvas_size=(20, 30)),
        tv.BoundingBoxes(torch.zeros(0, 4), format="XYXY", canvas_size=(20, 30)),
    ]
    out = A.RandomHorizontalFlip(1.0)({"image": image, "boxes": boxes})
    assert all(isinstance(b, tv.BoundingBoxes) for b in out["boxes"])
    assert out["boxes"][0].as_subclass(torch.Tensor).tolist() == [[24.0, 3.0, 28.0, 9.0]] and out["boxes"][1].shape == (
        0,
        4,
    )


def test_ellipse_mode_is_tighter_under_rotation_and_equal_under_scaling():
    image = torch.zeros(1, 3, 40, 40, dtype=torch.uint8)
    boxes = torch.tensor([[[15.0, 15.0, 25.0, 25.0]]])
    rot = {"0": {"angle": torch.tensor([45.0])}}
    corners = A.Compose([A.RandomRotation(45)])({"image": image, "boxes": boxes}, params=rot)["boxes"][0, 0]
    ellipse = A.Compose([A.RandomRotation(45)], targets={"box_mode": "ellipse"})(
        {"image": image, "boxes": boxes}, params=rot
    )["boxes"][0, 0]
    torch.testing.assert_close(corners[2] - corners[0], torch.tensor(10 * 2**0.5), atol=1e-4, rtol=0)
    torch.testing.assert_close(ellipse, boxes[0, 0], atol=1e-4, rtol=0)  # a circle turns into itself
    scale = {"0": {"scale": torch.tensor([[2.0, 0.5]])}}
    a = A.Compose([A.Resize((20, 80))])({"image": image, "boxes": boxes}, params=scale)["boxes"]
    b = A.Compose([A.Resize((20, 80))], targets={"box_mode": "ellipse"})(
        {"image": image, "boxes": boxes}, params=scale
    )["boxes"]
    torch.testing.assert_close(a, b)
