"""AugmentedDataset and BatchAugment: input kinds, structures, mixed sizes, iterable datasets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset

import augloader as A
from augloader import _batch_pool
from augloader.data import AugmentedDataset, AugmentedIterableDataset, BatchAugment, ImageDecodeError
from augloader.mix import MixUpCutMix


def _array(h=20, w=24, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["pil", "numpy", "tensor", "gray_pil"])
def test_inputs_decode_to_uint8_chw(kind):
    arr = _array()
    item = {
        "pil": Image.fromarray(arr),
        "numpy": arr,
        "tensor": torch.from_numpy(arr).permute(2, 0, 1).contiguous(),
        "gray_pil": Image.fromarray(arr[:, :, 0]),
    }[kind]
    out = AugmentedDataset([item])[0]
    assert out.dtype == torch.uint8
    if kind == "gray_pil":
        assert torch.equal(out, torch.from_numpy(arr[:, :, 0])[None])
    else:
        assert torch.equal(out, torch.from_numpy(arr).permute(2, 0, 1))


def test_tuple_and_dict_samples_keep_targets_and_collate_labels():
    arr = _array()
    tuples = AugmentedDataset([(Image.fromarray(arr), 3, "a"), (arr, 1, "b")], A.RandomHorizontalFlip(), seed=0)
    x, y, names = BatchAugment(A.RandomVerticalFlip(), seed=0)([tuples[0], tuples[1]])
    assert x.shape == (2, 3, 20, 24) and x.dtype == torch.uint8
    assert torch.equal(y, torch.tensor([3, 1])) and names == ["a", "b"]
    dicts = AugmentedDataset([{"image": arr, "label": 2, "id": 9}, {"image": arr, "label": 0, "id": 8}], seed=0)
    batch = BatchAugment(A.RandomHorizontalFlip(), mix=MixUpCutMix(num_classes=3), seed=0)([dicts[0], dicts[1]])
    assert batch["image"].shape == (2, 3, 20, 24)
    assert batch["label"].shape == (2, 3)  # mixed soft targets
    assert torch.equal(batch["id"], torch.tensor([9, 8]))


def test_bad_inputs_name_the_problem():
    with pytest.raises(TypeError, match="uint8"):
        AugmentedDataset([np.zeros((4, 4, 3), np.float32)])[0]
    with pytest.raises(ImageDecodeError, match="cannot read image 'not an image'"):
        AugmentedDataset(["not an image"])[0]  # a str is a file path
    with pytest.raises(TypeError, match="int"):
        AugmentedDataset([3])[0]
    with pytest.raises(KeyError, match="image"):
        AugmentedDataset([{"img": _array()}])[0]
    with pytest.raises(TypeError, match="transform"):
        BatchAugment(transform=3)


def test_mixed_sizes_error_names_sizes_and_size_fix_works():
    samples = [torch.zeros(3, 20, 24, dtype=torch.uint8)] * 2 + [torch.zeros(3, 30, 30, dtype=torch.uint8)]
    with pytest.raises(ValueError, match=r"\(3, 20, 24\) x2, \(3, 30, 30\) x1"):
        BatchAugment(A.RandomHorizontalFlip())(samples)
    fixed = BatchAugment(A.RandomHorizontalFlip(), size_fix=A.Compose([A.Resize(16), A.CenterCrop(16)]), seed=0)(
        samples
    )
    assert fixed.shape == (3, 3, 16, 16)


def test_collate_in_workers_matches_in_process():
    data = [(torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8), i % 2) for i in range(16)]
    collate = BatchAugment(A.Compose([A.RandomHorizontalFlip(), A.Normalize([0.5] * 3, [0.2] * 3)]), seed=1)
    ds = AugmentedDataset(data, seed=1)
    got = [x for x, _ in DataLoader(ds, batch_size=8, num_workers=2, collate_fn=collate)]
    ref = [x for x, _ in DataLoader(ds, batch_size=8, num_workers=0, collate_fn=collate)]
    assert all(torch.equal(a, b) for a, b in zip(got, ref)) and got[0].dtype == torch.float32


class _Endless(IterableDataset):
    """An infinite stream that counts how much was pulled from it."""

    def __init__(self):
        self.pulled = 0

    def __iter__(self):
        for i in itertools.count():
            self.pulled += 1
            yield _array(8, 8, seed=i), i


def test_iterable_dataset_is_wrapped_lazily():
    src = _Endless()
    ds = AugmentedDataset(src, A.RandomHorizontalFlip(), seed=0)
    assert isinstance(ds, AugmentedIterableDataset)
    first = list(itertools.islice(iter(ds), 5))
    assert src.pulled == 5  # pulled one at a time, never materialised
    assert [y for _, y in first] == [0, 1, 2, 3, 4] and first[0][0].shape == (3, 8, 8)
    again = list(itertools.islice(iter(ds), 5))
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(first, again))  # same seed and epoch: same stream
    batches = DataLoader(ds, batch_size=4, collate_fn=BatchAugment(seed=0))
    x, y = next(iter(batches))
    assert x.shape == (4, 3, 8, 8) and y.tolist() == [0, 1, 2, 3]


class _SharedFlag:
    """Reports, from inside the worker, whether BatchAugment's output lives in shared memory (PyTorch's,
    or a segment of the worker's pool)."""

    def __init__(self, collate):
        self.collate = collate

    def __call__(self, samples):
        out = self.collate(samples)
        return torch.tensor(out.is_shared() or _batch_pool.pooled(out))


@pytest.mark.parametrize("transform", [None, A.Normalize([0.5] * 3, [0.2] * 3)])
def test_batches_are_born_in_shared_memory_in_workers(transform):
    # the stack (no transform) is always shared; the engine writes straight into shared memory when the
    # batch runs in several CPU chunks (8 MB of float32 each), so the batch here is 2 chunks' worth
    data = [torch.zeros(3, 64, 64, dtype=torch.uint8)] * 200
    flags = list(
        DataLoader(data, batch_size=200, num_workers=1, collate_fn=_SharedFlag(BatchAugment(transform, seed=0)))
    )
    assert all(bool(f) for f in flags)
