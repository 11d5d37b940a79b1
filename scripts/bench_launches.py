"""Device ops, host-to-device copies and host time per call, counted on the meta device.

A batch on ``meta`` has shapes but no data: every non-view op on it is a kernel a GPU would launch,
every copy onto it a host-to-device transfer, and the wall time of a call is all host work (draws,
parameter algebra, packing, dispatch). So the GPU path's launch budget is measured on any machine.
Pipelines at B = 256: P1 (RandomResizedCrop 224 from 256 + flip + ColorJitter(0.4, 0.4, 0.4, 0.1)
+ Normalize), P3 (RandomAffine + flip + GaussianBlur 5 at 224), RandAugment(2, 9) at 224 and
MixUpCutMix on a float batch; kornia's P1 and P3 (``same_on_batch=False``) beside them.
``--compare REV`` also runs this script on git revision ``REV`` (a temporary worktree) for the
"before" columns. Writes ``benchmarks/launches.md``.

    python scripts/bench_launches.py [--compare 3267e68] [--repeats 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_images import augloader_pipeline, kornia_pipeline  # noqa: E402  (the suites share their pipelines)

ROOT = Path(__file__).resolve().parent.parent
B = 256


def augloader_cases() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """name -> (build the callable, build its meta input)."""
    import augloader as A

    def mix():
        m = A.MixUpCutMix(num_classes=1000)
        return lambda batch: m(batch)

    def uint8(size):
        return lambda: torch.empty(B, 3, size, size, dtype=torch.uint8, device="meta")

    def mix_batch():
        return (
            torch.empty(B, 3, 224, 224, device="meta"),
            torch.empty(B, dtype=torch.int64, device="meta"),
        )

    return {
        "P1": (lambda: augloader_pipeline("P1"), uint8(256)),
        "P3": (lambda: augloader_pipeline("P3"), uint8(224)),
        "RandAugment(2, 9)": (lambda: A.RandAugment(2, 9), uint8(224)),
        "MixUpCutMix": (mix, mix_batch),
    }


def kornia_cases() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    import kornia  # noqa: F401  (ImportError here: no kornia columns)

    def f32(size):
        return lambda: torch.empty(B, 3, size, size, device="meta")

    return {"P1": (lambda: kornia_pipeline("P1"), f32(256)), "P3": (lambda: kornia_pipeline("P3"), f32(224))}


def count(build: Callable[[], Any], make_input: Callable[[], Any], repeats: int) -> dict[str, float]:
    """Device ops and host-to-device copies of one warm call, and the median host ms of ``repeats`` calls."""
    from augloader._launches import LaunchCounter

    fn, x = build(), make_input()
    fn(x)  # warm: cached constants, planning
    with LaunchCounter() as c:
        fn(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return {"device_ops": c.device_ops, "h2d": c.host_to_device, "host_ms": statistics.median(times) * 1e3}


def measure_all(repeats: int, with_kornia: bool) -> dict[str, dict[str, dict[str, float]]]:
    torch.set_num_threads(1)
    out: dict[str, dict[str, dict[str, float]]] = {"augloader": {}}
    for name, (build, inp) in augloader_cases().items():
        out["augloader"][name] = count(build, inp, repeats)
    if with_kornia:
        try:
            out["kornia"] = {name: count(build, inp, repeats) for name, (build, inp) in kornia_cases().items()}
        except ImportError:
            print("kornia is not installed: its columns are left out (pip install -e '.[bench]')")
    return out


def run_revision(rev: str, repeats: int) -> dict[str, dict[str, float]]:
    """This script's augloader figures on git revision ``rev`` (checked out into a temporary worktree)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev], check=True, capture_output=True
        )
        try:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            cmd = [sys.executable, str(Path(__file__).resolve()), "--json", "--repeats", str(repeats), "--no-kornia"]
            res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, cwd=tmp)
            return json.loads(res.stdout.strip().splitlines()[-1])["augloader"]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


NOTES = """
Counted on the meta device (shapes, no data) at B = 256, one torch thread: *device ops* are the non-view
ops touching the batch's device (what a GPU would launch as kernels), *H2D* the host-to-device copies,
*host ms* the median wall time of a call, which on meta is all host work (draws, parameter algebra,
packing, dispatch) and no pixel work. augloader prepares each call on the host (per-sample matrices,
colour matrices, blur kernels, the folded Normalize), packs every parameter tensor into one buffer and
moves it with one non-blocking copy; the device then runs pixel work only. kornia draws and composes
on the batch's device. Host ms on meta runs some shape functions in Python, so it overstates a real
device's host time; compare columns, not absolute values.
"""


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--compare", default=None, help="git revision for the 'before' columns (e.g. 3267e68)")
    ap.add_argument("--no-kornia", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON (used by --compare)")
    args = ap.parse_args(argv)
    figures = measure_all(args.repeats, not args.no_kornia)
    if args.json:
        print(json.dumps(figures))
        return []
    before = run_revision(args.compare, args.repeats) if args.compare else {}
    kornia = figures.get("kornia", {})
    head = "| pipeline | device ops | H2D copies | host ms |"
    sep = "|---|--:|--:|--:|"
    if before:
        head = f"| pipeline | device ops ({args.compare}) | device ops | H2D ({args.compare}) | H2D | host ms ({args.compare}) | host ms |"
        sep = "|---|--:|--:|--:|--:|--:|--:|"
    if kornia:
        head += " kornia device ops | kornia H2D | kornia host ms |"
        sep += "--:|--:|--:|"
    lines = [head, sep]
    for name, f in figures["augloader"].items():
        row = f"| {name} |"
        if before:
            b = before.get(name, {})
            row += f" {b.get('device_ops', '-')} | {f['device_ops']} | {b.get('h2d', '-')} | {f['h2d']} |"
            row += f" {b['host_ms']:.1f} | {f['host_ms']:.1f} |" if b else f" - | {f['host_ms']:.1f} |"
        else:
            row += f" {f['device_ops']} | {f['h2d']} | {f['host_ms']:.1f} |"
        if kornia:
            k = kornia.get(name)
            row += f" {k['device_ops']} | {k['h2d']} | {k['host_ms']:.1f} |" if k else " - | - | - |"
        lines.append(row)
    print("\n".join(lines))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import machine_header, write_report

    write_report("launches", "Device launches per call (meta device)", machine_header(("kornia",)), [NOTES] + lines)
    return lines


if __name__ == "__main__":
    main()
