"""The pool of reused output batches (augloader._batch_pool): shared segments in DataLoader workers,
private blocks elsewhere."""

from __future__ import annotations

import gc
import os
import pickle
import threading
import time
from multiprocessing.reduction import ForkingPickler

import pytest
import torch
from torch.utils.data import DataLoader

from augloader import _batch_pool as pool
from augloader._memory import new_batch

shared_only = pytest.mark.skipif(not pool.enabled(shared=True), reason="shared segments need Linux memfd_create")


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    monkeypatch.setattr(pool, "_blocks", [])
    monkeypatch.setattr(pool, "_by_address", {})
    yield
    for block in pool._blocks:  # the test's segments: close their descriptors
        if block.fd >= 0:
            os.close(block.fd)


def send(tensor: torch.Tensor) -> torch.Tensor:
    """What a DataLoader worker's queue does to a batch: pickle with ForkingPickler, unpickle."""
    return pickle.loads(ForkingPickler.dumps(tensor))


@shared_only
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.int64])
def test_a_sent_batch_arrives_as_a_plain_tensor_with_the_same_values(dtype):
    x = pool.take((4, 3, 5, 7), dtype, shared=True)
    x.copy_(torch.arange(4 * 3 * 5 * 7).view(4, 3, 5, 7).to(dtype))
    for view in (x, x[1:3], x[:, 1], x.transpose(2, 3)):
        got = send(view)
        assert type(got) is torch.Tensor and got.dtype == dtype
        assert got.shape == view.shape and got.stride() == view.stride() and torch.equal(got, view)
    del got
    gc.collect()
    assert pool._blocks[0].counts.tolist() == [4, 4]  # the four received tensors died: all released
    assert pool._blocks[0].counts.ctypes.data % 64 == 0  # the counters on a line of their own, whatever the size


@shared_only
def test_a_segment_is_reused_only_when_neither_side_holds_it():
    x = pool.take((2, 3, 8, 8), torch.float32, shared=True)
    address = x.data_ptr()
    x.fill_(1.0)
    received = send(x)
    del x
    gc.collect()
    y = pool.take((2, 3, 8, 8), torch.float32, shared=True)  # the main process still holds the batch: another segment
    assert y.data_ptr() != address and len(pool._blocks) == 2
    y.fill_(2.0)
    assert torch.equal(received, torch.ones(2, 3, 8, 8))
    kept = received[1]  # a view keeps the batch held
    del received
    gc.collect()
    del y
    assert pool.take((2, 3, 8, 8), torch.float32, shared=True).data_ptr() != address  # y's segment, not the held one
    del kept
    gc.collect()
    z = pool.take((2, 3, 8, 8), torch.float32, shared=True)
    assert z.data_ptr() == address and len(pool._blocks) == 2  # released: reused, no new segment


@shared_only
def test_a_batch_the_worker_still_holds_is_not_reused():
    x = pool.take((16,), torch.uint8, shared=True)
    y = pool.take((16,), torch.uint8, shared=True)
    assert x.data_ptr() != y.data_ptr()
    address = x.data_ptr()
    del x
    assert pool.take((16,), torch.uint8, shared=True).data_ptr() == address


@shared_only
def test_a_full_pool_gives_none_and_new_batch_falls_back_to_fresh_shared_memory(monkeypatch):
    held = [pool.take((10,), torch.float32, shared=True) for _ in range(pool.PER_SIZE)]
    assert all(t is not None for t in held)
    assert pool.take((10,), torch.float32, shared=True) is None
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: object())  # as inside a worker
    fresh = new_batch((10,), torch.float32)
    assert fresh.is_shared() and not pool.pooled(fresh)
    assert pool.pooled(new_batch((11,), torch.float32))  # another size: its own segments


@shared_only
def test_a_larger_free_segment_serves_a_smaller_batch_but_not_a_much_smaller_one():
    big = pool.take((100,), torch.uint8, shared=True)
    address = big.data_ptr()
    del big
    assert pool.take((60,), torch.uint8, shared=True).data_ptr() == address
    assert len(pool._blocks) == 1
    assert pool.take((30,), torch.uint8, shared=True).data_ptr() != address  # under half the segment: a new one


@shared_only
def test_the_byte_cap_closes_free_segments_first_then_refuses(monkeypatch):
    monkeypatch.setattr(pool, "MAX_BYTES", 1000)
    a = pool.take((600,), torch.uint8, shared=True)
    b = pool.take((300,), torch.uint8, shared=True)
    assert a is not None and b is not None
    assert pool.take((400,), torch.uint8, shared=True) is None  # 1300 bytes would be kept; nothing free to close
    del b
    c = pool.take((400,), torch.uint8, shared=True)  # the free 300-byte segment is closed to make room
    assert c is not None and sorted(s.capacity for s in pool._blocks) == [400, 600]


