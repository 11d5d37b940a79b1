"""No host syncs on the device path, proven on the meta device.

Every transform of the registry, the reference pipelines (P1, P3, RandAugment, TrivialAugmentWide,
MixUpCutMix) and the target paths (boxes, masks, keypoints, crop with care) run on ``meta`` tensors
under :class:`sync_mode.NoSyncMode`, which raises on any host read of a device tensor: ``item()``,
``nonzero``, boolean-mask indexing, a copy to the CPU, an output shape that depends on the data.
Parameters are drawn on the CPU generator by design and moved to the batch's device (counted, allowed).
"""

from __future__ import annotations

import pytest
import torch
from pipelines import p1, p3
from registry import REGISTRY, build
from sync_mode import HostSyncError, NoSyncMode, meta_images

import augloader as A
from augloader.targets.batch import Targets
from augloader.targets.boxes import pad_list
from augloader.targets.options import TargetOptions

META = torch.device("meta")

#: Registry entries whose device path syncs: (name, input dtype or None for any) -> reason, marked strict
#: xfail (so a mark must go when its sync is fixed). None are left.
KNOWN_SYNCS: dict[tuple, str] = {}


def _run(transform, batch, seed: int = 0):
    """``transform(batch)`` under a strict :class:`NoSyncMode`; returns the output and the mode."""
    with NoSyncMode() as mode:
        out = transform(batch, generator=torch.Generator().manual_seed(seed))
    return out, mode


def _target_blocking_copies(mode: NoSyncMode) -> list[str]:
    """Blocking host -> device copies issued from augloader/targets/ itself (not through a cached constant)."""
    return [str(s) for s in mode.blocking_sites if s.stack and s.stack[-1].startswith("targets/")]


def _detection_batch(b: int = 4, n: int = 5, k: int = 3, h: int = 64, w: int = 64, mask_dtype=torch.int64) -> dict:
    """A dict batch on the meta device: boxes + valid, one per-box field, a mask, keypoints + visibility."""
    return {
        "image": meta_images(b, 3, h, w),
        "boxes": torch.empty(b, n, 4, device=META),
        "boxes_valid": torch.empty(b, n, dtype=torch.bool, device=META),
        "box_labels": torch.empty(b, n, dtype=torch.int64, device=META),
        "mask": torch.empty(b, h, w, dtype=mask_dtype, device=META),
        "keypoints": torch.empty(b, k, 2, device=META),
        "keypoints_visible": torch.empty(b, k, dtype=torch.bool, device=META),
        "label": torch.empty(b, dtype=torch.int64, device=META),
    }


# ---- the detector itself: it must catch what it claims to ----------------------------------------------
SYNCING = {
    "item": lambda x: x.sum().item(),
    "tolist": lambda x: x.tolist(),
    "bool": lambda x: bool(x.any()),
    "int": lambda x: int(x.sum()),
    "nonzero": lambda x: x.nonzero(),
    "masked_select": lambda x: x.masked_select(x > 0),
    "bool_index": lambda x: x[x > 0],
    "bool_index_put": lambda x: x.clone().index_put_((x > 0,), torch.zeros((), device=x.device)),
    "unique": lambda x: torch.unique(x),
    "repeat_interleave_tensor": lambda x: torch.arange(3, device=x.device).repeat_interleave(
        torch.ones(3, dtype=torch.int64, device=x.device)
    ),
    "cpu": lambda x: x.cpu(),
    "to_cpu": lambda x: x.to("cpu", non_blocking=True),
    "copy_into_cpu": lambda x: torch.empty(x.shape).copy_(x),
    "equal": lambda x: torch.equal(x, x),
    "mixed_devices": lambda x: x + torch.ones(x.shape[-1]),
}


@pytest.mark.parametrize("name", sorted(SYNCING))
def test_mode_catches_each_kind_of_sync(name):
    x = torch.empty(4, 5, device=META)
    with pytest.raises(HostSyncError, match="host sync"):
        with NoSyncMode():
            SYNCING[name](x)


