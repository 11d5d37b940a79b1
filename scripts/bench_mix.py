"""Benchmark: augloader MixUpCutMix against timm's Mixup and the memory-bandwidth floor (one copy).

Run ``.venv/bin/python scripts/bench_mix.py`` (``--help`` for options). Prints the tables and writes
``benchmarks/mix.md``. Every case is timed in interleaved rounds (one call of each case per round) and
the median is reported. timm writes into its input, so it gets a fresh copy made outside its timing;
augloader never mutates its input.

malloc settings are process-wide, so every case of one table runs in one process under one setting:
the benchmarks' usual one (:mod:`benchlib`: ``tune_memory()``, blocks above 32 MB still ``mmap``-ed
afresh) in this process, and ``tune_memory(large_blocks=True)`` (no ``mmap``: a freed batch is reused
from the heap) in a subprocess, so timm and the copy run under the same setting as augloader in each.
The issue-14 targets are checked on the fresh-output row of each table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from augloader._memory import tune_memory  # noqa: E402
from augloader.mix import CutMix, MixUpCutMix  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from benchlib import cpu_model  # noqa: E402

Case = tuple[str, str, Callable[[], Callable[[], object]]]  # (group, name, setup -> timed call)
#: Which timm case each augloader case is compared with.
TIMM_REF = {
    "elem": "timm Mixup(mode='elem')",
    "batch": "timm Mixup(mode='batch')",
    "uint8": "timm FastCollateMixup(mode='elem')",
}
FRESH = "augloader elem, fresh output"
COPY = "one copy `out.copy_(x)` (floor)"
#: The malloc settings compared, each in its own process: name -> description for the report.
SETTINGS = {
    "default": "`tune_memory()` (benchlib's: heap for blocks < 32 MB, larger ones `mmap`-ed afresh each time)",
    "large": "`tune_memory(large_blocks=True)` (no `mmap`: a freed batch is reused from the heap)",
}


def build_cases(batch: int, size: int, num_classes: int, seed: int) -> tuple[list[Case], dict[str, str]]:
    """The timed cases: float batch in the training-loop hook, uint8 batch in the collate stage."""
    torch.manual_seed(seed)
    x = torch.rand(batch, 3, size, size)
    x8 = (x * 255).round().to(torch.uint8)
    y = torch.randint(0, num_classes, (batch,))
    samples = [(x8[i].clone(), int(y[i])) for i in range(batch)]  # what a collate function receives
    out = torch.empty_like(x)
    out8 = torch.empty_like(x8)
    gen = torch.Generator().manual_seed(seed)
    kw = dict(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1, num_classes=num_classes)
    ours = MixUpCutMix(mode="elem", **kw)
    ours_flip = MixUpCutMix(mode="elem", pairing="flip", **kw)
    ours_batch = MixUpCutMix(mode="batch", **kw)
    ours_cut = CutMix(1.0, num_classes, 0.1, mode="elem")
    versions = {"torch": torch.__version__}

    cases: list[Case] = [
        ("float", COPY, lambda: lambda: out.copy_(x)),
        ("float", FRESH, lambda: lambda: ours((x, y), generator=gen)),
        ("float", "augloader elem, `out=` buffer", lambda: lambda: ours((x, y), generator=gen, out=out)),
        ("float", "augloader elem, pairing='flip' (timm's)", lambda: lambda: ours_flip((x, y), generator=gen, out=out)),
        ("float", "augloader batch, `out=` buffer", lambda: lambda: ours_batch((x, y), generator=gen, out=out)),
        ("uint8", "one copy `out.copy_(x)` uint8 (floor)", lambda: lambda: out8.copy_(x8)),
        ("uint8", "augloader elem on a stacked uint8 batch", lambda: lambda: ours((x8, y), generator=gen)),
        ("uint8", "augloader CutMix-only elem, uint8 (exact)", lambda: lambda: ours_cut((x8, y), generator=gen)),
        (
            "uint8",
            "augloader collate: `torch.stack` + elem",
            lambda: (
                lambda: ours(
                    (torch.stack([s[0] for s in samples]), torch.tensor([s[1] for s in samples])), generator=gen
                )
            ),
        ),
    ]
    try:
        import timm
        from timm.data.mixup import FastCollateMixup, Mixup

        versions["timm"] = timm.__version__
        t_elem = Mixup(mode="elem", **kw)
        t_batch = Mixup(mode="batch", **kw)
        t_collate = FastCollateMixup(mode="elem", **kw)
        y_t = y.clone()

        def timm_call(mix: Mixup) -> Callable[[], Callable[[], object]]:
            def setup() -> Callable[[], object]:
                fresh = x.clone()  # timm mixes in place: a fresh input per call, made outside the timing
                return lambda: mix(fresh, y_t)

            return setup

        cases.insert(1, ("float", "timm Mixup(mode='elem')", timm_call(t_elem)))
        cases.insert(5, ("float", "timm Mixup(mode='batch')", timm_call(t_batch)))
        cases.append(("uint8", "timm FastCollateMixup(mode='elem')", lambda: lambda: t_collate(samples)))
    except ImportError:
        versions["timm"] = "not installed"
    return cases, versions


def run(cases: Sequence[Case], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Times every case ``repeats`` times, interleaved; returns milliseconds per case."""
    times: dict[str, list[float]] = {name: [] for _, name, _ in cases}
    for r in range(warmup + repeats):
        for _, name, setup in cases:
            call = setup()
            t0 = time.perf_counter()
            result = call()
            dt = time.perf_counter() - t0
            del result, call
            if r >= warmup:
                times[name].append(dt * 1e3)
    return times


