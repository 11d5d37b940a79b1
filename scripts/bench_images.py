"""Image pipelines P1-P3: augloader vs torchvision v2, kornia and albumentations, side by side.

Run through ``scripts/bench.py`` (or directly). Every library gets the same uint8 data in memory and
the same pipeline. Reported: images/s (median of interleaved repeats) and ratios to the per-sample
torchvision DataLoader, which is what most users run today.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

import torch
from benchlib import machine_header, measure, write_report
from torch.utils.data import DataLoader, Dataset

NOTES = """
Images/s, median of interleaved repeats; every runner sees the same uint8 images (smooth random
content) in memory. DataLoader runners use 2 worker processes (1 torch thread each, PyTorch's
default in workers); in-process runners use 2 torch threads. (a) is what most users run today.
augloader's "BatchCollate" row is its transform as the collate_fn of the same DataLoader, fetching
each batch with one indexing (`__getitems__`, how an in-memory dataset feeds a batch transform); the
hue_mode='linear' rows use the gray-axis hue rotation instead of exact HSV (an approximation).
The "(floor)" row is a DataLoader whose collate_fn only allocates the float output batch: the
most a library can deliver through a 2-worker DataLoader on PyTorch's own transfer (every batch
crosses to the main process in a fresh shared-memory segment, whose pages fault on first write).
augloader's workers write their batches into segments they reuse once the main process has dropped
them (`augloader/_batch_pool.py`), so its DataLoader rows can pass the floor.
"""

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


@dataclass
class Pipeline:
    name: str
    size: int  # input side
    batch: int
    n_batches: int


PIPELINES = {
    "P1": Pipeline("P1 RandomResizedCrop 224 + flip + ColorJitter + Normalize", 256, 64, 6),
    "P2": Pipeline("P2 RandomCrop 32 pad 4 + flip + Normalize", 32, 256, 40),
    "P3": Pipeline("P3 RandomAffine + flip + GaussianBlur 5", 224, 64, 6),
}


# ---- pipeline definitions per library ------------------------------------------------------------
def augloader_pipeline(key: str, hue_mode: str = "hsv"):
    import augloader as A

    if key == "P1":
        return A.Compose(
            [
                A.RandomResizedCrop(224),
                A.RandomHorizontalFlip(),
                A.ColorJitter(0.4, 0.4, 0.4, 0.1, hue_mode=hue_mode),
                A.Normalize(MEAN, STD),
            ]
        )
    if key == "P2":
        return A.Compose([A.RandomCrop(32, padding=4), A.RandomHorizontalFlip(), A.Normalize(MEAN, STD)])
    return A.Compose(
        [A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.GaussianBlur(5, (0.1, 2.0))]
    )


def torchvision_pipeline(key: str):
    from torchvision.transforms import v2

    to_float = [v2.ToDtype(torch.float32, scale=True)]
    if key == "P1":
        return v2.Compose(
            [
                v2.RandomResizedCrop(224, antialias=True),
                v2.RandomHorizontalFlip(),
                v2.ColorJitter(0.4, 0.4, 0.4, 0.1),
                *to_float,
                v2.Normalize(MEAN, STD),
            ]
        )
    if key == "P2":
        return v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip(), *to_float, v2.Normalize(MEAN, STD)])
    return v2.Compose(
        [
            v2.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10, interpolation=v2.InterpolationMode.BILINEAR),
            v2.RandomHorizontalFlip(),
            v2.GaussianBlur(5, (0.1, 2.0)),
            *to_float,
        ]
    )


def kornia_pipeline(key: str):
    import kornia.augmentation as K

    if key == "P1":
        return K.AugmentationSequential(
            K.RandomResizedCrop((224, 224)),
            K.RandomHorizontalFlip(),
            K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0),
            K.Normalize(torch.tensor(MEAN), torch.tensor(STD)),
        )
    if key == "P2":
        return K.AugmentationSequential(
            K.RandomCrop((32, 32), padding=4),
            K.RandomHorizontalFlip(),
            K.Normalize(torch.tensor(MEAN), torch.tensor(STD)),
        )
    return K.AugmentationSequential(
        K.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10, p=1.0),
        K.RandomHorizontalFlip(),
        K.RandomGaussianBlur((5, 5), (0.1, 2.0), p=1.0),
    )


def albumentations_pipeline(key: str):
    import albumentations as Al
    import cv2

    if key == "P1":
        return Al.Compose(
            [
                Al.RandomResizedCrop((224, 224)),
                Al.HorizontalFlip(),
                Al.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0),
                Al.Normalize(MEAN, STD),
                Al.ToTensorV2(),
            ]
        )
    if key == "P2":
        return Al.Compose(
            [
                Al.PadIfNeeded(40, 40, border_mode=cv2.BORDER_CONSTANT),
                Al.RandomCrop(32, 32),
                Al.HorizontalFlip(),
                Al.Normalize(MEAN, STD),
                Al.ToTensorV2(),
            ]
        )
    return Al.Compose(
        [
            Al.Affine(scale=(0.8, 1.2), translate_percent=(-0.1, 0.1), rotate=(-30, 30), shear=(-10, 10), p=1.0),
            Al.HorizontalFlip(),
            Al.GaussianBlur((5, 5), sigma_limit=(0.1, 2.0), p=1.0),
            Al.ToFloat(max_value=255),
            Al.ToTensorV2(),
        ]
    )


# ---- data ---------------------------------------------------------------------------------------
class TensorImages(Dataset):
    """uint8 (C, H, W) images in memory; optionally transformed per sample."""

    def __init__(self, data: torch.Tensor, transform: Callable | None = None, numpy_hwc: bool = False) -> None:
        self.data, self.transform, self.numpy_hwc = data, transform, numpy_hwc
        self.np_data = data.permute(0, 2, 3, 1).contiguous().numpy() if numpy_hwc else None

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, i: int):
        if self.numpy_hwc:
            return self.transform(image=self.np_data[i])["image"]
        x = self.data[i]
        return self.transform(x) if self.transform is not None else x


class BatchFetchImages(TensorImages):
    """For batch transforms: the DataLoader fetches a whole batch with one indexing (``__getitems__``)."""

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return self.data[torch.as_tensor(indices)]


class EmptyFloatBatch:
    """collate_fn doing no augmentation: a float batch of the output size (the DataLoader's own cost)."""

    def __init__(self, out_hw: tuple[int, int]) -> None:
        self.out_hw = out_hw

    def __call__(self, samples: torch.Tensor) -> torch.Tensor:
        return torch.empty((samples.shape[0], samples.shape[1], *self.out_hw), dtype=torch.float32)


class BatchCollate:
    """collate_fn that stacks uint8 samples and runs a batch transform in the worker."""

    def __init__(self, transform) -> None:
        self.transform = transform

    def __call__(self, samples):
        return self.transform(samples if isinstance(samples, torch.Tensor) else torch.stack(samples))


def make_data(p: Pipeline) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    n = p.batch * p.n_batches
    # Smooth random images (upsampled noise) so colour and geometry ops see realistic statistics.
    low = torch.randint(0, 256, (n, 3, max(p.size // 8, 4), max(p.size // 8, 4)), generator=g, dtype=torch.uint8)
    return (
        torch.nn.functional.interpolate(low.float(), size=(p.size, p.size), mode="bilinear", align_corners=False)
        .round()
        .to(torch.uint8)
    )


# ---- runners --------------------------------------------------------------------------------------
def _loader_runner(dataset: Dataset, batch: int, collate=None) -> Callable[[], int]:
    loader = DataLoader(
        dataset, batch_size=batch, num_workers=2, persistent_workers=True, collate_fn=collate, prefetch_factor=2
    )

    def run() -> int:
        n = 0
        for out in loader:
            n += out.shape[0]
        return n

    run()  # start the workers and warm up
    return run


def _batch_runner(data: torch.Tensor, batch: int, fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], int]:
    batches = list(data.split(batch))

    def run() -> int:
        n = 0
        for x in batches:
            fn(x)
            n += x.shape[0]
        return n

    run()
    return run


def runners_for(key: str, data: torch.Tensor, include: set[str]) -> dict[str, Callable[[], int]]:
    p = PIPELINES[key]
    out: dict[str, Callable[[], int]] = {}
    if "torchvision" in include:
        out["(a) torchvision v2 per sample, DataLoader 2 workers"] = _loader_runner(
            TensorImages(data, torchvision_pipeline(key)), p.batch
        )
        tv = torchvision_pipeline(key)
        out["(b) torchvision v2 whole batch (one param set)"] = _batch_runner(data, p.batch, tv)
    if "kornia" in include:
        k = kornia_pipeline(key)
        out["(c) kornia AugmentationSequential batch"] = _batch_runner(data, p.batch, lambda x: k(x.float().div_(255)))
    if "albumentations" in include:
        out["(d) albumentations per sample, DataLoader 2 workers"] = _loader_runner(
            TensorImages(data, albumentations_pipeline(key), numpy_hwc=True), p.batch
        )
    if "floor" in include:
        out_hw = (224, 224) if key in ("P1", "P3") else (32, 32)
        out["(floor) DataLoader 2 workers, float batch out, no augmentation"] = _loader_runner(
            BatchFetchImages(data), p.batch, EmptyFloatBatch(out_hw)
        )
    if "augloader" in include:
        out["augloader BatchCollate, DataLoader 2 workers"] = _loader_runner(
            BatchFetchImages(data), p.batch, BatchCollate(augloader_pipeline(key))
        )
        al = augloader_pipeline(key)
        out["augloader batch in-process"] = _batch_runner(data, p.batch, al)
        if key == "P1":
            fast = augloader_pipeline(key, hue_mode="linear")
            out["augloader BatchCollate, hue_mode='linear'"] = _loader_runner(
                BatchFetchImages(data), p.batch, BatchCollate(fast)
            )
            out["augloader in-process, hue_mode='linear'"] = _batch_runner(data, p.batch, fast)
    return out


TARGETS = {  # issue 2: minimum ratios against (a) and (d)
    "P1": {"(a)": 5.0, "(d)": 1.5},
    "P2": {"(a)": 12.0},
    "P3": {"(a)": 3.0, "(d)": 1.0},
}


def main(argv=None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--pipelines", default="P1,P2,P3")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--libs", default="torchvision,kornia,albumentations,augloader,floor")
    ap.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/images.md alone")
    args = ap.parse_args(argv)
    header = machine_header()
    torch.set_num_threads(2)
    include = set(args.libs.split(","))
    lines = []
    for key in args.pipelines.split(","):
        p = PIPELINES[key]
        data = make_data(p)
        runners = runners_for(key, data, include)
        result = measure(runners, args.repeats)
        base_a = next((v for k, v in result.items() if k.startswith("(a)")), None)
        base_d = next((v for k, v in result.items() if k.startswith("(d)")), None)
        block = len(lines)
        lines.append(f"\n### {p.name} ({p.size}x{p.size} uint8 in, batch {p.batch})\n")
        lines.append("| runner | images/s | vs (a) | vs (d) |")
        lines.append("|---|--:|--:|--:|")
        for name, ips in result.items():
            ra = f"{ips / base_a:.2f}x" if base_a else "-"
            rd = f"{ips / base_d:.2f}x" if base_d else "-"
            lines.append(f"| {name} | {ips:,.0f} | {ra} | {rd} |")
        if base_a:
            lines.append("")
            best = max((v for k, v in result.items() if k.startswith("augloader")), default=0.0)
            for ref, target in TARGETS[key].items():
                base = base_a if ref == "(a)" else base_d
                if base:
                    ok = "met" if best / base >= target else "MISSED"
                    lines.append(
                        f"- target: augloader >= {target}x {ref}; best augloader row {best / base:.2f}x ({ok})"
                    )
        print("\n".join(lines[block:]), flush=True)
    if not args.no_write:
        write_report("images", "Benchmark: image pipelines P1-P3", header + NOTES, lines)
    return lines


if __name__ == "__main__":
    main()
