"""scripts/bench_audio.py runs end to end (augloader side only; the references need their own venv)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench_audio.py"


def test_bench_audio_writes_its_table(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_audio", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "audio.md"
    argv = ["--batch", "4", "--repeats", "1", "--threads", "1", "--workloads", "Gain", "PitchShift"]
    results = bench.main([*argv, "--no-reference", "--output", str(out)])
    assert set(results[1]) == {"Gain", "PitchShift"} and results[1]["PitchShift"]["augloader"] > 0
    text = out.read_text()
    for needle in ("| PitchShift |", "| Gain |", "Machine:", "torch threads: 1", "augloader 0.1.0"):
        assert needle in text
