"""Malloc tuning is process-wide, so the engine and the mixers apply it only inside DataLoader workers.

The tests that need glibc's real ``mallopt`` run in a subprocess, so this test process keeps its settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import torch
import torch.utils.data

import augloader as A
from augloader import _memory
from augloader.mix import MixUpCutMix

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
    for flag in ("_done", "_large_done", "_ok", "_large_ok"):
        monkeypatch.setattr(_memory, flag, False)
    monkeypatch.setattr(_memory, "_madvise", False)  # huge-page advice would also load libc
    monkeypatch.setattr(_memory, "_libc", lambda: fake)  # only augloader's libc (numba loads its own)
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
    assert libc.calls == [
        (_memory._M_MMAP_THRESHOLD, 32 << 20),
        (_memory._M_TRIM_THRESHOLD, 1 << 30),
        (_memory._M_MMAP_MAX, 0),  # large blocks from the heap: workers exist to produce batches
    ]


def test_mixer_tunes_a_worker_and_leaves_the_main_process_alone(libc, monkeypatch):
    mix = MixUpCutMix(mode="elem", num_classes=3)
    batch = (torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]))
    mix(batch)
    assert libc.calls == []
    _fake_worker(monkeypatch)  # a collate function whose only augloader call is the mix
    mix(batch)
    mix(batch)
    assert [p for p, _ in libc.calls] == [_memory._M_MMAP_THRESHOLD, _memory._M_TRIM_THRESHOLD, _memory._M_MMAP_MAX]


def test_environment_variable_keeps_workers_untuned(libc, monkeypatch):
    _fake_worker(monkeypatch)
    monkeypatch.setenv("AUGLOADER_NO_MALLOC_TUNING", "1")
    _run_pipeline()
    assert libc.calls == []


def test_tune_memory_is_explicit_opt_in(libc):
    assert _memory.tune_memory() is True
    assert len(libc.calls) == 2
    assert _memory.tune_memory() is True and len(libc.calls) == 2  # once per process
    assert _memory.tune_memory(large_blocks=True) is True  # asked for later: only the new setting
    assert libc.calls[2:] == [(_memory._M_MMAP_MAX, 0)]
    assert _memory.tune_memory(large_blocks=True) is True and len(libc.calls) == 3


def test_refused_setting_is_reported(libc, monkeypatch):
    monkeypatch.setattr(libc, "mallopt", lambda param, value: 0 if param == _memory._M_MMAP_MAX else 1)
    assert _memory.tune_memory() is True
    assert _memory.tune_memory(large_blocks=True) is False
    assert _memory.tune_memory() is True  # the thresholds did take effect


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(mmap_threshold=0), "mmap_threshold"),
        (dict(trim_threshold=1 << 31), "trim_threshold"),
        (dict(mmap_threshold=2.5), "mmap_threshold"),
    ],
)
def test_bad_thresholds(libc, kwargs, name):
    with pytest.raises(ValueError, match=name):
        _memory.tune_memory(**kwargs)
    assert libc.calls == []


# ---- real glibc, in a subprocess ----------------------------------------------------------------------------
_PROBE = """
import json, resource, sys
import torch
from augloader import tune_memory

def heap():  # the address range of the brk heap ([heap] in /proc/self/maps)
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("[heap]"):
            lo, hi = line.split()[0].split("-")
            return int(lo, 16), int(hi, 16)
    return 0, 0

def refill_faults(numel, warmup=8, cycles=4):
    # minor page faults of fresh tensors written once, each after the previous one was freed; the
    # first cycles place the blocks (the heap settles at a few blocks), the later ones are measured
    for _ in range(warmup):
        torch.empty(numel).fill_(1.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(cycles):
        t = torch.empty(numel)
        t.fill_(2.0)
        ptr = t.data_ptr()
        del t
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, ptr

result = {}
if sys.argv[1] == "large":
    result["returned"] = tune_memory(large_blocks=True)
numel = 16 << 20  # 64 MB of float32, above any mmap threshold
result["faults"], ptr = refill_faults(numel)
lo, hi = heap()
result["in_heap"] = lo <= ptr < hi
print(json.dumps(result))
"""


def _probe(mode: str) -> dict:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_PROBE), mode], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_large_blocks_reuse_freed_memory_without_page_faults():
    default, large = _probe("default"), _probe("large")
    # default: each 64 MB block is a fresh mmap, every page of it faults (16384 pages of 4 KiB, or
    # 32 huge pages where THP is "always"), four times
    assert not default["in_heap"] and default["faults"] >= 4 * 32
    # large_blocks: mallopt accepted, the blocks come from the heap and freed ones are reused
    assert large["returned"] is True and large["in_heap"]
    assert large["faults"] < 64


def _collate_mix_then_probe(samples):
    """A collate stage whose only augloader call is the mix; then the page faults of fresh 64 MB blocks."""
    import resource

    mix = MixUpCutMix(mode="elem", num_classes=2)
    images = torch.stack([s[0] for s in samples])
    mixed, _ = mix((images, torch.tensor([s[1] for s in samples])))
    for _ in range(8):  # the heap settles
        torch.empty(16 << 20).fill_(1.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(4):
        torch.empty(16 << 20).fill_(2.0)
    return mixed, torch.tensor([resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before])


@pytest.mark.parametrize("opt_out", [False, True])
def test_dataloader_worker_gets_large_blocks(monkeypatch, opt_out):
    if opt_out:
        monkeypatch.setenv("AUGLOADER_NO_MALLOC_TUNING", "1")
    else:
        monkeypatch.delenv("AUGLOADER_NO_MALLOC_TUNING", raising=False)
    data = [(torch.rand(3, 8, 8), i % 2) for i in range(4)]
    # glibc's defaults are checked in a spawned worker: a forked one inherits this test process's heap,
    # where a large free chunk left by earlier tests can serve the 64 MB blocks after the first faulted
    context = "spawn" if opt_out else None
    loader = torch.utils.data.DataLoader(
        data, batch_size=4, num_workers=1, collate_fn=_collate_mix_then_probe, multiprocessing_context=context
    )
    _, faults = next(iter(loader))
    # tuned: freed blocks reused, (almost) no page faults; glibc's defaults: every page of every block
    assert int(faults) >= 4 * 32 if opt_out else int(faults) < 64
    assert not _memory._large_done  # the test process itself was not changed
