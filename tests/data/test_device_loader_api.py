"""DeviceAugmenter stands in for a loader in trainers written for timm's PrefetchLoader or a plain DataLoader."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler

import augloader as A
from augloader.data import BatchAugment, DeviceAugmenter
from augloader.mix import MixUpCutMix

DATA = [(torch.full((3, 12, 12), i, dtype=torch.uint8), i % 4) for i in range(30)]


def _augmenter(mix_in_collate: bool = False) -> DeviceAugmenter:
    sampler = DistributedSampler(DATA, num_replicas=2, rank=0, shuffle=True, seed=3)  # rank 0 of 2, no process group
    mix = MixUpCutMix(mixup_alpha=1.0, cutmix_alpha=0.0, num_classes=4)
    collate = BatchAugment(mix=mix if mix_in_collate else None, seed=0)
    dl = DataLoader(DATA, batch_size=4, sampler=sampler, drop_last=True, collate_fn=collate)
    return DeviceAugmenter(dl, A.ToFloat(), "cpu", mix=None if mix_in_collate else mix, seed=0)


def _mixed(target: torch.Tensor) -> bool:
    """Soft labels from MixUp (alpha=1 blends every batch): some row's top class is below 1."""
    return bool((target.max(1).values < 1).any())


def _train(loader, epochs: int = 3, mixup_off_epoch: int = 2, distributed: bool = True) -> list[dict]:
    """A trainer loop written the way timm's train.py and torchvision's references/classification are."""
    log = []
    for epoch in range(epochs):
        if distributed and hasattr(loader.sampler, "set_epoch"):  # timm: loader_train.sampler.set_epoch(epoch)
            loader.sampler.set_epoch(epoch)
        if epoch >= mixup_off_epoch and loader.mixup_enabled:  # timm: if args.prefetcher and loader.mixup_enabled
            loader.mixup_enabled = False
        steps = len(loader)
        batches = 0
        for images, target in loader:
            batches += 1
        log.append(
            {
                "steps": steps,
                "batches": batches,
                "dataset": len(loader.dataset),
                "batch_size": loader.batch_size,
                "images": images,
                "target": target,
            }
        )
    return log


def test_trainer_loop_reads_the_loader_api_and_turns_mixing_off():
    aug = _augmenter()
    log = _train(aug)
    assert [e["steps"] for e in log] == [3, 3, 3]  # 15 samples on rank 0 -> 3 full batches of 4 (drop_last)
    assert [e["batches"] for e in log] == [3, 3, 3]
    assert {e["dataset"] for e in log} == {30} and {e["batch_size"] for e in log} == {4}
    order = DistributedSampler(DATA, num_replicas=2, rank=0, shuffle=True, seed=3)
    assert aug.sampler.epoch == 2 and list(aug.sampler) != list(order)  # set_epoch reached the DistributedSampler
    assert all(_mixed(e["target"]) for e in log[:2])
    assert not _mixed(log[2]["target"]) and not aug.mixup_enabled and aug.mix.enabled is False
    pixels = log[2]["images"] * 255
    assert torch.allclose(pixels, pixels.round(), atol=1e-4)  # whole sample values: no longer blended


def test_loader_attributes_read_through():
    aug = _augmenter()
    dl = aug.loader
    assert aug.dataset is dl.dataset and aug.sampler is dl.sampler and aug.batch_sampler is dl.batch_sampler
    assert (aug.batch_size, aug.drop_last, aug.num_workers, len(aug)) == (4, True, 0, 3)


def test_missing_loader_attributes_raise_attribute_error_naming_the_loader():
    aug = DeviceAugmenter([torch.zeros(2, 3, 4, 4, dtype=torch.uint8)], None, "cpu", seed=0)  # a list is a loader too
    assert len(aug) == 1 and not hasattr(aug, "sampler")
    with pytest.raises(AttributeError, match="wrapped list has no 'dataset'"):
        aug.dataset
    assert aug.mixup_enabled is False
    aug.mixup_enabled = False  # nothing to turn off: a no-op, like timm's
    with pytest.raises(ValueError, match="has no mix"):
        aug.mixup_enabled = True


def test_mixup_enabled_reaches_a_mix_in_the_collate_fn():
    aug = _augmenter(mix_in_collate=True)
    assert aug.mix is None and aug.mixup_enabled
    aug.mixup_enabled = False
    assert aug.loader.collate_fn.mix.enabled is False
    _, target = next(iter(aug))
    assert torch.equal(target.max(1).values, torch.ones(4))
    aug.mixup_enabled = True
    assert aug.loader.collate_fn.mix.enabled is True
    with pytest.raises(TypeError, match="must be a bool"):
        aug.mixup_enabled = 0
