"""Policies and random containers run each op on the samples that drew it (gather, op, scatter).

The reference is the previous execution, kept here: every op on the whole batch in float, with
neutral parameters for the samples that did not draw it, selected back with ``torch.where``.
"""

from __future__ import annotations

import pytest
import torch
from photos import natural_batch

import augloader as A
from augloader._batch import BatchView, from_working, params_to, to_working
from augloader.ops import color as C
from augloader.ops import color_fast as CF
from augloader.ops import filters as Fi
from augloader.ops.sharpen import sharpen
from augloader.transforms import _subsets as S
from augloader.transforms import stages
from augloader.transforms.compose import _run_sub
from augloader.transforms.policies import SIGNED
from augloader.transforms.policy_engine import GEOMETRIC_OPS
from augloader.transforms.stages import execute, plan


# ---- the previous whole-batch execution --------------------------------------------------------------
def _old_mags(t, name: str, params, size, k: int) -> torch.Tensor:
    m = t._policy.space.space.magnitudes(name, params["bin"], t.num_magnitude_bins, size)
    m = m[:, k] if m.dim() == 2 else m
    return m * params["sign"][:, k] if name in SIGNED else m


def _old_photometric(t, image: torch.Tensor, params) -> torch.Tensor:
    """The old ``_Policy.photometric``: every op on the whole batch, neutral values where not drawn."""
    size, c = tuple(image.shape[-2:]), image.shape[1]
    ones = torch.ones(image.shape[0])
    for k in range(params["op"].shape[1]):

        def on(name):
            return (
                params["op"][:, k] == t.ops.index(name) if name in t.ops else torch.zeros_like(ones, dtype=torch.bool)
            )

        f = {
            n: torch.where(on(n), 1.0 + _old_mags(t, n, params, size, k), ones)
            for n in ("Brightness", "Color", "Contrast")
        }
        m_b, _ = C.brightness_matrix(f["Brightness"], c)
        m_s, _ = C.saturation_matrix(f["Color"], c)
        m_c, o_c = C.contrast_matrix(f["Contrast"], C.mean_gray(image).float(), c)
        image = C.color_affine(image, m_b @ m_s @ m_c, o_c)
        image = Fi.sharpen(image, torch.where(on("Sharpness"), 1.0 + _old_mags(t, "Sharpness", params, size, k), ones))
        image = C.posterize(image, torch.where(on("Posterize"), _old_mags(t, "Posterize", params, size, k), 8.0 * ones))
        image = C.solarize(image, torch.where(on("Solarize"), _old_mags(t, "Solarize", params, size, k), 2.0 * ones))
        image = C.autocontrast(image, on("AutoContrast"))
        image = C.equalize(image, on("Equalize"))
    return image


def old_policy(t, x: torch.Tensor, params) -> torch.Tensor:
    image = to_working(x)
    if any(o in GEOMETRIC_OPS for o in t.ops):
        warped = execute(plan([t._warp]), BatchView(image, False, None), [params])
        # The old path resampled every sample, the identity matrix too, which moves values by float
        # rounding (an ulp: enough to flip a solarize threshold); subsets leave those samples alone.
        geo = torch.isin(params["op"], torch.tensor([t.ops.index(g) for g in GEOMETRIC_OPS if g in t.ops])).any(dim=1)
        image = torch.where(geo.view(-1, 1, 1, 1), warped, image)
    return from_working(_old_photometric(t, image, params), x.dtype)


def old_random_apply(t, x, params):
    image = to_working(x)
    out = image
    for i, sub in enumerate(t.transforms):
        out = _run_sub(sub, out, params[str(i)])
    return from_working(torch.where(params["on"].view(-1, 1, 1, 1), out, image), x.dtype)


def old_random_choice(t, x, params):
    image, out = to_working(x), None
    for i, sub in enumerate(t.transforms):
        y = _run_sub(sub, image, params[str(i)])
        out = y if out is None else torch.where(params["choice"].view(-1, 1, 1, 1) == i, y, out)
    return from_working(out, x.dtype)


def old_random_order(t, x, params):
    image = to_working(x)
    for k in range(len(t.transforms)):
        out = image
        for i, sub in enumerate(t.transforms):
            out = torch.where((params["order"][:, k] == i).view(-1, 1, 1, 1), _run_sub(sub, image, params[str(i)]), out)
        image = out
    return from_working(image, x.dtype)


