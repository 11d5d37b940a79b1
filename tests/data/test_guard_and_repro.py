"""The val/test guard through Subset/ConcatDataset and torchvision, and BatchAugment's stream with a plain
DataLoader (issue 15)."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import ConcatDataset, DataLoader, Subset

import augloader as A
from augloader.data import AugmentedDataset, BatchAugment, split_dataset

tv = pytest.importorskip("torchvision.transforms")
v2 = pytest.importorskip("torchvision.transforms.v2")


def _views() -> list:
    images = [torch.full((3, 8, 8), i, dtype=torch.uint8) for i in range(20)]
    return split_dataset(images, (0.6, 0.2, 0.2), seed=0)


# ---- the role is found through Subset and ConcatDataset -------------------------------------------
@pytest.mark.parametrize(
    "wrap",
    [
        lambda val, train: Subset(val, [0, 1]),
        lambda val, train: Subset(Subset(val, [0, 1, 2]), [1]),
        lambda val, train: ConcatDataset([val, Subset(val, [0])]),
    ],
)
def test_random_transform_refused_through_wrappers(wrap) -> None:
    train, val, _ = _views()
    ds = wrap(val, train)
    with pytest.raises(ValueError, match="RandomCrop.*'val' split"):
        AugmentedDataset(ds, A.RandomCrop(4))
    with pytest.raises(ValueError, match="'val' split"):
        BatchAugment(A.RandomHorizontalFlip(), seed=0).check_dataset(ds)
    AugmentedDataset(ds, A.RandomCrop(4), allow_random=True)  # test-time augmentation, asked for


def test_mixed_roles_are_not_guarded() -> None:
    train, val, _ = _views()
    AugmentedDataset(ConcatDataset([train, val]), A.RandomCrop(4))  # training on train+val is legitimate


# ---- torchvision's deterministic transforms pass, its random ones do not ---------------------------
@pytest.mark.parametrize(
    "transform",
    [
        tv.Resize(256),
        tv.Compose([tv.Resize(256), tv.CenterCrop(224), tv.ToTensor(), tv.Normalize([0.5] * 3, [0.5] * 3)]),
        tv.Compose([tv.PILToTensor(), tv.ConvertImageDtype(torch.float32)]),
        v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Resize(256), v2.CenterCrop(224)]),
    ],
    ids=["Resize", "Compose-v1", "PILToTensor", "Compose-v2"],
)
def test_torchvision_deterministic_accepted(transform) -> None:
    _, val, _ = _views()
    val.with_transform(transform)


@pytest.mark.parametrize(
    "transform, name",
    [
        (tv.RandomCrop(4), "RandomCrop"),
        (v2.RandAugment(), "RandAugment"),
        (tv.ColorJitter(0.4), "ColorJitter"),
        (tv.Compose([tv.Resize(256), tv.RandomHorizontalFlip()]), r"RandomHorizontalFlip \(Compose.transforms\[1\]\)"),
        (v2.Compose([v2.ToImage(), v2.Compose([v2.Resize(8), v2.AutoAugment()])]), "AutoAugment"),
        (A.Compose([A.Resize(256), A.CenterCrop(8), A.RandomCrop(4)]), r"RandomCrop \(Compose.transforms\[2\]\)"),
    ],
)
def test_random_member_named(transform, name: str) -> None:
    _, val, _ = _views()
    with pytest.raises(ValueError, match=name) as err:
        val.with_transform(transform)
    assert "Compose is a random" not in str(err.value)


# ---- BatchAugment over a plain dataset: the same stream for any num_workers -------------------------
class _Tensors(torch.utils.data.Dataset):
    """A plain dataset (not an AugmentedDataset): samples carry no indices to key on."""

    def __init__(self, n: int) -> None:
        g = torch.Generator().manual_seed(0)
        self.images = torch.randint(0, 256, (n, 3, 12, 12), dtype=torch.uint8, generator=g)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], i % 3


def _stream(num_workers: int) -> list[torch.Tensor]:
    collate = BatchAugment(A.Compose([A.RandomResizedCrop(8), A.ColorJitter(0.4, 0.4)]), seed=123)
    dl = DataLoader(_Tensors(22), batch_size=4, num_workers=num_workers, collate_fn=collate)
    out = []
    for epoch in range(2):
        collate.set_epoch(epoch)
        out += [images for images, _ in dl]
    return out


def test_plain_dataloader_stream_independent_of_num_workers() -> None:
    reference = _stream(0)
    assert len(reference) == 12
    assert not torch.equal(reference[0], reference[6])  # epoch 1 differs from epoch 0
    for workers in (1, 2):
        got = _stream(workers)
        for k, (a, b) in enumerate(zip(reference, got)):
            assert torch.equal(a, b), f"num_workers={workers}: batch {k} differs from num_workers=0"
