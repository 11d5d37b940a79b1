"""Real JPEG folders, a real training recipe: augloader vs torchvision's reference presets and timm's loader.

Every runner reads the same JPEG files from an ImageFolder tree (``scripts/make_photo_folders.py``
cuts them from the Debian mate-backgrounds photographs) through a DataLoader with 2 worker processes,
batch 32, and delivers what a training step would consume; no model runs. The recipe:
RandomResizedCrop 224 + horizontal flip + TrivialAugmentWide + Normalize (ImageNet mean/std) +
RandomErasing p=0.1 + MixUp alpha 0.2 / CutMix alpha 1.0 (switch prob 0.5, label smoothing 0.1,
10 classes). Each repeat builds a fresh (non-persistent) DataLoader, so worker start-up is counted;
runners take turns (A B C D, A B C D, ...). Reported: images/s (wall) and CPU ms per image (this
process plus its reaped worker processes), medians of the repeats with their spread; then the same
runners on one core (no workers, one torch thread).

    .venv/bin/python scripts/bench_files.py [--quick] [--repeats 5] [--batches 20] [--large-batches 10]
        [--per-core-batches 4] [--sets small,large] [--runners floor,torchvision,timm,augloader-collate,...]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from torch.utils.data import DataLoader, Subset

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import make_photo_folders  # noqa: E402
from benchlib import machine_header, write_report  # noqa: E402

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
BATCH = 32
NUM_CLASSES = 10
WORKERS = 2
# timm has no TrivialAugmentWide ("ta_wide" is not a timm policy). The closest of its policy strings:
# RandAugment with one op per image (n1), always applied (p1.0), magnitude uniform in [0, 10] (mstd > 100
# means uniform) over the "increasing" op set (inc1): the TrivialAugment scheme on timm's op ranges.
TIMM_AA = "rand-n1-m10-mstd101-inc1-p1.0"

Loader = Iterable[Any]  # yields (images, labels, ...) batches
Factory = Callable[[Path, list, int], Loader]  # (root, indices, num_workers) -> a fresh loader


# ---- the runners ---------------------------------------------------------------------------------
# Each function builds a fresh dataset + DataLoader over ``indices`` (a fixed, shuffled list of file
# indices, the same for every runner) with ``workers`` worker processes. Keep them small: the lead
# updates the augloader ones as its API evolves.


def pil_decode_only(root: Path, indices: list, workers: int) -> Loader:
    """The floor: torchvision ImageFolder (PIL open + full decode + convert('RGB')), a PIL centre crop to
    224x224 and PILToTensor (uint8), default collate. No resize, no float, no augmentation, no mix."""
    from torchvision import datasets, transforms

    ds = datasets.ImageFolder(
        str(root), transform=transforms.Compose([transforms.CenterCrop(224), transforms.PILToTensor()])
    )
    return DataLoader(ds, batch_size=BATCH, sampler=indices, num_workers=workers)


class TorchvisionMixCollate:
    """references/classification/train.py's collate: ``mixup_cutmix(*default_collate(batch))``."""

    def __init__(self) -> None:
        from torchvision.transforms import v2

        self.mix = v2.RandomChoice(
            [v2.MixUp(alpha=0.2, num_classes=NUM_CLASSES), v2.CutMix(alpha=1.0, num_classes=NUM_CLASSES)]
        )

    def __call__(self, batch):
        return self.mix(*torch.utils.data.default_collate(batch))


