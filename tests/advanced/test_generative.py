"""SyntheticMix / SyntheticDataset / ConditionalVAE (augloader.advanced.generative), CPU only, small."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset

from augloader.advanced.generative import (
    ConditionalVAE,
    SyntheticDataset,
    SyntheticMix,
    to_uint8,
    topup_counts,
    train_vae,
)
from augloader.data.split import SplitView, split_dataset

K = 5
SHAPE = (1, 8, 8)


def painter(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A fake generator: pixel (0, 0) holds 200 + class, the rest is noise from ``generator`` (< 100)."""
    n = labels.numel()
    out = torch.randint(0, 100, (n, *SHAPE), generator=generator, dtype=torch.uint8)
    out[:, 0, 0, 0] = (200 + labels).to(torch.uint8)
    return out


def painted_class(images: torch.Tensor) -> torch.Tensor:
    """Class painted by ``painter``, -1 for real images (whose pixel (0, 0) is < 100)."""
    v = images[:, 0, 0, 0].long()
    return torch.where(v >= 200, v - 200, torch.full_like(v, -1))


class Pairs(Dataset):
    def __init__(self, labels: list[int]) -> None:
        self.y = torch.tensor(labels)
        self.x = torch.randint(
            0, 100, (len(labels), *SHAPE), generator=torch.Generator().manual_seed(1), dtype=torch.uint8
        )

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i])


def real_batch(b: int = 32, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 100, (b, *SHAPE), generator=g, dtype=torch.uint8), torch.randint(0, K, (b,), generator=g)


# ---- SyntheticMix (batch hook) ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["replace", "append"])
def test_hook_ratio_holds_over_an_epoch(mode):
    hook = SyntheticMix(painter, ratio=0.3, num_classes=K, mode=mode, seed=0)
    syn = total = 0
    for step in range(100):  # an epoch of 100 batches of 30
        images, labels = hook(real_batch(30, step))
        assert images.dtype == torch.uint8 and images.shape[1:] == SHAPE and len(labels) == len(images)
        assert len(images) == 30 if mode == "replace" else len(images) >= 30
        cls = painted_class(images)
        syn += int((cls >= 0).sum())
        total += len(images)
    assert abs(syn / total - 0.3) < 0.02


def test_hook_generated_labels_are_the_painted_classes_and_real_samples_untouched():
    images0, labels0 = real_batch(64)
    hook = SyntheticMix(painter, ratio=0.5, num_classes=K, seed=3)
    images, labels = hook((images0, labels0))
    cls = painted_class(images)
    fake = cls >= 0
    assert fake.any() and (~fake).any()
    assert torch.equal(labels[fake], cls[fake])
    assert torch.equal(images[~fake], images0[~fake]) and torch.equal(labels[~fake], labels0[~fake])
    assert images0[:, 0, 0, 0].max() < 100  # the input batch was not modified in place


def test_hook_target_classes_and_tuple_form():
    hook = SyntheticMix(painter, ratio=1.0, num_classes=K, target=[0, 0, 1, 0, 0], seed=0)
    images, labels = hook(real_batch(16))  # the (images, labels) tuple form used by loader's mix= slot
    assert (labels == 2).all() and (painted_class(images) == 2).all()


def test_hook_is_deterministic_with_a_seed_and_a_generator():
    a = SyntheticMix(painter, ratio=0.4, num_classes=K, seed=7)
    b = SyntheticMix(painter, ratio=0.4, num_classes=K, seed=7)
    c = SyntheticMix(painter, ratio=0.4, num_classes=K, seed=8)
    outs = [[h(real_batch(32, s)) for s in range(3)] for h in (a, b, c)]
    for (xa, ya), (xb, yb) in zip(outs[0], outs[1]):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert any(not torch.equal(xa, xc) for (xa, _), (xc, _) in zip(outs[0], outs[2]))
    a.set_epoch(0)  # reseeding replays the epoch
    assert torch.equal(a(real_batch(32, 0))[0], outs[0][0][0])
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(a(real_batch(32), generator=g1)[0], c(real_batch(32), generator=g2)[0])


@pytest.mark.parametrize("mode", ["replace", "append"])
def test_hook_replays_its_last_params(mode):
    hook = SyntheticMix(painter, ratio=0.4, num_classes=K, mode=mode, seed=1)
    batch = real_batch(32)
    first = hook(batch, generator=torch.Generator().manual_seed(2))
    params = hook.last_params
    assert params["classes"].numel() > 0 and params["slots"].numel() == (
        params["classes"].numel() * (mode == "replace")
    )
    other = hook(batch, generator=torch.Generator().manual_seed(3))
    assert not torch.equal(other[0], first[0]) or not torch.equal(other[1], first[1])
    again = hook(batch, params=params)  # no draw: the same classes, slots and generated images
    assert torch.equal(again[0], first[0]) and torch.equal(again[1], first[1])
    assert hook.last_params is params


