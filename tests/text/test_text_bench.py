"""Smoke test of scripts/bench_text.py (needs the optional nlpaug bench dependency)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_text", ROOT / "scripts" / "bench_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_corpus_is_fixed_and_real() -> None:
    if not Path("/usr/share/games/fortunes").is_dir():
        pytest.skip("Debian package 'fortunes' not installed (make testdata)")
    bench = _load_bench()
    a, b = bench.load_sentences(10_000), bench.load_sentences(10_000)
    assert a == b and len(a) == 10_000 and len(set(a)) > 9_000
    with pytest.raises(ValueError, match="usable sentences"):
        bench.load_sentences(10**7)


def test_bench_main_writes_a_report(tmp_path: Path) -> None:
    pytest.importorskip("nlpaug", reason="nlpaug is a bench-only dependency (pip install -e .[bench])")
    if not Path("/usr/share/wordnet/data.noun").is_file():
        pytest.skip("Debian package 'wordnet-base' not installed (make testdata)")
    bench = _load_bench()
    out = tmp_path / "text.md"
    lines = bench.main(["--sentences", "300", "--repeats", "1", "--output", str(out)])
    report = out.read_text()
    assert "## Machine" in report and "nlpaug: 1." in report and "| random swap |" in report
    assert "\n".join(lines) in report  # scripts/bench.py's suite convention: main returns the lines
    headline = next(line for line in lines if "speed-up over nlpaug" in line)
    ratio = float(re.search(r"median\): ([0-9.]+)x", headline).group(1))
    assert ratio > 1.0  # augloader is faster even on a tiny run