def test_mode_allows_device_work_and_host_work_and_counts_copies():
    x = torch.empty(4, 5, device=META)
    with NoSyncMode() as mode:
        host = torch.rand(4, 5)  # parameter draws on the CPU: allowed
        assert host.sum().item() >= 0.0
        y = torch.where(x > 0, x, 0.0).clamp(0, 1) * 2.0  # device work with Python scalars
        idx = torch.arange(4, device=META)
        y.index_select(0, idx)
        y[idx]  # integer indexing is fine
        torch.arange(3, device=META).repeat_interleave(torch.ones(3, dtype=torch.int64, device=META), output_size=3)
        x + torch.ones(())  # a 0-dim CPU tensor is a scalar
        host.to(META, non_blocking=True)
        host.to(META)
    assert y.device == META
    assert (mode.h2d, mode.h2d_blocking) == (2, 1)
    assert len(mode.blocking_sites) == 1 and mode.syncs == []


def test_lenient_mode_records_instead_of_raising():
    x = torch.empty(4, 5)  # on the CPU nothing is a sync
    with NoSyncMode(strict=False) as mode:
        x.nonzero()
        x.sum().item()
    assert mode.syncs == []
    with pytest.raises(NotImplementedError):  # meta's nonzero still fails (no data) after it is recorded
        with NoSyncMode(strict=False) as mode:
            torch.empty(2, 2, device=META).nonzero()
    assert [s.op for s in mode.syncs] == ["aten.nonzero.default"]


# ---- every transform of the registry -------------------------------------------------------------------
def _registry_params():
    for name in sorted(REGISTRY):
        for dtype in (torch.uint8, torch.float32):
            reason = KNOWN_SYNCS.get((name, None)) or KNOWN_SYNCS.get((name, dtype))
            marks = [pytest.mark.xfail(strict=True, raises=HostSyncError, reason=reason)] if reason else []
            yield pytest.param(name, dtype, marks=marks, id=f"{name}-{str(dtype).replace('torch.', '')}")


@pytest.mark.parametrize("name,dtype", list(_registry_params()))
def test_registry_transform_has_no_sync(name, dtype):
    t = build(name).to(META)  # modules with weights (StyleNetworkAugment) go where the batch is, as on a GPU
    x = meta_images(4, 3, 64, 64, dtype)
    y, _ = _run(t, x)
    assert y.device == META and y.dtype == t.output_dtype(dtype)
    assert y.shape[:2] == (4, 3)


# ---- reference pipelines -------------------------------------------------------------------------------------
def test_p1_imagenet_pipeline_has_no_sync():
    y, mode = _run(p1(), meta_images(8, 3, 256, 256))
    assert y.shape == (8, 3, 224, 224) and y.dtype == torch.float32 and y.device == META
    assert mode.h2d >= 1  # the parameters crossed to the device


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_p3_affine_blur_pipeline_has_no_sync(dtype):
    y, _ = _run(p3(), meta_images(8, 3, 128, 128, dtype))
    assert y.shape == (8, 3, 128, 128) and y.dtype == dtype


@pytest.mark.parametrize("policy", [lambda: A.RandAugment(2, 9), lambda: A.TrivialAugmentWide()], ids=["ra", "ta"])
def test_policies_have_no_sync(policy):
    y, _ = _run(policy(), meta_images(8, 3, 64, 64))
    assert y.shape == (8, 3, 64, 64) and y.dtype == torch.uint8


@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
def test_mixup_cutmix_has_no_sync(mode):
    mix = A.MixUpCutMix(num_classes=10, mode=mode, label_smoothing=0.1)
    images = meta_images(8, 3, 32, 32, torch.float32)
    out, _ = _run(mix, {"image": images, "label": torch.empty(8, dtype=torch.int64, device=META)})
    assert out["image"].shape == images.shape and out["label"].shape == (8, 10) and out["label"].device == META


