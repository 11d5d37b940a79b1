"""numba kernel for a float32 MixUp/CutMix batch on CPU: each pair of partners in one pass.

The torch path blends every pixel, ``lerp(x, partner, w)`` with a per-pixel weight map; this kernel
does per sample what that lerp computes: a CutMix sample is copied, its box from the partner and the
rest from itself (``lerp`` with a weight of 0 or 1 returns exactly those values), a MixUp sample is
blended with ``lerp``'s own formula (``base + coeff * (end - start)`` with ``start`` or ``end`` as the
base by ``|w| < 0.5``, contracted into one fused multiply-add as torch's vectorised ``lerp`` does), so
finite values come out bit for bit the same (tests compare it with the torch path). For non-finite
pixels the copies keep the value where ``lerp`` with a weight of 0 or 1 would give NaN.

Partners are processed in pairs, so the second sample of a pair is read from cache: the batch is
read from memory once and written once, with no weight map and no temporaries. The writes are
streaming stores (:mod:`._stream`): the output's lines are not first read from memory, so the kernel
moves less memory than one ``copy_`` of the batch (measured, 256 x 3 x 224 x 224, 2 threads: ``elem``
10 ms against 15 ms with ordinary stores and 14 ms for a copy). Needs numba (the ``cpu`` extra);
without it, or under ``augloader.ops.cpu.cpu_kernels(False)``, the torch path runs.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import torch

from ._stream import fence, stream_copy, stream_lerp

_HALF = np.float32(0.5)
_ONE = np.float32(1.0)


@numba.njit(cache=True, boundscheck=False, nogil=True)
def _sample(x, out, i, j, w, cut, x0, y0, x1, y1, size, height, width):  # pragma: no cover - compiled
    """``out[i]`` from sample ``i`` and its partner ``j``: CutMix box copy or ``lerp`` blend.

    ``x, out``: the flat batch, sample ``i`` at ``[i * size, (i + 1) * size)``; written with streaming
    stores, each range contiguous: a CutMix sample is runs from itself and from the box rows of its partner.
    """
    own, partner = i * size, j * size
    if not cut:
        small = abs(w) < _HALF
        stream_lerp(out, own, x, own, x, partner, size, w if small else w - _ONE, not small)
        return
    top, left = min(max(y0, 0), height), min(max(x0, 0), width)
    bottom, right = min(max(y1, top), height), min(max(x1, left), width)
    done = 0  # offset in the sample up to which ``out`` is written
    if right > left:
        for p in range(0, size, height * width):
            for y in range(top, bottom):
                row = p + y * width
                stream_copy(out, own + done, x, own + done, row + left - done)  # own pixels since the last box row
                stream_copy(out, own + row + left, x, partner + row + left, right - left)
                done = row + right
    stream_copy(out, own + done, x, own + done, size - done)


@numba.njit(cache=True, nogil=True)
def _pairs_serial(x, out, first, second, weight, cut, box, size, height, width):  # pragma: no cover - compiled
    for t in range(first.shape[0]):
        a, b = first[t], second[t]
        _sample(x, out, a, b, weight[a], cut[a], box[a, 0], box[a, 1], box[a, 2], box[a, 3], size, height, width)
        if b != a:
            _sample(x, out, b, a, weight[b], cut[b], box[b, 0], box[b, 1], box[b, 2], box[b, 3], size, height, width)
    fence()  # the streamed lines reach memory before another thread reads the batch


#: Pairs per block of work handed to a thread (4 pairs of 224 x 224 RGB float32: 4.8 MB, about 1 ms).
_BLOCK_PAIRS = 4
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}  # (process id, workers) -> pool
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """This process's pool of ``workers`` threads (a forked child gets its own: threads do not survive a fork)."""
    key = (os.getpid(), workers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(workers, thread_name_prefix="augloader-mix")
        return pool


def mix_pairs(
    image: torch.Tensor,
    out: torch.Tensor,
    first: np.ndarray,
    second: np.ndarray,
    weight: np.ndarray,
    cut: np.ndarray,
    box: np.ndarray,
) -> None:
    """Writes ``out`` for every pair ``(first[t], second[t])`` (a sample paired with itself is copied).

    Runs on torch's intra-op thread count: the calling thread and ``threads - 1`` pool threads take
    blocks of a few pairs from a shared queue until none is left (the kernel releases the GIL), so a
    thread slowed down (e.g. sharing its core with torch's OpenMP threads, which spin for some
    milliseconds after every parallel torch op) takes fewer. Python threads rather than numba's
    parallel layer: no OpenMP pool of a second runtime, which a forked DataLoader worker could not use.

    Shape:
        ``image, out: (B, C, H, W)`` float32 contiguous CPU; ``first, second: (P,)`` int64;
        ``weight: (B,)`` float32 partner weight; ``cut: (B,)`` bool; ``box: (B, 4)`` int64 clipped.
    """
    height, width = image.shape[-2:]
    size = math.prod(image.shape[1:])
    x, o = image.numpy().reshape(-1), out.numpy().reshape(-1)
    threads = max(1, min(torch.get_num_threads(), first.shape[0]))
    if threads == 1:
        _pairs_serial(x, o, first, second, weight, cut, box, size, height, width)
        return
    step = max(1, min(_BLOCK_PAIRS, first.shape[0] // (4 * threads)))
    blocks = iter([(first[i : i + step], second[i : i + step]) for i in range(0, first.shape[0], step)])

    def drain() -> None:
        for f, s in blocks:  # one list iterator shared by the threads: each block is taken once
            _pairs_serial(x, o, f, s, weight, cut, box, size, height, width)

    pool = _pool(threads - 1)
    futures = [pool.submit(drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:
        for future in futures:
            future.result()