def assert_close(ours: torch.Tensor, ref: torch.Tensor) -> None:
    """uint8: at most one level apart, on very few values (a float rounding tie resolved the other way;
    e.g. a single-op warp now runs on uint8 values directly). float: within 1e-5."""
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    if ours.dtype == torch.uint8:
        diff = (ours.int() - ref.int()).abs()
        assert int(diff.max()) <= 1 and float((diff > 0).float().mean()) < 1e-3, (
            int(diff.max()),
            float((diff > 0).float().mean()),
        )
    else:
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


def _batch(b: int, dtype: torch.dtype) -> torch.Tensor:
    return natural_batch(b, 32, 40, dtype)


def _cover_ops(t, params, b: int, steps: int) -> None:
    """Every op in some step of some sample, Identity included (deterministic, all subsets non-empty)."""
    n = len(t.ops)
    params["op"] = ((torch.arange(b * steps).view(b, steps) * 5 + torch.arange(steps)) % n).to(torch.int64)
    del params["op_host"]


POLICIES = {
    "TrivialAugmentWide": lambda: A.TrivialAugmentWide(),
    "RandAugment": lambda: A.RandAugment(2, 9),
    "RandAugment3": lambda: A.RandAugment(3, 14, interpolation="nearest"),
    "TrivialAugmentWideFill": lambda: A.TrivialAugmentWide(fill=0.5),  # fills on the [0, 1] scale, uint8 too
    "RandAugmentFill": lambda: A.RandAugment(2, 20, fill=[0.2, 0.5, 1.0]),
}


# ---- policies ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("name", list(POLICIES))
@pytest.mark.parametrize("b", [1, 7, 30])
def test_policy_subsets_equal_whole_batch_execution(name, dtype, b):
    t = POLICIES[name]()
    x = _batch(b, dtype)
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(b))
    assert_close(t(x, params=params), old_policy(t, x, params))
    if b >= len(t.ops):  # every op on a non-empty subset, in every step
        _cover_ops(t, params, b, params["op"].shape[1])
        assert_close(t(x, params=params), old_policy(t, x, params))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("name", list(POLICIES))
def test_fixed_shape_path_equals_the_subsets(name, dtype):
    # What a compiled graph runs (every op on the whole batch, kept where drawn): within one 8-bit level
    # of the per-subset execution, which resamples and runs point ops in uint8 for single-op samples.
    t = POLICIES[name]()
    x = _batch(30, dtype)
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(5))
    _cover_ops(t, params, 30, params["op"].shape[1])
    prepared = t.prepare(params, tuple(x.shape))
    whole = t._policy.run_whole_batch(x, prepared, t._warp)
    subsets = t(x, params=params)
    assert whole.dtype == subsets.dtype == dtype
    level = 1.0 if dtype == torch.uint8 else 1.0 / 255.0
    diff = (whole.double() - subsets.double()).abs()
    assert diff.max() <= level + 1e-6
    assert (diff > 1e-6).double().mean() < 0.01  # rounding-edge differences only


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_samples_that_drew_nothing_are_not_touched(dtype):
    t = A.RandAugment(2, 9)
    x = _batch(10, dtype)
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(3))
    identity = t.ops.index("Identity")
    params["op"][::2] = identity  # even samples: Identity twice
    del params["op_host"]
    y = t(x, params=params)
    assert torch.equal(y[::2], x[::2])
    assert not torch.equal(y[1::2], x[1::2])
    params["op"][:] = identity  # nobody drew an op: the input comes back (a copy, never the caller's tensor)
    y = t(x, params=params)
    assert torch.equal(y, x) and y.data_ptr() != x.data_ptr()


def test_policy_with_cpu_chunks_equals_one_chunk(monkeypatch):
    t = A.TrivialAugmentWide()
    x = _batch(20, torch.uint8)
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(4))
    whole = t(x, params=params)
    monkeypatch.setattr(stages, "CPU_CHUNK_BYTES", 3 * 32 * 40 * 4 * 3)  # chunks of 3 samples
    assert torch.equal(t(x, params=params), whole)


