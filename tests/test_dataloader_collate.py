"""A transform used as the collate_fn of a DataLoader with workers (the collate-stage integration)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import augloader as A


class _Stack:
    def __init__(self, transform: A.Transform) -> None:
        self.transform = transform

    def __call__(self, samples):
        return self.transform(torch.stack(samples))


def test_collate_in_workers_matches_in_process():
    g = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (400, 3, 64, 64), generator=g, dtype=torch.uint8)  # 49 KB a sample: 2 chunks
    # deterministic, and large enough batches that the CPU path runs in several chunks and writes
    # its output straight into shared memory inside the worker
    pipeline = A.Compose([A.Resize(72), A.CenterCrop(70), A.Normalize([0.5] * 3, [0.25] * 3)])
    loader = DataLoader(list(data), batch_size=200, num_workers=2, collate_fn=_Stack(pipeline))
    batches = list(loader)
    assert [tuple(b.shape) for b in batches] == [(200, 3, 70, 70)] * 2
    expected = pipeline(data)
    assert torch.equal(torch.cat(batches), expected)
