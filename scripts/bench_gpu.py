"""GPU benchmark: augloader against kornia and torchvision v2 on one GPU, and a training step with augmentation.

Run by ``scripts/gpu_check.sh`` on a CUDA machine (or directly). Measures, at B = 256 on ``--device``:

- P1 (uint8 (B, 3, 256, 256) -> RandomResizedCrop 224 + flip + ColorJitter + Normalize) and P3 (uint8
  (B, 3, 224, 224) -> RandomAffine + flip + GaussianBlur 5, then to float): augloader eager and compiled,
  kornia (``same_on_batch=False``) and torchvision v2 looped over the batch on the same device (v2 draws
  one parameter set per call). Images/s (CUDA events, warm-up, median of repeats), the ratios to kornia and
  torchvision, and the share of the memory-bandwidth roofline (uint8 in + float32 out, over peak bandwidth).
- Host syncs: the P1 call once under ``torch.cuda.set_sync_debug_mode("error")``.
- A ResNet-50 training step (random init, channels_last, bf16 autocast) at B = 128 fed by
  ``DeviceAugmenter`` from an in-memory uint8 loader, against the same step without augmentation.

``--device cpu --quick`` runs every part at tiny sizes (B = 4, 64x64 inputs, a tiny network, one repeat)
as a dry run that a CPU test can afford; its table says so. Each part is timed against a budget
(``--budget-s``) and the report is rewritten after every part, so a run cut short keeps what it measured.
A part that fails is written as ``failed: ...`` and the script exits 1 after writing the report.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import signal
import statistics
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import torch
import torch.nn.functional as F
from bench_images import Pipeline, augloader_pipeline, kornia_pipeline, make_data, torchvision_pipeline
from benchlib import ROOT, machine_header
from torch import Tensor, nn

import augloader as A
from augloader.data import DeviceAugmenter

GOAL_VS_KORNIA = 20.0  # P1 at B = 256: augloader images/s over kornia's
GOAL_ROOFLINE = 0.25  # P1 at B = 256: share of the memory-bandwidth roofline
H200_PEAK_BW = 4.8e12  # bytes/s, NVIDIA's H200 figure, used when the device cannot be queried
OUT_SIDE = 224  # P1 and P3 output side

RUNNERS = ("augloader eager", "augloader compiled", "kornia", "torchvision v2 per-sample loop")
TRAIN_ROWS = (
    "no augmentation (float batch already on the device)",
    "DeviceAugmenter + P1 (side stream, prefetched)",
    "P1 on the default stream, then the step (serial)",
)


class PartTimeout(Exception):
    """A part ran past its share of the time budget."""


@dataclass
class Settings:
    """What one run measures; ``quick`` is the CPU dry run."""

    device: torch.device
    quick: bool
    batch: int = 256  # P1 / P3 batch
    side_p1: int = 256  # P1 input side
    side_p3: int = 224  # P3 input side
    repeats: int = 5
    warmup: int = 2
    min_batch_s: float = 0.2  # each timed repeat runs the call this long at least (several calls per repeat)
    train_batch: int = 128
    train_side: int = 256
    train_warmup: int = 5
    train_steps: int = 20
    arch: str = "resnet50"
    compile_backend: Optional[str] = None  # None: torch.compile's default (inductor)
    budget_s: float = 300.0
    peak_bw: Optional[float] = None  # bytes/s
    peak_bw_source: str = ""

    @classmethod
    def quick(cls, device: torch.device) -> "Settings":
        return cls(
            device,
            True,
            batch=4,
            side_p1=64,
            side_p3=64,
            repeats=1,
            warmup=0,
            min_batch_s=0.0,
            train_batch=4,
            train_side=64,
            train_warmup=1,
            train_steps=2,
            arch="tiny",
            compile_backend="eager",  # dynamo's tracing without inductor's codegen: seconds, not minutes
            budget_s=120.0,
        )


@dataclass
class Report:
    """Everything measured so far; :meth:`markdown` renders it, :meth:`failures` lists what broke."""

    settings: Settings
    header: str
    compiled_with: str = ""
    pipelines: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # key -> runner -> figures
    syncs: dict[str, str] = field(default_factory=dict)
    train: dict[str, dict[str, Any]] = field(default_factory=dict)

    def failures(self) -> list[str]:
        rows = [(f"{k} {r}", v) for k, runs in self.pipelines.items() for r, v in runs.items()]
        rows += [(f"train {r}", v) for r, v in self.train.items()]
        out = [f"{name}: {v['error']}" for name, v in rows if v.get("error", "").startswith("failed")]
        return out + [f"host syncs {k}: {v}" for k, v in self.syncs.items() if v.startswith("failed")]

    def markdown(self) -> str:
        s = self.settings
        lines = ["# GPU benchmark: augloader against kornia and torchvision v2 on one device", ""]
        if s.quick:
            lines += [
                f"**DRY RUN (`--quick` on {s.device.type}): tiny sizes, one repeat, a tiny network. "
                "These figures only show that every part runs; they measure nothing.**",
                "",
            ]
        lines += [self.header, ""]
        lines += self._pipeline_lines() + self._sync_lines() + self._train_lines()
        return "\n".join(lines) + "\n"

    def _pipeline_lines(self) -> list[str]:
        s = self.settings
        bw = f"{s.peak_bw / 1e12:.2f} TB/s ({s.peak_bw_source})" if s.peak_bw else f"unknown ({s.peak_bw_source})"
        lines = [
            f"## Pipelines at B = {s.batch}",
            "",
            f"Compiled rows: {self.compiled_with or 'not run yet'}. Roofline: bytes read and written "
            f"(uint8 input, float32 {OUT_SIDE}x{OUT_SIDE} output) per second over the peak memory bandwidth, {bw}.",
            "",
            "| pipeline | runner | images/s | ms/batch | first call s | vs kornia | vs torchvision | % roofline |",
            "|---|---|--:|--:|--:|--:|--:|--:|",
        ]
        for key, runs in self.pipelines.items():
            base_k = runs.get("kornia", {}).get("ips")
            base_t = runs.get("torchvision v2 per-sample loop", {}).get("ips")
            for runner, v in runs.items():
                if v.get("error"):
                    lines.append(f"| {key} | {runner} | {v['error']} | - | - | - | - | - |")
                    continue
                rk = f"{v['ips'] / base_k:.2f}x" if base_k else "-"
                rt = f"{v['ips'] / base_t:.2f}x" if base_t else "-"
                roof = f"{100 * v['roofline']:.1f}%" if v.get("roofline") is not None else "-"
                name = f"{runner} ({v['note']})" if v.get("note") else runner
                lines.append(
                    f"| {key} | {name} | {v['ips']:,.0f} | {1e3 * v['s']:.2f} | {v['first_s']:.2f} | {rk} | {rt} | {roof} |"
                )
            lines.append("")
        lines += self._goal_lines() + [""]
        return lines

    def _goal_lines(self) -> list[str]:
        runs = self.pipelines.get("P1", {})
        ours = [v for r, v in runs.items() if r.startswith("augloader") and not v.get("error")]
        best = max(ours, key=lambda v: v["ips"], default=None)
        kornia = runs.get("kornia", {}).get("ips")
        lines = [f"Goals for P1 at B = {self.settings.batch} (best augloader row):", ""]
        if best is None:
            return lines + ["- no augloader P1 figure yet"]
        if kornia:
            ratio = best["ips"] / kornia
            ok = "met" if ratio >= GOAL_VS_KORNIA else "MISSED"
            lines.append(f"- goal: >= {GOAL_VS_KORNIA:.0f}x kornia; measured {ratio:.2f}x ({ok})")
        else:
            lines.append(f"- goal: >= {GOAL_VS_KORNIA:.0f}x kornia; no kornia figure")
        if best.get("roofline") is not None:
            ok = "met" if best["roofline"] >= GOAL_ROOFLINE else "MISSED"
            lines.append(
                f"- goal: >= {100 * GOAL_ROOFLINE:.0f}% of the bandwidth roofline; measured "
                f"{100 * best['roofline']:.1f}% ({ok})"
            )
        else:
            lines.append(f"- goal: >= {100 * GOAL_ROOFLINE:.0f}% of the bandwidth roofline; peak bandwidth unknown")
        return lines

    def _sync_lines(self) -> list[str]:
        lines = [
            "## Host syncs",
            "",
            'One call under `torch.cuda.set_sync_debug_mode("error")`, after a warm-up call.',
            "",
        ]
        lines += ["| call | result |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in self.syncs.items()]
        return lines + [""]

    def _train_lines(self) -> list[str]:
        s = self.settings
        lines = [
            f"## Training step: {s.arch}, B = {s.train_batch}, channels_last, bf16 autocast, SGD",
            "",
            f"uint8 ({s.train_batch}, 3, {s.train_side}, {s.train_side}) batches from an in-memory loader; "
            f"ms per step over {s.train_steps} steps after {s.train_warmup} warm-up steps. The ratio to "
            "the step without augmentation is what the augmentation costs the training loop: 1.00x is full overlap.",
            "",
            "| runner | ms/step | vs no augmentation |",
            "|---|--:|--:|",
        ]
        base = self.train.get(TRAIN_ROWS[0], {}).get("s")
        for runner, v in self.train.items():
            if v.get("error"):
                lines.append(f"| {runner} | {v['error']} | - |")
                continue
            ratio = f"{v['s'] / base:.2f}x" if base else "-"
            lines.append(f"| {runner} | {1e3 * v['s']:.1f} | {ratio} |")
        return lines


# ---- timing -----------------------------------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Raises :class:`PartTimeout` in the main thread when the block runs past ``seconds``."""
    if seconds <= 1:
        raise PartTimeout(f"skipped: no time left in the budget for {what}")

    def _raise(signum: int, frame: Any) -> None:
        raise PartTimeout(f"{what} ran past its {seconds:.0f} s share of the budget")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def time_call(fn: Callable[[], Any], s: Settings) -> dict[str, float]:
    """Seconds per call of ``fn``: first call (compile, lazy init), then the median of ``s.repeats`` timed
    repeats after ``s.warmup`` calls. On CUDA each repeat is timed with CUDA events around enough calls to
    last ``s.min_batch_s``; elsewhere with ``perf_counter``.

    Shape:
        ``fn`` takes nothing; returns ``{"first_s": float, "s": float}``.
    """
    dev = s.device
    t0 = time.perf_counter()
    fn()
    synchronize(dev)
    first = time.perf_counter() - t0
    for _ in range(s.warmup):
        fn()
    inner = 1
    if s.min_batch_s > 0:  # one more call, timed, to choose how many calls a repeat needs
        synchronize(dev)
        t0 = time.perf_counter()
        fn()
        synchronize(dev)
        inner = max(1, min(50, int(s.min_batch_s / max(time.perf_counter() - t0, 1e-6))))
    samples = []
    for _ in range(s.repeats):
        if dev.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                fn()
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) / 1e3 / inner)
        else:
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples.append((time.perf_counter() - t0) / inner)
    return {"first_s": first, "s": statistics.median(samples)}


