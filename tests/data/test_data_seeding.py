"""Reproducibility: the augmented stream depends on (seed, epoch, batch), not on num_workers or resumes."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

import augloader as A
from augloader.data import AugmentedDataset, BatchAugment, loader
from augloader.mix import MixUpCutMix


def _data(n=40):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 36, 36), generator=g, dtype=torch.uint8)
    return [(images[i], i % 4) for i in range(n)]


def _loader(num_workers, persistent=False, seed=7):
    return loader(
        _data(),
        batch_size=8,
        transform=A.RandomCrop(32),  # per sample, in the Dataset
        batch_transform=A.Compose([A.RandomHorizontalFlip(), A.ColorJitter(0.4, 0.4, 0.4, 0.1)]),
        mix=MixUpCutMix(num_classes=4, mode="elem"),
        seed=seed,
        shuffle=True,
        num_workers=num_workers,
        persistent_workers=persistent,
    )


def _epochs(dl, epochs=(0, 1)):
    out = []
    for e in epochs:
        dl.set_epoch(e)
        out.append([(x.clone(), y.clone()) for x, y in dl])
    return out


def _same(a, b):
    return len(a) == len(b) and all(
        len(ea) == len(eb) and all(torch.equal(x, u) and torch.equal(y, v) for (x, y), (u, v) in zip(ea, eb))
        for ea, eb in zip(a, b)
    )


def test_stream_identical_for_0_1_2_workers_and_persistent():
    ref = _epochs(_loader(0))
    assert not torch.equal(ref[0][0][0], ref[1][0][0])  # epochs differ
    assert _same(ref, _epochs(_loader(1)))
    assert _same(ref, _epochs(_loader(2)))
    assert _same(ref, _epochs(_loader(2, persistent=True)))  # epoch reaches persistent workers via the sampler


def test_other_seed_gives_other_stream():
    assert not _same(_epochs(_loader(0), (0,)), _epochs(_loader(0, seed=8), (0,)))


def test_resume_from_state_dict_repeats_the_epoch():
    dl = _loader(0)
    first = _epochs(dl, (0, 1, 2))
    dl.set_epoch(2)
    state = dl.state_dict()
    fresh = _loader(0, seed=123)  # another seed: load_state_dict must restore it
    fresh.load_state_dict(state)
    assert _same([first[2]], [[(x, y) for x, y in fresh]])


def test_plain_dataloader_with_augmented_dataset_is_worker_independent():
    # no loader() helper: the batch key is a hash of the sample indices AugmentedDataset passes on
    ds = AugmentedDataset(_data(), A.RandomCrop(32), seed=3)
    collate = BatchAugment(A.Compose([A.RandomHorizontalFlip(), A.RandomGamma()]), seed=4)
    runs = []
    for w in (0, 2):
        runs.append([x for x, _ in DataLoader(ds, batch_size=8, num_workers=w, collate_fn=collate)])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_state_dict_round_trip_and_bad_state():
    c = BatchAugment(A.RandomHorizontalFlip(), seed=5)
    c.set_epoch(3)
    d = BatchAugment(A.RandomHorizontalFlip(), seed=6)
    d.load_state_dict(c.state_dict())
    assert (d.seed, d.epoch) == (5, 3)
    with pytest.raises(KeyError, match="epoch"):
        d.load_state_dict({"seed": 1})
    with pytest.raises(ValueError, match="epoch"):
        d.set_epoch(-1)


def test_mix_off_epoch_reaches_persistent_workers():
    data = [(x, i % 3) for i, (x, _) in enumerate(_data())]  # partners (i, i + 4) have different labels
    dl = loader(data, 8, mix=MixUpCutMix(num_classes=4, off_epoch=1), seed=0, num_workers=2, persistent_workers=True)
    dl.set_epoch(0)
    mixed = torch.cat([y for _, y in dl])
    dl.set_epoch(1)  # the workers keep their own copy of the mix; the sampler's epoch tag turns it off there
    plain = torch.cat([y for _, y in dl])
    assert (mixed.max(dim=1).values < 1).any()
    assert torch.equal(plain, torch.nn.functional.one_hot(torch.arange(40) % 3, 4).float())


def test_plain_dataloader_epochs_follow_set_epoch():
    ds = AugmentedDataset(_data(), A.RandomCrop(32), seed=3)
    collate = BatchAugment(A.RandomGamma(), seed=4)
    dl = DataLoader(ds, batch_size=8, num_workers=2, collate_fn=collate)
    epochs = []
    for e in (0, 1, 0):
        ds.set_epoch(e)
        collate.set_epoch(e)
        epochs.append(torch.cat([x for x, _ in dl]))
    assert torch.equal(epochs[0], epochs[2]) and not torch.equal(epochs[0], epochs[1])
    collate.set_epoch(1)  # the batch stage alone moving on changes its draws too
    ds.set_epoch(0)
    assert not torch.equal(torch.cat([x for x, _ in dl]), epochs[0])