def test_hook_routes_dicts_and_refuses_bad_params():
    hook = SyntheticMix(painter, ratio=0.5, num_classes=K, seed=0)
    images, labels = real_batch(16)
    out = hook({"image": images, "label": labels}, generator=torch.Generator().manual_seed(1))
    assert set(out) == {"image", "label"}
    pair = hook((images, labels), generator=torch.Generator().manual_seed(1))
    assert torch.equal(out["image"], pair[0]) and torch.equal(out["label"], pair[1])
    with pytest.raises(ValueError, match="also has \\['boxes'\\]"):
        hook({"image": images, "label": labels, "boxes": torch.zeros(16, 1, 4)})
    with pytest.raises(ValueError, match="params must be a dict from sample_params"):
        hook((images, labels), params={"classes": torch.tensor([1])})
    with pytest.raises(ValueError, match="must lie in \\[0, 16\\)"):
        hook(
            (images, labels),
            params={"classes": torch.tensor([1]), "slots": torch.tensor([16]), "seed": torch.tensor(0)},
        )


def test_hook_images_labels_form_is_deprecated_but_works():
    hook = SyntheticMix(painter, ratio=0.5, num_classes=K, seed=0)
    batch = real_batch(16)
    with pytest.warns(DeprecationWarning, match="hook\\(images, labels\\) is deprecated"):
        old = hook(*batch, generator=torch.Generator().manual_seed(4))
    new = hook(batch, generator=torch.Generator().manual_seed(4))
    assert torch.equal(old[0], new[0]) and torch.equal(old[1], new[1])


@pytest.mark.parametrize("mode", ["replace", "append"])
def test_hook_topup_matches_the_target_distribution(mode):
    counts = [400, 100, 200, 50, 250]
    p_real = torch.tensor(counts, dtype=torch.float64) / sum(counts)
    hook = SyntheticMix(painter, ratio=None, num_classes=K, class_counts=counts, mode=mode, seed=0)
    g = torch.Generator().manual_seed(0)
    hist = torch.zeros(K)
    for _ in range(200):
        labels = torch.multinomial(p_real.float(), 50, replacement=True, generator=g)
        _, out = hook((torch.zeros(50, *SHAPE, dtype=torch.uint8), labels))
        hist += torch.bincount(out, minlength=K)
    assert torch.allclose(hist / hist.sum(), torch.full((K,), 1 / K), atol=0.02)
    target = [0.1, 0.1, 0.2, 0.3, 0.3]
    hook = SyntheticMix(painter, ratio=None, num_classes=K, class_counts=counts, target=target, mode=mode, seed=0)
    hist.zero_()
    for _ in range(200):
        labels = torch.multinomial(p_real.float(), 50, replacement=True, generator=g)
        hist += torch.bincount(hook((torch.zeros(50, *SHAPE, dtype=torch.uint8), labels))[1], minlength=K)
    assert torch.allclose(hist / hist.sum(), torch.tensor(target), atol=0.02)


def test_topup_counts():
    assert topup_counts([400, 100, 200, 50, 250]) == [0, 300, 200, 350, 150]  # up to the majority count
    assert topup_counts([10, 10], target=[0.75, 0.25]) == [20, 0]
    with pytest.raises(ValueError, match="target weight 0"):
        topup_counts([10, 10], target=[1, 0])


# ---- SyntheticDataset -------------------------------------------------------------------------------
def test_dataset_ratio_is_exact_and_labels_match():
    real = Pairs([i % K for i in range(300)])
    ds = SyntheticDataset(real, painter, ratio=0.25, num_classes=K, seed=0)
    assert len(ds) == 400 and ds.num_synthetic == 100
    images = torch.stack([ds[i][0] for i in range(len(ds))])
    labels = torch.tensor([ds[i][1] for i in range(len(ds))])
    cls = painted_class(images)
    assert int((cls >= 0).sum()) == 100  # exactly 25% of the epoch
    assert torch.equal(labels[cls >= 0], cls[cls >= 0])
    assert torch.bincount(labels[cls >= 0], minlength=K).tolist() == [20] * K  # uniform classes, exact
    assert sorted(int(torch.nonzero((real.x == x).all(-1).all(-1).all(-1))[0]) for x in images[cls < 0]) == list(
        range(300)
    )
    assert [ds.is_synthetic(i) for i in range(len(ds))] == (cls >= 0).tolist()
    assert 0 < int(torch.nonzero(cls >= 0)[0]) < 300  # interleaved, not appended at the end


