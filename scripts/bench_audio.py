"""Audio benchmark: augloader.audio against torch-audiomentations and audiomentations, side by side.

    .venv/bin/python scripts/bench_audio.py                 # writes benchmarks/audio.md
    .venv/bin/python scripts/bench_audio.py --no-write --repeats 3

Workloads on a batch of 64 one-second 16 kHz clips (real speech from alsa-utils when installed):
the issue's 5-op pipeline (noise, gain, shift, pitch shift, time masking), PitchShift alone, and each
cheap op alone for context.

The references need torchaudio, which has no release for this torch, so they run in their own virtual
environment, in a worker subprocess that this script drives: each repeat times augloader and then the
references on the same data, interleaved, and the table gives medians. Create that environment once:

    python3.11 -m venv /tmp/ta-venv
    /tmp/ta-venv/bin/pip install torch==2.11.0 torchaudio==2.11.0 torch-audiomentations==0.12.0 audiomentations==0.43.1

and pass ``--reference-python /tmp/ta-venv/bin/python`` (the default when it exists, or set
``AUGLOADER_AUDIO_REFERENCE_PYTHON``). torch-audiomentations runs on the whole batch in the main
process (its intended use); audiomentations (numpy) runs per sample in a torch DataLoader with 2
workers, timed over several batches. Both sides use ``--threads`` torch threads.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = "/tmp/ta-venv/bin/python"
ALSA = Path("/usr/share/sounds/alsa")
WORKLOADS = ["5-op pipeline", "PitchShift", "AddNoise", "Gain", "TimeShift", "TimeMasking"]
MASK_SECONDS = 0.1  # the widest time mask


def _named(pipeline: Any, noise: Any, gain: Any, shift: Any, pitch: Any, mask: Any) -> dict[str, Any]:
    """One side's callables, keyed as WORKLOADS."""
    return dict(zip(WORKLOADS, (pipeline, pitch, noise, gain, shift, mask)))


# ---- the reference side (runs in the reference environment; imports no augloader) ---------------


def _reference_transforms(sample_rate: int) -> dict[str, Callable[[Any], Any]]:
    """torch-audiomentations 0.12 for each workload (time masking: torchaudio's per-example masks)."""
    import torch_audiomentations as ta
    import torchaudio.functional as AF

    mask_samples = int(MASK_SECONDS * sample_rate)

    def time_mask(x):
        return AF.mask_along_axis_iid(x.unsqueeze(2), mask_samples, 0.0, 3).squeeze(2)  # (B, C, 1, T) masks per example

    noise = ta.AddColoredNoise(
        min_snr_in_db=10,
        max_snr_in_db=40,
        min_f_decay=0,
        max_f_decay=0,
        p=1.0,
        sample_rate=sample_rate,
        output_type="tensor",
    )
    gain = ta.Gain(min_gain_in_db=-6, max_gain_in_db=6, p=1.0, output_type="tensor")
    shift = ta.Shift(min_shift=-0.1, max_shift=0.1, rollover=True, p=1.0, output_type="tensor")
    pitch = ta.PitchShift(
        min_transpose_semitones=-4, max_transpose_semitones=4, p=1.0, sample_rate=sample_rate, output_type="tensor"
    )
    chain = ta.Compose([noise, gain, shift, pitch], output_type="tensor")

    def at_rate(t: Any) -> Callable[[Any], Any]:
        return lambda x: t(x, sample_rate=sample_rate)

    def pipeline(x: Any) -> Any:
        return time_mask(chain(x, sample_rate=sample_rate))

    return _named(pipeline, at_rate(noise), at_rate(gain), at_rate(shift), at_rate(pitch), time_mask)


