"""Prepare, then apply: parameter algebra on the host, one packed copy, few device ops.

Counts run on the meta device (``augloader._launches``): ops on a meta batch are the kernels a GPU
would launch, copies onto it are host-to-device transfers.
"""

from __future__ import annotations

import pytest
import torch
from pipelines import MEAN, STD, p1, p3
from torchvision.transforms.v2 import functional as TF

import augloader as A
from augloader._batch import _pack, params_to
from augloader._launches import LaunchCounter
from augloader.transforms import stages


def counted(fn, *args) -> LaunchCounter:
    fn(*args)  # warm: device constants are cached on the first call
    with LaunchCounter() as c:
        fn(*args)
    return c


# ---- launch budget (issue 13: P1 <= 60 device ops from 504, P3 <= 25 from 120, one copy per call) ----
# Measured now: P1 49, P3 14 (benchmarks/launches.md).
@pytest.mark.parametrize(("build", "size", "budget"), [(p1, 256, 60), (p3, 224, 25)], ids=["P1", "P3"])
def test_pipeline_launch_budget(build, size: int, budget: int) -> None:
    x = torch.empty(256, 3, size, size, dtype=torch.uint8, device="meta")
    c = counted(build(), x)
    assert c.device_ops <= budget, c.by_op.most_common(10)
    assert c.host_to_device == 1


def test_policy_args_and_warp_are_prepared_on_the_host() -> None:
    # RandAugment(2, 9) launched 1,017 device ops per call at B = 256 when its op arguments and warp
    # matrices were computed on the device; what remains is the per-subset pixel work.
    x = torch.empty(256, 3, 224, 224, dtype=torch.uint8, device="meta")
    c = counted(A.RandAugment(2, 9), x)
    assert c.device_ops <= 650, c.by_op.most_common(10)
    assert "cos" not in c.by_op and "sin" not in c.by_op  # rotation matrices built on the host


def test_device_ops_do_not_grow_with_the_batch() -> None:
    pipe = p1()
    small = counted(pipe, torch.empty(2, 3, 256, 256, dtype=torch.uint8, device="meta")).device_ops
    large = counted(pipe, torch.empty(512, 3, 256, 256, dtype=torch.uint8, device="meta")).device_ops
    assert small == large


@pytest.mark.parametrize(
    "build",
    [lambda: A.RandAugment(2, 9), lambda: A.TrivialAugmentWide(), lambda: A.Compose([A.RandomResizedCrop(224)])],
    ids=["RandAugment", "TrivialAugmentWide", "RandomResizedCrop"],
)
def test_one_host_to_device_copy_for_the_params(build) -> None:
    # Policies add one more copy: the index tensors of their per-op subsets (host-known sizes).
    tf = build()
    c = counted(tf, torch.empty(64, 3, 224, 224, dtype=torch.uint8, device="meta"))
    assert c.host_to_device <= (2 if tf._policy is not None else 1)


def test_mix_moves_its_params_in_one_copy() -> None:
    mix = A.MixUpCutMix(num_classes=10)
    images, labels = torch.empty(64, 3, 32, 32, device="meta"), torch.empty(64, dtype=torch.int64, device="meta")
    assert counted(lambda: mix((images, labels))).host_to_device == 1


def test_replayed_device_params_copy_nothing() -> None:
    pipe = p1()
    x = torch.empty(8, 3, 256, 256, dtype=torch.uint8, device="meta")
    pipe(x)
    params = pipe.last_params  # already on the batch's device
    c = counted(lambda: pipe(x, params=params))
    assert c.host_to_device == 0


# ---- the packed copy ---------------------------------------------------------------------------------
def test_pack_round_trips_every_dtype_and_shape() -> None:
    g = torch.Generator().manual_seed(0)
    tensors = [
        torch.rand(5, 3, 3, generator=g),
        torch.tensor([True, False, True]),
        torch.randint(-(2**40), 2**40, (7,), generator=g),
        torch.rand(3, generator=g, dtype=torch.float64),
        torch.empty(0, 4),
        torch.randint(0, 255, (9,), generator=g).to(torch.uint8),
        torch.tensor(2.5),
        torch.rand(4, 6, generator=g)[:, ::2],  # not contiguous
    ]
    out = _pack(tensors, torch.device("cpu"))
    for t, o in zip(tensors, out):
        assert o.dtype == t.dtype and o.shape == t.shape
        assert torch.equal(o, t)


def test_params_to_moves_a_shared_tensor_once_and_keeps_structure() -> None:
    shared = torch.rand(4)
    params = {"a": shared, "b": [shared, torch.ones(2, dtype=torch.bool)], "c": (torch.zeros(3),), "n": 3}
    with LaunchCounter() as c:
        moved = params_to(params, "meta")
    assert c.host_to_device == 1
    assert moved["a"] is moved["b"][0] and moved["a"].device.type == "meta"
    assert isinstance(moved["b"], list) and isinstance(moved["c"], tuple) and moved["n"] == 3
    assert moved["b"][1].dtype == torch.bool


