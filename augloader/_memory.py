"""CPU memory behaviour that matters for batched augmentation.

glibc serves large allocations with fresh ``mmap`` pages and returns freed ones to the OS, so every
temporary of a few MB costs page faults on first touch (measured here: a 12.8 MB elementwise op took
8 ms with a fresh output and 2 ms with a reused one). Raising the mmap and trim thresholds lets
freed blocks be reused. Blocks above the mmap threshold (a float batch of 256 x 3 x 224 x 224 is
154 MB) still get fresh pages every time: the kernel zeroes them and each first write faults (a fresh
154 MB output costs 20-40 ms on top of the op, more than one copy of the batch). The ``large_blocks``
option turns glibc's ``mmap`` off (``M_MMAP_MAX = 0``), so those blocks come from the heap too and a
freed batch is reused by the next one of its size (measured, ``scripts/bench_mix.py``: a MixUp/CutMix
batch with a fresh output in 23 ms instead of 44 ms, the same as into a reused ``out=`` buffer).
augloader's own output batches need neither setting: :func:`new_batch` takes them from
:mod:`augloader._batch_pool`, which reuses a dropped batch's memory in any process (and its shared
segments across the DataLoader's process boundary); the settings here help every other allocation.

This is safe in the ordinary sense of ``malloc``: a block is reused only after everything that
referenced it is gone (a tensor's memory is freed when its last view dies), so a fresh output never
shares memory with a tensor the caller still holds. The cost is memory: freed heap memory stays in
the process (up to the trim threshold at the top of the heap, plus any hole between blocks still in
use; with one batch-sized block freed and allocated again per call the heap settles at a few such
blocks after a few calls), where ``mmap`` would have returned it to the OS at once.

The settings are process-wide, so augloader makes them only where it is asked to: :func:`tune_memory`
applies them in the calling process (call ``tune_memory(large_blocks=True)`` in your main process to
get the same speed there), and the engine and the mixers apply them by themselves only inside
DataLoader worker processes (:func:`tune_malloc`), ``large_blocks`` included: a worker exists to
produce batches of the same few sizes, so the memory it keeps is a few of the blocks it allocates
anyway (measured: worker RSS +0-73 MB with 38.5 MB batches), and there ``torch.stack`` of a
256 x 3 x 224 x 224 uint8 batch (38.5 MB) took 6-12 ms instead of 23-36 ms. ``AUGLOADER_NO_MALLOC_TUNING=1`` keeps the system defaults in workers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import torch
import torch.utils.data

from . import _batch_pool

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_done = False  # thresholds applied in this process (or found impossible: no glibc)
_large_done = False  # large_blocks applied (or found impossible)
_ok = False  # whether the thresholds actually took effect
_large_ok = False


def _libc() -> ctypes.CDLL:
    """The C library (raises OSError where there is none to load)."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _mallopt(settings: list[tuple[int, int]]) -> bool:
    """Applies ``(param, value)`` pairs with glibc's ``mallopt``; False where there is no glibc or one fails."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = _libc()
        ok = True
        for param, value in settings:
            ok = bool(libc.mallopt(param, value)) and ok  # mallopt returns 1 on success, 0 on error
        return ok
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False


def tune_memory(
    mmap_threshold: int = 32 * 1024 * 1024, trim_threshold: int = 1 << 30, *, large_blocks: bool = False
) -> bool:
    """Keeps freed blocks up to ``mmap_threshold`` bytes (all of them with ``large_blocks``) on the heap
    for reuse, in this process.

    This changes glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (with ``large_blocks`` also
    ``M_MMAP_MAX = 0``) for the whole process (every library in it), so augloader never does it in
    your main process unless you call this function; batches augmented there run up to a few times
    slower per large temporary without it, and with ``large_blocks`` every large block is reused
    (augloader's own outputs of 32 MB and more are reused anyway, from :mod:`augloader._batch_pool`).
    DataLoader worker processes
    get both automatically (see :func:`tune_malloc`). Linux with glibc only. The thresholds are set
    once per process; ``large_blocks=True`` may be asked for later (it is never undone).

    Args:
        mmap_threshold: allocations below this many bytes come from the heap instead of fresh pages.
        trim_threshold: free memory at the top of the heap kept before it is returned to the OS.
        large_blocks: no ``mmap`` at all: blocks of any size come from the heap and are reused once
            freed (a fresh batch output without page faults); freed memory is kept by the process.

    Returns:
        True when the settings asked for are in effect (now or by an earlier call), False where there
        is no glibc or ``mallopt`` refused one.
    """
    global _done, _large_done, _ok, _large_ok
    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 1 << 31:
            raise ValueError(f"{name} must be a positive int below 2**31 (a C int), got {value!r}")
    if not _done:
        _done = True
        _ok = _mallopt([(_M_MMAP_THRESHOLD, mmap_threshold), (_M_TRIM_THRESHOLD, trim_threshold)])
    if large_blocks and not _large_done:
        _large_done = True
        _large_ok = _ok and _mallopt([(_M_MMAP_MAX, 0)])
    return _ok and (_large_ok or not large_blocks)


def tune_malloc() -> bool:
    """The engine's and the mixers' hook, called on every CPU run: tunes malloc only inside a
    DataLoader worker.

    A worker process exists to produce batches (it is where the batch stage and a collate-stage mix
    run), so the process-wide ``tune_memory(large_blocks=True)`` is applied there once; the main process
    is never changed behind the user's back. ``AUGLOADER_NO_MALLOC_TUNING=1`` keeps the system defaults
    in workers too.

    Returns:
        True when this process is tuned (with large blocks from the heap).
    """
    if _large_done:
        return _large_ok
    if torch.compiler.is_compiling():  # a process-wide side effect has no place in a compiled graph
        return False
    if torch.utils.data.get_worker_info() is None or os.environ.get("AUGLOADER_NO_MALLOC_TUNING"):
        return False
    return tune_memory(large_blocks=True)


_MADV_HUGEPAGE = 14
_HUGE = 1 << 21
_madvise = None


def empty_hugepages(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """``torch.empty`` on the CPU whose large allocation is backed by transparent huge pages.

    A fresh output batch page-faults on first write; with 2 MB pages a 38 MB batch is written twice
    as fast (measured: 16 ms -> 8 ms). Falls back to plain memory where ``madvise`` is unavailable.
    """
    global _madvise
    out = torch.empty(shape, dtype=dtype)
    nbytes = out.numel() * out.element_size()
    if nbytes < 4 * _HUGE or not sys.platform.startswith("linux"):
        return out
    if _madvise is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            _madvise = libc.madvise
        except (OSError, AttributeError):
            _madvise = False
    if _madvise:
        start = (out.data_ptr() + _HUGE - 1) & ~(_HUGE - 1)
        end = (out.data_ptr() + nbytes) & ~(_HUGE - 1)
        if end > start:
            _madvise(start, end - start, _MADV_HUGEPAGE)  # advice only: failure changes nothing
    return out


def new_batch(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.Tensor:
    """An uninitialised output batch, allocated where handing it on is cheapest.

    CPU, inside a DataLoader worker: shared memory, so sending the batch to the main process needs no
    copy (what ``default_collate`` does), in a segment the worker reuses once the batch is dropped
    (:mod:`augloader._batch_pool`). CPU elsewhere: a reused block of the pool for 32 MB and more, else
    huge pages (:func:`empty_hugepages`). Other devices: their caching allocator.
    """
    if torch.device(device).type != "cpu" or torch.compiler.is_compiling():  # a compiled graph owns its buffers
        return torch.empty(shape, dtype=dtype, device=device)
    shared = torch.utils.data.get_worker_info() is not None
    if _batch_pool.enabled(shared):
        pooled = _batch_pool.take(shape, dtype, shared)  # no page faults when a block is reused
        if pooled is not None:
            return pooled
    if not shared:
        return empty_hugepages(shape, dtype)
    numel = 1
    for n in shape:
        numel *= n
    storage = torch.UntypedStorage._new_shared(numel * torch.empty((), dtype=dtype).element_size())
    return torch.empty((0,), dtype=dtype).set_(storage).view(shape)


def working_batch(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str = "cpu") -> torch.Tensor:
    """An uninitialised batch that ops will finish in place: shared memory inside a DataLoader worker
    (the finished batch then crosses to the main process without a copy), else a reused block of the
    pool for 32 MB and more, else a plain ``torch.empty`` (the allocator reuses freed blocks; huge pages
    would page-fault afresh every call). Under ``torch.compile`` always a plain ``torch.empty`` (the
    compiled graph owns its buffers)."""
    if torch.compiler.is_compiling() or torch.device(device).type != "cpu":
        return torch.empty(shape, dtype=dtype, device=device)
    if torch.utils.data.get_worker_info() is not None:
        return new_batch(shape, dtype, device)
    pooled = _batch_pool.take(shape, dtype, shared=False) if _batch_pool.enabled(shared=False) else None
    return pooled if pooled is not None else torch.empty(shape, dtype=dtype)
