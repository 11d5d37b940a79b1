"""Malloc tuning is process-wide, so the engine applies it only inside DataLoader workers."""

from __future__ import annotations

import ctypes
import sys
import types

import pytest
import torch
import torch.utils.data

import augloader as A
from augloader import _memory

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")


class _FakeLibc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


@pytest.fixture
def libc(monkeypatch):
    fake = _FakeLibc()
    monkeypatch.setattr(_memory, "_done", False)
    monkeypatch.setattr(_memory, "_madvise", False)  # huge-page advice would also load libc
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: fake)
    monkeypatch.delenv("AUGLOADER_NO_MALLOC_TUNING", raising=False)
    return fake


def _run_pipeline() -> None:
    tf = A.Compose([A.RandomResizedCrop(32), A.RandomHorizontalFlip(), A.ColorJitter(0.4, 0.4)])
    tf(torch.randint(0, 256, (4, 3, 48, 48), dtype=torch.uint8), generator=torch.Generator().manual_seed(0))


def _fake_worker(monkeypatch) -> None:
    info = types.SimpleNamespace(id=0, num_workers=1, seed=0, dataset=None)
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: info)


def test_main_process_is_left_alone(libc):
    _run_pipeline()
    _run_pipeline()
    assert libc.calls == []


def test_worker_process_is_tuned_once(libc, monkeypatch):
    _fake_worker(monkeypatch)
    _run_pipeline()
    _run_pipeline()
    assert [p for p, _ in libc.calls] == [_memory._M_MMAP_THRESHOLD, _memory._M_TRIM_THRESHOLD]


def test_environment_variable_keeps_workers_untuned(libc, monkeypatch):
    _fake_worker(monkeypatch)
    monkeypatch.setenv("AUGLOADER_NO_MALLOC_TUNING", "1")
    _run_pipeline()
    assert libc.calls == []


def test_tune_memory_is_explicit_opt_in(libc):
    assert _memory.tune_memory() is True
    assert len(libc.calls) == 2
    assert _memory.tune_memory() is True and len(libc.calls) == 2  # once per process