@shared_only
def test_other_tensors_keep_pytorchs_reducer():
    pool._register()
    x = torch.arange(6.0)
    got = send(x)
    assert torch.equal(got, x) and got.is_shared()
    with torch.enable_grad():
        w = pool.take((3,), torch.float32, shared=True).fill_(1.0).requires_grad_()
        assert torch.equal(send(w).detach(), torch.ones(3))


@shared_only
def test_a_release_in_another_process_is_not_counted():
    x = pool.take((8,), torch.uint8, shared=True)
    segment = pool._blocks[0]
    send(x)
    pool._released(segment.counts, pid=-1)  # a process forked from the receiver drops its copy
    assert segment.counts.tolist() == [1, 1]


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("AUGLOADER_NO_BATCH_POOL", "1")
    assert not pool.enabled(shared=True) and not pool.enabled(shared=False)


class _FillCollate:
    """A worker's collate: a pooled batch filled with its first index, plus the worker's segment count."""

    def __call__(self, indices):
        out = new_batch((len(indices), 3, 32, 32), torch.float32)
        out.fill_(float(indices[0]))
        return out, torch.tensor(len(pool._blocks)), torch.tensor(pool.pooled(out))


@shared_only
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


def test_private_blocks_are_for_large_batches_and_reused_once_dropped(monkeypatch):
    assert pool.take((1000,), torch.uint8, shared=False) is None  # below 32 MB: the C allocator's job
    monkeypatch.setattr(pool, "PRIVATE_MIN_BYTES", 400)
    x = pool.take((10, 10), torch.float32, shared=False)
    address = x.data_ptr()
    assert address % 64 == 0 and pool.pooled(x) and not pool._by_address  # not a shared segment
    x.fill_(3.0)
    view = x[2:]
    del x
    y = pool.take((10, 10), torch.float32, shared=False)  # the view still holds the block
    assert y.data_ptr() != address and torch.equal(view, torch.full((8, 10), 3.0))
    del view, y
    gc.collect()
    assert pool.take((10, 10), torch.float32, shared=False).data_ptr() in {b.address for b in pool._blocks}
    assert len(pool._blocks) == 2


def test_a_fresh_mixup_output_in_the_main_process_reuses_the_dropped_one():
    from augloader.mix import MixUpCutMix

    x = torch.rand(96, 3, 224, 224)  # 57.8 MB of float32: a private block
    y = torch.randint(0, 10, (96,))
    mixer = MixUpCutMix(num_classes=10, mode="elem")
    first, _ = mixer((x, y), generator=torch.Generator().manual_seed(0))
    kept = first.clone()
    second, _ = mixer((x, y), generator=torch.Generator().manual_seed(1))
    assert second.data_ptr() != first.data_ptr() and torch.equal(first, kept)  # held: not written over
    address = first.data_ptr()
    del first
    third, _ = mixer((x, y), generator=torch.Generator().manual_seed(0))
    assert third.data_ptr() == address and torch.equal(third, kept)  # reused, and the same draws' values


@shared_only
def test_a_forked_child_starts_its_own_pool():
    # a DataLoader worker forked from a process that has segments must not reuse them: its siblings
    # inherit the same memory
    held = pool.take((3, 8, 8), torch.float32, shared=True)
    released = pool.take((3, 8, 8), torch.float32, shared=True)
    inherited = {b.address for b in pool._blocks}
    del released  # free in the parent: a child could be tempted to reuse it
    loader = DataLoader(range(8), batch_size=4, num_workers=2, collate_fn=_FillCollate())
    for i, (x, n, p) in enumerate(loader):
        assert torch.equal(x, torch.full_like(x, float(4 * i))) and bool(p) and int(n) == 1
    assert {b.address for b in pool._blocks} == inherited and held.shape == (3, 8, 8)


def test_threads_taking_at_once_never_share_a_block(monkeypatch):
    monkeypatch.setattr(pool, "PRIVATE_MIN_BYTES", 64)
    clashes = []

    def work(mark: float) -> None:
        for _ in range(300):
            t = pool.take((64,), torch.float32, shared=False)
            if t is not None:
                t.fill_(mark)
                time.sleep(0)  # let the other threads take blocks meanwhile
                if not bool((t == mark).all()):
                    clashes.append(mark)

    threads = [threading.Thread(target=work, args=(float(k),)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clashes == [] and len(pool._blocks) <= pool.PER_SIZE  # each thread holds its last and its next


@shared_only
def test_a_segment_that_cannot_be_made_leaves_the_usual_allocation(monkeypatch):
    def refuse(*args):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(pool.os, "memfd_create", refuse)
    assert pool.take((4, 4), torch.float32, shared=True) is None
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: object())
    assert new_batch((4, 4), torch.float32).is_shared()