def test_dataset_topup_matches_target():
    labels = [0] * 60 + [1] * 20 + [2] * 40
    ds = SyntheticDataset(Pairs(labels), painter, ratio=None, num_classes=3, labels=labels, seed=0)
    assert torch.bincount(torch.tensor([ds[i][1] for i in range(len(ds))])).tolist() == [60, 60, 60]
    ds = SyntheticDataset(
        Pairs(labels), painter, ratio=None, num_classes=3, class_counts=[60, 20, 40], target=[0.5, 0.25, 0.25], seed=0
    )
    assert torch.bincount(torch.tensor([ds[i][1] for i in range(len(ds))])).tolist() == [
        80,
        40,
        40,
    ]  # class 2 (40 real) sets the scale


def test_dataset_is_deterministic_and_set_epoch_redraws_pixels():
    real = Pairs([i % K for i in range(40)])
    a = SyntheticDataset(real, painter, ratio=0.5, num_classes=K, seed=1)
    b = SyntheticDataset(real, painter, ratio=0.5, num_classes=K, seed=1)
    items_a = [a[i] for i in range(len(a))]
    assert all(torch.equal(x, y[0]) and label == y[1] for (x, label), y in zip(items_a, (b[i] for i in range(len(b)))))
    assert all(torch.equal(a[i][0], items_a[i][0]) for i in reversed(range(len(a))))  # order-independent
    a.set_epoch(1)
    syn = [i for i in range(len(a)) if a.is_synthetic(i)]
    assert [a[i][1] for i in syn] == [items_a[i][1] for i in syn]  # same classes
    assert any(not torch.equal(a[i][0], items_a[i][0]) for i in syn)  # fresh pixels


def test_dataset_works_in_a_dataloader():
    real = Pairs([i % K for i in range(30)])
    ds = SyntheticDataset(real, painter, ratio=0.25, num_classes=K, seed=0)
    images, labels = next(iter(torch.utils.data.DataLoader(ds, batch_size=len(ds))))
    assert images.shape == (40, *SHAPE) and int((painted_class(images) >= 0).sum()) == 10


# ---- the training-split guard and argument checks ---------------------------------------------------
def test_refuses_val_and_test_splits():
    real = Pairs([i % K for i in range(100)])
    train, val, test = split_dataset(real, (0.6, 0.2, 0.2), seed=0)
    SyntheticDataset(train, painter, ratio=0.25, num_classes=K)  # fine
    SyntheticMix(painter, ratio=0.25, num_classes=K, split=train)
    for view in (val, test):
        with pytest.raises(ValueError, match=f"training split only.*'{view.role}' split"):
            SyntheticDataset(view, painter, ratio=0.25, num_classes=K)
        with pytest.raises(ValueError, match="training split only"):
            SyntheticMix(painter, ratio=0.25, num_classes=K, split=view)
        with pytest.raises(ValueError, match="training split only"):
            SyntheticMix(painter, ratio=0.25, num_classes=K, split=view.role)
    assert isinstance(val, SplitView)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(ratio=1.5),
        dict(ratio=-0.1),
        dict(ratio=float("nan")),
        dict(ratio="0.5"),
        dict(ratio=True),
        dict(ratio=1.0, mode="append"),
        dict(ratio=0.2, mode="sideways"),
        dict(ratio=None),
        dict(ratio=0.2, class_counts=[1] * K),
        dict(ratio=None, class_counts=[1, 2]),
        dict(ratio=None, class_counts=[0] * K),
        dict(ratio=0.2, target=[1, 1]),
        dict(ratio=0.2, target=[0] * K),
        dict(ratio=0.2, num_classes=0),
    ],
)
def test_hook_bad_arguments(kwargs):
    kwargs.setdefault("num_classes", K)
    with pytest.raises(ValueError):
        SyntheticMix(painter, **kwargs)


