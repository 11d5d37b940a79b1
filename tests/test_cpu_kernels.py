"""CPU kernels (issue 14, ``augloader.ops.cpu``) against the eager torch ops they replace.

Each kernel runs the same parameters as the eager path (``cpu_kernels(False)``): the uint8 crop-resize
is bit for bit torch's (integer weights), the colour and blur kernels agree to float rounding (2e-5 of
the value range; a uint8 result by a rounding tie, one level, on a few pixels).
"""

from __future__ import annotations

import warnings

import pytest
import torch

pytest.importorskip("numba", reason="the CPU kernels need numba (pip install 'augloader[cpu]')")

import augloader as A  # noqa: E402
import augloader.ops.cpu as cpu  # noqa: E402
from augloader.ops import resize as eager_resize  # noqa: E402
from augloader.ops.cpu import _resize, cpu_kernels  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def _both(pipeline, batch, generator):
    """The pipeline with its kernels, and the eager ops with the same (replayed) params."""
    x = batch.clone()
    fast = pipeline(batch, generator=generator)
    assert torch.allclose(batch, x, rtol=0, atol=0, equal_nan=True), "the input was written"
    with cpu_kernels(False):
        ref = pipeline(batch, params=pipeline.last_params)
    return fast, ref


def _levels(a: torch.Tensor, b: torch.Tensor) -> int:
    return int((a.int() - b.int()).abs().max()) if a.numel() else 0


# ---- crop, resize, flip ------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("antialias", [True, False])
def test_resized_crop_is_torchs_bit_for_bit(channels, antialias):
    g = torch.Generator().manual_seed(channels)
    x = torch.randint(0, 256, (5, channels, 37, 53), dtype=torch.uint8, generator=g)
    boxes = [[0, 0, 53, 37], [3, 5, 50, 30], [10, 2, 21, 35], [1, 1, 52, 9], [7, 7, 8, 8]]  # down, up, mixed, 1 px
    hflip, vflip = [False, True, False, True, False], [False, False, True, True, False]
    size = (19, 23)
    args = (torch.tensor(boxes), size, "bilinear", antialias, torch.tensor(hflip), torch.tensor(vflip))
    out = _resize.resized_crop(x, boxes, size, antialias, hflip, vflip)
    ref = eager_resize.resized_crop(x, *args)
    assert out.dtype == torch.uint8 and out.shape == ref.shape and out.is_contiguous()
    assert torch.equal(out, ref)
    same = _resize.resized_crop(x, [[0, 0, 53, 37]] * 5, (37, 53), antialias, [False] * 5, [True] * 5)
    assert torch.equal(same, x.flip(-2))  # no resize: the crop itself, exactly
    # float input: float weights, no rounding anywhere
    xf = x.float() / 255
    outf = _resize.resized_crop(xf, boxes, size, antialias, hflip, vflip)
    assert torch.allclose(outf, eager_resize.resized_crop(xf, *args), atol=1e-5)


