"""DeviceAugmenter: move, augment and prefetch; the same API on CPU; reproducible and resumable."""

from __future__ import annotations

import threading

import pytest
import torch
from torch.utils.data import DataLoader

import augloader as A
from augloader.data import BatchAugment, DeviceAugmenter
from augloader.mix import MixUpCutMix

DATA = [
    (torch.randint(0, 256, (3, 24, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(i)), i % 5)
    for i in range(40)
]


def _pipeline():
    return A.Compose(
        [
            A.RandomResizedCrop(16),
            A.RandomHorizontalFlip(),
            A.ColorJitter(0.4, 0.4, 0.4),
            A.Normalize([0.5] * 3, [0.2] * 3),
        ]
    )


def _augmenter(device, num_workers=0, seed=0):
    dl = DataLoader(
        DATA, batch_size=8, num_workers=num_workers, collate_fn=BatchAugment(), pin_memory=(device == "cuda")
    )
    return DeviceAugmenter(dl, _pipeline(), device, mix=MixUpCutMix(num_classes=5), seed=seed)


def _run(aug, epoch):
    aug.set_epoch(epoch)
    return [(x.cpu(), y.cpu()) for x, y in aug]


def test_cpu_yields_augmented_batches_reproducibly():
    aug = _augmenter("cpu")
    assert len(aug) == 5
    batches = _run(aug, 0)
    assert [tuple(x.shape) for x, _ in batches] == [(8, 3, 16, 16)] * 5
    assert batches[0][0].dtype == torch.float32 and batches[0][1].shape == (8, 5)
    again = _run(_augmenter("cpu", num_workers=2), 0)
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(batches, again))
    assert not torch.equal(_run(aug, 1)[0][0], batches[0][0])


def test_mid_epoch_resume_repeats_the_rest_of_the_epoch():
    aug = _augmenter("cpu")
    aug.set_epoch(3)
    it = iter(aug)
    seen = [next(it) for _ in range(2)]
    state = aug.state_dict()
    assert state["epoch"] == 3 and state["position"] == 2
    rest = list(it)
    resumed = _augmenter("cpu", seed=99)
    resumed.load_state_dict(state)
    tail = list(resumed)
    assert len(tail) == 3 and all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(rest, tail))
    assert len(seen) == 2


def test_plain_tensor_and_dict_batches():
    dl = DataLoader([torch.zeros(3, 8, 8, dtype=torch.uint8)] * 4, batch_size=2, collate_fn=BatchAugment())
    out = list(DeviceAugmenter(dl, A.ToFloat(), "cpu", seed=0))
    assert out[0].dtype == torch.float32 and out[0].shape == (2, 3, 8, 8)
    dl = DataLoader(
        [{"image": torch.zeros(3, 8, 8, dtype=torch.uint8), "label": 1}] * 4, batch_size=2, collate_fn=BatchAugment()
    )
    out = list(DeviceAugmenter(dl, A.RandomHorizontalFlip(), "cpu", seed=0))
    assert out[0]["image"].shape == (2, 3, 8, 8) and out[0]["label"].tolist() == [1, 1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_draws():
    cuda = _run(_augmenter("cuda"), 0)
    cpu = _run(_augmenter("cpu"), 0)
    assert all(x.device.type == "cpu" for x, _ in cuda)  # moved back by _run
    for (a, b), (c, d) in zip(cuda, cpu):
        assert torch.allclose(a, c, atol=2e-2) and torch.allclose(b, d, atol=1e-5)


def test_mix_without_labels_is_a_clear_error():
    dl = DataLoader([torch.zeros(3, 8, 8, dtype=torch.uint8)] * 4, batch_size=2, collate_fn=BatchAugment())
    with pytest.raises(ValueError, match="mix needs labels"):
        next(iter(DeviceAugmenter(dl, None, "cpu", mix=MixUpCutMix(num_classes=2), seed=0)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_keeps_one_side_stream_and_stops_its_thread():
    aug = _augmenter("cuda")
    norm = aug.transform.transforms[-1]
    first = _run(aug, 0)
    stream = aug._stream
    assert stream is not None and all(t.device.type == "cuda" for t in norm.buffers())  # moved once, up front
    for x, _ in aug:  # a loop left early
        assert x.is_cuda
        break
    assert not [t for t in threading.enumerate() if t.name == "augloader-prefetch"]
    again = _run(aug, 0)
    assert aug._stream is stream
    assert all(torch.allclose(a, c, atol=1e-6) and torch.equal(b, d) for (a, b), (c, d) in zip(first, again))
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):  # the consumer on a stream of its own: each batch still waits for its event
        on_side = [(x.cpu(), y.cpu()) for x, y in aug]
    assert all(torch.allclose(a, c, atol=1e-6) and torch.equal(b, d) for (a, b), (c, d) in zip(first, on_side))