def table(cases: Sequence[Case], times: dict[str, list[float]], batch: int) -> str:
    """A markdown table: median and min ms, images/s, ratio to the floor and timm's time over ours."""
    med = {k: statistics.median(v) for k, v in times.items()}
    lines = [
        "| stage | case | median ms | min ms | images/s | x floor (copy) | timm / this |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    floors = {g: med[n] for g, n, _ in cases if "floor" in n}
    for group, name, _ in cases:
        m = med[name]
        ref = TIMM_REF["uint8" if group == "uint8" else ("batch" if "batch," in name else "elem")]
        speed = ""
        if ref in med and name.startswith("augloader"):
            speed = f"{med[ref] / m:.2f}x vs {ref.split('(')[0].replace('timm ', '')} {ref.split('=')[1][1:-2]}"
        lines.append(
            f"| {group} | {name} | {m:.1f} | {min(times[name]):.1f} | {batch * 1e3 / m:,.0f} | {m / floors[group]:.2f} | {speed} |"
        )
    return "\n".join(lines)


def _numba_version() -> str:
    try:
        import numba
    except ImportError:
        return "not installed"
    return numba.__version__


def targets(times: dict[str, list[float]]) -> list[str]:
    """Issue 14's target lines for the fresh-output row: >= 3x timm elem, <= 2x one copy (medians)."""
    med = {k: statistics.median(v) for k, v in times.items()}
    fresh, copy, ref = med[FRESH], med[COPY], TIMM_REF["elem"]
    lines = []
    if ref in med:
        speed = med[ref] / fresh
        lines.append(
            f"- `>= 3x timm`: {'met' if speed >= 3 else 'MISSED'}, {speed:.2f}x "
            f"(timm {med[ref]:.1f} ms / fresh output {fresh:.1f} ms)"
        )
    else:
        lines.append("- `>= 3x timm`: not measured (timm not installed)")
    lines.append(
        f"- `<= 2x copy`: {'met' if fresh <= 2 * copy else 'MISSED'}, {fresh / copy:.2f}x "
        f"(fresh output {fresh:.1f} ms / copy {copy:.1f} ms)"
    )
    return lines


def measure(args: argparse.Namespace, setting: str) -> tuple[dict[str, list[float]], dict[str, str], list[Case]]:
    """Times every case under one malloc setting: here for ``default``, in a subprocess for ``large``."""
    if setting == "default":
        cases, versions = build_cases(args.batch, args.size, args.classes, args.seed)
        return run(cases, args.repeats), versions, cases
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "times.json"
        cmd = [sys.executable, __file__, "--setting", setting, "--times-json", str(path), "--output", "-"]
        for flag in ("batch", "size", "classes", "threads", "repeats", "seed"):
            cmd += [f"--{flag}", str(getattr(args, flag))]
        child = subprocess.run(cmd, capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(f"the {setting!r} run failed:\n{child.stderr[-4000:]}")
        data = json.loads(path.read_text())
    cases, _ = build_cases(1, 8, args.classes, args.seed)  # the case list (names and groups) only
    return data["times"], data["versions"], cases


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the benchmark; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--setting",
        choices=("both", *SETTINGS),
        default="both",
        help="malloc setting: both (this process, then a subprocess with large blocks) or one of them",
    )
    parser.add_argument("--times-json", type=Path, default=None, help=argparse.SUPPRESS)  # the subprocess's answer
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "mix.md", help="markdown report ('-' for none)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.times_json is not None:  # a child: one setting, times only
        if args.setting == "large" and not tune_memory(large_blocks=True):
            raise SystemExit("tune_memory(large_blocks=True) did not apply (no glibc?)")
        cases, versions = build_cases(args.batch, args.size, args.classes, args.seed)
        args.times_json.write_text(json.dumps({"times": run(cases, args.repeats), "versions": versions}))
        return 0
    settings = list(SETTINGS) if args.setting == "both" else [args.setting]
    results = {s: measure(args, s) for s in settings}
    versions = next(iter(results.values()))[1]
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    header = [
        "# MixUp / CutMix benchmark",
        "",
        f"- date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}, "
        f"load average {os.getloadavg()[0]:.2f} at the end (shared machine)",
        f"- torch {versions['torch']}, timm {versions['timm']}, Python {platform.python_version()}",
        f"- batch {args.batch} x 3 x {args.size} x {args.size}, {args.classes} classes; mixup_alpha 0.8, cutmix_alpha 1.0, "
        f"switch_prob 0.5, label_smoothing 0.1; median of {args.repeats} interleaved rounds",
        f"- transparent huge pages: {thp.read_text().strip() if thp.exists() else 'n/a'}; "
        f"THP_MEM_ALLOC_ENABLE={os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset')}",
        f"- numba {_numba_version()}: contiguous float32 batches with paired partners run augloader's numba mix "
        "kernel (else the torch path)",
        "- malloc: each table ran in one process under one glibc setting (process-wide), every case in it,",
        "  timm and the copy included, so its ratios compare like with like (timm's own full-batch `clone()`",
        "  gets the heap's reused memory under large blocks too).",
        "- timm mixes in place, so it gets a fresh copy of the input per call, made outside its timing: its output",
        "  memory is already allocated and touched, like the floor's `out`. '`out=` buffer' rows give augloader the",
        "  same (like for like); 'fresh output' rows allocate the result inside the timing, which on CPU costs the",
        "  page faults of first touch unless freed memory is reused: augloader's outputs of 32 MB and more come from",
        "  its batch pool (a dropped output's memory is reused, under either malloc setting; `augloader/_batch_pool.py`),",
        "  timm's clone from malloc (reused under large blocks). The uint8 collate rows include building the batch",
        "  from 256 per-sample tensors, as timm's FastCollateMixup does.",
        "",
    ]
    parts = ["\n".join(header)]
    for setting, (times, _, cases) in results.items():
        parts.append(f"## malloc: {SETTINGS[setting]}\n")
        parts.append(table(cases, times, args.batch) + "\n")
        parts.append('Issue 14 targets, fresh output of a float batch (`mode="elem"`):\n')
        parts.append("\n".join(targets(times)) + "\n")
    report = "\n".join(parts)
    print(report)
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
