"""Hypothesis properties: boxes stay inside, labels stay aligned, boxes equal the box of the moved mask."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augloader as A

H, W = 32, 40


@st.composite
def boxes_and_labels(draw):
    n = draw(st.integers(1, 6))
    out = []
    for _ in range(n):
        x0 = draw(st.integers(0, W - 2))
        y0 = draw(st.integers(0, H - 2))
        x1 = draw(st.integers(x0 + 1, W))
        y1 = draw(st.integers(y0 + 1, H))
        out.append([float(x0), float(y0), float(x1), float(y1)])
    return torch.tensor([out])  # (1, N, 4), integer corners


def _filled(box: torch.Tensor) -> torch.Tensor:
    mask = torch.zeros(1, H, W, dtype=torch.uint8)
    x0, y0, x1, y1 = box.long().tolist()
    mask[0, y0:y1, x0:x1] = 1
    return mask


def _mask_box(mask: torch.Tensor) -> list[float] | None:
    ys, xs = torch.nonzero(mask[0], as_tuple=True)
    if ys.numel() == 0:
        return None
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


@settings(max_examples=40, deadline=None)
@given(
    boxes=boxes_and_labels(),
    seed=st.integers(0, 2**31 - 1),
    which=st.sampled_from(["affine", "rotation", "perspective", "rrc", "crop_pad"]),
)
def test_boxes_stay_inside_and_labels_aligned(boxes, seed, which):
    t = {
        "affine": A.RandomAffine(40, (0.3, 0.3), (0.5, 1.5), 15),
        "rotation": A.RandomRotation(90, expand=True),
        "perspective": A.RandomPerspective(0.7, p=1.0),
        "rrc": A.RandomResizedCrop((24, 20), scale=(0.1, 1.0)),
        "crop_pad": A.RandomCrop(36, padding=6),
    }[which]
    n = boxes.shape[1]
    labels = torch.arange(100, 100 + n).view(1, n)
    lists = [boxes[0]]
    image = torch.zeros(1, 3, H, W, dtype=torch.uint8)
    g = torch.Generator().manual_seed(seed)
    out = t({"image": image, "boxes": boxes, "box_labels": labels}, generator=g)
    oh, ow = out["image"].shape[-2:]
    b, v = out["boxes"], out["boxes_valid"]
    assert (
        (b[..., 0::2] >= 0).all()
        and (b[..., 0::2] <= ow).all()
        and (b[..., 1::2] >= 0).all()
        and (b[..., 1::2] <= oh).all()
    )
    assert (b[..., 2] >= b[..., 0]).all() and (b[..., 3] >= b[..., 1]).all()
    assert torch.equal(out["box_labels"], labels)
    # the list form with the same params keeps the same boxes, labels filtered alongside
    out_l = t({"image": image, "boxes": lists, "box_labels": [labels[0]]}, params=t.last_params)
    assert torch.equal(out_l["box_labels"][0], labels[0][v[0]])
    torch.testing.assert_close(out_l["boxes"][0], b[0][v[0]])


@settings(max_examples=40, deadline=None)
@given(
    boxes=boxes_and_labels(),
    seed=st.integers(0, 2**31 - 1),
    which=st.sampled_from(["hflip", "vflip", "crop", "crop_pad", "center"]),
)
def test_flips_and_crops_equal_the_box_of_the_moved_mask(boxes, seed, which):
    t = {
        "hflip": A.RandomHorizontalFlip(),
        "vflip": A.RandomVerticalFlip(),
        "crop": A.RandomCrop((20, 24)),
        "crop_pad": A.RandomCrop(36, padding=6),
        "center": A.CenterCrop((20, 50)),
    }[which]
    box = boxes[:, :1]
    mask = _filled(box[0, 0])
    out = t(
        {"image": torch.zeros(1, 3, H, W, dtype=torch.uint8), "boxes": box, "mask": mask},
        generator=torch.Generator().manual_seed(seed),
    )
    expected = _mask_box(out["mask"])
    assert bool(out["boxes_valid"][0, 0]) == (expected is not None)
    if expected is not None:
        assert out["boxes"][0, 0].tolist() == expected


@settings(max_examples=40, deadline=None)
@given(boxes=boxes_and_labels(), seed=st.integers(0, 2**31 - 1))
def test_affine_without_rotation_matches_the_moved_mask(boxes, seed):
    box = boxes[:, :1]
    x0, y0, x1, y1 = box[0, 0].tolist()
    # nearest rounding moves each mask edge by up to half a pixel, so a box of side s can lose up to
    # about 2/s of IoU against the exact box: IoU > 0.9 is a claim about boxes of 20 pixels and more
    # (hypothesis found a 12-pixel box at IoU 0.896)
    x1, y1 = max(x1, min(x0 + 20, W)), max(y1, min(y0 + 20, H))
    x0, y0 = min(x0, x1 - 20), min(y0, y1 - 20)
    box = torch.tensor([[[x0, y0, x1, y1]]])
    mask = _filled(box[0, 0])
    t = A.RandomAffine(0, (0.1, 0.1), (0.8, 1.5), interpolation="nearest")
    out = t(
        {"image": torch.zeros(1, 3, H, W, dtype=torch.uint8), "boxes": box, "mask": mask},
        generator=torch.Generator().manual_seed(seed),
    )
    expected = _mask_box(out["mask"])
    if expected is None or not bool(out["boxes_valid"][0, 0]):
        return
    got = out["boxes"][0, 0]
    if min(float(got[2] - got[0]), float(got[3] - got[1])) < 20:
        return  # a sliver at the border: one pixel of nearest rounding is most of it
    assert _iou(out["boxes"][0, 0].tolist(), expected) > 0.9
