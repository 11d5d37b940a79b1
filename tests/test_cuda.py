"""On a CUDA device: no host sync on the hot path, targets and level-rounding ops as on the CPU, and
DeviceAugmenter's side stream overlapping the training step. Every test here is skipped without CUDA
(``scripts/gpu_check.sh`` runs them on the day a GPU is lent; docs/gpu.md)."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import pytest
import torch
from levels import assert_within_one_level
from pipelines import MEAN, STD, p1, p3
from torch import Tensor

import augloader as A
from augloader.data import DeviceAugmenter
from augloader.mix import MixUpCutMix

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

DEVICE = torch.device("cuda")


def _images(b: int = 8, side: int = 64, seed: int = 0) -> Tensor:
    """Smooth uint8 ``(b, 3, side, side)`` images (upsampled noise), on the CPU."""
    low = torch.randint(0, 256, (b, 3, side // 8, side // 8), generator=torch.Generator().manual_seed(seed))
    up = torch.nn.functional.interpolate(low.float(), size=(side, side), mode="bilinear", align_corners=False)
    return up.round().to(torch.uint8)


def _targets_pipeline() -> A.Compose:
    return A.Compose(
        [
            A.RandomResizedCrop(48, scale=(0.5, 1.0)),
            A.RandomHorizontalFlip(),
            A.RandomRotation(15),
            A.ColorJitter(0.3, 0.3, 0.3),
        ],
        targets={"min_visibility": 0.2, "flip_pairs": [(0, 1)]},
    )


def _target_batch(b: int = 6, side: int = 64) -> dict[str, Tensor]:
    """Images with padded boxes (a label each), an integer mask and keypoints; on the CPU."""
    g = torch.Generator().manual_seed(5)
    xy = torch.rand(b, 5, 2, generator=g) * (side * 0.6)
    wh = torch.rand(b, 5, 2, generator=g) * (side * 0.3) + 4
    return {
        "image": _images(b, side, seed=1),
        "boxes": torch.cat([xy, xy + wh], dim=-1),  # (b, 5, 4) xyxy pixels
        "boxes_valid": torch.ones(b, 5, dtype=torch.bool),
        "box_labels": torch.randint(0, 9, (b, 5), generator=g),
        "mask": torch.randint(0, 4, (b, side, side), generator=g),
        "keypoints": torch.rand(b, 4, 2, generator=g) * side,
        "label": torch.arange(b),
    }


def _to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, dict):
        return {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
    if isinstance(batch, tuple):
        return tuple(_to(v, device) for v in batch)
    return batch.to(device)


@contextlib.contextmanager
def no_host_sync() -> Iterator[None]:
    """Any op in the block that makes the host wait for the device raises a RuntimeError."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


# ---- no host sync on the hot path -------------------------------------------------------------------------
def _mix_call() -> tuple[Callable[..., Any], Any]:
    mixer = MixUpCutMix(num_classes=10, mode="elem")
    images = _images().float().div(255)
    return mixer, (images, torch.arange(8) % 10)


HOT_PATHS: dict[str, Callable[[], tuple[Callable[..., Any], Any]]] = {
    "P1": lambda: (p1(48), _images(8, 64)),
    "P3": lambda: (p3(), _images(8, 64)),
    "RandAugment": lambda: (A.RandAugment(2, 9), _images(8, 64)),
    "MixUpCutMix": _mix_call,
    "targets": lambda: (_targets_pipeline(), _target_batch()),
}


@pytest.mark.parametrize("name", sorted(HOT_PATHS))
def test_hot_path_does_not_sync(name):
    fn, batch = HOT_PATHS[name]()
    if isinstance(fn, torch.nn.Module):
        fn = fn.to(DEVICE)
    batch = _to(batch, DEVICE)
    fn(batch, generator=torch.Generator().manual_seed(0))  # warm-up: lazy initialisation may sync once
    with no_host_sync():
        out = fn(batch, generator=torch.Generator().manual_seed(1))
    first = out["image"] if isinstance(out, dict) else out[0] if isinstance(out, tuple) else out
    assert first.device.type == DEVICE.type and torch.isfinite(first.float()).all()


def test_no_host_sync_catches_a_sync():
    """The check above can fail: a host read of a CUDA value raises under it."""
    x = torch.ones(4, device=DEVICE)
    with pytest.raises(RuntimeError, match="synchroniz"):
        with no_host_sync():
            x.sum().item()


