"""Batches that leave a DataLoader worker through shared memory the worker reuses.

A worker hands each batch to the main process in shared memory. PyTorch makes a fresh segment for
every batch: the worker's first write to each of its pages faults (the kernel allocates and zeroes a
page), and the pages are freed again when the main process drops the batch. For a float batch of
64 x 3 x 224 x 224 (38.5 MB) that costs 27 ms of the worker's time per batch, measured here
(filling a fresh segment 30.8 ms, a reused one 3.4 ms): about as much as augmenting the batch.

Here a worker keeps a few segments per batch size and writes the next batch into one that nobody
holds any more. "Nobody" is known from two counters in a small tail after the data, each written by
one process only: the worker counts the times it sent the segment, the main process counts the
times a tensor it rebuilt from it was freed. The worker reuses a segment when the counts are equal
and its own tensor over it is gone too, so a batch the training loop still holds (in a list, in a
queue, a view of it) is never written over; when every kept segment is in use the batch gets a fresh
one, as before. Sending keeps PyTorch's way of passing the segment's file descriptor; only tensors
over these segments take this path, every other tensor is sent by PyTorch's own reducer.

Linux only (``memfd_create``); elsewhere, or with ``AUGLOADER_NO_SHM_POOL=1``, every batch takes
PyTorch's path.
"""

from __future__ import annotations

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

PER_SIZE = 6  # segments kept per batch size: a worker's batches in flight (prefetch 2) plus the ones held
MAX_BYTES = 1 << 30  # at most this much kept per worker; beyond it a batch gets a fresh segment
_TAIL = 64  # bytes after the data: int64 [times sent (worker), times released (main process)]
_release_lock = threading.Lock()


@dataclass(eq=False)
class _Segment:
    fd: int
    capacity: int  # data bytes (the tail follows)
    memory: mmap.mmap
    counts: np.ndarray = field(repr=False)  # int64 (2,) over the tail
    address: int = 0
    lent: bool = False  # a tensor of this worker's over the segment is alive

    def free(self) -> bool:
        return not self.lent and self.counts[0] == self.counts[1]


_segments: list[_Segment] = []
_by_address: dict[int, _Segment] = {}
_registered = False


def enabled() -> bool:
    """Whether batches may come from the pool in this process (Linux, not switched off)."""
    return (
        sys.platform.startswith("linux") and hasattr(os, "memfd_create") and not os.environ.get("AUGLOADER_NO_SHM_POOL")
    )


def _new_segment(capacity: int) -> _Segment:
    fd = os.memfd_create("augloader-batch", os.MFD_CLOEXEC)
    try:
        os.ftruncate(fd, capacity + _TAIL)
        memory = mmap.mmap(fd, capacity + _TAIL)
    except OSError:
        os.close(fd)
        raise
    counts = np.frombuffer(memory, np.int64, 2, offset=capacity)
    segment = _Segment(fd, capacity, memory, counts, counts.ctypes.data - capacity)
    _segments.append(segment)
    _by_address[segment.address] = segment
    return segment


def _evict(nbytes: int) -> None:
    """Closes free segments until ``nbytes`` more fit under :data:`MAX_BYTES`."""
    for segment in [s for s in _segments if s.free()]:
        if sum(s.capacity for s in _segments) + nbytes <= MAX_BYTES:
            return
        _segments.remove(segment)
        del _by_address[segment.address]
        os.close(segment.fd)  # the mapping goes with the last array over it


def _release_local(segment: _Segment, pid: int) -> None:
    if os.getpid() == pid:
        segment.lent = False


def take(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor | None:
    """An uninitialised CPU tensor in a pooled segment that nobody holds, or None (pool full, or off).

    Shape:
        ``shape`` (contiguous).
    """
    numel = 1
    for n in shape:
        numel *= n
    nbytes = numel * dtype.itemsize
    if nbytes == 0:
        return None
    fits = [s for s in _segments if nbytes <= s.capacity <= 2 * nbytes and s.free()]
    if fits:
        segment = min(fits, key=lambda s: s.capacity)
    elif sum(1 for s in _segments if nbytes <= s.capacity <= 2 * nbytes) < PER_SIZE:
        _evict(nbytes)
        if sum(s.capacity for s in _segments) + nbytes > MAX_BYTES:
            return None
        segment = _new_segment(nbytes)
    else:
        return None
    _register()
    data = np.frombuffer(segment.memory, np.uint8, nbytes)
    segment.lent = True
    finalizer = weakref.finalize(data, _release_local, segment, os.getpid())
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
    segment = _by_address.get(storage.data_ptr())
    if segment is None or not segment.lent or tensor.requires_grad or storage.device.type != "cpu":
        return reduce_tensor(tensor)
    segment.counts[0] += 1  # before this tensor (the worker's lease) can die: no moment where it looks free
    return (
        _rebuild,
        (
            DupFd(segment.fd),
            segment.capacity,
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
    fd = dup_fd.detach()
    try:
        memory = mmap.mmap(fd, capacity + _TAIL, flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0))
    finally:
        os.close(fd)
    data = np.frombuffer(memory, np.uint8, nbytes)
    counts = np.frombuffer(memory, np.int64, 2, offset=capacity)
    finalizer = weakref.finalize(data, _released, counts, os.getpid())
    finalizer.atexit = False
    return torch.from_numpy(data).view(dtype).as_strided(shape, stride, offset)


def pooled(tensor: torch.Tensor) -> bool:
    """Whether ``tensor`` lies in one of this process's pooled segments (it is sent without a copy)."""
    return tensor.device.type == "cpu" and tensor.untyped_storage().data_ptr() in _by_address