def test_bad_generator_and_batches():
    with pytest.raises(TypeError):
        SyntheticMix(42, ratio=0.2, num_classes=K)
    hook = SyntheticMix(painter, ratio=1.0, num_classes=K)
    with pytest.raises(ValueError, match="uint8"):
        hook((torch.rand(4, *SHAPE), torch.zeros(4, dtype=torch.long)))
    with pytest.raises(ValueError, match="labels"):
        hook((torch.zeros(4, *SHAPE, dtype=torch.uint8), torch.zeros(4, K)))
    wrong = SyntheticMix(
        lambda labels, g: torch.zeros(labels.numel(), 3, 8, 8, dtype=torch.uint8), ratio=1.0, num_classes=K
    )
    with pytest.raises(ValueError, match="shape"):
        wrong(real_batch(4))
    short = SyntheticMix(lambda labels, g: torch.zeros(1, *SHAPE), ratio=1.0, num_classes=K)
    with pytest.raises(ValueError, match="must return"):
        short(real_batch(4))
    real = Pairs([0, 1, 2])
    for kwargs in (
        dict(ratio=1.0),
        dict(ratio=None),
        dict(ratio=0.5, labels=[0, 1, 2]),
        dict(ratio=None, labels=[0, 1]),
        dict(ratio=None, labels=[0, 1, 9]),
    ):
        with pytest.raises(ValueError):
            SyntheticDataset(real, painter, num_classes=K, **kwargs)


def test_float_generator_output_is_converted_to_uint8():
    hook = SyntheticMix(lambda labels, g: torch.ones(labels.numel(), *SHAPE) * 0.5, ratio=1.0, num_classes=K)
    images, _ = hook(real_batch(8))
    assert images.dtype == torch.uint8 and (images == 128).all()
    assert to_uint8(torch.tensor([0.0, 1.0, 2.0])).tolist() == [0, 255, 255]


# ---- ConditionalVAE ---------------------------------------------------------------------------------
def test_conditional_vae_trains_and_samples_on_cpu():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 16, 16), generator=g, dtype=torch.uint8)
    labels = torch.randint(0, 3, (64,), generator=g)
    vae = ConditionalVAE(num_classes=3, image_shape=(1, 16, 16), latent_dim=4, width=4)
    before = vae.loss(images, labels).item()
    history = train_vae(vae, images, labels, epochs=4, batch_size=32, lr=5e-3, seed=0)
    assert len(history) == 4 and history[-1] < before
    out = vae.sample(torch.tensor([0, 1, 2, 2]), torch.Generator().manual_seed(1))
    assert out.shape == (4, 1, 16, 16) and out.dtype == torch.uint8
    again = vae.sample(torch.tensor([0, 1, 2, 2]), torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    # as the generator of a SyntheticMix / SyntheticDataset
    hook = SyntheticMix(vae, ratio=0.5, num_classes=3, seed=0)
    mixed, mixed_labels = hook((images[:8], labels[:8]))
    assert mixed.shape == (8, 1, 16, 16) and mixed.dtype == torch.uint8
    ds = SyntheticDataset(list(zip(images[:6], labels[:6].tolist())), vae, ratio=0.5, num_classes=3)
    assert len(ds) == 12 and ds[0][0].shape == (1, 16, 16)


def test_conditional_vae_rejects_bad_shapes_and_labels():
    with pytest.raises(ValueError):
        ConditionalVAE(image_shape=(1, 30, 30))
    with pytest.raises(ValueError):
        ConditionalVAE(num_classes=3, image_shape=(1, 8, 8), width=2).sample(torch.tensor([3]))
    with pytest.raises(ValueError):
        train_vae(
            ConditionalVAE(num_classes=3, image_shape=(1, 8, 8), width=2), torch.zeros(0, 1, 8, 8), torch.zeros(0)
        )


def test_hook_in_the_loader_mix_slot_and_its_val_guard():
    from augloader.data import AugmentedDataset, loader

    train, val = split_dataset(Pairs([i % K for i in range(100)]), (0.8, 0.2), seed=0)
    dl = loader(AugmentedDataset(train), 16, mix=SyntheticMix(painter, ratio=0.25, num_classes=K), seed=0, shuffle=True)
    syn = total = 0
    for images, labels in dl:
        cls = painted_class(images)
        assert torch.equal(labels[cls >= 0], cls[cls >= 0])
        syn, total = syn + int((cls >= 0).sum()), total + len(images)
    assert total == 80 and abs(syn / total - 0.25) < 0.1
    with pytest.raises(ValueError, match="'val' split"):
        next(iter(loader(AugmentedDataset(val), 16, mix=SyntheticMix(painter, ratio=0.25, num_classes=K), seed=0)))


def test_synthetic_mix_sees_the_val_role_through_a_subset():
    import torch.utils.data as tud

    from augloader.advanced.generative import _refuse_eval
    from augloader.data import split_dataset

    _, val = split_dataset(list(range(10)), (0.5, 0.5), seed=0)
    with pytest.raises(ValueError, match="'val'"):
        _refuse_eval(tud.Subset(val, [0, 1]), "SyntheticMix")