def test_axis_taps_are_torchs_weights():
    # One axis of torch's antialiased float resize equals the kernel's taps applied to the rows.
    x = torch.rand(1, 1, 1, 61, dtype=torch.float64)
    for n_out, aa in ((17, True), (17, False), (90, True)):
        index, weights = _resize.axis_taps(61, n_out, aa, False)
        ref = torch.nn.functional.interpolate(x, size=(1, n_out), mode="bilinear", align_corners=False, antialias=aa)
        mine = (torch.from_numpy(weights.copy()).double() * x[0, 0, 0][torch.from_numpy(index.copy())]).sum(0)
        assert torch.allclose(mine, ref[0, 0, 0], atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_resized_crop_two_tap_and_wide_passes_are_torchs(channels):
    # P1's shape of work (crops of a 256 image to an odd size near 224): upscales take the two-tap
    # vertical loop, downscales the general one; both must be torch's bit for bit, flipped or not.
    g = torch.Generator().manual_seed(7 + channels)
    x = torch.randint(0, 256, (6, channels, 131, 128), dtype=torch.uint8, generator=g)
    boxes = [
        [0, 0, 128, 131],
        [10, 3, 90, 100],
        [5, 20, 128, 131],
        [0, 0, 40, 57],
        [64, 65, 127, 130],
        [1, 2, 126, 129],
    ]
    hflip, vflip = [False, True, True, False, True, False], [False, False, True, True, False, True]
    size = (115, 113)
    taps = {_resize._kernel_taps(b - t, size[0], True, False, True)[0].shape[0] for _, t, _, b in boxes}
    assert 2 in taps and max(taps) > 2  # both vertical paths run
    out = _resize.resized_crop(x, boxes, size, True, hflip, vflip)
    args = (torch.tensor(boxes), size, "bilinear", True, torch.tensor(hflip), torch.tensor(vflip))
    assert torch.equal(out, eager_resize.resized_crop(x, *args))


def test_kernel_taps_are_the_fixed_taps_with_an_unsigned_index():
    for n_in, n_out, aa, flip in ((61, 17, True, False), (17, 61, False, True), (224, 224, True, True)):
        index, weights, precision = _resize._kernel_taps(n_in, n_out, aa, flip, True)
        ref_index, ref_weights, ref_precision = _resize.axis_taps_fixed(n_in, n_out, aa, flip)
        assert index.dtype.name == "uint32" and not index.flags.writeable
        assert (index == ref_index).all() and (weights == ref_weights).all() and precision == ref_precision
        index, weights, _ = _resize._kernel_taps(n_in, n_out, aa, flip, False)
        ref_index, ref_weights = _resize.axis_taps(n_in, n_out, aa, flip)
        assert (index == ref_index).all() and (weights == ref_weights).all()


def test_random_resized_crop_stage_is_exact(images_u8, generator):
    p = A.Compose([A.RandomResizedCrop((40, 36)), A.RandomHorizontalFlip(), A.RandomVerticalFlip()])
    fast, ref = _both(p, images_u8, generator)
    assert "numba crop-resize" in str(p)
    assert fast.dtype == torch.uint8 and fast.is_contiguous() and torch.equal(fast, ref)


# ---- colour ----------------------------------------------------------------------------------------------
JITTERS = {
    "hsv hue": dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
    "hue only": dict(hue=0.5),
    "no contrast": dict(brightness=0.5, saturation=0.5, hue=0.2),
    "linear hue": dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, hue_mode="linear"),
    "no hue": dict(brightness=0.4, contrast=0.6),
}


@pytest.mark.parametrize("name", list(JITTERS))
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_color_jitter_matches_eager(name, normalize, dtype, images_u8, generator):
    steps = [A.ColorJitter(**JITTERS[name])] + ([A.Normalize(MEAN, STD)] if normalize else [])
    p = A.Compose(steps)
    batch = images_u8[:, :, 1:, :-3]  # odd sizes, a strided view
    batch = batch if dtype == torch.uint8 else batch.float() / 255
    fast, ref = _both(p, batch, generator)
    assert "numba fused colour loop" in str(p)
    assert fast.dtype == ref.dtype and fast.shape == ref.shape
    if fast.dtype == torch.uint8:
        assert _levels(fast, ref) <= 1
    else:
        assert torch.allclose(fast, ref, atol=2e-5, rtol=0), (fast - ref).abs().max()


def test_color_jitter_one_channel_and_channels_last(generator):
    gray = torch.randint(0, 256, (3, 1, 21, 17), dtype=torch.uint8, generator=generator)
    p = A.Compose([A.ColorJitter(0.5, 0.5, 0.5, 0.1), A.Normalize([0.5], [0.25])])
    fast, ref = _both(p, gray, generator)
    assert torch.allclose(fast, ref, atol=2e-5, rtol=0)
    rgb = torch.randint(0, 256, (3, 3, 21, 17), dtype=torch.uint8, generator=generator)
    cl = rgb.contiguous(memory_format=torch.channels_last)
    fast, ref = _both(A.Compose([A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)]), cl, generator)
    assert fast.is_contiguous() and torch.allclose(fast, ref, atol=2e-5, rtol=0)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_contrast_before_and_after_the_hue_in_one_batch(dtype, generator):
    # One kernel call runs the batch: samples whose contrast follows the hue take the second pass,
    # the others the fused loop; every sample must still match the eager op.
    x = torch.randint(0, 256, (16, 3, 13, 11), dtype=torch.uint8, generator=generator)
    x = x if dtype == torch.uint8 else x.float() / 255
    p = A.Compose([A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)])
    fast, ref = _both(p, x, generator)
    order = p.last_params["0"]["order"]
    after = (order == 1).int().argmax(1) > (order == 3).int().argmax(1)  # contrast (1) after hue (3)
    assert after.any() and not after.all()
    assert torch.allclose(fast, ref, atol=2e-5, rtol=0), (fast - ref).abs().max()


