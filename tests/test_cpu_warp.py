"""The CPU affine-warp kernel (``augloader.ops.cpu._warp``) and the blur it runs in the same pass,
against the eager torch ops (``ops.warp.warp``: ``grid_sample``; ``ops.filters.gaussian_blur``).

Tolerances: bilinear values agree to 0.05 of a uint8 level (the kernel computes source coordinates in
float32 from the matrix, the eager path through a normalised sampling grid: the same precision, other
rounding); nearest picks the other neighbour only where a coordinate lies within float rounding of a
half pixel (fewer than 0.1% of pixels); uint8 results differ by one level on fewer than 1% of pixels
(a rounding tie moved by that float noise), never more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("numba", reason="the CPU kernels need numba (pip install 'augloader[cpu]')")

import augloader as A  # noqa: E402
from augloader._batch import slice_params  # noqa: E402
from augloader.ops import filters  # noqa: E402
from augloader.ops import warp as eager  # noqa: E402
from augloader.ops.cpu import _blur, _warp, cpu_kernels  # noqa: E402

PADDINGS = ["constant", "edge", "reflect", "symmetric"]


def _inverses(b: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """Output -> input matrices of random rotations, scales, shears and shifts about the centre."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(b, 5, generator=g, dtype=torch.float64)
    out = torch.empty(b, 3, 3, dtype=torch.float64)
    for i in range(b):
        a, s, sh = math.radians(60 * u[i, 0] - 30), 0.7 + 0.6 * u[i, 1], math.radians(20 * u[i, 2] - 10)
        m = torch.tensor(
            [[math.cos(a) * s, -math.sin(a + sh) * s, 0], [math.sin(a) * s, math.cos(a + sh) * s, 0], [0, 0, 1]],
            dtype=torch.float64,
        )
        shift = torch.eye(3, dtype=torch.float64)
        shift[0, 2], shift[1, 2] = w / 2 + 0.3 * w * (u[i, 3] - 0.5), h / 2 + 0.3 * h * (u[i, 4] - 0.5)
        centre = torch.eye(3, dtype=torch.float64)
        centre[0, 2], centre[1, 2] = -w / 2, -h / 2
        out[i] = torch.linalg.inv(shift @ m @ centre)
    return out


def _image(b: int, c: int, h: int, w: int, dtype: torch.dtype, seed: int = 1) -> torch.Tensor:
    x = torch.randint(0, 256, (b, c, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))
    return x if dtype == torch.uint8 else x.float()


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_bilinear_warp_matches_grid_sample(padding, channels, dtype):
    x = _image(6, channels, 37, 53, dtype)
    inv = _inverses(6, 37, 53)
    fill = [10.0 + 20 * k for k in range(channels)] if padding == "constant" else 0.0
    ref = eager.warp(x.float(), inv.float(), (41, 29), "bilinear", padding, fill)
    out = _warp.warp(x, inv, (41, 29), "bilinear", padding, fill if isinstance(fill, list) else None)
    assert out.dtype == torch.float32 and out.shape == ref.shape and out.is_contiguous()
    assert (out - ref).abs().max() < 0.05


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("channels", [1, 3])
def test_nearest_warp_matches_grid_sample(padding, channels):
    x = _image(6, channels, 40, 31, torch.uint8)
    inv = _inverses(6, 40, 31, seed=3)
    fill = [7.0] * channels if padding == "constant" else 0.0
    ref = eager.warp(x.float(), inv.float(), (33, 35), "nearest", padding, fill)
    out = _warp.warp(x, inv, (33, 35), "nearest", padding, fill if isinstance(fill, list) else None)
    assert (out != ref).float().mean() < 1e-3  # only half-pixel ties, where float rounding decides
    assert torch.equal(out, out.round())  # nearest never blends


def test_a_fill_is_ignored_outside_constant_padding():
    x, inv = _image(3, 3, 20, 24, torch.uint8), _inverses(3, 20, 24)
    with_fill = _warp.warp(x, inv, (20, 24), "bilinear", "edge", [50.0, 60.0, 70.0])
    assert torch.equal(with_fill, _warp.warp(x, inv, (20, 24), "bilinear", "edge", None))


