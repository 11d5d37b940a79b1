"""The shared checkers: every transform in the registry keeps the engine's contract."""

from __future__ import annotations

import pytest
import torch
from levels import assert_within_one_level, rounds_to_levels
from registry import REGISTRY, build

import augloader as A
from augloader._batch import slice_params

NAMES = sorted(REGISTRY)
GATED = sorted(n for n, (_, has_p) in REGISTRY.items() if has_p)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype == torch.uint8:
        return (a.int() - b.int()).abs().max().item() <= 1 if a.numel() else True
    return torch.allclose(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_input_not_mutated_and_dtype_device_kept(name, dtype, images_u8, device, generator):
    x = (images_u8 if dtype == torch.uint8 else images_u8.float() / 255).to(device)
    before = x.clone()
    t = build(name)
    y = t(x, generator=generator)
    assert torch.equal(x, before), "input was mutated"
    assert y.device == x.device
    assert y.dtype == t.output_dtype(x.dtype)
    assert y.data_ptr() != x.data_ptr()
    assert torch.isfinite(y.float()).all()


@pytest.mark.parametrize("name", NAMES)
def test_batch_equals_per_sample_loop(name, images_u8, generator):
    x = images_u8.float() / 255
    t = build(name)
    params = t.sample_params(tuple(x.shape), generator)
    batched = t(x, params=params)
    for i in range(x.shape[0]):
        single = t(x[i : i + 1], params=slice_params(params, i))
        assert _close(single, batched[i : i + 1]), f"sample {i} differs from the batched result"


@pytest.mark.parametrize("name", NAMES)
def test_unbatched_input_gives_unbatched_output(name, images_u8, generator):
    t = build(name)
    y = t(images_u8[0], generator=generator)
    assert y.shape == t(images_u8[:1], params=t.last_params).shape[1:]


@pytest.mark.parametrize("name", NAMES)
def test_empty_batch(name, images_u8, generator):
    t = build(name)
    x = images_u8[:0]
    y = t(x, generator=generator)
    expected = t.output_size(tuple(x.shape[-2:])) if hasattr(t, "output_size") else x.shape[-2:]
    assert y.shape == (0, 3, *expected)


@pytest.mark.parametrize("name", GATED)
def test_p_zero_is_identity(name, images_u8, generator):
    t = build(name, p=0.0)
    for x in (images_u8, images_u8.float() / 255):
        y = t(x, generator=generator)
        assert _close(y, x), f"{name}(p=0) changed the image"


@pytest.mark.parametrize("name", NAMES)
def test_replayed_params_give_identical_output(name, images_u8, generator):
    t = build(name)
    y1 = t(images_u8, generator=generator)
    params = t.last_params
    y2 = t(images_u8, params=params)
    assert torch.equal(y1, y2)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_output_and_seeds_differ(name, images_u8):
    t = build(name, p=0.5)
    a = t(images_u8, generator=torch.Generator().manual_seed(7))
    b = t(images_u8, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    if t.randomized:
        outs = [t(images_u8, generator=torch.Generator().manual_seed(s)) for s in range(1, 6)]
        assert any(not torch.equal(outs[0], o) for o in outs[1:]), "different seeds never changed the output"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_matches_cpu(name, images_u8):
    t = build(name)
    x = images_u8.float() / 255
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(3))
    cpu = t(x, params=params)
    gpu = t.cuda()(x.cuda(), params=params).cpu()
    if rounds_to_levels(t):
        # Posterize, solarize and equalize turn a last-bit difference upstream into a whole level.
        assert_within_one_level(cpu, gpu, f"{name} CUDA vs CPU")
    else:
        # Bilinear sampling weights differ in the last bits between devices; colour ops are exact.
        assert (cpu - gpu).abs().max().item() < 2e-3


@pytest.mark.parametrize("name", NAMES)
def test_dict_batch_keeps_other_keys(name, images_u8, generator):
    t = build(name)
    labels = torch.arange(images_u8.shape[0])
    out = t({"image": images_u8, "label": labels, "meta": "kept"}, generator=generator)
    assert set(out) == {"image", "label", "meta"}
    assert out["label"] is labels and out["meta"] == "kept"
    assert out["image"].shape[0] == images_u8.shape[0]


def test_half_precision_inputs(images_u8, generator):
    t = A.Compose([A.RandomAffine(10), A.ColorJitter(0.2, 0.2, 0.2, 0.05)])
    for dtype in (torch.float16, torch.bfloat16):
        y = t(images_u8.to(dtype) / 255, generator=generator)
        assert y.dtype == dtype and torch.isfinite(y.float()).all()