def test_hue_shifts_of_whole_turns_match_eager(images_u8, generator):
    # The kernel wraps the hue with one step of a full turn, after reducing the shift to half a turn
    # either way; replayed params may hold any shift (eager wraps modulo one turn).
    p = A.Compose([A.ColorJitter(0.4, 0.4, 0.4, 0.5), A.Normalize(MEAN, STD)])
    p(images_u8, generator=generator)
    params = {k: dict(v) for k, v in p.last_params.items()}
    turns = torch.tensor([1.0, -1.0, 2.0, -3.0]).repeat(images_u8.shape[0])[: images_u8.shape[0]]
    params["0"]["hue"] = params["0"]["hue"] + turns
    fast = p(images_u8, params=params)
    with cpu_kernels(False):
        ref = p(images_u8, params=params)
    assert torch.allclose(fast, ref, atol=2e-5, rtol=0), (fast - ref).abs().max()


@pytest.mark.parametrize("channels", [1, 3])
def test_jitter_kernel_on_an_empty_batch(channels):
    from augloader.ops.cpu._jitter import jitter

    t = A.ColorJitter(0.4, 0.4, 0.4, 0.1)
    empty = torch.zeros(0, channels, 5, 7, dtype=torch.uint8)
    params = t.sample_params(tuple(empty.shape), torch.Generator().manual_seed(0))
    out = jitter(t, empty, params, None, 255.0)
    assert out.shape == (0, channels, 5, 7) and out.dtype == torch.float32


def test_nan_propagates_through_float_colour_as_in_torch(generator):
    x = torch.rand(2, 3, 8, 9, generator=generator)
    x[0, 1, 2, 3] = float("nan")
    fast, ref = _both(A.ColorJitter(0.3, 0.0, 0.3, 0.1), x, generator)
    assert torch.equal(fast.isnan(), ref.isnan())
    assert torch.allclose(fast.nan_to_num(), ref.nan_to_num(), atol=2e-5, rtol=0)


# ---- blur --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kernel_size", [3, 5, (7, 3)])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_gaussian_blur_matches_eager(kernel_size, channels, dtype, generator):
    x = torch.randint(0, 256, (3, channels, 13, 10), dtype=torch.uint8, generator=generator)
    x = x if dtype == torch.uint8 else x.float() / 255
    p = A.Compose([A.GaussianBlur(kernel_size, (0.1, 3.0))])
    fast, ref = _both(p, x, generator)
    assert "numba separable blur" in str(p)
    if dtype == torch.uint8:
        assert _levels(fast, ref) <= 1 and (fast != ref).float().mean() < 0.01  # rounding ties only
    else:
        assert torch.allclose(fast, ref, atol=1e-6, rtol=0)


def test_blur_too_large_raises_the_eager_error(generator):
    x = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    with pytest.raises(ValueError, match="too large"):
        A.GaussianBlur(7)(x, generator=generator)


# ---- whole pipelines: every padding mode, targets, empty batch, replay ------------------------------------
@pytest.mark.parametrize("padding_mode", ["constant", "edge", "reflect", "symmetric"])
def test_every_padding_mode_keeps_the_eager_values(padding_mode, images_u8, generator):
    # A crop reaching into the padding is no whole-pixel box of the input: the torch ops run it; a
    # box inside the image takes the kernel. The pixel stage after it takes its kernels either way.
    p = A.Compose(
        [
            A.Pad(6, fill=40, padding_mode=padding_mode),
            A.RandomResizedCrop((30, 34), scale=(0.3, 1.0)),
            A.RandomHorizontalFlip(),
            A.GaussianBlur(5),
            A.ColorJitter(0.3, 0.3, 0.3, 0.05),
        ]
    )
    fast, ref = _both(p, images_u8, generator)
    assert fast.dtype == torch.uint8 and _levels(fast, ref) <= 1 and (fast != ref).float().mean() < 0.01