@pytest.mark.parametrize("size", [3, 5, 7, 9])
@pytest.mark.parametrize("channels", [1, 3])
def test_warp_then_blur_in_one_pass_matches_the_eager_chain(size, channels):
    x, inv = _image(5, channels, 30, 27, torch.uint8), _inverses(5, 30, 27, seed=5)
    sigma = torch.linspace(0.3, 2.0, 5).unsqueeze(1).expand(5, 2).contiguous()
    kx, ky = filters.channel_kernels((size, size), sigma, channels)
    warped = eager.warp(x.float(), inv.float(), (26, 31), "bilinear", "constant", 0.0)
    ref = filters.gaussian_blur(warped, (size, size), sigma, (kx, ky))
    out = _warp.warp(x, inv, (26, 31), "bilinear", "constant", None, blur=(kx, ky))
    assert (out - ref).abs().max() < 0.05
    scaled = _warp.warp(x, inv, (26, 31), "bilinear", "constant", None, blur=(kx, ky), scale=1 / 255)
    assert torch.allclose(scaled, out / 255, atol=1e-6)
    as_uint8 = _warp.warp(x, inv, (26, 31), "bilinear", "constant", None, blur=(kx, ky), to_uint8=True)
    expect = ref.round().clamp(0, 255).to(torch.uint8)
    assert as_uint8.dtype == torch.uint8
    assert (as_uint8.int() - expect.int()).abs().max() <= 1 and (as_uint8 != expect).float().mean() < 0.01


@pytest.mark.parametrize("size", [1, 3, 5, 7, 11])
def test_blur_kernel_matches_the_eager_blur_for_every_length(size):
    x = _image(3, 3, 19, 26, torch.float32, seed=2) / 255
    sigma = torch.tensor([[0.5, 1.5], [1.0, 0.7], [2.0, 2.0]])
    kx, ky = filters.channel_kernels((size, size), sigma, 3)
    out = _blur.blur(x, kx, ky)
    assert torch.allclose(out, filters.gaussian_blur(x, (size, size), sigma, (kx, ky)), atol=1e-6)


def test_blur_rounds_to_uint8_like_the_engine():
    x = _image(4, 3, 16, 17, torch.uint8, seed=4)
    sigma = torch.full((4, 2), 1.2)
    kx, ky = filters.channel_kernels((5, 5), sigma, 3)
    ref = filters.gaussian_blur(x.float(), (5, 5), sigma, (kx, ky)).round_().clamp_(0, 255).to(torch.uint8)
    out = _blur.blur(x, kx, ky, to_uint8=True)
    assert out.dtype == torch.uint8 and (out.int() - ref.int()).abs().max() <= 1 and (out != ref).float().mean() < 0.01


# ---- in the engine --------------------------------------------------------------------------------------
def _both(pipeline, batch, generator):
    """The pipeline with its kernels, and the eager ops with the same (replayed) params."""
    x = batch.clone()
    fast = pipeline(batch, generator=generator)
    assert torch.equal(batch, x), "the input was written"
    with cpu_kernels(False):
        ref = pipeline(batch, params=pipeline.last_params)
    return fast, ref


def _close_uint8(fast: torch.Tensor, ref: torch.Tensor) -> bool:
    diff = (fast.int() - ref.int()).abs()
    return fast.dtype == ref.dtype == torch.uint8 and int(diff.max()) <= 1 and float((diff > 0).float().mean()) < 0.01


def test_p3_runs_warp_and_blur_in_one_kernel_pass(images_u8, generator):
    p = A.Compose([A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.GaussianBlur(5)])
    assert "numba affine warp" in str(p)
    fast, ref = _both(p, images_u8, generator)
    assert _close_uint8(fast, ref)
    again = p(images_u8, params=p.last_params)  # replay: the same params, the same pixels
    assert torch.equal(again, fast)


def test_per_channel_fill_and_a_float_result(images_u8, generator):
    fill = [10, 200, 30]
    p = A.Compose([A.RandomAffine(20, (0.1, 0.1), (0.8, 1.2), 10, fill=fill), A.GaussianBlur(5), A.ToFloat()])
    fast, ref = _both(p, images_u8, generator)
    assert fast.dtype == torch.float32 and (fast - ref).abs().max() < 1e-3
    u8 = A.Compose([A.RandomAffine(20, (0.1, 0.1), (0.8, 1.2), 10, fill=fill), A.GaussianBlur(5)])
    fast8, ref8 = _both(u8, images_u8, generator)
    assert _close_uint8(fast8, ref8)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_a_warp_alone_and_a_warp_before_other_pixel_ops(images_u8, generator, dtype):
    x = images_u8 if dtype == torch.uint8 else images_u8.float() / 255
    alone = A.Compose([A.RandomRotation(25, interpolation="nearest", fill=[5, 9, 200])])
    fast, ref = _both(alone, x, generator)
    tol = 1.0 if dtype == torch.uint8 else 1 / 255
    assert fast.dtype == dtype and ((fast.float() - ref.float()).abs() > tol).float().mean() < 1e-3
    mixed = A.Compose([A.RandomAffine(15), A.ColorJitter(0.2, 0.2, 0.2), A.GaussianBlur(3)])
    fast, ref = _both(mixed, x, generator)
    if dtype == torch.uint8:
        assert _close_uint8(fast, ref)
    else:
        assert (fast - ref).abs().max() < 1e-4