def torchvision_reference(root: Path, indices: list, workers: int) -> Loader:
    """torchvision's references/classification/presets.py ClassificationPresetTrain (use_v2, PIL backend,
    auto_augment_policy='ta_wide', random_erase_prob=0.1) per sample, MixUp/CutMix in the collate_fn."""
    from torchvision import datasets
    from torchvision.transforms import v2

    preset = v2.Compose(
        [
            v2.RandomResizedCrop(224, antialias=True),
            v2.RandomHorizontalFlip(0.5),
            v2.TrivialAugmentWide(interpolation=v2.InterpolationMode.BILINEAR),  # presets.py passes its interpolation
            v2.PILToTensor(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(MEAN, STD),
            v2.RandomErasing(p=0.1),
            v2.ToPureTensor(),
        ]
    )
    ds = datasets.ImageFolder(str(root), transform=preset)
    return DataLoader(ds, batch_size=BATCH, sampler=indices, num_workers=workers, collate_fn=TorchvisionMixCollate())


class _TransformSubset(Subset):
    """A Subset whose ``transform`` is the wrapped dataset's: timm's create_loader assigns ``dataset.transform``."""

    @property
    def transform(self):
        return self.dataset.transform

    @transform.setter
    def transform(self, value) -> None:
        self.dataset.transform = value


def timm_create_loader(root: Path, indices: list, workers: int) -> Loader:
    """timm's training loader: ImageDataset + create_loader(is_training=True, prefetcher on the CPU),
    FastCollateMixup as the collate_fn (as timm's train.py passes it with the prefetcher on)."""
    from timm.data import FastCollateMixup, ImageDataset, create_loader

    mix = FastCollateMixup(
        mixup_alpha=0.2, cutmix_alpha=1.0, switch_prob=0.5, label_smoothing=0.1, num_classes=NUM_CLASSES
    )
    ds = _TransformSubset(ImageDataset(str(root)), indices)  # create_loader takes no sampler: the subset is the epoch
    return create_loader(
        ds,
        input_size=(3, 224, 224),
        batch_size=BATCH,
        is_training=True,
        auto_augment=TIMM_AA,
        re_prob=0.1,
        num_workers=workers,
        collate_fn=mix,
        use_prefetcher=True,
        device=torch.device("cpu"),
        persistent_workers=False,
    )


def _augloader_mix():
    from augloader.mix import MixUpCutMix

    return MixUpCutMix(mixup_alpha=0.2, cutmix_alpha=1.0, switch_prob=0.5, label_smoothing=0.1, num_classes=NUM_CLASSES)


def _augloader_pipeline():
    """The recipe written once for whole images, as the README writes it."""
    import augloader as A

    return A.Compose(
        [
            A.RandomResizedCrop(224),
            A.RandomHorizontalFlip(),
            A.TrivialAugmentWide(),
            A.Normalize(MEAN, STD),
            A.RandomErasing(p=0.1),
        ]
    )


def augloader_collate(root: Path, indices: list, workers: int) -> Loader:
    """(i) The README recipe: ``split_pipeline(pipeline)``; the per-sample part (RandomResizedCrop and the
    flip fused into it) on ``augloader.data.ImageFolder`` (decoding only what the crop needs), TA +
    Normalize + RandomErasing + mix on the batch in the collate_fn (in the workers); float batches
    cross to the main process."""
    from augloader.data import AugmentedDataset, BatchAugment, ImageFolder, split_pipeline

    per_sample, on_batch, _ = split_pipeline(_augloader_pipeline())
    ds = AugmentedDataset(ImageFolder(str(root)), per_sample, seed=0)
    collate = BatchAugment(on_batch, mix=_augloader_mix(), seed=0)
    return DataLoader(ds, batch_size=BATCH, sampler=indices, num_workers=workers, collate_fn=collate)


def augloader_uint8(root: Path, indices: list, workers: int) -> Loader:
    """(ii) ``split_pipeline(pipeline, uint8_batch=True)``: as (i) up to TA (uint8 out of the
    workers); Normalize + RandomErasing + mix in the main process through DeviceAugmenter(device="cpu")."""
    from augloader.data import AugmentedDataset, BatchAugment, DeviceAugmenter, ImageFolder, split_pipeline

    per_sample, on_batch, on_device = split_pipeline(_augloader_pipeline(), uint8_batch=True)
    ds = AugmentedDataset(ImageFolder(str(root)), per_sample, seed=0)
    dl = DataLoader(
        ds, batch_size=BATCH, sampler=indices, num_workers=workers, collate_fn=BatchAugment(on_batch, seed=0)
    )
    return DeviceAugmenter(dl, on_device, device="cpu", mix=_augloader_mix(), seed=0)


def augloader_full_decode(root: Path, indices: list, workers: int) -> Loader:
    """(iii) As (i) on torchvision's ImageFolder (PIL decodes every file in full): what the lazy decode saves."""
    from torchvision.datasets import ImageFolder

    from augloader.data import AugmentedDataset, BatchAugment, split_pipeline

    per_sample, on_batch, _ = split_pipeline(_augloader_pipeline())
    ds = AugmentedDataset(ImageFolder(str(root)), per_sample, seed=0)
    collate = BatchAugment(on_batch, mix=_augloader_mix(), seed=0)
    return DataLoader(ds, batch_size=BATCH, sampler=indices, num_workers=workers, collate_fn=collate)


@dataclass
class Runner:
    key: str  # for --runners
    name: str  # in the tables
    factory: Factory
    available: Callable[[], bool] = lambda: True
    missing: str = ""  # why it is skipped when not available


FLOOR = "PIL decode only (the floor)"
TV = "torchvision reference presets"
TIMM = "timm create_loader"

RUNNERS = [
    Runner("floor", FLOOR, pil_decode_only),
    Runner("torchvision", TV, torchvision_reference),
    Runner("timm", TIMM, timm_create_loader),
    Runner("augloader-collate", "augloader (README recipe, collate)", augloader_collate),
    Runner("augloader-uint8", "augloader (uint8 through workers)", augloader_uint8),
    Runner("augloader-full-decode", "augloader on torchvision's ImageFolder (full decode)", augloader_full_decode),
]

NOTES = f"""
What each runner does (all: batch 32, the same files in the same shuffled order, a fresh non-persistent
DataLoader per repeat, {WORKERS} worker processes forked from this one, 1 torch thread in each worker):

- **{FLOOR}**: torchvision `ImageFolder` (PIL open, full decode, `convert("RGB")`) with
  `transforms.CenterCrop(224)` on the PIL image and `PILToTensor()`; `default_collate` stacks uint8
  `(32, 3, 224, 224)` and the labels. No resize, no float, no augmentation, no mix: the cost of reading
  and decoding the files and moving a batch through the DataLoader.
- **{TV}**: torchvision's `references/classification/presets.py` `ClassificationPresetTrain` as v2 on
  PIL images, per sample in the workers: `RandomResizedCrop(224, antialias=True)` (bilinear),
  `RandomHorizontalFlip`, `TrivialAugmentWide(interpolation=BILINEAR)` (presets.py passes its `interpolation`), `PILToTensor`, `ToDtype(float32, scale=True)`,
  `Normalize`, `RandomErasing(0.1)`; collate_fn = `RandomChoice([MixUp(alpha=0.2), CutMix(alpha=1.0)])`
  on the default-collated float batch, as `train.py` does. Label smoothing lives in train.py's loss
  (`CrossEntropyLoss(label_smoothing=0.1)`), not in the loader, so it costs nothing here.
- **{TIMM}**: `timm.data.ImageDataset` + `create_loader(is_training=True, auto_augment="{TIMM_AA}",
  re_prob=0.1, use_prefetcher=True, device=cpu)` with `FastCollateMixup(mixup_alpha=0.2, cutmix_alpha=1.0,
  label_smoothing=0.1)` as collate_fn. What timm does differently: timm has no TrivialAugmentWide, so the
  policy is its RandAugment with one op per image at a uniform magnitude (timm's op set and ranges:
  rotate <= 30 degrees, translate <= 45% ..., plus Invert and SolarizeAdd, no Identity), on PIL with
  bilinear resampling (create_loader's default interpolation; timm's train.py defaults to "random"
  bilinear/bicubic); the workers return **uint8** batches (`fast_collate`), **MixUp/CutMix run on uint8**
  in the collate (a per-sample numpy loop, mixed pixels rounded to uint8) with label smoothing in the soft
  targets; the `PrefetchLoader` converts to float, normalizes and runs RandomErasing (a per-sample loop)
  **in the main process** (here on the CPU; on a GPU in real use).
- **augloader (README recipe, collate)**: the README's recipe: `pipeline = Compose([RandomResizedCrop(224),
  RandomHorizontalFlip, TrivialAugmentWide, Normalize, RandomErasing(p=0.1)])`, `per_sample, on_batch, _ =
  split_pipeline(pipeline)` (per sample: the crop and the flip fused into it);
  `AugmentedDataset(augloader.data.ImageFolder(root), per_sample, seed=0)` (the crop is drawn on the file header, the JPEG decodes at the smallest DCT scale that covers it, only the
  crop is resized, uint8, antialiased), then `BatchAugment(on_batch, mix=MixUpCutMix(0.2, 1.0,
  switch_prob=0.5, label_smoothing=0.1, num_classes=10), seed=0)` on the whole batch in the workers;
  float batches cross to the main process.
- **augloader (uint8 through workers)**: `split_pipeline(pipeline, uint8_batch=True)`: the workers return
  uint8 batches after TrivialAugmentWide; `DeviceAugmenter(loader, on_device (Normalize,
  RandomErasing), device="cpu", mix=MixUpCutMix(...), seed=0)` does the rest in the main process (the
  CPU stand-in for the GPU placement).
- **augloader on torchvision's ImageFolder (full decode)**: as the README recipe, but PIL decodes every
  file in full (what the lazy decode saves).

CPU ms/img = (user + sys time of this process + of its reaped worker processes, from `getrusage`
RUSAGE_SELF and RUSAGE_CHILDREN deltas around each run, after the loader has shut its workers down) /
images; "main / workers" splits it. Spread = (max - min) / median of images/s over the repeats.
Per core: the same runner functions with `num_workers=0` and `torch.set_num_threads(1)` (OpenCV, if
loaded, `setNumThreads(0)`): one thread in one process; ms/img is wall time, CPU ms/img from RUSAGE_SELF.
The photographs are mostly smooth macro shots, so the files are smaller than typical ImageNet JPEGs of
the same size (less entropy-decoding work per pixel).
"""


# ---- measuring ------------------------------------------------------------------------------------
@dataclass
class Sample:
    images: int
    wall: float
    main_cpu: float
    child_cpu: float


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    error: str = ""

    def _med(self, fn) -> float:
        return statistics.median(fn(s) for s in self.samples)

    @property
    def ips(self) -> float:
        return self._med(lambda s: s.images / s.wall)

    @property
    def spread(self) -> float:
        v = [s.images / s.wall for s in self.samples]
        return (max(v) - min(v)) / statistics.median(v)

    @property
    def wall_ms(self) -> float:
        return self._med(lambda s: 1e3 * s.wall / s.images)

    @property
    def cpu_ms(self) -> float:
        return self._med(lambda s: 1e3 * (s.main_cpu + s.child_cpu) / s.images)

    @property
    def main_ms(self) -> float:
        return self._med(lambda s: 1e3 * s.main_cpu / s.images)

    @property
    def child_ms(self) -> float:
        return self._med(lambda s: 1e3 * s.child_cpu / s.images)


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_once(factory: Factory, root: Path, indices: list, workers: int) -> tuple[Sample, Any]:
    """One fresh loader, iterated to the end and shut down; returns the sample and the first batch."""
    gc.collect()
    s0, c0, t0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    loader = factory(root, indices, workers)
    n, first = 0, None
    for batch in loader:  # exhausting a non-persistent DataLoader joins (reaps) its workers
        n += batch[0].shape[0]
        if first is None:
            first = batch
    del loader
    batch = None
    t1 = time.perf_counter()
    left = multiprocessing.active_children()  # also reaps any worker that already exited
    if left:
        raise RuntimeError(f"worker processes still alive after the loader finished: {left}")
    s1, c1 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    return Sample(n, t1 - t0, s1 - s0, c1 - c0), first


def _describe(batch: Any) -> str:
    parts = []
    for x in batch[:2]:
        parts.append(
            f"{tuple(x.shape)} {str(x.dtype).replace('torch.', '')}"
            if isinstance(x, torch.Tensor)
            else type(x).__name__
        )
    return ", ".join(parts)


def measure(
    runners: list[Runner], root: Path, indices: list, warm_indices: list, workers: int, repeats: int
) -> dict[str, Result]:
    """One untimed warm-up run per runner (a failing runner is reported and dropped), then ``repeats``
    interleaved rounds, each runner with a fresh loader."""
    results = {r.name: Result() for r in runners}
    live = []
    for r in runners:
        try:
            _, first = run_once(r.factory, root, warm_indices, workers)
            print(f"  warm-up {r.name}: {_describe(first)}", flush=True)
            live.append(r)
        except Exception as e:  # noqa: BLE001 - one broken runner must not hide the others' numbers
            traceback.print_exc()
            results[r.name].error = f"{type(e).__name__}: {e}".splitlines()[0][:160]
    for rep in range(repeats):
        for r in list(live):
            try:
                sample, _ = run_once(r.factory, root, indices, workers)
            except Exception as e:  # noqa: BLE001 - as above; its earlier repeats are dropped too
                traceback.print_exc()
                results[r.name] = Result(error=f"{type(e).__name__} in repeat {rep + 1}: {e}".splitlines()[0][:160])
                live.remove(r)
                continue
            results[r.name].samples.append(sample)
            print(
                f"  [{rep + 1}/{repeats}] {r.name}: {sample.images / sample.wall:,.1f} img/s, "
                f"{1e3 * (sample.main_cpu + sample.child_cpu) / sample.images:.1f} CPU ms/img",
                flush=True,
            )
    return results


class one_core:
    """``torch.set_num_threads(1)`` (and OpenCV's ``setNumThreads(0)`` if loaded) inside the block."""

    def __enter__(self):
        self.threads = torch.get_num_threads()
        torch.set_num_threads(1)
        self.cv2 = sys.modules.get("cv2")
        if self.cv2 is not None:
            self.cv2_threads = self.cv2.getNumThreads()
            self.cv2.setNumThreads(0)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.threads)
        if self.cv2 is not None:
            self.cv2.setNumThreads(self.cv2_threads)