def test_uint8_and_float_inputs_still_agree(images_u8, generator):
    p = A.Compose([A.RandomResizedCrop(32), A.ColorJitter(0.3, 0.3, 0.3, 0.1), A.Normalize(MEAN, STD)])
    y = p(images_u8, generator=generator)
    ref = p(images_u8.float() / 255, params=p.last_params)
    # the resize rounds uint8 to whole levels (as torch's does): half a level, scaled by the jitter and Normalize
    assert (y - ref).abs().max() < 0.5 / 255 * 1.3**3 * 3 / min(STD) + 1e-4


def test_targets_move_with_the_same_matrices(images_u8, generator):
    boxes = torch.tensor([[[4.0, 5.0, 30.0, 40.0]]]).expand(images_u8.shape[0], 1, 4).contiguous()
    p = A.Compose([A.RandomResizedCrop(32), A.RandomHorizontalFlip(), A.ColorJitter(0.2, 0.2, 0.2, 0.1)])
    out = p({"image": images_u8, "boxes": boxes}, generator=generator)
    with cpu_kernels(False):
        ref = p({"image": images_u8, "boxes": boxes}, params=p.last_params)
    assert torch.equal(out["boxes"], ref["boxes"])
    assert _levels(out["image"], ref["image"]) <= 1


def test_empty_batch(generator):
    p = A.Compose([A.RandomResizedCrop(16), A.ColorJitter(0.2, 0.2, 0.2, 0.1), A.Normalize(MEAN, STD)])
    out = p(torch.zeros(0, 3, 20, 20, dtype=torch.uint8), generator=generator)
    assert out.shape == (0, 3, 16, 16) and out.dtype == torch.float32


def test_replay_and_seed_give_identical_output(images_u8):
    p = A.Compose([A.RandomResizedCrop(32), A.RandomHorizontalFlip(), A.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    a = p(images_u8, generator=torch.Generator().manual_seed(5))
    b = p(images_u8, params=p.last_params)
    c = p(images_u8, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and torch.equal(a, c)


# ---- selection ----------------------------------------------------------------------------------------------
def test_describe_names_the_kernel_and_the_switch_turns_it_off():
    p = A.Compose([A.RandomResizedCrop(32), A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)])
    assert "CPU: numba crop-resize" in str(p) and "CPU: numba fused colour loop" in str(p)
    with cpu_kernels(False):
        assert "CPU:" not in str(p)
    assert "CPU:" not in str(A.Compose([A.RandomPerspective(0.3), A.RandomInvert()]))  # no kernel for these


def test_kernels_stay_off_for_autograd_and_other_dtypes():
    x = torch.rand(2, 3, 12, 12, requires_grad=True)
    assert not cpu._active(x)
    assert not cpu._active(torch.rand(2, 3, 4, 4, dtype=torch.float64))
    assert cpu._active(torch.rand(2, 3, 4, 4))


def test_a_missing_library_warns_once_and_runs_the_torch_ops(monkeypatch, images_u8, generator):
    monkeypatch.setattr(cpu, "_modules", {"numba": None, "cv2": None})
    monkeypatch.setattr(cpu, "_warned", False)
    p = A.Compose([A.RandomResizedCrop(32), A.ColorJitter(0.4, 0.4, 0.4, 0.1)])
    with pytest.warns(UserWarning, match=r"augloader\[cpu\]"):
        out = p(images_u8, generator=generator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once, not per call
        p(images_u8, generator=generator)
    with cpu_kernels(False):
        ref = p(images_u8, params=p.last_params)
    again = p(images_u8, params=p.last_params)
    assert torch.equal(again, ref) and out.shape == ref.shape
