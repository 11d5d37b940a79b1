"""Per-core CPU kernels benchmark (issue 14): P1 and P3 on one core, augloader eager vs its CPU kernels
vs albumentations and torchvision v2.

Every runner sees the same 64 uint8 images in memory, in the same process, one thread (torch and
OpenCV), repeats interleaved (runner order rotated each round) so that all see the same machine
state; reported: images/s (median wall time) and CPU ms per image (median process time). A second
table runs 2 threads in one process while a busy-loop subprocess spins one core: the kernels should
do no worse there than with 1 thread.

    python scripts/bench_kernels.py            # writes benchmarks/kernels.md
    python scripts/bench_kernels.py --quick    # 2 repeats, prints only
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import torch
from bench_images import PIPELINES, albumentations_pipeline, augloader_pipeline, make_data, torchvision_pipeline
from benchlib import machine_header, write_report

from augloader.ops.cpu import available, cpu_kernels

TARGET = 1.5  # augloader kernels / albumentations, per core (issue 14)


def simd() -> str:
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    return "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"


def set_threads(n: int) -> None:
    import cv2

    torch.set_num_threads(n)
    cv2.setNumThreads(n)


def with_threads(run: Callable[[], int], n: int) -> Callable[[], int]:
    def call() -> int:
        set_threads(n)
        return run()

    return call


def runners(key: str, data: torch.Tensor, compiled: bool = False) -> dict[str, Callable[[], int]]:
    """One call = the whole batch through each library (albumentations/torchvision one sample at a time)."""
    b = data.shape[0]
    al = augloader_pipeline(key)
    g = torch.Generator().manual_seed(0)
    hwc = data.permute(0, 2, 3, 1).contiguous().numpy()
    albu = albumentations_pipeline(key)
    tv = torchvision_pipeline(key)

    def eager() -> int:
        with cpu_kernels(False):
            al(data, generator=g)
        return b

    def kernels() -> int:
        al(data, generator=g)
        return b

    def albumentations() -> int:
        for i in range(b):
            albu(image=hwc[i])
        return b

    def torchvision() -> int:
        for i in range(b):
            tv(data[i])
        return b

    out = {"augloader eager (torch ops)": eager, "augloader CPU kernels": kernels}
    if compiled:  # option (c) of issue 14: inductor through augloader.compile (compiles for about a minute)
        import augloader

        cp = augloader.compile(augloader_pipeline(key))
        t0 = time.perf_counter()
        cp(data, generator=g)
        print(f"{key}: augloader.compile took {time.perf_counter() - t0:.0f} s to compile and run once", flush=True)

        def inductor() -> int:
            cp(data, generator=g)
            return b

        out["augloader.compile (inductor)"] = inductor
    out.update({"albumentations per sample": albumentations, "torchvision v2 per sample": torchvision})
    for run in out.values():
        run()  # warm up (numba loads its cached kernels on first use)
    return out


def measure(
    runs: dict[str, Callable[[], int]], repeats: int, rounds: list[dict[str, float]] | None = None
) -> dict[str, tuple[float, float]]:
    """``{name: (images/s, CPU ms per image)}``: medians over interleaved, rotated rounds. ``rounds``
    (if given) receives each round's images/s per runner, for ratios paired within a round."""
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t0, c0 = time.perf_counter(), time.process_time()
            n = runs[name]()
            wall[name].append(n / (time.perf_counter() - t0))
            cpu[name].append((time.process_time() - c0) * 1e3 / n)
        if rounds is not None:
            rounds.append({k: v[-1] for k, v in wall.items()})
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in runs}


def paired_ratio(rounds: list[dict[str, float]], a: str, b: str) -> tuple[float, float, float]:
    """Median, lowest and highest over rounds of ``a``'s images/s over ``b``'s in the same round (both
    ran within a second of each other, so a shared machine's swings cancel more than in a ratio of
    medians)."""
    ratios = sorted(r[a] / r[b] for r in rounds)
    return statistics.median(ratios), ratios[0], ratios[-1]


@contextlib.contextmanager
def busy_core() -> Iterator[None]:
    """A subprocess spinning one core for the duration of the block."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


def table(result: dict[str, tuple[float, float]], base: str) -> list[str]:
    ref = result[base][0]
    lines = ["| runner | images/s | CPU ms / image | vs albumentations |", "|---|--:|--:|--:|"]
    for name, (ips, ms) in result.items():
        lines.append(f"| {name} | {ips:,.0f} | {ms:.2f} | {ips / ref:.2f}x |")
    return lines


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--pipelines", default="P1,P3")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="2 repeats, print only")
    ap.add_argument("--compiled", action="store_true", help="add augloader.compile (inductor) as a runner")
    ap.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/kernels.md alone")
    args = ap.parse_args(argv)
    repeats = 2 if args.quick else args.repeats
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    header = machine_header(("albumentations", "cv2", "numba", "torchvision", "numpy"))
    header += f"\nCPU SIMD: {simd()}. Optional libraries found: {available()}. Load average before the run: {load}.\n"
    lines: list[str] = []
    for key in args.pipelines.split(","):
        p = PIPELINES[key]
        data = make_data(p)[:64]
        set_threads(1)
        runs = runners(key, data, args.compiled)
        rounds: list[dict[str, float]] = []
        one = measure(runs, repeats, rounds)
        lines += [f"\n### {p.name} ({p.size}x{p.size} uint8 in, 64 images)\n", "One thread, one process:\n"]
        lines += table(one, "albumentations per sample")
        ratio, low, high = paired_ratio(rounds, "augloader CPU kernels", "albumentations per sample")
        ok = "met" if ratio >= TARGET else f"MISSED: {TARGET / ratio - 1:.0%} more speed needed"
        lines.append(
            f"\n- target: CPU kernels >= {TARGET}x albumentations per core: {ratio:.2f}x, the median of "
            f"{len(rounds)} rounds' ratios (lowest {low:.2f}x, highest {high:.2f}x) ({ok})"
        )
        paired: list[dict[str, float]] = []
        with busy_core():
            runs_t = {f"{n} threads": with_threads(runs["augloader CPU kernels"], n) for n in (1, 2)}
            both = measure(runs_t, repeats, paired)
        set_threads(1)
        one_t, two_t = both["1 threads"][0], both["2 threads"][0]
        r2, low2, high2 = paired_ratio(paired, "2 threads", "1 threads")
        verdict = "met" if r2 >= 0.95 else "MISSED"
        lines.append(
            f"- another process spinning one core: CPU kernels {one_t:,.0f} images/s with 1 thread, "
            f"{two_t:,.0f} with 2 threads; 2 threads / 1 thread {r2:.2f} (median of rounds, {low2:.2f}-{high2:.2f}; "
            f"target: no worse than 1 thread, within 5%: {verdict})"
        )
        print("\n".join(lines), flush=True)
    if not (args.no_write or args.quick):
        write_report("kernels", "Benchmark: CPU kernels per core (issue 14)", header, lines)
    return lines


if __name__ == "__main__":
    main()