def _audiomentations_transforms() -> dict[str, Any]:
    """audiomentations (numpy, one clip at a time) for each workload."""
    import audiomentations as am

    noise = am.AddColorNoise(min_snr_db=10, max_snr_db=40, min_f_decay=0, max_f_decay=0, p=1.0)
    gain = am.Gain(min_gain_db=-6, max_gain_db=6, p=1.0)
    shift = am.Shift(min_shift=-0.1, max_shift=0.1, rollover=True, p=1.0)
    pitch = am.PitchShift(min_semitones=-4, max_semitones=4, p=1.0)
    mask = am.TimeMask(min_band_part=0.0, max_band_part=MASK_SECONDS, p=1.0)
    return _named(am.Compose([noise, gain, shift, pitch, mask]), noise, gain, shift, pitch, mask)


class _ClipDataset:
    """Per-sample audiomentations in a torch Dataset: ``n`` items cycling over the clips."""

    def __init__(self, clips: Any, transform: Any, sample_rate: int, n: int) -> None:
        self.clips, self.transform, self.sample_rate, self.n = clips, transform, sample_rate, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        import torch

        clip = self.clips[i % len(self.clips)]  # (C, T) float32
        mono = clip.shape[0] == 1  # audiomentations takes mono clips as (T,)
        out = self.transform(samples=clip[0] if mono else clip, sample_rate=self.sample_rate)
        return torch.from_numpy(out).view(clip.shape)