def test_cutmix_with_boxes_and_mask_has_no_sync():
    mix = A.MixUpCutMix(mixup_alpha=0.0, cutmix_alpha=1.0, num_classes=10, mode="elem")
    batch = _detection_batch(8, 3, h=32, w=32)
    del batch["keypoints"], batch["keypoints_visible"]
    out, _ = _run(mix, batch)
    assert out["boxes"].shape == (8, 6, 4) and out["boxes_valid"].shape == (8, 6)
    assert out["mask"].shape == (8, 32, 32)


# ---- target pipelines ----------------------------------------------------------------------------------------
TARGET_PIPELINES = {
    "resized_crop_flip": lambda: A.Compose([A.RandomResizedCrop(48), A.RandomHorizontalFlip()]),
    "affine_flip_colour": lambda: A.Compose(
        [A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.ColorJitter(0.3, 0.3)]
    ),
    "padded_crop_flip": lambda: A.Compose([A.RandomCrop(48, padding=4), A.RandomVerticalFlip()]),
    "crop_then_rotate": lambda: A.Compose([A.RandomCrop(48), A.RandomRotation(30), A.RandomPerspective(0.3)]),
    "safe_padded_crop_flip": lambda: A.Compose(
        [A.RandomCrop(48, padding=4, bbox_safe="all"), A.RandomHorizontalFlip(), A.ColorJitter(0.2)]
    ),
    "safe_resized_crop_then_affine": lambda: A.Compose(
        [A.RandomResizedCrop(48, bbox_safe="any"), A.RandomAffine(15, bbox_safe=0.5, min_visibility=0.5)]
    ),
    "options": lambda: A.Compose(
        [A.RandomAffine(20, scale=(0.8, 1.2)), A.RandomHorizontalFlip()],
        targets={"flip_pairs": [(0, 1)], "min_visibility": 0.3, "min_area": 4, "box_mode": "ellipse", "mask_fill": 255},
    ),
    "normalized_xywh": lambda: A.Compose(
        [A.RandomResizedCrop(48), A.RandomHorizontalFlip()], targets={"normalized": True, "boxes_format": "xywh"}
    ),
    "randaugment": lambda: A.RandAugment(2, 9),
    "trivialaugment": lambda: A.TrivialAugmentWide(),
}


@pytest.mark.parametrize("name", sorted(TARGET_PIPELINES))
def test_target_pipeline_has_no_sync(name):
    t = TARGET_PIPELINES[name]()
    batch = _detection_batch()
    out, mode = _run(t, batch)
    b, n = batch["boxes"].shape[:2]
    size = tuple(out["image"].shape[-2:])
    assert out["boxes"].shape == (b, n, 4) and out["boxes_valid"].shape == (b, n)
    assert out["box_labels"] is batch["box_labels"]  # padded slots: per-box fields need no change
    assert out["mask"].shape == (b, *size) and out["mask"].dtype == torch.int64
    assert out["keypoints"].shape == (b, 3, 2) and out["keypoints_visible"].shape == (b, 3)
    assert all(v.device == META for v in out.values())
    assert _target_blocking_copies(mode) == []


@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.uint8])
def test_mask_dtypes_and_channels_have_no_sync(mask_dtype):
    t = A.Compose([A.RandomAffine(20), A.RandomResizedCrop(40)])
    batch = _detection_batch(mask_dtype=mask_dtype)
    batch["mask"] = torch.empty(4, 2, 64, 64, dtype=mask_dtype, device=META)  # (B, K, H, W)
    out, _ = _run(t, batch)
    assert out["mask"].shape == (4, 2, 40, 40) and out["mask"].dtype == mask_dtype


def test_unbatched_sample_has_no_sync():
    t = A.Compose([A.RandomCrop(48, bbox_safe="all"), A.RandomHorizontalFlip()])
    sample = {
        "image": torch.empty(3, 64, 64, dtype=torch.uint8, device=META),
        "boxes": torch.empty(5, 4, device=META),
        "mask": torch.empty(64, 64, dtype=torch.int64, device=META),
    }
    out, _ = _run(t, sample)
    assert out["image"].shape == (3, 48, 48) and out["boxes"].shape == (5, 4) and out["mask"].shape == (48, 48)


