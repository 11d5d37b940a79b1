"""Large output batches in memory that augloader reuses once nobody holds them.

A fresh block of memory costs its page faults: the kernel allocates and zeroes every page on first
write. For the batches augloader returns that is as much as the augmentation itself, measured here:

- **DataLoader workers** hand each batch to the main process in shared memory, and PyTorch makes a
  fresh segment for every batch (filling one of 38.5 MB, a float batch of 64 x 3 x 224 x 224: 30.8 ms
  fresh, 3.4 ms reused). Here a worker keeps a few *shared segments* per batch size and writes the
  next batch into one that nobody holds any more. "Nobody" is known from two counters in a small tail
  after the data, each written by one process only: the worker counts the times it sent the segment,
  the receiving process counts the times a tensor it rebuilt from it was freed; the worker's own
  tensor over it must be gone too. Sending keeps PyTorch's way of passing the file descriptor; only
  tensors over these segments take this path, every other tensor keeps PyTorch's reducer.
- **Any other process** gets *private blocks* for batches of 32 MB and more (smaller ones the C
  allocator reuses by itself): a freed MixUp/CutMix output of 256 x 3 x 224 x 224 (154 MB) is reused
  by the next call instead of faulting afresh (42 -> 18 ms per call), without changing the process's
  ``malloc`` settings (which :func:`augloader.tune_memory` does for every allocation).

A block is lent as a tensor over a NumPy array whose finalizer marks it free when the last tensor or
view over it dies, so a batch the training loop still holds (in a list, in a queue, a view of it) is
never written over; when every kept block is in use the batch gets fresh memory, as before. At most
:data:`PER_SIZE` blocks per size and :data:`MAX_BYTES` in all are kept per process (free ones are
released first when more are needed). Linux (``memfd_create``) for shared segments; private blocks
anywhere; ``AUGLOADER_NO_BATCH_POOL=1`` turns both off.
"""

from __future__ import annotations

import math
import mmap
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from multiprocessing.reduction import DupFd, ForkingPickler

import numpy as np
import torch
from torch.multiprocessing.reductions import reduce_tensor

PER_SIZE = 6  # blocks kept per batch size: a worker's batches in flight (prefetch 2) plus the ones held
MAX_BYTES = 1 << 30  # at most this much kept per process; beyond it a batch gets fresh memory
PRIVATE_MIN_BYTES = 32 << 20  # glibc's largest mmap threshold: smaller blocks it reuses by itself
_TAIL = 64  # bytes after a shared segment's data: int64 [times sent (worker), times released (receiver)]
_release_lock = threading.Lock()  # the receiving process's release counts
_take_lock = threading.Lock()  # two threads never lend one block


@dataclass(eq=False)
class _Block:
    capacity: int  # data bytes
    memory: object = field(repr=False)  # an mmap of a memfd (shared) or a NumPy uint8 array (private)
    address: int = 0
    fd: int = -1  # shared segments: the memfd
    counts: np.ndarray | None = field(default=None, repr=False)  # shared segments: int64 (2,) over the tail
    lent: bool = False  # a tensor of this process's over the block is alive

    def free(self) -> bool:
        return not self.lent and (self.counts is None or self.counts[0] == self.counts[1])


_blocks: list[_Block] = []
_by_address: dict[int, _Block] = {}  # shared segments by address, for the reducer
_registered = False


def enabled(shared: bool = True) -> bool:
    """Whether batches may come from the pool in this process (shared segments need Linux's memfd)."""
    if os.environ.get("AUGLOADER_NO_BATCH_POOL"):
        return False
    return not shared or (sys.platform.startswith("linux") and hasattr(os, "memfd_create"))


def _after_fork_in_child() -> None:
    """An empty pool and fresh locks in a forked child (a DataLoader worker of a process with a pool).

    The child inherits the parent's blocks: its shared segments are the same memory in the parent and
    in every sibling, so none may be reused there; the child closes its copies of their descriptors
    and makes its own. A lock another thread held at the fork would stay held in the child forever.
    """
    global _take_lock, _release_lock, _blocks, _by_address
    _take_lock, _release_lock = threading.Lock(), threading.Lock()
    for block in _blocks:
        if block.fd >= 0:
            os.close(block.fd)
    _blocks, _by_address = [], {}


