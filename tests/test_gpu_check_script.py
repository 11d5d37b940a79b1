"""scripts/gpu_check.sh and scripts/bench_gpu.py work before a GPU is lent: the bench's CPU dry run
(``--device cpu --quick``) runs every part and writes the table, and the shell script parses."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))

import bench_gpu  # noqa: E402  (a script, found through scripts/ on the path)

NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
#: kornia comes with the bench extra; CI installs only the test extra, where its rows say "skipped".
HAVE_KORNIA = importlib.util.find_spec("kornia") is not None


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, str]:
    out = tmp_path_factory.mktemp("gpu") / "gpu.md"
    cmd = [sys.executable, str(SCRIPTS / "bench_gpu.py"), "--device", "cpu", "--quick", "--out", str(out)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240, env=_env())
    proc.wall_s = time.monotonic() - t0  # type: ignore[attr-defined]
    return proc, out.read_text() if out.exists() else ""


def _env() -> dict[str, str]:
    return {**os.environ, "AUGLOADER_QUIET": "1"}


def test_dry_run_exits_zero_and_says_it_is_a_dry_run(dry_run):
    proc, table = dry_run
    assert proc.returncode == 0, f"bench_gpu.py --device cpu --quick exited {proc.returncode}:\n{proc.stdout[-3000:]}"
    assert "**DRY RUN (`--quick` on cpu)" in table
    assert not re.search(r"failed: ", table), table
    skipped = re.findall(r"skipped: (\w+) is not installed", table)
    assert set(skipped) <= ({"kornia"} if not HAVE_KORNIA else set()), table  # the bench extra is optional in CI
    assert proc.wall_s < 120, f"the dry run took {proc.wall_s:.0f} s; it should stay well under a minute"


def test_dry_run_table_has_every_row(dry_run):
    _, table = dry_run
    for key in ("P1", "P3"):
        for runner in bench_gpu.RUNNERS:
            if runner == "kornia" and not HAVE_KORNIA:
                assert re.search(rf"^\| {key} \| kornia \| skipped: kornia is not installed", table, re.M), table
                continue
            row = rf"^\| {key} \| {re.escape(runner)}( \([^|]*\))? \| {NUMBER} \| {NUMBER} \| {NUMBER} \| "
            assert re.search(row, table, re.M), f"no {key} {runner!r} row with figures in:\n{table}"
    goal = r"measured " + NUMBER + r"x \((met|MISSED)\)" if HAVE_KORNIA else "no kornia figure"
    assert re.search(r"^- goal: >= 20x kornia; " + goal + "$", table, re.M), table
    assert "- goal: >= 25% of the bandwidth roofline" in table
    assert re.search(r"^Compiled rows: (augloader\.compile|torch\.compile)", table, re.M)
    for key in ("P1", "P3"):
        assert re.search(rf"^\| {key} augloader eager \| not checked \(dry run", table, re.M)
    for runner in bench_gpu.TRAIN_ROWS:
        assert re.search(rf"^\| {re.escape(runner)} \| {NUMBER} \| {NUMBER}x \|$", table, re.M), runner
    versions = re.search(r"^Versions: .*$", table, re.M)
    assert versions and "torchvision" in versions.group(0) and ("kornia" in versions.group(0)) == HAVE_KORNIA


def test_gpu_check_script_parses():
    proc = subprocess.run(["bash", "-n", str(SCRIPTS / "gpu_check.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_gpu_check_script_refuses_unknown_arguments():
    proc = subprocess.run(["bash", str(SCRIPTS / "gpu_check.sh"), "--gpu"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(SystemExit, match="needs CUDA, which is not available here"):
        bench_gpu.main(["--device", "cuda"])


def test_time_limit_stops_a_part_that_runs_too_long():
    t0 = time.monotonic()
    with pytest.raises(bench_gpu.PartTimeout, match="a sleep ran past its"):
        with bench_gpu.time_limit(1.5, "a sleep"):
            time.sleep(5)
    assert time.monotonic() - t0 < 4
    with pytest.raises(bench_gpu.PartTimeout, match="no time left"):
        with bench_gpu.time_limit(0.5, "a part"):
            pass


def test_roofline_share_counts_uint8_in_and_float32_out():
    x = torch.zeros(2, 3, 256, 256, dtype=torch.uint8)
    moved = 2 * 3 * 256 * 256 + 2 * 3 * 224 * 224 * 4
    assert bench_gpu.roofline_share(x, 0.5, 4 * moved) == pytest.approx(0.5)
    assert bench_gpu.roofline_share(x, 0.5, None) is None


def test_resnet50_builds_without_weights():
    model = bench_gpu.build_model("resnet50")
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(25.6e6, rel=0.01)
    with pytest.raises(ValueError, match="unknown --arch 'resnet5'"):
        bench_gpu.build_model("resnet5")
