"""augloader.compile on the CPU: compile time, cache-hit time, compiled vs eager images/s -> benchmarks/compile.md.

Every measurement runs in its own process (``--child``) so that threads, the inductor cache and the
compile time are those a fresh training process sees. All children share one fresh
``TORCHINDUCTOR_CACHE_DIR``: the first child per pipeline compiles cold, the next ones hit the cache.
"Loaded" runs keep another process spinning on one core during the measurement. The load average is
recorded before each run (the machine may be shared).

A pipeline that cannot compile falls back to eager in the wrapper; the table's last column says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = {"P1": 256, "P3": 224}  # input side; both deliver 224 x 224


def child(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    from bench_images import augloader_pipeline  # the suites share their pipelines (scripts/ is on the path)

    import augloader as A

    A.tune_memory()
    pipeline = augloader_pipeline(args.pipeline)  # exact HSV hue
    side = PIPELINES[args.pipeline]
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, 256, (args.batch, 3, side, side), dtype=torch.uint8, generator=g) for _ in range(3)]
    compiled = A.compile(pipeline)
    t0 = time.perf_counter()
    compiled.warmup((args.batch, 3, side, side))
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compiled(batches[0][:-1])  # one image fewer: must not recompile
    shorter_s = time.perf_counter() - t0
    result = {"compile_s": compile_s, "shorter_batch_s": shorter_s, "fallback": compiled.fallback_reason}
    if args.measure:
        runners = {"compiled": compiled, "eager": pipeline}
        times = {k: [] for k in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():  # interleaved: both see the same machine state
                t0 = time.perf_counter()
                for x in batches:
                    run(x, generator=g)
                times[name].append(len(batches) * args.batch / (time.perf_counter() - t0))
        result.update({k: sorted(v)[len(v) // 2] for k, v in times.items()})
    return result


def run_child(pipeline: str, threads: int, loaded: bool, measure: bool, cache: str, batch: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--pipeline",
        pipeline,
        "--threads",
        str(threads),
        "--batch",
        str(batch),
    ]
    cmd += ["--measure"] * measure
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
    load = os.getloadavg()[0]
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if loaded else None
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{done.stderr[-3000:]}")
        out = done.stdout
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    result = json.loads(out.strip().splitlines()[-1])
    result["load_before"] = load
    print(pipeline, threads, "loaded" if loaded else "quiet", result, flush=True)
    return result


def cpu_line() -> str:
    import torch

    model, flags = "unknown CPU", ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("Flags:"):
                flags = " ".join(sorted(f for f in line.split(":", 1)[1].split() if f.startswith("avx")))
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores; {flags or 'no AVX flags'}), torch {torch.__version__}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pipeline", default="P1", choices=sorted(PIPELINES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pipelines", default="P1,P3", help="which pipelines to run, comma-separated")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="augloader-inductor-") as cache:
        for key in args.pipelines.split(","):
            cold = run_child(key, 2, False, False, cache, args.batch)
            hit = run_child(key, 2, False, False, cache, args.batch)
            for threads in (1, 2):
                for loaded in (False, True):
                    r = run_child(key, threads, loaded, True, cache, args.batch)
                    rows.append((key, threads, loaded, cold, hit, r))
    lines = [
        f"CPU: {cpu_line()}. Batches of {args.batch} uint8 images (P1 from 256, P3 from 224; both deliver 224),"
        f" 3 batches per timing, median of {args.repeats} interleaved rounds; eager is the same pipeline uncompiled.",
        "",
        "| pipeline | threads | load | load avg before | compile (cold) s | compile (cache hit) s |"
        " 1 image fewer s | compiled img/s | eager img/s | fallback |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, threads, loaded, cold, hit, r in rows:
        lines.append(
            f"| {key} | {threads} | {'one core spinning' if loaded else 'quiet'} | {r['load_before']:.2f} |"
            f" {cold['compile_s']:.1f} | {hit['compile_s']:.1f} | {r['shorter_batch_s']:.2f} |"
            f" {r['compiled']:.0f} | {r['eager']:.0f} | {r['fallback'] or 'no'} |"
        )
    out = ROOT / "benchmarks" / "compile.md"
    body = "\n".join(lines)
    out.write_text(f"# augloader.compile on the CPU\n\nGenerated by `python scripts/bench_compile.py`.\n\n{body}\n")
    print(body)


if __name__ == "__main__":
    main()