# ---- the same results as the CPU --------------------------------------------------------------------------
def test_targets_through_compose_match_cpu():
    batch = _target_batch()
    cpu = _targets_pipeline()(batch, generator=torch.Generator().manual_seed(3))
    gpu = _to(_targets_pipeline().to(DEVICE)(_to(batch, DEVICE), generator=torch.Generator().manual_seed(3)), "cpu")
    assert set(gpu) == set(cpu)
    assert (cpu["image"].int() - gpu["image"].int()).abs().max().item() <= 1  # uint8: one level of rounding
    assert torch.equal(gpu["boxes_valid"], cpu["boxes_valid"])
    assert torch.allclose(gpu["boxes"], cpu["boxes"], atol=1e-3)
    assert torch.equal(gpu["box_labels"], cpu["box_labels"]) and torch.equal(gpu["label"], cpu["label"])
    assert torch.equal(gpu["keypoints_visible"], cpu["keypoints_visible"])
    assert torch.allclose(gpu["keypoints"], cpu["keypoints"], atol=1e-3)
    # Nearest sampling: a coordinate a last bit from a pixel edge may pick the neighbour.
    assert (gpu["mask"] != cpu["mask"]).double().mean().item() <= 1e-3
    assert gpu["mask"].dtype == cpu["mask"].dtype == torch.int64


LEVEL_OPS: dict[str, Callable[[], A.Transform]] = {
    # Each rounding op after a warp, whose last-bit differences it may turn into whole levels.
    "posterize": lambda: A.Compose([A.RandomAffine(20, scale=(0.9, 1.1)), A.RandomPosterize(3, p=1.0)]),
    "solarize": lambda: A.Compose([A.RandomAffine(20, scale=(0.9, 1.1)), A.RandomSolarize(0.5, p=1.0)]),
    "equalize": lambda: A.Compose([A.RandomAffine(20, scale=(0.9, 1.1)), A.RandomEqualize(p=1.0)]),
    "RandAugment": lambda: A.RandAugment(2, 9),
    "TrivialAugmentWide": lambda: A.TrivialAugmentWide(),
}


@pytest.mark.parametrize("name", sorted(LEVEL_OPS))
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_level_rounding_ops_match_cpu_within_one_level(name, dtype):
    t = LEVEL_OPS[name]()
    x = _images(16, 64, seed=2)
    x = x if dtype == torch.uint8 else x.float() / 255
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(4))
    cpu = t(x, params=params)
    gpu = t.to(DEVICE)(x.to(DEVICE), params=params).cpu()
    assert not torch.equal(cpu, x), f"{name} left the batch unchanged: nothing was compared"
    assert_within_one_level(cpu, gpu, f"{name} ({dtype}) CUDA vs CPU")


# ---- DeviceAugmenter: the side stream overlaps the step ------------------------------------------------
class _Timed:
    """Wraps a transform; records CUDA events on the stream it runs on (the side stream) around each call."""

    def __init__(self, transform: A.Transform) -> None:
        self.transform = transform.to(DEVICE)
        self.spans: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        out = self.transform(images, generator=generator)
        end.record()
        self.spans.append((start, end))
        return out


def test_device_augmenter_prepares_next_batch_while_step_runs():
    n = 8
    loader = [(_images(64, 256, seed=i), torch.arange(64)) for i in range(n)]
    timed = _Timed(A.Compose([A.RandomResizedCrop(224), A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)]))
    a = torch.randn(2048, 2048, device=DEVICE)
    origin = torch.cuda.Event(enable_timing=True)
    origin.record()
    held: list[tuple[torch.cuda.Event, torch.cuda.Event]] = []
    for images, _ in DeviceAugmenter(loader, timed, DEVICE, seed=0):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        acc = images.mean()
        for _ in range(40):  # the "training step": a few ms of matrix products on the consumer's stream
            acc = acc + (a @ a).mean()
        end.record()
        held.append((start, end))
    torch.cuda.synchronize()
    assert len(held) == len(timed.spans) == n

    def ms(e: torch.cuda.Event) -> float:
        return origin.elapsed_time(e)

    prep = [(ms(s), ms(e)) for s, e in timed.spans]
    step = [(ms(s), ms(e)) for s, e in held]
    for k in range(n):  # batch k is augmented before the step that uses it starts
        assert prep[k][1] <= step[k][0] + 1e-3, f"step {k} started at {step[k][0]:.2f} ms before its batch was ready"
    # Batch k + 1's augmentation starts while step k still runs (loosely: in most steps; the first may not).
    overlapped = [k for k in range(n - 1) if prep[k + 1][0] < step[k][1]]
    assert len(overlapped) >= (n - 1) // 2, (
        f"the side stream overlapped only steps {overlapped} of {n - 1}; augment spans {prep}, step spans {step}"
    )