def test_replayed_last_params_and_host_copy_survives_params_to():
    t = A.TrivialAugmentWide()
    x = _batch(9, torch.uint8)
    y = t(x, generator=torch.Generator().manual_seed(5))
    assert isinstance(t.last_params["op_host"], S.HostCopy)
    assert torch.equal(t(x, params=t.last_params), y)
    moved = params_to(t.last_params, torch.device("meta"))
    assert moved["op"].device.type == "meta" and moved["op_host"].tensor.device.type == "cpu"
    assert torch.equal(S.host_choice(moved, "op"), t.last_params["op"])


def test_host_choice_without_host_copy_on_meta_names_the_key():
    params = params_to({"op": torch.zeros(2, 1, dtype=torch.int64)}, torch.device("meta"))
    with pytest.raises(ValueError, match="op_host"):
        S.host_choice(params, "op")


@pytest.mark.parametrize(
    "make",
    [
        lambda: A.TrivialAugmentWide(),
        lambda: A.RandAugment(2, 9),
        lambda: A.RandomChoice([A.RandomInvert(1.0), A.GaussianBlur(3), A.RandomRotation(20)]),
        lambda: A.RandomApply([A.ColorJitter(0.3, 0.3), A.RandomPosterize(4, p=1.0)], p=0.5),
        lambda: A.RandomOrder([A.RandomInvert(1.0), A.ColorJitter(0.5)]),
    ],
)
def test_meta_device_runs_without_reading_device_data(make):
    # A meta tensor has no data: any host read of it (.item(), .cpu(), bool(...)) raises, so this
    # runs only if subset sizes and indices come from the host copies of the choices.
    t = make()
    x = torch.empty(12, 3, 32, 40, dtype=torch.uint8, device="meta")
    y = t(x, generator=torch.Generator().manual_seed(6))
    assert y.device.type == "meta" and y.shape == x.shape and y.dtype == torch.uint8
    y = t(x, params=t.last_params)  # replay on meta
    assert y.shape == x.shape


# ---- random containers ---------------------------------------------------------------------------------
CONTAINERS = {
    "RandomApply": (lambda: A.RandomApply([A.ColorJitter(0.3, 0.3), A.RandomRotation(15)], p=0.5), old_random_apply),
    "RandomChoice": (
        lambda: A.RandomChoice([A.RandomInvert(1.0), A.GaussianBlur(3), A.RandomRotation(20)]),
        old_random_choice,
    ),
    "RandomOrder": (
        lambda: A.RandomOrder([A.RandomInvert(1.0), A.ColorJitter(0.5), A.RandomSolarize(0.5, p=1.0)]),
        old_random_order,
    ),
}


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("name", list(CONTAINERS))
@pytest.mark.parametrize("b", [1, 2, 16])
def test_containers_equal_whole_batch_execution(name, dtype, b):
    make, old = CONTAINERS[name]
    t = make()
    x = _batch(b, dtype)
    for seed in range(3):
        params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(seed))
        assert_close(t(x, params=params), old(t, x, params))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_random_apply_and_choice_with_empty_and_full_subsets(dtype):
    x = _batch(6, dtype)
    t = A.RandomApply([A.ColorJitter(0.3, 0.3)], p=0.5)
    params = t.sample_params(tuple(x.shape), torch.Generator().manual_seed(7))
    del params["on_host"]  # edited by hand below: read back from params["on"]
    for on in (torch.zeros(6, dtype=torch.bool), torch.ones(6, dtype=torch.bool)):
        params["on"] = on
        assert_close(t(x, params=params), old_random_apply(t, x, params))
    assert torch.equal(t(x, params={**params, "on": torch.zeros(6, dtype=torch.bool)}), x)  # skipped: same values
    c = A.RandomChoice([A.RandomInvert(1.0), A.RandomGrayscale(1.0), A.RandomSolarize(0.5, p=1.0)])
    params = c.sample_params(tuple(x.shape), torch.Generator().manual_seed(8))
    del params["choice_host"]
    for choice in (torch.full((6,), 2), torch.tensor([0, 0, 2, 2, 2, 0])):  # one group only; an empty group
        params["choice"] = choice
        assert_close(c(x, params=params), old_random_choice(c, x, params))


