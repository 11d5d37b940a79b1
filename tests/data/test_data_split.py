"""split_dataset: deterministic, stratified, leak-free; random transforms refused on val/test views."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

import augloader as A
from augloader.data import AugmentedDataset, BatchAugment, loader, split_dataset
from augloader.mix import MixUpCutMix

LABELS = [0] * 500 + [1] * 300 + [2] * 150 + [3] * 50
DATA = [(torch.full((3, 8, 8), i % 256, dtype=torch.uint8), c) for i, c in enumerate(LABELS)]


def test_split_is_stratified_leak_free_and_deterministic():
    train, val, test = split_dataset(DATA, (0.7, 0.2, 0.1), stratify=LABELS, seed=3)
    assert (train.role, val.role, test.role) == ("train", "val", "test")
    sets = [set(v.indices) for v in (train, val, test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set().union(*sets) == set(range(len(DATA)))
    labels = torch.tensor(LABELS)
    for view, frac in ((train, 0.7), (val, 0.2), (test, 0.1)):
        counts = torch.bincount(labels[view.indices], minlength=4)
        assert torch.equal(counts, (torch.tensor([500, 300, 150, 50]) * frac).round().long())  # per-class shares
    again = split_dataset(DATA, (0.7, 0.2, 0.1), stratify=LABELS, seed=3)
    assert [v.indices for v in again] == [v.indices for v in (train, val, test)]
    other = split_dataset(DATA, (0.7, 0.2, 0.1), stratify=LABELS, seed=4)
    assert other[0].indices != train.indices


def test_stratified_sizes_are_exact_and_proportional():
    labels = [0] * 37 + [1] * 23 + [2] * 11 + [3] * 6 + [4] * 3  # 80 samples, awkward shares
    data = list(range(80))
    views = split_dataset(data, (50, 17, 9), stratify=labels, seed=1)  # 4 samples left out
    assert [len(v) for v in views] == [50, 17, 9]
    used = [i for v in views for i in v.indices]
    assert len(used) == len(set(used)) == 76
    counts = torch.tensor([37, 23, 11, 6, 3], dtype=torch.float64)
    lab = torch.tensor(labels)
    for v, size in zip(views, (50, 17, 9)):
        got = torch.bincount(lab[v.indices], minlength=5).double()
        assert (got - counts * size / 80).abs().max() < 1.0 + 1e-9
    fr = split_dataset(data, (0.55, 0.25, 0.2), stratify=labels, seed=1)
    assert [len(v) for v in fr] == [44, 20, 16]


def test_split_by_sizes_and_bad_specs():
    a, b = split_dataset(DATA, (900, 100), seed=0)
    assert (len(a), len(b)) == (900, 100) and not set(a.indices) & set(b.indices)
    assert a[0][1] == LABELS[a.indices[0]]
    with pytest.raises(ValueError, match="sum to at most"):
        split_dataset(DATA, (900, 200))
    with pytest.raises(ValueError, match="fractions"):
        split_dataset(DATA, (0.8, 0.3))
    with pytest.raises(ValueError, match="labels"):
        split_dataset(DATA, (0.5, 0.5), stratify=LABELS[:10])


def test_random_transform_refused_on_val_and_test_views():
    train, val, test = split_dataset(DATA, (0.8, 0.1, 0.1), stratify=LABELS, seed=0)
    random_pipeline = A.Compose([A.RandomHorizontalFlip(), A.Normalize([0.5] * 3, [0.2] * 3)])
    assert random_pipeline.randomized
    for view in (val, test):
        with pytest.raises(ValueError, match=f"'{view.role}' split"):
            view.with_transform(random_pipeline)
        with pytest.raises(ValueError, match="random transform"):
            AugmentedDataset(view, A.RandomResizedCrop(8))
        with pytest.raises(ValueError, match="random transform"):
            loader(view, 8, batch_transform=A.ColorJitter(0.4))
        with pytest.raises(ValueError, match="random transform"):
            loader(view, 8, mix=MixUpCutMix(num_classes=4))
        with pytest.raises(ValueError, match="random transform"):  # plain DataLoader: the view tags its samples
            next(iter(DataLoader(view, batch_size=4, collate_fn=BatchAugment(A.RandomHorizontalFlip()))))
        # deterministic transforms are fine anywhere; allow_random lets TTA through
        deterministic = A.Compose([A.Resize(10), A.CenterCrop(8), A.Normalize([0.5] * 3, [0.2] * 3)])
        x, _ = next(iter(loader(view.with_transform(deterministic), 4)))
        assert x.shape == (4, 3, 8, 8)
        view.with_transform(random_pipeline, allow_random=True)
    train.with_transform(random_pipeline)  # train views take anything
