"""Shared by the benchmark suites: the machine and version header of every report, the measure loop.

The measure loop shows a progress bar with an ETA on a terminal (``AUGLOADER_QUIET=1`` hides it).
Malloc is tuned for the whole benchmark process (:func:`augloader._memory.tune_memory`): augloader
no longer does that by itself outside DataLoader workers, and the published numbers were taken with it.
"""

from __future__ import annotations

import datetime
import importlib
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

from augloader._memory import tune_memory
from augloader._progress import progress

tune_memory()
ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_header(
    modules: tuple[str, ...] = ("torchvision", "kornia", "albumentations", "cv2", "timm", "numpy"),
) -> str:
    """One paragraph: date, CPU, cores, load, Python/torch and the given modules' versions."""
    import torch

    versions = [f"python {platform.python_version()}", f"torch {torch.__version__}"]
    for mod in modules:
        try:
            versions.append(f"{mod} {importlib.import_module(mod).__version__}")
        except Exception:  # not installed: not part of this report
            pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"Taken {datetime.datetime.now():%Y-%m-%d %H:%M} on {cpu_model()}, {os.cpu_count()} cores "
        f"(load average at start {load}), {platform.system()} {platform.machine()}.\n\n"
        f"Versions: {', '.join(versions)}.\n"
    )


def write_report(name: str, title: str, header: str, lines: list[str]) -> Path:
    out = ROOT / "benchmarks" / f"{name}.md"
    out.write_text(f"# {title}\n\n{header}\n" + "\n".join(lines) + "\n")
    print(f"wrote {out}")
    return out


def measure(runners: dict[str, Callable[[], int]], repeats: int, desc: str = "bench") -> dict[str, float]:
    """Items/s per runner (each call returns how many items it processed): median over ``repeats``
    interleaved rounds, so every runner sees the same machine state. A progress bar (one step per
    runner call, erased when done) shows on a terminal."""
    times: dict[str, list[float]] = {k: [] for k in runners}
    with progress(total=repeats * len(runners), desc=desc, unit="run", leave=False) as bar:
        for _ in range(repeats):
            for name, run in runners.items():
                t0 = time.perf_counter()
                n = run()
                times[name].append(n / (time.perf_counter() - t0))
                bar.update(1)
    return {k: statistics.median(v) for k, v in times.items()}