def test_random_apply_leaves_skipped_uint8_samples_bitwise():
    x = _batch(8, torch.uint8)
    t = A.RandomApply([A.ColorJitter(0.5, 0.5), A.RandomRotation(30)], p=0.5)
    y = t(x, generator=torch.Generator().manual_seed(9))
    on = t.last_params["on"]
    assert 0 < int(on.sum()) < 8
    assert torch.equal(y[~on], x[~on]) and not torch.equal(y[on], x[on])


# ---- the ops behind the subsets -------------------------------------------------------------------------
def _levels_image() -> torch.Tensor:
    levels = torch.arange(256, dtype=torch.uint8)
    return torch.stack([levels.view(16, 16), levels.flip(0).view(16, 16), (levels * 7).view(16, 16)]).unsqueeze(0)


POINT_OPS = [  # name, reference float op, where-free float op, uint8 op, arguments
    ("posterize", C.posterize, CF.posterize, CF.posterize_u8, [0.0, 1.0, 3.0, 4.0, 7.0, 8.0, -4.0]),
    (
        "solarize",
        C.solarize,
        CF.solarize,
        CF.solarize_u8,
        [0.0, 1.0 / 255.0, 0.3, 0.5, 128.0 / 255.0, (128 - 0.5) / 255.0, 1.0, 1.01],
    ),
    (
        "solarize_add",
        C.solarize_add,
        CF.solarize_add,
        CF.solarize_add_u8,
        [0.0, 1.0 / 255.0, 30.0 / 255.0, 110.0 / 255.0, 128.0 / 255.0],
    ),
    ("invert", lambda x, a: C.invert(x), None, CF.invert_u8, [0.0]),
    ("equalize", lambda x, a: C.equalize(x), CF.equalize, CF.equalize_u8, [0.0, 0.0]),
    ("autocontrast", lambda x, a: C.autocontrast(x), CF.autocontrast, None, [0.0, 0.0]),
]


@pytest.mark.parametrize("name, ref, fast, u8_op, args", POINT_OPS)
def test_fast_point_ops_equal_ops_color_bit_for_bit(name, ref, fast, u8_op, args):
    x = _levels_image().expand(len(args), -1, -1, -1).contiguous()
    x[-1, 1] = 77  # a flat channel (equalize and autocontrast keep it)
    a = torch.tensor(args)
    if u8_op is not None:  # uint8: the float op on image / 255, rounded back
        assert torch.equal(u8_op(x, a), from_working(ref(to_working(x), a), torch.uint8)), name
    if fast is not None:  # float, off the 8-bit levels too
        xf = torch.cat([to_working(x), _batch(len(args), torch.float32)[..., :16, :16] * 0.9 + 0.05])
        af = torch.cat([a, a])
        assert torch.equal(fast(xf, af), ref(xf, af)), name


@pytest.mark.parametrize("h, w", [(32, 40), (3, 3), (5, 4), (2, 9)])
def test_fast_sharpen_equals_filters_sharpen(h, w):
    x = _batch(4, torch.float32)[..., :h, :w]
    f = torch.tensor([0.0, 0.5, 1.0, 1.99])
    torch.testing.assert_close(sharpen(x, f), Fi.sharpen(x, f), atol=2e-6, rtol=0)


def test_fast_equalize_keeps_non_finite_samples_and_takes_views():
    from augloader.ops import color, color_fast

    x = torch.rand(3, 3, 9, 11)
    x[1, 0, 2, 3] = float("nan")
    x[2, 1, 0, 0] = float("inf")
    out = color_fast.equalize(x)
    assert torch.equal(out[0], color.equalize(x)[0])
    assert torch.equal(out[1].nan_to_num(-1.0), x[1].nan_to_num(-1.0)) and torch.equal(out[2], x[2])
    view = torch.rand(3, 9, 11, 3).permute(0, 3, 1, 2)  # not contiguous: a valid input
    assert torch.allclose(color_fast.equalize(view), color.equalize(view))
    u8 = (torch.rand(2, 3, 8, 8) * 255).to(torch.uint8).permute(0, 1, 3, 2)
    assert torch.equal(color_fast.equalize_u8(u8), color.equalize(u8.float() / 255).mul(255).round().to(torch.uint8))