def _worker(args: argparse.Namespace) -> None:
    """Answers ``{"side": "ta"|"am", "workload": name}`` lines on stdin with ``{"seconds": per batch}``."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads[0])
    clips = np.load(args.data)  # (B, C, T)
    batch = torch.from_numpy(clips)
    info: dict[str, Any] = {"torch": torch.__version__, "numpy": np.__version__}
    ta_ops: dict[str, Any] = {}
    am_ops: dict[str, Any] = {}
    try:
        import torch_audiomentations
        import torchaudio

        ta_ops = _reference_transforms(args.sample_rate)
        info["torchaudio"] = torchaudio.__version__
        info["torch-audiomentations"] = getattr(torch_audiomentations, "__version__", "?")
    except ImportError as err:
        info["torch-audiomentations"] = f"unavailable ({err})"
    try:
        import audiomentations

        am_ops = _audiomentations_transforms()
        info["audiomentations"] = audiomentations.__version__
    except ImportError as err:
        info["audiomentations"] = f"unavailable ({err})"
    loaders: dict[str, Any] = {}
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        name = request["workload"]
        torch.set_num_threads(request.get("threads", args.threads[0]))
        if request["side"] == "ta" and name in ta_ops:
            start = time.perf_counter()
            ta_ops[name](batch)
            print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
        elif request["side"] == "am" and name in am_ops:
            if name not in loaders:
                dataset = _ClipDataset(clips, am_ops[name], args.sample_rate, len(clips) * args.am_batches)
                loaders[name] = torch.utils.data.DataLoader(
                    dataset, batch_size=len(clips), num_workers=2, persistent_workers=True, prefetch_factor=1
                )
            start = time.perf_counter()
            for _ in loaders[name]:
                pass
            print(json.dumps({"seconds": (time.perf_counter() - start) / args.am_batches}), flush=True)
        else:
            print(json.dumps({"seconds": None}), flush=True)


class _Reference:
    """The worker subprocess, driven line by line."""

    def __init__(self, python: str, data: Path, args: argparse.Namespace) -> None:
        cmd = [
            python,
            __file__,
            "--worker",
            "--data",
            str(data),
            "--threads",
            str(args.threads[0]),
            "--sample-rate",
            str(args.sample_rate),
            "--am-batches",
            str(args.am_batches),
        ]
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT)
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the reference worker ({python}) exited before answering")
        self.info = json.loads(line)

    def time(self, side: str, workload: str, threads: int) -> Optional[float]:
        self.proc.stdin.write(json.dumps({"side": side, "workload": workload, "threads": threads}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["seconds"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# ---- augloader's side ----------------------------------------------------------------------------


def _augloader_transforms(sample_rate: int) -> dict[str, Any]:
    import augloader.audio as A

    noise = A.AudioGaussianNoise(snr_db=(10, 40), color="white")
    gain = A.RandomGain((-6, 6))
    shift = A.RandomTimeShift(0.1, mode="roll")
    pitch = A.RandomPitchShift((-4, 4))
    mask = A.RandomTimeMasking(int(MASK_SECONDS * sample_rate), domain="waveform")
    return _named(A.AudioCompose([noise, gain, shift, pitch, mask]), noise, gain, shift, pitch, mask)


def _speech_batch(batch: int, sample_rate: int, seconds: float) -> tuple[Any, str]:
    """``(batch, 1, T)`` one-second crops of the ALSA speech files (cycled), or noise without them."""
    import torch

    from augloader.audio import load_wav, ops, pad_or_crop

    length = int(seconds * sample_rate)
    files = sorted(p for p in ALSA.glob("*.wav") if p.name != "Noise.wav") if ALSA.is_dir() else []
    if not files:
        return 0.1 * torch.randn(
            batch, 1, length, generator=torch.Generator().manual_seed(0)
        ), "Gaussian noise (alsa-utils not installed)"
    clips = []
    for f in files:
        audio, rate = load_wav(f)
        clips.append(ops.resample(audio.unsqueeze(0), rate, sample_rate).squeeze(0))
    out, _ = pad_or_crop([clips[i % len(clips)] for i in range(batch)], length=length, crop="center")
    return out, f"speech: {len(files)} files of /usr/share/sounds/alsa (alsa-utils), cycled, centre-cropped"


def _machine() -> dict[str, str]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": str(os.cpu_count()), "os": platform.platform()}


def _fmt(seconds: Optional[float]) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e3:,.1f}"


def _ratio(ref: Optional[float], ours: float) -> str:
    return "n/a" if ref is None else f"**{ref / ours:,.1f}x**"


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    """Runs the benchmark, prints the table, writes ``--output``; returns the measured medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=1.0, help="clip duration")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--repeats", type=int, default=7, help="augloader timings per workload (median)")
    parser.add_argument("--ref-repeats", type=int, default=3, help="reference timings per workload (median)")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[2, 1], help="torch threads on both sides; one table per value"
    )
    parser.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    parser.add_argument(
        "--reference-python", default=os.environ.get("AUGLOADER_AUDIO_REFERENCE_PYTHON", DEFAULT_REFERENCE)
    )
    parser.add_argument("--no-reference", action="store_true", help="time augloader only")
    parser.add_argument("--am-batches", type=int, default=4, help="batches per audiomentations DataLoader timing")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "audio.md")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args)
        return {}

    import numpy as np
    import torch

    import augloader

    batch, source = _speech_batch(args.batch, args.sample_rate, args.seconds)
    ours_ops = _augloader_transforms(args.sample_rate)
    load_before = os.getloadavg()

    reference: Optional[_Reference] = None
    ref_note = "not run (--no-reference)"
    tmp = tempfile.TemporaryDirectory()
    if not args.no_reference:
        if Path(args.reference_python).exists():
            data = Path(tmp.name) / "batch.npy"
            np.save(data, batch.numpy())
            reference = _Reference(args.reference_python, data, args)
            ref_note = f"`{args.reference_python}`"
        else:
            ref_note = f"not run: {args.reference_python} not found (see the docstring to create it)"

    generator = torch.Generator().manual_seed(0)
    times: dict[tuple[int, str, str], list[float]] = {}  # (threads, side, workload) -> seconds per batch
    for threads in args.threads:
        torch.set_num_threads(threads)
        for w in args.workloads:  # one warm-up call per side: first calls allocate and load
            ours_ops[w](batch, generator=generator)
            if reference is not None:
                for side in ("ta", "am"):
                    reference.time(side, w, threads)
        for r in range(max(args.repeats, args.ref_repeats)):  # interleaved: every round times every side
            for w in args.workloads:
                if r < args.repeats:
                    start = time.perf_counter()
                    ours_ops[w](batch, generator=generator)
                    times.setdefault((threads, "augloader", w), []).append(time.perf_counter() - start)
                if reference is not None and r < args.ref_repeats:
                    for side in ("ta", "am"):
                        t = reference.time(side, w, threads)
                        if t is not None:
                            times.setdefault((threads, side, w), []).append(t)
    if reference is not None:
        reference.close()
    tmp.cleanup()
    load_after = os.getloadavg()

    def med(values: list[float]) -> Optional[float]:
        return statistics.median(values) if values else None

    results = {
        threads: {
            w: {side: med(times.get((threads, side, w), [])) for side in ("augloader", "ta", "am")}
            for w in args.workloads
        }
        for threads in args.threads
    }
    info = reference.info if reference is not None else {}
    header = (
        "| workload | augloader, batch (ms) | clips/s | torch-audiomentations, batch (ms) | augloader speed-up "
        "| audiomentations per sample, DataLoader 2 workers (ms/batch) | augloader speed-up |"
    )
    rows = []
    for threads, per_workload in results.items():
        rows += [f"\n**torch threads: {threads}**\n", header, "|---|--:|--:|--:|--:|--:|--:|"]
        for w, r in per_workload.items():
            ours_s = r["augloader"]
            rows.append(
                f"| {w} | {_fmt(ours_s)} | {args.batch / ours_s:,.0f} | {_fmt(r['ta'])} | {_ratio(r['ta'], ours_s)} "
                f"| {_fmt(r['am'])} | {_ratio(r['am'], ours_s)} |"
            )
    targets = []
    for threads, per_workload in results.items():
        for w, goal in (("5-op pipeline", 3.0), ("PitchShift", 5.0)):
            r = per_workload.get(w)
            if r and r["ta"] is not None:
                got = r["ta"] / r["augloader"]
                verdict = "met" if got >= goal else "NOT met"
                targets.append(
                    f"{w} at {threads} thread(s): {got:.1f}x vs torch-audiomentations (target {goal:g}x, {verdict})"
                )
    rows.append("\nIssue 7 targets: " + ("; ".join(targets) if targets else "not measured (no reference run)") + ".")
    table = "\n".join(rows)
    machine = _machine()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = f"augloader {augloader.__version__}, torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}"
    ref_versions = ", ".join(f"{k} {v}" for k, v in info.items()) or "none"
    command = "python scripts/bench_audio.py " + " ".join(argv if argv is not None else sys.argv[1:])
    report = f"""# Audio augmentation benchmark

Measured {now} by `{command.strip()}`.

- Machine: {machine["cpu"]}, {machine["cores"]} cores ({machine["os"]}); torch threads as given per table, the same on every side.
  Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after: the machine is shared, so
  absolute times drift; the sides are timed interleaved, in the same rounds, so the ratios are comparable.
- augloader: {versions}.
- References (their own environment, driven from this script as a subprocess): {ref_versions}; {ref_note}.
- Data: a batch of {args.batch} clips of {args.seconds:g} s at {args.sample_rate} Hz, {source}.
- Medians of {args.repeats} augloader and {args.ref_repeats} reference timings per workload, after one warm-up call each.
  torch-audiomentations runs on the whole batch in the main process (its intended use); audiomentations
  runs one clip at a time in a torch DataLoader with 2 worker processes, timed over {args.am_batches} batches.

Workloads (same settings on every side): AddNoise white at 10-40 dB SNR; Gain -6..6 dB; TimeShift
+-10 % with roll-over; PitchShift -4..+4 semitones; TimeMasking one span of up to {MASK_SECONDS:g} s on the
waveform (torchaudio's `mask_along_axis_iid` for torch-audiomentations, which has no time mask;
audiomentations' `TimeMask`). The 5-op pipeline chains all five.

{table}
"""
    print(report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    main()