def file_indices(root: Path, n: int, seed: int = 0) -> list[int]:
    """``n`` file indices: a seeded permutation of the folder, cycled when ``n`` exceeds it."""
    from torchvision.datasets import ImageFolder

    size = len(ImageFolder(str(root)))
    perm = torch.randperm(size, generator=torch.Generator().manual_seed(seed)).tolist()
    return [perm[i % size] for i in range(n)]


# ---- report ---------------------------------------------------------------------------------------
def machine_extra() -> str:
    import PIL
    from PIL import features

    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line
                break
    except OSError:
        pass
    avx512 = "AVX-512" if "avx512f" in flags else ("AVX2, no AVX-512" if "avx2" in flags else "no AVX2/AVX-512")
    simd = "Pillow-SIMD" if "post" in PIL.__version__ else "plain Pillow (not Pillow-SIMD)"
    turbo = features.version_feature("libjpeg_turbo") if features.check_feature("libjpeg_turbo") else None
    jpeg = f"libjpeg-turbo {turbo}" if turbo else f"libjpeg {features.version('jpg')}"
    return (
        f"CPU flags: {avx512}. PIL: {simd} {PIL.__version__}, {jpeg}. DataLoader start method: "
        f"{multiprocessing.get_start_method()}; main-process torch threads in the {WORKERS}-worker tables: "
        f"{torch.get_num_threads()}.\n"
    )


