"""Bad input fails early with a message that names what was wrong."""

from __future__ import annotations

import pytest
import torch

import augloader as A


@pytest.mark.parametrize(
    "batch, exc, words",
    [
        (torch.zeros(8, 8, dtype=torch.uint8), ValueError, "shape"),
        (torch.zeros(1, 2, 3, 8, 8, dtype=torch.uint8), ValueError, "shape"),
        (torch.zeros(2, 3, 8, 8, dtype=torch.int32), TypeError, "dtype"),
        ({"label": torch.zeros(2)}, KeyError, "image"),
        ({"image": [1, 2, 3]}, TypeError, "Tensor"),
        ([torch.zeros(3, 8, 8)], TypeError, "dict"),
    ],
)
def test_bad_batches(batch, exc, words):
    with pytest.raises(exc, match=words):
        A.RandomHorizontalFlip()(batch)


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: A.RandomHorizontalFlip(p=1.5), "probability"),
        (lambda: A.RandomRotation(10, interpolation="lanczos"), "interpolation"),
        (lambda: A.RandomCrop(32, padding=4, padding_mode="wrap"), "padding_mode"),
        (lambda: A.RandomCrop(-3), "size"),
        (lambda: A.RandomAffine(10, scale=(1.2, 0.8)), "scale"),
        (lambda: A.RandomAffine(10, translate=(0.1, 1.5)), "translate"),
        (lambda: A.ColorJitter(hue=0.7), "hue"),
        (lambda: A.ColorJitter(0.2, hue_mode="yuv"), "hue_mode"),
        (lambda: A.GaussianBlur(4), "odd"),
        (lambda: A.RandomPosterize(9), "bits"),
        (lambda: A.RandomSolarize(300), "threshold"),
        (lambda: A.Normalize([0.5, 0.5], [0.2]), "same"),
        (lambda: A.Normalize([0.5], [0.0]), "positive"),
        (lambda: A.RandAugment(magnitude=40), "magnitude"),
        (lambda: A.RandAugment(ops=["Rotate", "Twirl"]), "Twirl"),
        (lambda: A.Compose([]), "at least one"),
        (lambda: A.Compose([A.RandomHorizontalFlip(), lambda x: x]), "not an augloader Transform"),
        (lambda: A.Compose([A.Normalize([0.5] * 3, [0.2] * 3), A.ColorJitter(0.2)]), "after Normalize"),
        (lambda: A.RandomChoice([A.RandomInvert(), A.RandomGamma()], p=[1.0]), "weights"),
        (lambda: A.RandomErasing(value="noise"), "random"),
    ],
)
def test_bad_configuration(build, words):
    with pytest.raises((ValueError, TypeError), match=words):
        build()


def test_crop_larger_than_image_names_sizes(images_u8):
    with pytest.raises(ValueError, match=r"larger than the padded image \(48, 64\)"):
        A.RandomCrop(100)(images_u8)


def test_colour_ops_need_gray_or_rgb():
    with pytest.raises(ValueError, match="4 channels"):
        A.ColorJitter(0.2, 0.2, 0.2)(torch.zeros(2, 4, 8, 8, dtype=torch.uint8))


def test_normalize_channel_mismatch(images_u8):
    with pytest.raises(ValueError, match="channel"):
        A.Normalize([0.5], [0.2])(images_u8)


def test_random_choice_size_mismatch(images_u8):
    with pytest.raises(ValueError, match="different output sizes"):
        A.RandomChoice([A.CenterCrop(20), A.CenterCrop(30)])(images_u8)


def test_spatial_targets_are_not_silently_ignored(images_u8):
    batch = {"image": images_u8, "boxes": torch.zeros(4, 1, 4)}
    out = A.RandomRotation(10)(batch)  # geometric transforms move targets (tests/targets/)
    assert out["boxes"].shape == (4, 1, 4) and "boxes_valid" in out
    with pytest.raises(NotImplementedError, match="RandomApply"):
        A.RandomApply([A.RandomRotation(10), A.RandomInvert(1.0)])(batch)  # would leave boxes behind the pixels
    out = A.ColorJitter(0.2)(batch)  # photometric transforms leave targets alone
    assert out["boxes"] is batch["boxes"]
