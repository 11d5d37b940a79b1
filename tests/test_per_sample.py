"""Every sample draws its own parameters (torchvision draws once per call, kornia's policies once per batch)."""

from __future__ import annotations

import torch

import augloader as A


def test_flip_half_of_a_batch(images_u8, generator):
    x = images_u8[:1].expand(64, -1, -1, -1).contiguous()
    y = A.RandomHorizontalFlip(p=0.5)(x, generator=generator)
    flipped = torch.tensor([torch.equal(y[i], x[i].flip(-1)) for i in range(64)])
    kept = torch.tensor([torch.equal(y[i], x[i]) for i in range(64)])
    assert bool((flipped | kept).all())
    assert 10 < int(flipped.sum()) < 54  # both outcomes, in proportion


def test_rotation_angles_differ_across_samples(images_u8, generator):
    t = A.RandomRotation(30)
    x = images_u8[:1].expand(64, -1, -1, -1)
    y = t(x, generator=generator)
    angles = t.last_params["angle"]
    assert angles.unique().numel() == 64 and angles.abs().max() <= 30
    assert len({tuple(y[i].flatten()[:500].tolist()) for i in range(64)}) > 60  # the images differ too


def test_randaugment_picks_different_ops_per_sample(images_u8, generator):
    t = A.RandAugment(num_ops=2, magnitude=9)
    x = images_u8[:1].expand(64, -1, -1, -1)
    y = t(x, generator=generator)
    ops = t.last_params["op"]
    assert ops.shape == (64, 2)
    assert ops[:, 0].unique().numel() >= 8 and ops[:, 1].unique().numel() >= 8
    # identical inputs, different outputs: the choice is applied per sample
    assert len({y[i].sum().item() for i in range(64)}) > 20


def test_trivialaugment_magnitudes_differ(images_u8, generator):
    t = A.TrivialAugmentWide()
    t(images_u8[:1].expand(32, -1, -1, -1), generator=generator)
    assert t.last_params["bin"].unique().numel() > 10


def test_random_choice_and_order_per_sample(images_u8, generator):
    c = A.RandomChoice([A.RandomInvert(1.0), A.RandomGrayscale(1.0), A.RandomSolarize(0.5, p=1.0)])
    c(images_u8[:1].expand(60, -1, -1, -1), generator=generator)
    assert c.last_params["choice"].unique().numel() == 3
    o = A.RandomOrder([A.RandomInvert(1.0), A.ColorJitter(0.5)])
    o(images_u8[:1].expand(40, -1, -1, -1), generator=generator)
    assert o.last_params["order"][:, 0].unique().numel() == 2


def test_colorjitter_order_and_factors_per_sample(images_u8, generator):
    t = A.ColorJitter(0.4, 0.4, 0.4, 0.1)
    t(images_u8[:1].expand(48, -1, -1, -1), generator=generator)
    p = t.last_params
    assert p["brightness"].unique().numel() == 48 and p["hue"].unique().numel() == 48
    assert len({tuple(r) for r in p["order"].tolist()}) > 10  # many of the 24 orders