def test_uint8_and_its_float_copy_still_agree(images_u8, generator):
    p = A.Compose(
        [A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.GaussianBlur(5), A.Normalize([0.5] * 3, [0.2] * 3)]
    )
    y = p(images_u8, generator=generator)
    ref = p(images_u8.float() / 255, params=p.last_params)
    assert (y - ref).abs().max() < 1e-4  # nothing rounds to uint8 in between


def test_stages_with_frames_or_perspective_keep_the_eager_ops(images_u8, generator):
    framed = A.Compose([A.RandomCrop(24), A.RandomRotation(30)])  # the crop's frame clips the rotation
    assert "numba affine warp" not in str(framed)
    fast, ref = _both(framed, images_u8, generator)
    assert torch.equal(fast, ref)
    persp = A.Compose([A.RandomPerspective(0.3, p=1.0)])
    assert "numba affine warp" not in str(persp)
    fast, ref = _both(persp, images_u8, generator)
    assert torch.equal(fast, ref)


def test_targets_move_with_the_same_matrices(images_u8, generator):
    b = images_u8.shape[0]
    boxes = torch.tensor([[[4.0, 5.0, 30.0, 40.0]]]).expand(b, 1, 4).contiguous()
    p = A.Compose([A.RandomAffine(20), A.RandomHorizontalFlip(), A.GaussianBlur(3)])
    out = p({"image": images_u8, "boxes": boxes}, generator=generator)
    with cpu_kernels(False):
        ref = p({"image": images_u8, "boxes": boxes}, params=p.last_params)
    assert torch.equal(out["boxes"], ref["boxes"]) and _close_uint8(out["image"], ref["image"])


def test_the_batch_equals_a_loop_over_samples_and_the_empty_batch(images_u8, generator):
    p = A.Compose([A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.GaussianBlur(5)])
    whole = p(images_u8, generator=generator)
    params = p.last_params
    singles = torch.cat([p(images_u8[i : i + 1], params=slice_params(params, i)) for i in range(images_u8.shape[0])])
    assert torch.equal(singles, whole)
    empty = p(images_u8[:0], generator=generator)
    assert empty.shape == (0, *images_u8.shape[1:]) and empty.dtype == torch.uint8


@pytest.mark.parametrize("n", [0, 5, 16, 37, 224])
def test_vector_gathers_equal_the_scalar_row_loop(n):
    from augloader.ops.cpu import _simd

    rng = np.random.default_rng(n)
    size = 1000
    planes = [rng.random(size, dtype=np.float32) * 255 for _ in range(3)]
    offsets = [rng.integers(0, size, n).astype(np.uint32) for _ in range(4)]
    weights = [rng.random(n, dtype=np.float32) for _ in range(4)]
    rows = [np.full(n, -1.0, np.float32) for _ in range(3)]
    done = _simd.bilinear_rows3(*planes, *offsets, *weights, *rows, n)
    if not _simd.AVAILABLE:  # another numba/LLVM: the scalar loop does every pixel
        assert done == 0
        return
    assert done == n // _simd.LANES * _simd.LANES
    for p, r in zip(planes, rows):
        expect = sum(w[:done] * p[o[:done]] for o, w in zip(offsets, weights))
        assert np.allclose(r[:done], expect, rtol=1e-6, atol=1e-4) and (r[done:] == -1.0).all()


def test_a_failing_vector_gather_probe_leaves_the_scalar_loop(monkeypatch):
    from augloader.ops.cpu import _simd

    def broken(*args):
        raise RuntimeError("no masked.gather here")

    monkeypatch.setattr(_simd, "_with_simd", broken)
    assert _simd._probe() is False
    row = np.zeros(20, np.float32)
    assert _simd._without_simd(*[row] * 3, *[np.zeros(20, np.uint32)] * 4, *[row] * 4, *[row] * 3, 20) == 0