if hasattr(os, "register_at_fork"):  # every platform with fork
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _tail_at(capacity: int) -> int:
    """Where a shared segment's counters start: the first 64-byte boundary after its data (each counter
    is then one aligned word, written whole)."""
    return -(-capacity // 64) * 64


def _new_block(capacity: int, shared: bool) -> _Block:
    if not shared:
        memory = torch.empty(capacity, dtype=torch.uint8).numpy()  # 64-byte aligned, unlike np.empty
        block = _Block(capacity, memory, memory.ctypes.data)
    else:
        fd, tail = os.memfd_create("augloader-batch", os.MFD_CLOEXEC), _tail_at(capacity)
        try:
            os.ftruncate(fd, tail + _TAIL)
            segment = mmap.mmap(fd, tail + _TAIL)
        except OSError:
            os.close(fd)
            raise
        counts = np.frombuffer(segment, np.int64, 2, offset=tail)
        block = _Block(capacity, segment, counts.ctypes.data - tail, fd, counts)
        _by_address[block.address] = block
    _blocks.append(block)
    return block


def _evict(nbytes: int) -> None:
    """Lets go of free blocks until ``nbytes`` more fit under :data:`MAX_BYTES`."""
    for block in [b for b in _blocks if b.free()]:
        if sum(b.capacity for b in _blocks) + nbytes <= MAX_BYTES:
            return
        _blocks.remove(block)
        if block.fd >= 0:
            del _by_address[block.address]
            os.close(block.fd)  # the mapping goes with the last array over it


def _release_local(block: _Block) -> None:
    block.lent = False  # in a forked child the block is no longer in the pool (_after_fork_in_child)


def take(shape: tuple[int, ...], dtype: torch.dtype, shared: bool) -> torch.Tensor | None:
    """An uninitialised CPU tensor in a pooled block that nobody holds, or None (pool full, or too small
    for a private block).

    Args:
        shape: the tensor's shape (contiguous).
        dtype: its dtype.
        shared: a shared segment (sent to another process without a copy) or a private block.

    Shape:
        ``shape``.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes == 0 or (not shared and nbytes < PRIVATE_MIN_BYTES):
        return None
    with _take_lock:
        sized = [b for b in _blocks if (b.fd >= 0) == shared and nbytes <= b.capacity <= 2 * nbytes]
        fits = [b for b in sized if b.free()]
        if fits:
            block = min(fits, key=lambda b: b.capacity)
        elif len(sized) < PER_SIZE:
            _evict(nbytes)
            if sum(b.capacity for b in _blocks) + nbytes > MAX_BYTES:
                return None
            try:
                block = _new_block(nbytes, shared)
            except OSError:  # out of descriptors or memory for a segment: the caller's usual allocation
                return None
        else:
            return None
        block.lent = True
    if shared:
        _register()
        data = np.frombuffer(block.memory, np.uint8, nbytes)
    else:
        data = block.memory[:nbytes]
    finalizer = weakref.finalize(data, _release_local, block)
    finalizer.atexit = False
    return torch.from_numpy(data).view(dtype).view(shape)


def _register() -> None:
    """Puts :func:`_reduce` in front of PyTorch's tensor reducer in this process (once)."""
    global _registered
    if not _registered:
        ForkingPickler.register(torch.Tensor, _reduce)
        _registered = True


def _reduce(tensor: torch.Tensor):
    storage = tensor.untyped_storage()
    block = _by_address.get(storage.data_ptr()) if storage.device.type == "cpu" else None
    if block is None or tensor.requires_grad:
        return reduce_tensor(tensor)
    block.counts[0] += 1  # before this tensor (the worker's lease) can die: no moment where it looks free
    return (
        _rebuild,
        (
            DupFd(block.fd),
            block.capacity,
            storage.nbytes(),
            tensor.dtype,
            tuple(tensor.shape),
            tuple(tensor.stride()),
            tensor.storage_offset(),
        ),
    )


def _released(counts: np.ndarray, pid: int) -> None:
    if os.getpid() == pid:  # not in a process forked from the receiver
        with _release_lock:
            counts[1] += 1


def _rebuild(
    dup_fd, capacity: int, nbytes: int, dtype: torch.dtype, shape: tuple, stride: tuple, offset: int
) -> torch.Tensor:
    """In the receiving process: the segment's bytes as a plain tensor; freeing it counts a release."""
    fd, tail = dup_fd.detach(), _tail_at(capacity)
    try:
        segment = mmap.mmap(fd, tail + _TAIL, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
    finally:
        os.close(fd)
    data = np.frombuffer(segment, np.uint8, nbytes)
    counts = np.frombuffer(segment, np.int64, 2, offset=tail)
    finalizer = weakref.finalize(data, _released, counts, os.getpid())
    finalizer.atexit = False
    return torch.from_numpy(data).view(dtype).as_strided(shape, stride, offset)


def pooled(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` lies in one of this process's pooled blocks (shared or private)."""
    if tensor.device.type != "cpu":
        return False
    address = tensor.untyped_storage().data_ptr()
    return any(b.address == address for b in _blocks)
