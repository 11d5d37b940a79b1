"""Streaming-store loops (augloader.ops.cpu._stream) against plain loops and torch.lerp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("numba")
from augloader.ops.cpu import _stream  # noqa: E402

RANGES = [(0, 0), (0, 5), (3, 19), (0, 16), (1, 17), (16, 80), (5, 300), (7, 1031)]


def _buffers(size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    start = (rng.standard_normal(size) * 100).astype(np.float32)
    end = (rng.standard_normal(size) * 100).astype(np.float32)
    return start, end


@pytest.mark.parametrize("lo, hi", RANGES)
def test_stream_copy_writes_exactly_its_range(lo, hi):
    start, _ = _buffers(1100)
    dst = np.full(1100, -7.0, np.float32)  # sentinels on both sides
    _stream.stream_copy(dst, lo, start, lo + 2, hi - lo)  # source and destination aligned differently
    _stream.fence()
    assert np.array_equal(dst[lo:hi], start[lo + 2 : hi + 2])
    assert (dst[:lo] == -7.0).all() and (dst[hi:] == -7.0).all()


@pytest.mark.parametrize("lo, hi", RANGES)
@pytest.mark.parametrize("w", [0.0, 0.2, 0.49, 0.5, 0.77, 1.0])
def test_stream_lerp_is_the_fused_lerp_formula_bit_for_bit(lo, hi, w):
    # torch's vectorised lerp: base + coeff * (end - start) in one fused multiply-add (its scalar tail
    # may round twice, hence the tolerance against torch.lerp itself)
    start, end = _buffers(1100, seed=lo + hi)
    small = abs(w) < 0.5
    coeff = np.float32(w if small else w - 1.0)
    dst = np.full(1100, -7.0, np.float32)
    _stream.stream_lerp(dst, lo, start, lo, end, lo, hi - lo, coeff, not small)
    base = (end if not small else start)[lo:hi].astype(np.float64)
    diff = (end[lo:hi] - start[lo:hi]).astype(np.float64)  # the float32 subtraction first, as the kernel
    fused = (base + np.float64(coeff) * diff).astype(np.float32)
    assert np.array_equal(dst[lo:hi], fused)  # the product exact, the sum rounded: an FMA (for these values)
    want = torch.lerp(torch.from_numpy(start[lo:hi]), torch.from_numpy(end[lo:hi]), w).numpy()
    np.testing.assert_allclose(dst[lo:hi], want, rtol=1e-6, atol=1e-4)
    assert (dst[:lo] == -7.0).all() and (dst[hi:] == -7.0).all()


def test_the_streaming_versions_are_used_here_and_a_failing_probe_falls_back(monkeypatch):
    assert _stream.AVAILABLE  # numba with LLVM on x86-64, as in CI
    assert _stream.stream_copy is _stream._stream_copy

    def broken(*args):
        raise RuntimeError("no streaming stores on this LLVM")

    monkeypatch.setattr(_stream, "_stream_copy", broken)
    assert _stream._probe() is False
