"""The worker's pool of reused shared-memory segments (augloader._shared_batches)."""

from __future__ import annotations

import gc
import pickle
import sys
from multiprocessing.reduction import ForkingPickler

import pytest
import torch
from torch.utils.data import DataLoader

from augloader import _shared_batches as pool
from augloader._memory import new_batch

pytestmark = pytest.mark.skipif(not pool.enabled(), reason="the pool needs Linux memfd_create")


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    monkeypatch.setattr(pool, "_segments", [])
    monkeypatch.setattr(pool, "_by_address", {})


def send(tensor: torch.Tensor) -> torch.Tensor:
    """What a DataLoader worker's queue does to a batch: pickle with ForkingPickler, unpickle."""
    return pickle.loads(ForkingPickler.dumps(tensor))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.int64])
def test_a_sent_batch_arrives_as_a_plain_tensor_with_the_same_values(dtype):
    x = pool.take((4, 3, 5, 7), dtype)
    x.copy_(torch.arange(4 * 3 * 5 * 7).view(4, 3, 5, 7).to(dtype))
    for view in (x, x[1:3], x[:, 1], x.transpose(2, 3)):
        got = send(view)
        assert type(got) is torch.Tensor and got.dtype == dtype
        assert got.shape == view.shape and got.stride() == view.stride() and torch.equal(got, view)
    del got
    gc.collect()
    assert pool._segments[0].counts.tolist() == [4, 4]  # the four received tensors died: all released


def test_a_segment_is_reused_only_when_neither_side_holds_it():
    x = pool.take((2, 3, 8, 8), torch.float32)
    address = x.data_ptr()
    x.fill_(1.0)
    received = send(x)
    del x
    gc.collect()
    y = pool.take((2, 3, 8, 8), torch.float32)  # the main process still holds the batch: another segment
    assert y.data_ptr() != address and len(pool._segments) == 2
    y.fill_(2.0)
    assert torch.equal(received, torch.ones(2, 3, 8, 8))
    kept = received[1]  # a view keeps the batch held
    del received
    gc.collect()
    del y
    assert pool.take((2, 3, 8, 8), torch.float32).data_ptr() != address  # y's segment, not the held one
    del kept
    gc.collect()
    z = pool.take((2, 3, 8, 8), torch.float32)
    assert z.data_ptr() == address and len(pool._segments) == 2  # released: reused, no new segment


def test_a_batch_the_worker_still_holds_is_not_reused():
    x = pool.take((16,), torch.uint8)
    y = pool.take((16,), torch.uint8)
    assert x.data_ptr() != y.data_ptr()
    address = x.data_ptr()
    del x
    assert pool.take((16,), torch.uint8).data_ptr() == address


def test_a_full_pool_gives_none_and_new_batch_falls_back_to_fresh_shared_memory(monkeypatch):
    held = [pool.take((10,), torch.float32) for _ in range(pool.PER_SIZE)]
    assert all(t is not None for t in held)
    assert pool.take((10,), torch.float32) is None
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: object())  # as inside a worker
    fresh = new_batch((10,), torch.float32)
    assert fresh.is_shared() and not pool.pooled(fresh)
    assert pool.pooled(new_batch((11,), torch.float32))  # another size: its own segments


def test_a_larger_free_segment_serves_a_smaller_batch_but_not_a_much_smaller_one():
    big = pool.take((100,), torch.uint8)
    address = big.data_ptr()
    del big
    assert pool.take((60,), torch.uint8).data_ptr() == address
    assert len(pool._segments) == 1
    assert pool.take((30,), torch.uint8).data_ptr() != address  # under half the segment: a new one


def test_the_byte_cap_closes_free_segments_first_then_refuses(monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 1000)
    a = pool.take((600,), torch.uint8)
    b = pool.take((300,), torch.uint8)
    assert a is not None and b is not None
    assert pool.take((400,), torch.uint8) is None  # 1300 bytes would be kept; nothing free to close
    del b
    c = pool.take((400,), torch.uint8)  # the free 300-byte segment is closed to make room
    assert c is not None and sorted(s.capacity for s in pool._segments) == [400, 600]


def test_other_tensors_keep_pytorchs_reducer():
    pool._register()
    x = torch.arange(6.0)
    got = send(x)
    assert torch.equal(got, x) and got.is_shared()
    with torch.enable_grad():
        w = pool.take((3,), torch.float32).fill_(1.0).requires_grad_()
        assert torch.equal(send(w).detach(), torch.ones(3))


def test_a_release_in_another_process_is_not_counted():
    x = pool.take((8,), torch.uint8)
    segment = pool._segments[0]
    send(x)
    pool._released(segment.counts, pid=-1)  # a process forked from the receiver drops its copy
    assert segment.counts.tolist() == [1, 1]


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("AUGLOADER_NO_SHM_POOL", "1")
    assert not pool.enabled()


class _FillCollate:
    """A worker's collate: a pooled batch filled with its first index, plus the worker's segment count."""

    def __call__(self, indices):
        out = new_batch((len(indices), 3, 32, 32), torch.float32)
        out.fill_(float(indices[0]))
        return out, torch.tensor(len(pool._segments)), torch.tensor(pool.pooled(out))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_in_a_dataloader_held_batches_stay_intact_and_released_ones_are_reused():
    loader = DataLoader(range(64), batch_size=4, num_workers=2, collate_fn=_FillCollate(), prefetch_factor=2)
    held = list(loader)  # the training loop keeps every batch: no segment may be written over
    assert all(torch.equal(x, torch.full_like(x, float(4 * i))) for i, (x, _, _) in enumerate(held))
    assert max(int(n) for _, n, _ in held) == pool.PER_SIZE  # then fresh segments, as before the pool
    del held
    counts, pooled_flags = [], []
    for i, (x, n, p) in enumerate(loader):  # each batch dropped at the next: a few segments, reused
        assert torch.equal(x, torch.full_like(x, float(4 * i)))
        counts.append(int(n))
        pooled_flags.append(bool(p))
    assert all(pooled_flags) and max(counts) <= pool.PER_SIZE
    assert counts[-1] == counts[len(counts) // 2]  # settled: no new segments in the second half
