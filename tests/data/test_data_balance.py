"""ClassBalancedAugment: the epoch's class distribution approaches the target; minorities get the strong pipeline."""

from __future__ import annotations

import pytest
import torch

import augloader as A
from augloader.data import ClassBalancedAugment, loader

LABELS = [0] * 800 + [1] * 150 + [2] * 50


@pytest.mark.parametrize("target", [None, [0.5, 0.3, 0.2], "sqrt"])
def test_epoch_distribution_within_tolerance_of_target(target):
    sampler = ClassBalancedAugment(LABELS, target=target, num_samples=6000, seed=0)
    expected = sampler.expected_distribution()
    if target is None:
        assert expected == pytest.approx({0: 1 / 3, 1: 1 / 3, 2: 1 / 3})
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        got = sampler.epoch_distribution()
        assert got == pytest.approx(expected, abs=0.03)
        drawn = torch.tensor(LABELS)[torch.tensor(list(sampler))]  # iteration agrees with the report
        assert torch.bincount(drawn, minlength=3)[2].item() / 6000 == pytest.approx(got[2])
    sampler.set_epoch(0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_strength_sends_minorities_to_the_strong_pipeline():
    weak = A.RandomHorizontalFlip(p=0.0)  # identity
    strong = A.RandomInvert(p=1.0)  # unmistakable
    balance = ClassBalancedAugment(LABELS, weak=weak, strong=strong, seed=0)
    p = balance.strong_probability()
    assert p[0] == 0.0 and p[2] > p[1] > 0.0
    images = torch.full((3000, 1, 2, 2), 10, dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2] * 1000)
    out = balance.transform(images, labels, generator=torch.Generator().manual_seed(0))
    inverted = (out[:, 0, 0, 0] == 245).float()
    for c in range(3):
        assert inverted[labels == c].mean().item() == pytest.approx(p[c], abs=0.05)


def test_balanced_loader_end_to_end():
    data = [(torch.full((3, 8, 8), c * 50, dtype=torch.uint8), c) for c in LABELS]
    balance = ClassBalancedAugment(
        LABELS, weak=A.RandomHorizontalFlip(), strong=A.RandomInvert(p=1.0), num_samples=300, seed=1
    )
    dl = loader(data, 50, sampler=balance, batch_transform=balance.transform, seed=1)
    dl.set_epoch(2)
    labels = torch.cat([y for _, y in dl])
    assert labels.numel() == 300
    counts = torch.bincount(labels, minlength=3) / 300
    dist = balance.epoch_distribution()
    assert counts.tolist() == pytest.approx([dist[0], dist[1], dist[2]])


def test_bad_arguments():
    with pytest.raises(ValueError, match="3 classes"):
        ClassBalancedAugment(LABELS, target=[0.5, 0.5])
    with pytest.raises(ValueError, match="target"):
        ClassBalancedAugment(LABELS, target="balanced")
    with pytest.raises(ValueError, match="strength"):
        ClassBalancedAugment(LABELS, strength=[0.0, 0.5, 1.5])