# ---- crop with care ---------------------------------------------------------------------------------------
SAFE = {
    "RandomResizedCrop": lambda rule: A.RandomResizedCrop(40, bbox_safe=rule),
    "RandomCrop": lambda rule: A.RandomCrop(40, padding=4, bbox_safe=rule),
    "RandomAffine": lambda rule: A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), bbox_safe=rule, min_visibility=0.5),
}


@pytest.mark.parametrize("rule", ["all", "any", 0.5])
@pytest.mark.parametrize("name", sorted(SAFE))
def test_bbox_safe_draw_stays_on_the_device(name, rule):
    t = SAFE[name](rule)
    batch = _detection_batch(6, 7)
    out, mode = _run(t, batch)
    assert out["boxes"].shape == (6, 7, 4)
    # the choice ran where the boxes are: its parameters were never brought back to the host
    assert t.last_params and all(v.device == META for v in t.last_params.values())
    assert _target_blocking_copies(mode) == []


def test_bbox_safe_widest_crop_without_boxes_has_no_sync():
    t = A.RandomCrop(40, bbox_safe="all")
    batch = {"image": meta_images(3, 3, 64, 64), "boxes": torch.empty(3, 0, 4, device=META)}  # N = 0
    out, _ = _run(t, batch)
    assert out["boxes"].shape == (3, 0, 4)


def test_bbox_safe_widest_crop_without_boxes_on_cpu():
    # The fallback crop is centred on the image when a sample has no boxes at all (N = 0 too).
    t = A.RandomCrop(40, bbox_safe="all")
    widest = t._widest(
        (2, 3, 64, 80), {"boxes": torch.empty(2, 0, 4), "boxes_valid": torch.empty(2, 0, dtype=torch.bool)}
    )
    assert widest["top"].tolist() == [12, 12] and widest["left"].tolist() == [20, 20]


# ---- list-form boxes: the one documented sync ---------------------------------------------------------------
def test_list_form_boxes_sync_once_at_export_and_padded_form_does_not():
    t = A.Compose([A.RandomResizedCrop(48), A.RandomHorizontalFlip()])
    image = meta_images(3, 3, 64, 64)
    boxes = [torch.empty(n, 4, device=META) for n in (2, 0, 5)]
    with pytest.raises(HostSyncError) as info:
        _run(t, {"image": image, "boxes": boxes})
    text = str(info.value)
    assert "copies a device tensor to the host" in text or "reads a device value" in text
    assert "targets/batch.py" in text and "_list_order" in text  # the counts read, documented in its docstring
    padded, valid = pad_list(boxes)  # the syncless form of the same boxes
    out, _ = _run(t, {"image": image, "boxes": padded, "boxes_valid": valid})
    assert out["boxes"].shape == (3, 5, 4)


def test_list_form_export_matches_the_boolean_mask_reference():
    # Dropped boxes in the middle of a sample: the stable on-device compaction keeps the kept boxes' order.
    g = torch.Generator().manual_seed(0)
    boxes = torch.rand(3, 6, 4, generator=g) * 50
    boxes[..., 2:] += boxes[..., :2]
    valid = torch.rand(3, 6, generator=g) > 0.4
    valid[1] = False  # a sample with nothing left
    labels = torch.randint(0, 9, (3, 6), generator=g)
    scores = torch.rand(3, 6, 2, generator=g)
    t = Targets((100, 100), TargetOptions(), boxes=boxes, valid=valid, box_form="list", list_fields=("box_labels",))
    t.fields = {"box_labels": labels, "box_scores": scores}
    t.list_fields = ("box_labels", "box_scores")
    out = t.export()
    counts = valid.sum(1).tolist()
    for got, want in zip(out["boxes"], boxes[valid].split(counts)):
        assert torch.equal(got, want)
    for key, field in (("box_labels", labels), ("box_scores", scores)):
        assert [x.shape[0] for x in out[key]] == counts
        for got, want in zip(out[key], field[valid].split(counts)):
            assert torch.equal(got, want)
