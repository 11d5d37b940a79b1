"""Bad data on the data path: no sample lost, no silent garbage, NaN/inf pixels kept or reported,
and clear errors naming the sample (issue 16: data loss, silent garbage from data, NaN/Inf, obscure errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

import augloader as A
from augloader.audio import AudioCompose, AudioMixUp, RandomGain
from augloader.data import AugmentedDataset, BatchAugment, ClassBalancedAugment, DeviceAugmenter, split_dataset
from augloader.data.decode import to_image_tensor
from augloader.mix import CutMix, MixUp, MixUpCutMix
from augloader.ops import color as C


def _u8(b: int = 4, h: int = 8, w: int = 8) -> torch.Tensor:
    return torch.randint(0, 256, (b, 3, h, w), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


# ---- data loss -------------------------------------------------------------------------------------
def test_split_refuses_nan_stratify_label_naming_the_sample():
    labels = [float(i % 4) for i in range(100)]
    labels[7] = math.nan
    with pytest.raises(ValueError, match="sample 7 is NaN"):
        split_dataset(list(range(100)), (0.5, 0.25, 0.25), stratify=labels)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, math.inf, -math.inf, math.nan]), min_size=1, max_size=30))
def test_split_never_drops_a_sample(labels):
    n = len(labels)
    try:
        views = split_dataset(list(range(n)), (0.5, 0.3, 0.2), stratify=labels)
    except ValueError as e:
        assert any(math.isnan(v) for v in labels) and "NaN" in str(e)
        return
    got = sorted(i for v in views for i in v.indices)
    assert got == list(range(n))  # every sample somewhere, none twice (fractions sum to 1)


@pytest.mark.parametrize(
    "samples, culprit",
    [
        (
            [(torch.zeros(3, 4, 4, dtype=torch.uint8), 0), (torch.zeros(3, 4, 4, dtype=torch.uint8), 1, "extra")],
            "sample 1",
        ),
        (
            [
                {"image": torch.zeros(3, 4, 4, dtype=torch.uint8), "label": 0},
                {"image": torch.zeros(3, 4, 4, dtype=torch.uint8), "label": 1, "extra": 5},
            ],
            "sample 1",
        ),
        (
            [
                (torch.zeros(3, 4, 4, dtype=torch.uint8), 1),
                {"image": torch.zeros(3, 4, 4, dtype=torch.uint8), "label": 2},
            ],
            "sample 1",
        ),
        ([torch.zeros(3, 4, 4, dtype=torch.uint8)] * 2 + [(torch.zeros(3, 4, 4, dtype=torch.uint8), 1)], "sample 2"),
    ],
)
def test_batch_augment_refuses_samples_of_different_structure(samples, culprit):
    with pytest.raises(ValueError, match=f"{culprit} is .*same structure"):
        BatchAugment(None, seed=0)(samples)


def test_batch_augment_structure_error_names_the_dataset_index():
    data = [(torch.zeros(3, 4, 4, dtype=torch.uint8), 0)] * 5 + [(torch.zeros(3, 4, 4, dtype=torch.uint8), 1, "x")]
    loader = DataLoader(AugmentedDataset(data, seed=0), batch_size=3, collate_fn=BatchAugment(None, seed=0))
    with pytest.raises(ValueError, match=r"sample 2 \(dataset index 5\)"):
        list(loader)


def test_batch_augment_audio_refuses_samples_of_different_structure():
    samples = [(torch.zeros(1, 100), 0), (torch.zeros(1, 80), 1, "x")]
    with pytest.raises(ValueError, match="sample 1 is"):
        BatchAugment(None, seed=0, kind="audio")(samples)


# ---- silent garbage from data ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 1, 8), (2, 3, 8, 1), (3, 1, 1)])
def test_perspective_refuses_one_pixel_images(shape):
    with pytest.raises(ValueError, match="at least 2 pixels"):
        A.RandomPerspective(p=1.0)(torch.rand(shape))


def test_perspective_two_pixels_is_finite():
    assert torch.isfinite(A.RandomPerspective(p=1.0)(torch.rand(2, 3, 2, 2))).all()


@pytest.mark.parametrize(
    "row, match",
    [
        ([0.5, 0.2, 0.1], "sample 1 does not sum to 1"),
        ([1.2, -0.2, 0.0], "sample 1 has negative"),
        ([math.nan, 1.0, 0.0], "sample 1 holds NaN"),
    ],
)
@pytest.mark.parametrize("mixer", [MixUp(num_classes=3), CutMix(num_classes=3)])
def test_mixers_refuse_bad_soft_label_rows(mixer, row, match):
    labels = torch.tensor([[1.0, 0.0, 0.0], row, [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match=match):
        mixer((_u8(), labels), generator=torch.Generator().manual_seed(0))


def test_mixers_accept_valid_soft_and_multi_hot_rows():
    soft = torch.softmax(torch.randn(4, 5), dim=1)
    out = MixUpCutMix(num_classes=5)((_u8(), soft), generator=torch.Generator().manual_seed(0))[1]
    assert torch.allclose(out.sum(1), torch.ones(4))
    multi = torch.tensor([[1, 1, 0, 0, 1]] * 4, dtype=torch.float32)
    MixUp(num_classes=5, multi_label=True)((_u8(), multi))
    with pytest.raises(ValueError, match="sample 0 has values above 1"):
        MixUp(num_classes=5, multi_label=True)((_u8(), multi * 2))


@pytest.mark.parametrize(
    "bad, match",
    [([math.nan, 0.0, 4.0, 4.0], "box 1 of sample 2 is NaN"), ([6.0, 0.0, 2.0, 4.0], "box 1 of sample 2 is inverted")],
)
def test_cutmix_refuses_bad_valid_boxes(bad, match):
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0]]).repeat(4, 2, 1)  # (B, N=2, 4)
    boxes[2, 1] = torch.tensor(bad)
    batch = {"image": _u8(), "label": torch.tensor([0, 1, 2, 0]), "boxes": boxes}
    with pytest.raises(ValueError, match=match):
        CutMix(num_classes=3)(batch, generator=torch.Generator().manual_seed(0))
    valid = torch.ones(4, 2, dtype=torch.bool)
    valid[2, 1] = False  # the same slot marked as padding is not read
    out = CutMix(num_classes=3)({**batch, "boxes_valid": valid}, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(out["boxes"]).all()


@pytest.mark.parametrize("lengths", [[100, 120, 80], [100, -1, 80]])
@pytest.mark.parametrize("transform", [RandomGain(p=1.0), AudioCompose([RandomGain(p=1.0)])])
def test_audio_lengths_outside_the_clip_are_refused(lengths, transform):
    batch = {"audio": torch.randn(3, 1, 100), "lengths": torch.tensor(lengths)}
    with pytest.raises(ValueError, match=r"lengths'\] of sample 1 is .*outside \[0, 100\]"):
        transform(batch)


def test_audio_mixup_length_is_the_longer_clip_of_the_pair():
    mix = AudioMixUp(alpha=1.0, num_classes=3)
    lengths = torch.tensor([10, 100, 40, 70])
    out = mix(
        {"audio": torch.randn(4, 1, 100), "lengths": lengths, "label": torch.tensor([0, 1, 2, 0])},
        generator=torch.Generator().manual_seed(0),
    )
    lam, partner = mix.last_params["lam"], mix.last_params["index"]
    assert bool((lam < 1).any()) and not torch.equal(partner, torch.arange(4))
    expected = torch.where(lam < 1, torch.maximum(lengths, lengths[partner]), lengths)
    assert torch.equal(out["lengths"], expected)


def test_audio_mixup_refuses_soft_labels_that_do_not_sum_to_one():
    batch = {"audio": torch.randn(2, 1, 50), "label": torch.tensor([[0.5, 0.5], [0.9, 0.9]])}
    with pytest.raises(ValueError, match="sample 1 does not sum to 1"):
        AudioMixUp(num_classes=2)(batch)


@pytest.mark.parametrize("bad, shown", [(1.5, "1.5"), (math.nan, "nan")])
def test_class_balance_refuses_non_integer_labels(bad, shown):
    with pytest.raises(ValueError, match=rf"labels\[2\] = {shown}"):
        ClassBalancedAugment([0.0, 1.0, bad, 1.0])
    assert ClassBalancedAugment([0.0, 1.0, 1.0]).labels.tolist() == [0, 1, 1]  # whole-number floats are fine


# ---- NaN / inf pixels ------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_equalize_leaves_non_finite_samples_alone(value):
    image = _u8(h=32, w=32).float() / 255.0  # enough pixels for PIL's rule to equalise
    image[1, 0, 2, 3] = value
    out = A.RandomEqualize(p=1.0)(image)
    assert torch.equal(out[1].nan_to_num(-1.0), image[1].nan_to_num(-1.0))  # unchanged, NaN/inf kept
    clean = torch.cat([image[:1], image[2:]])
    assert torch.equal(torch.cat([out[:1], out[2:]]), C.equalize(clean))  # the others are equalised
    assert not torch.equal(out[0], image[0])


def test_to_uint8_refuses_nan_naming_the_sample_and_saturates_inf():
    image = torch.rand(3, 3, 4, 4)
    image[2, 1, 0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN values in sample 2"):
        A.ToUint8()(image)
    with pytest.raises(ValueError, match="NaN values in 1 of the 3 samples"):
        A.Compose([A.RandomHorizontalFlip(), A.ToUint8()])(image)
    image[2, 1, 0, 0], image[0, 0, 0, 0], image[0, 0, 0, 1] = 0.5, math.inf, -math.inf
    out = A.ToUint8()(image)
    assert out[0, 0, 0, 0] == 255 and out[0, 0, 0, 1] == 0


def _nan_dataset():
    data = [(torch.rand(3, 6, 6), i % 2) for i in range(6)]
    data[4][0][1, 2, 2] = math.nan
    return data


def test_nan_pixels_pass_through_by_default_but_a_mix_spreads_them():
    collate = BatchAugment(A.RandomHorizontalFlip(), mix=MixUp(num_classes=2, pairing="flip"), seed=0)
    images, _ = collate(_nan_dataset())
    bad = torch.isnan(images).flatten(1).any(1)
    assert bad[4] and bad[1]  # sample 4's NaN reached its partner 1: why check_finite exists


def test_batch_augment_check_finite_names_the_sample_and_dataset_index():
    collate = BatchAugment(A.RandomHorizontalFlip(), mix=MixUp(num_classes=2), seed=0, check_finite=True)
    loader = DataLoader(AugmentedDataset(_nan_dataset(), seed=0), batch_size=3, collate_fn=collate)
    with pytest.raises(ValueError, match=r"input\): sample 1 \(dataset index 4\) has NaN"):
        list(loader)
    with pytest.raises(ValueError, match=r"transform's output\): sample 0 has inf"):
        BatchAugment(lambda x: x.float() + math.inf, seed=0, check_finite=True)([_u8(1)[0]] * 2)


def test_batch_augment_check_finite_on_audio():
    clips = [(torch.randn(1, 50), 0), (torch.full((1, 40), math.nan), 1)]
    with pytest.raises(ValueError, match="sample 1 has NaN"):
        BatchAugment(None, seed=0, kind="audio", check_finite=True)(clips)


def test_device_augmenter_check_finite_names_the_sample():
    data = _nan_dataset()
    batches = [
        (torch.stack([x for x, _ in data[i : i + 3]]), torch.tensor([y for _, y in data[i : i + 3]])) for i in (0, 3)
    ]
    aug = DeviceAugmenter(batches, A.RandomHorizontalFlip(), "cpu", mix=MixUp(num_classes=2), seed=0, check_finite=True)
    with pytest.raises(ValueError, match=r"batch 1, input\): sample 1 has NaN"):
        list(aug)
    assert len(list(DeviceAugmenter(batches[:1], A.RandomHorizontalFlip(), "cpu", seed=0, check_finite=True))) == 1


# ---- obscure errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, which", [((2, 3, 0, 8), "H"), ((2, 3, 8, 0), "W"), ((2, 0, 8, 8), "C"), ((0, 0, 8), "C, H")]
)
@pytest.mark.parametrize(
    "transform", [A.RandomResizedCrop(4), A.ColorJitter(0.4, 0.4), A.RandomRotation(10), A.RandomEqualize()]
)
def test_zero_sized_images_are_refused(transform, shape, which):
    with pytest.raises(ValueError, match=f"zero-sized {which}"):
        transform(torch.rand(shape))


def test_zero_sized_images_are_refused_by_mixers_and_empty_batches_still_work():
    with pytest.raises(ValueError, match="zero-sized H"):
        MixUp(num_classes=2)((torch.rand(2, 3, 0, 4), torch.tensor([0, 1])))
    assert A.ColorJitter(0.4)(torch.rand(0, 3, 8, 8)).shape == (0, 3, 8, 8)


def test_equalize_accepts_non_contiguous_views():
    base = torch.rand(2, 3, 16, 12)
    view = base.transpose(2, 3)  # (2, 3, 12, 16), not viewable as (B, C, H * W)
    assert torch.equal(A.RandomEqualize(p=1.0)(view), A.RandomEqualize(p=1.0)(view.contiguous()))


def test_exact_hue_works_on_inputs_that_require_grad():
    x = torch.rand(2, 3, 8, 8)
    shift = torch.tensor([0.1, -0.3])
    xg = x.clone().requires_grad_(True)
    out = C.adjust_hue(xg, shift)
    assert torch.allclose(out, C.adjust_hue(x, shift), atol=1e-6)
    out.sum().backward()
    assert xg.grad is not None and torch.isfinite(xg.grad).all()
    assert A.ColorJitter(hue=0.2)(xg).requires_grad


def test_numpy_images_with_negative_strides_decode():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    bgr = rgb[..., ::-1]  # the BGR-to-RGB idiom: a negative stride
    assert torch.equal(to_image_tensor(bgr), torch.from_numpy(np.ascontiguousarray(bgr)).permute(2, 0, 1))
    assert to_image_tensor(rgb[::-1, ::-1]).shape == (3, 5, 7)


def test_batch_augment_errors_name_the_dataset_indices():
    data = [(torch.zeros(3, 4, 4, dtype=torch.uint8), torch.tensor([1.0, 0.0])) for _ in range(4)]
    data[3] = (data[3][0], torch.tensor([0.7, 0.7]))
    loader = DataLoader(
        AugmentedDataset(data, seed=0), batch_size=2, collate_fn=BatchAugment(None, mix=MixUp(num_classes=2), seed=0)
    )
    with pytest.raises(ValueError, match=r"sample 1 does not sum to 1.*batch of dataset indices \[2, 3\]"):
        list(loader)


def test_device_augmenter_refuses_unusable_devices(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="needs CUDA, which is not available"):
        DeviceAugmenter([], None, "cuda")
    with pytest.raises(ValueError, match="'cdua' is not a device name"):
        DeviceAugmenter([], None, "cdua")
