"""Invariants checked over many random inputs (hypothesis)."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augloader as A

sizes = st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(2, 24), st.integers(2, 24))


def _image(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    return x if dtype == "uint8" else x.float() / 255


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(0, 2**16), st.sampled_from(["uint8", "float32"]))
def test_flip_twice_is_identity(shape, seed, dtype):
    x = _image(shape, seed, dtype)
    for flip in (A.RandomHorizontalFlip(1.0), A.RandomVerticalFlip(1.0)):
        assert torch.equal(flip(flip(x)), x)


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(0, 2**16), st.integers(0, 6), st.sampled_from(["constant", "edge", "reflect", "symmetric"]))
def test_pad_then_center_crop_is_identity(shape, seed, pad, mode):
    x = _image(shape, seed, "uint8")
    if mode == "reflect" and pad >= min(shape[-2:]):
        pad = min(shape[-2:]) - 1
    y = A.Compose([A.Pad(pad, padding_mode=mode), A.CenterCrop(shape[-2:])])(x)
    assert torch.equal(y, x)


@settings(max_examples=40, deadline=None)
@given(sizes, st.integers(0, 2**16))
def test_random_crop_is_a_slice(shape, seed):
    x = _image(shape, seed, "uint8")
    th, tw = max(1, shape[2] // 2), max(1, shape[3] // 2)
    t = A.RandomCrop((th, tw))
    y = t(x, generator=torch.Generator().manual_seed(seed))
    for i in range(shape[0]):
        top, left = int(t.last_params["top"][i]), int(t.last_params["left"][i])
        assert torch.equal(y[i], x[i, :, top : top + th, left : left + tw])


@settings(max_examples=30, deadline=None)
@given(sizes, st.integers(0, 2**16), st.floats(0.0, 1.0))
def test_outputs_stay_in_range(shape, seed, strength):
    shape = (shape[0], 3 if shape[1] > 1 else 1, shape[2], shape[3])
    x = _image(shape, seed, "float32")
    t = A.Compose(
        [
            A.RandomAffine(30 * strength, scale=(1 - 0.3 * strength, 1 + 0.3 * strength)),
            A.ColorJitter(strength, strength, strength, 0.5 * strength),
            A.GaussianNoise(0.1 * strength),
        ]
    )
    y = t(x, generator=torch.Generator().manual_seed(seed))
    assert y.shape == x.shape and float(y.min()) >= 0.0 and float(y.max()) <= 1.0


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**16), st.floats(-0.5, 0.5))
def test_hue_full_turn_and_inverse(seed, shift):
    from augloader.ops.color import adjust_hue

    x = _image((2, 3, 6, 7), seed, "float32")
    s = torch.full((2,), shift)
    back = adjust_hue(adjust_hue(x, s), -s)
    assert torch.allclose(back, x, atol=1e-5)