# ---- prepared algebra equals the step-by-step definition ----------------------------------------------
def _jitter_reference(image: torch.Tensor, params: dict, i: int) -> torch.Tensor:
    """One sample through its four ops in its drawn order, linear runs unclamped and clamped at their end
    (ColorJitter's documented semantics), exact hue by torchvision."""
    x = image[i].double()
    b, c, s, h = (params[k][i].double() for k in ("brightness", "contrast", "saturation", "hue"))
    w = torch.tensor((0.2989, 0.587, 0.114), dtype=torch.float64).view(3, 1, 1)
    for op in params["order"][i].tolist():
        if op == 0:
            x = x * b
        elif op == 1:
            x = c * x + (1 - c) * (x * w).sum(0).mean()
        elif op == 2:
            x = s * x + (1 - s) * (x * w).sum(0, keepdim=True)
        else:
            x = TF.adjust_hue(x.clamp(0, 1).float(), float(h)).double()
    return x.clamp(0, 1).float()


def test_color_jitter_equals_its_step_by_step_definition() -> None:
    g = torch.Generator().manual_seed(3)
    image = torch.rand(24, 3, 9, 11, generator=g)
    tf = A.ColorJitter(0.5, 0.6, 0.7, 0.2)
    out = tf(image, generator=torch.Generator().manual_seed(1))
    params = tf.last_params
    for i in range(image.shape[0]):
        torch.testing.assert_close(out[i], _jitter_reference(image, params, i), atol=2e-5, rtol=0)


def test_color_jitter_on_uint8_and_with_folded_normalize_equals_the_float_steps() -> None:
    g = torch.Generator().manual_seed(4)
    x8 = torch.randint(0, 256, (10, 3, 12, 12), dtype=torch.uint8, generator=g)
    jitter, norm = A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)
    pipe = A.Compose([jitter, norm])
    folded = pipe(x8, generator=torch.Generator().manual_seed(0))
    params = pipe.last_params["0"]
    stepwise = norm(jitter(x8.float() / 255.0, params=params))
    torch.testing.assert_close(folded, stepwise, atol=1e-4, rtol=0)


def test_gaussian_blur_prepared_kernels_equal_the_direct_op() -> None:
    g = torch.Generator().manual_seed(5)
    image = torch.rand(6, 3, 16, 20, generator=g)
    blur = A.GaussianBlur((5, 3), (0.1, 2.0))
    out = blur(image, generator=torch.Generator().manual_seed(2))
    direct = blur.apply(image, {"sigma": blur.last_params["sigma"]})  # no prepared kernels: built here
    torch.testing.assert_close(out, direct, atol=1e-6, rtol=0)
    assert "kernel_x" not in blur.last_params  # last_params are the draws, not the prepared extras


def test_cpu_chunks_slice_the_prepared_params(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(6)
    x = torch.randint(0, 256, (12, 3, 40, 40), dtype=torch.uint8, generator=g)
    pipe = A.Compose([A.RandomAffine(20, (0.1, 0.1)), A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.GaussianBlur(3)])
    whole = pipe(x, generator=torch.Generator().manual_seed(0))
    monkeypatch.setattr(stages, "CPU_CHUNK_BYTES", 3 * 40 * 40 * 4 * 5)  # chunks of 5 samples
    chunked = pipe(x, params=pipe.last_params)
    torch.testing.assert_close(chunked, whole, atol=0, rtol=0)


# ---- the host half as its own call (Transform.draw) ----------------------------------------------------
def test_draw_then_apply_equals_one_call() -> None:
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, 256, (6, 3, 64, 64), dtype=torch.uint8, generator=g)
    pipe = p1()
    once = pipe(x, generator=torch.Generator().manual_seed(1))
    params_once = pipe.last_params
    drawn = pipe.draw(x, torch.Generator().manual_seed(1))
    twice = pipe(x, params=drawn)
    torch.testing.assert_close(twice, once, atol=0, rtol=0)
    assert torch.equal(params_once["2"]["order"], pipe.last_params["2"]["order"])


def test_draw_reads_boxes_for_safe_crops() -> None:
    pipe = A.Compose([A.RandomResizedCrop(32, bbox_safe="all"), A.RandomHorizontalFlip()])
    batch = {
        "image": torch.zeros(4, 3, 64, 64, dtype=torch.uint8),
        "boxes": torch.tensor([[[10.0, 10.0, 30.0, 30.0]]]).expand(4, 1, 4).clone(),
    }
    drawn = pipe.draw(batch, torch.Generator().manual_seed(2))
    out = pipe(batch, params=drawn)
    ref = pipe(batch, generator=torch.Generator().manual_seed(2))
    assert torch.equal(out["image"], ref["image"]) and torch.equal(out["boxes"], ref["boxes"])


def test_drawn_params_refuse_another_shape() -> None:
    pipe = p3()
    drawn = pipe.draw(torch.zeros(4, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"drawn for a batch of shape \(4, 3, 32, 32\).*\(5, 3, 32, 32\)"):
        pipe(torch.zeros(5, 3, 32, 32, dtype=torch.uint8), params=drawn)


def test_device_half_of_a_drawn_call_is_one_copy_and_pixel_work() -> None:
    pipe = p1()
    host = torch.empty(64, 3, 256, 256, dtype=torch.uint8)  # only the shape is read
    drawn = pipe.draw(host)
    x = torch.empty(64, 3, 256, 256, dtype=torch.uint8, device="meta")
    pipe(x, params=pipe.draw(host))  # warm the cached constants
    with LaunchCounter() as c:
        pipe(x, params=drawn)
    assert c.host_to_device == 1 and c.device_ops <= 60
    assert 0 < c.by_op["bmm.default"] <= 4  # the colour passes and their means; no matrix algebra on the device