def peak_bandwidth(device: torch.device) -> tuple[Optional[float], str]:
    """Peak memory bandwidth in bytes/s and where the figure comes from."""
    if device.type != "cuda":
        return None, "not defined for a CPU dry run"
    props = torch.cuda.get_device_properties(device)
    clock_khz, bus_bits = getattr(props, "memory_clock_rate", 0), getattr(props, "memory_bus_width", 0)
    if clock_khz and bus_bits:  # double data rate: two transfers per clock
        spec = "; NVIDIA's figure for an H200 is 4.8 TB/s" if "H200" in props.name else ""
        return 2 * clock_khz * 1e3 * bus_bits / 8, f"queried: 2 x {clock_khz / 1e6:.2f} GHz x {bus_bits}-bit bus{spec}"
    if "H200" in props.name:
        return H200_PEAK_BW, "the device reports no memory clock; taken as the H200's 4.8 TB/s"
    return None, f"the device ({props.name}) reports no memory clock; pass --peak-tbs"


def nvidia_smi_line() -> str:
    cmd = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,power.limit,clocks.max.memory"]
    try:
        out = subprocess.run([*cmd, "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"nvidia-smi not available ({type(e).__name__})"
    return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else "nvidia-smi failed"


def header(s: Settings) -> str:
    text = machine_header(modules=("torchvision", "kornia", "numpy")).strip()
    if s.device.type == "cuda":
        name = torch.cuda.get_device_name(s.device)
        text += f"\n\nDevice: {name}, CUDA {torch.version.cuda}. nvidia-smi: {nvidia_smi_line()}."
    else:
        text += f"\n\nDevice: {s.device} (dry run; nvidia-smi: {nvidia_smi_line()})."
    return text


# ---- the pipelines ------------------------------------------------------------------------------------
def build_compiled(pipe: nn.Module, backend: Optional[str]) -> tuple[Callable[[Tensor], Tensor], str]:
    """``augloader.compile(pipe)`` when augloader has it, else ``torch.compile(pipe)``; and which one ran."""
    kwargs = {} if backend is None else {"backend": backend}
    compile_fn = getattr(A, "compile", None)
    if compile_fn is not None:
        takes_backend = "backend" in inspect.signature(compile_fn).parameters
        used = kwargs if takes_backend else {}
        return compile_fn(pipe, **used), "augloader.compile" + (f"(backend={backend!r})" if used else "")
    what = "torch.compile(pipeline" + (f", backend={backend!r})" if backend else ")")
    return torch.compile(pipe, **kwargs), what + " (augloader has no compile())"


def augloader_for(key: str, device: torch.device) -> nn.Module:
    pipe = augloader_pipeline(key)
    if key == "P3":  # uint8 in, uint8 out otherwise: float32 out like kornia and torchvision
        pipe = A.Compose([pipe, A.ToFloat()])
    return pipe.to(device)


def kornia_for(key: str, device: torch.device) -> Callable[[Tensor], Tensor]:
    import kornia.augmentation as K

    k = kornia_pipeline(key).to(device)
    for m in k.children():
        if isinstance(m, K.Normalize):  # kornia keeps mean/std in flags: on the device once, not per call
            m.flags = {name: v.to(device) for name, v in m.flags.items()}
        elif getattr(m, "same_on_batch", False):
            raise ValueError(f"kornia {type(m).__name__} draws one set per batch; the comparison needs per sample")
    return lambda x: k(x.float().div_(255))


def torchvision_for(key: str) -> Callable[[Tensor], Tensor]:
    tv = torchvision_pipeline(key)
    return lambda x: torch.stack([tv(img) for img in x.unbind(0)])


def roofline_share(x: Tensor, s_per_batch: float, peak: Optional[float]) -> Optional[float]:
    if not peak:
        return None
    moved = x.numel() * x.element_size() + x.shape[0] * x.shape[1] * OUT_SIDE * OUT_SIDE * 4  # uint8 in, f32 out
    return moved / s_per_batch / peak


def cell(text: str, limit: int) -> str:
    """The first line of ``text``, at most ``limit`` characters, safe inside a Markdown table cell."""
    lines = text.strip().splitlines()
    return (lines[0] if lines else "")[:limit].replace("|", "/")


def run_part(report: Report, store: dict, name: str, limit_s: float, fn: Callable[[], dict], write: Callable) -> None:
    """Runs ``fn`` under a time limit; its figures, or the failure, go to ``store[name]``; rewrites the report."""
    try:
        with time_limit(limit_s, name):
            store[name] = fn()
    except ModuleNotFoundError as e:  # an optional reference library (kornia: the bench extra) is absent
        store[name] = {"error": f"skipped: {e.name} is not installed (pip install -e '.[bench]')"}
    except Exception as e:  # a broken part is reported, and the parts after it still run
        msg = str(e) if isinstance(e, PartTimeout) else f"failed: {type(e).__name__}: {cell(str(e), 160)}"
        store[name] = {"error": msg if msg.startswith(("failed", "skipped")) else f"failed: {msg}"}
        traceback.print_exc()
    write()


def measure_pipelines(report: Report, deadline: float, write: Callable, compiled_only: bool = False) -> None:
    """The P1 and P3 rows: eager augloader, kornia and torchvision (or, with ``compiled_only``, compiled)."""
    s = report.settings
    for key, side in (("P1", s.side_p1), ("P3", s.side_p3)):
        x = make_data(Pipeline(key, side, s.batch, 1)).to(s.device)
        runs = report.pipelines.setdefault(key, {})
        if compiled_only:
            makers: dict[str, Callable[[], Callable[[Tensor], Any]]] = {
                "augloader compiled": lambda key=key: compiled_for(report, key)
            }
        else:
            makers = {
                "augloader eager": lambda key=key: augloader_for(key, s.device),
                "kornia": lambda key=key: kornia_for(key, s.device),
                "torchvision v2 per-sample loop": lambda key=key: torchvision_for(key),
            }
        for runner, make in makers.items():

            def part(make: Callable = make, runner: str = runner) -> dict[str, Any]:
                fn = make()
                figures = time_call(lambda: fn(x), s)
                out = {**figures, "ips": s.batch / figures["s"], "roofline": roofline_share(x, figures["s"], s.peak_bw)}
                fell_back = getattr(fn, "fallback_reason", None)  # augloader.compile's eager fallback
                if fell_back:
                    out["note"] = f"ran EAGER, augloader.compile fell back: {cell(str(fell_back), 100)}"
                return out

            cap = 150.0 if compiled_only else 60.0
            run_part(report, runs, runner, min(cap, deadline - time.monotonic()), part, write)
        report.pipelines[key] = {r: runs[r] for r in RUNNERS if r in runs}  # table order


def compiled_for(report: Report, key: str) -> Callable[[Tensor], Any]:
    fn, report.compiled_with = build_compiled(
        augloader_for(key, report.settings.device), report.settings.compile_backend
    )
    return fn


# ---- host syncs -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def sync_debug(device: torch.device) -> Iterator[None]:
    """``set_sync_debug_mode("error")`` on CUDA (a host sync raises); nothing elsewhere."""
    if device.type != "cuda":
        yield
        return
    torch.cuda.synchronize(device)
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def where_in_augloader(err: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/augloader/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    return f" at augloader/{f.filename.replace(chr(92), '/').split('/augloader/')[-1]}:{f.lineno} ({f.name})"


def sync_check(fn: Callable[[Tensor], Any], x: Tensor) -> str:
    """Calls ``fn(x)`` once to warm up, then once under the sync debug mode; says whether it synced."""
    fn(x)
    try:
        with sync_debug(x.device):
            fn(x)
    except RuntimeError as e:
        return f"SYNCED{where_in_augloader(e)}: {cell(str(e), 120)}"
    if x.device.type != "cuda":
        return "not checked (dry run: the sync debug mode is CUDA's); the call ran"
    return "no host sync"


def measure_syncs(report: Report, deadline: float, write: Callable) -> None:
    s = report.settings
    for key, side in (("P1", s.side_p1), ("P3", s.side_p3)):
        x = make_data(Pipeline(key, side, s.batch, 1)).to(s.device)
        name = f"{key} augloader eager"

        def part(key: str = key, x: Tensor = x) -> dict[str, str]:
            return {"result": sync_check(augloader_for(key, s.device), x)}

        store: dict[str, dict] = {}
        run_part(report, store, name, min(60.0, deadline - time.monotonic()), part, lambda: None)
        report.syncs[name] = store[name].get("result") or store[name]["error"]
        write()


# ---- training step ------------------------------------------------------------------------------------------
class TinyNet(nn.Sequential):
    """The dry run's stand-in for ResNet-50: one strided convolution, pooling, a linear layer."""

    def __init__(self, num_classes: int) -> None:
        super().__init__(
            nn.Conv2d(3, 8, 7, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, num_classes)
        )


def build_model(arch: str, num_classes: int = 1000) -> nn.Module:
    """``tiny`` or a torchvision classification model by name, randomly initialised (no download)."""
    if arch == "tiny":
        return TinyNet(num_classes)
    import torchvision

    if not hasattr(torchvision.models, arch):
        raise ValueError(f"unknown --arch {arch!r}: not a torchvision.models builder (or 'tiny')")
    return getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)


class SyntheticLoader:
    """An in-memory loader: ``n`` (uint8 images, labels) batches cycled from a small pool, pinned for CUDA."""

    def __init__(self, images: Tensor, labels: Tensor, batch: int, n: int, pin: bool) -> None:
        pairs = zip(images.split(batch), labels.split(batch))
        self.pool = [(x.pin_memory(), y.pin_memory()) if pin else (x, y) for x, y in pairs if x.shape[0] == batch]
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for i in range(self.n):
            yield self.pool[i % len(self.pool)]


def time_steps(batches: Iterator[tuple[Tensor, Tensor]], step: Callable, s: Settings) -> float:
    """Mean seconds per step over ``s.train_steps`` steps after ``s.train_warmup`` (CUDA events)."""
    for _ in range(s.train_warmup):
        step(*next(batches))
    synchronize(s.device)
    if s.device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(s.train_steps):
            step(*next(batches))
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3 / s.train_steps
    t0 = time.perf_counter()
    for _ in range(s.train_steps):
        step(*next(batches))
    return (time.perf_counter() - t0) / s.train_steps


def measure_training(report: Report, deadline: float, write: Callable) -> None:
    s, dev = report.settings, report.settings.device
    n = s.train_warmup + s.train_steps
    holder: dict[str, Any] = {}

    def setup() -> None:
        if dev.type == "cuda":
            torch.backends.cudnn.benchmark = True
        model = build_model(s.arch).to(dev, memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x: Tensor, y: Tensor) -> None:
            with torch.autocast(dev.type, dtype=torch.bfloat16):
                loss = F.cross_entropy(model(x.contiguous(memory_format=torch.channels_last)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        images = make_data(Pipeline("train", s.train_side, s.train_batch, 4))
        labels = torch.randint(0, 1000, (images.shape[0],), generator=torch.Generator().manual_seed(0))
        holder["step"] = step
        holder["loader"] = SyntheticLoader(images, labels, s.train_batch, n, pin=dev.type == "cuda")

    def plain() -> dict[str, float]:
        setup()
        x = torch.rand(s.train_batch, 3, OUT_SIDE, OUT_SIDE, device=dev).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 1000, (s.train_batch,), device=dev)
        return {"s": time_steps(iter([(x, y)] * n), holder["step"], s)}

    def augmented() -> dict[str, float]:
        aug = DeviceAugmenter(holder["loader"], augloader_for("P1", dev), dev, seed=0)
        return {"s": time_steps(iter(aug), holder["step"], s)}

    def serial() -> dict[str, float]:
        pipe = augloader_for("P1", dev)
        moved = ((pipe(x.to(dev, non_blocking=True)), y.to(dev, non_blocking=True)) for x, y in holder["loader"])
        return {"s": time_steps(moved, holder["step"], s)}

    for name, fn in zip(TRAIN_ROWS, (plain, augmented, serial)):
        if name != TRAIN_ROWS[0] and "step" not in holder:
            report.train[name] = {"error": "skipped: the model did not build"}
            continue
        run_part(report, report.train, name, min(120.0, deadline - time.monotonic()), fn, write)


# ---- main ---------------------------------------------------------------------------------------------------
def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    ap.add_argument("--device", default="cuda", help="where everything runs (default: cuda)")
    ap.add_argument("--quick", action="store_true", help="dry run: B = 4, 64x64, a tiny network, one repeat")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "gpu.md"), help="the report (markdown)")
    ap.add_argument("--budget-s", type=float, default=None, help="seconds for the whole run (300; quick: 120)")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per runner (5; quick: 1)")
    ap.add_argument("--peak-tbs", type=float, default=None, help="peak memory bandwidth in TB/s (else queried)")
    ap.add_argument("--skip", default="", help="comma-separated parts to leave out: pipelines,compiled,syncs,train")
    return ap.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        raise SystemExit(f"bench_gpu: --device {args.device!r} is not a device ({e})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_gpu: --device cuda needs CUDA, which is not available here (use --device cpu --quick)")
    s = Settings.quick(device) if args.quick else Settings(device, False)
    if args.budget_s is not None:
        s.budget_s = args.budget_s
    if args.repeats is not None:
        if args.repeats < 1:
            raise SystemExit(f"bench_gpu: --repeats must be at least 1, got {args.repeats}")
        s.repeats = args.repeats
    if args.peak_tbs is not None:
        s.peak_bw, s.peak_bw_source = args.peak_tbs * 1e12, "given with --peak-tbs"
    else:
        s.peak_bw, s.peak_bw_source = peak_bandwidth(device)
    return s


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    s = settings_from(args)
    skip = {p for p in args.skip.split(",") if p}
    unknown = skip - {"pipelines", "compiled", "syncs", "train"}
    if unknown:
        raise SystemExit(f"bench_gpu: --skip names unknown parts {sorted(unknown)}")
    deadline = time.monotonic() + s.budget_s
    report = Report(s, header(s))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def write() -> None:
        out.write_text(report.markdown())

    # Cheap and certain parts first; compiling (slow, may recompile) last, so a cut-short run keeps the rest.
    if "pipelines" not in skip:
        measure_pipelines(report, deadline, write)
    if "syncs" not in skip:
        measure_syncs(report, deadline, write)
    if "train" not in skip:
        measure_training(report, deadline, write)
    if "compiled" not in skip:
        measure_pipelines(report, deadline, write, compiled_only=True)
    write()
    print(report.markdown())
    print(f"wrote {out}")
    failures = report.failures()
    for f in failures:
        print(f"FAILED {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