def _ratio(x: float, base: float | None) -> str:
    return f"{x / base:.2f}x" if base else "-"


def loader_table(results: dict[str, Result]) -> list[str]:
    ok = {k: v for k, v in results.items() if v.samples}
    tv = ok[TV].ips if TV in ok else None
    tm = ok[TIMM].ips if TIMM in ok else None
    lines = [
        "| runner | images/s | spread | CPU ms/img | main / workers ms/img | vs torchvision | vs timm |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for name, r in results.items():
        if not r.samples:
            lines.append(f"| {name} | {r.error or 'skipped'} | | | | | |")
            continue
        ratios = (_ratio(r.ips, tv), _ratio(r.ips, tm)) if name.startswith("augloader") else ("-", "-")
        lines.append(
            f"| {name} | {r.ips:,.1f} | {100 * r.spread:.0f}% | {r.cpu_ms:.1f} | {r.main_ms:.1f} / {r.child_ms:.1f} "
            f"| {ratios[0]} | {ratios[1]} |"
        )
    return lines


def per_core_table(per_set: dict[str, dict[str, Result]]) -> list[str]:
    sets = list(per_set)
    head = " | ".join(f"{s}: ms/img | {s}: CPU ms/img" for s in sets)
    lines = [f"| runner | {head} |", "|---|" + "--:|--:|" * len(sets)]
    names = list(dict.fromkeys(n for res in per_set.values() for n in res))
    for name in names:
        cells = []
        for s in sets:
            r = per_set[s].get(name)
            if r is None or not r.samples:
                cells += [(r.error if r is not None and r.error else "skipped"), ""]
            else:
                cells += [f"{r.wall_ms:.1f}", f"{r.cpu_ms:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


# ---- main -----------------------------------------------------------------------------------------
def main(argv=None) -> list[str]:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 2 batches (1 for the large set), 1 repeat, 1 per-core batch"
    )
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats (median reported)")
    ap.add_argument("--batches", type=int, default=20, help="batches of 32 per run, small-photo set")
    ap.add_argument("--large-batches", type=int, default=10, help="batches of 32 per run, large-photo set")
    ap.add_argument("--per-core-batches", type=int, default=4, help="batches of 32 per run in the per-core section")
    ap.add_argument("--sets", default="small,large", help="comma-separated: small, large")
    ap.add_argument("--runners", default=",".join(r.key for r in RUNNERS), help="comma-separated runner keys")
    ap.add_argument(
        "--main-threads",
        type=int,
        default=None,
        help="torch threads of the main process in the worker tables (default: torch's own default)",
    )
    ap.add_argument("--no-per-core", action="store_true", help="skip the one-thread, no-worker section")
    ap.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/files.md alone")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats, args.batches, args.large_batches, args.per_core_batches = 1, 2, 1, 1
    sets = args.sets.split(",")
    batches = {"small": args.batches, "large": args.large_batches}
    wanted = set(args.runners.split(","))
    unknown = wanted - {r.key for r in RUNNERS}
    if unknown:
        raise SystemExit(f"unknown runners: {sorted(unknown)}; known: {[r.key for r in RUNNERS]}")

    if args.main_threads is not None:
        torch.set_num_threads(args.main_threads)
    roots = {s: make_photo_folders.build(s) for s in sets}
    header = machine_header(("torchvision", "timm", "PIL", "numpy")) + "\n" + machine_extra()
    runners, skipped = [], []
    for r in RUNNERS:
        if r.key not in wanted:
            continue
        if r.available():
            runners.append(r)
        else:
            skipped.append(f"- {r.name}: skipped, {r.missing}.")
    if args.quick:
        header += "\n**Smoke run (`--quick`): 1 repeat of very few images; not a measurement.**\n"
    print(header, flush=True)

    lines: list[str] = []
    per_core: dict[str, dict[str, Result]] = {}
    for s in sets:
        n = batches[s] * BATCH
        indices = file_indices(roots[s], n)
        warm = indices[:BATCH]
        print(f"== {s}: {n} images per run, {WORKERS} workers ==", flush=True)
        res = measure(runners, roots[s], indices, warm, WORKERS, args.repeats)
        block = len(lines)
        lines.append(f"\n### {s} set: {make_photo_folders.describe(s)}\n")
        lines.append(
            f"{n} images per run ({batches[s]} batches of {BATCH}), {WORKERS} workers, median of {args.repeats} "
            f"interleaved repeats.\n"
        )
        lines += loader_table(res)
        print("\n".join(lines[block:]), flush=True)
        if not args.no_per_core:
            pc_n = args.per_core_batches * BATCH
            print(f"== {s}: per core, {pc_n} images per run, no workers, 1 thread ==", flush=True)
            with one_core():
                per_core[s] = measure(runners, roots[s], indices[:pc_n], warm, 0, args.repeats)
    if per_core:
        block = len(lines)
        lines.append(
            f"\n### Per core: no workers, one torch thread ({args.per_core_batches * BATCH} images per run, "
            f"median of {args.repeats} interleaved repeats)\n"
        )
        lines += per_core_table(per_core)
        print("\n".join(lines[block:]), flush=True)
    if skipped:
        lines.append("")
        lines += skipped
    if not args.no_write:
        write_report(
            "files", "Benchmark: JPEG folders through the DataLoader, a full training recipe", header + NOTES, lines
        )
    return lines


if __name__ == "__main__":
    main()
