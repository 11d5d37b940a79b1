"""TrivialAugmentWide and RandAugment(2, 9): augloader's batch vs torchvision v2 per sample, per core.

One torch thread (``torch.set_num_threads(1)``); uint8 ``(B, 3, 224, 224)`` crops of real photographs
(scikit-image's sample images). Each round times every runner once on the same batch, in turn
(interleaved), and the report gives the median over rounds in milliseconds per image. Writes
``benchmarks/policies.md``.

    python scripts/bench_policies.py [--repeats 15] [--batches 8 32 128]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F
from benchlib import machine_header, write_report

NOTES = """
Milliseconds per image (lower is better), median of interleaved rounds, one torch thread. Every
runner sees the same uint8 (B, 3, 224, 224) batch of real photographs (random 224 crops of
scikit-image's sample images at random scales, some flipped). augloader draws ops, signs and
magnitudes per sample and runs each op on the samples that drew it; torchvision v2 is called once
per image (its usual Dataset-side use), on uint8 tensors and on PIL images (PIL in, PIL out, no
conversion counted). torchvision's policies default to nearest interpolation, augloader's to
bilinear: the "nearest" column is the like-for-like comparison, the "bilinear" one augloader's
default. augloader applies all geometric picks of a sample first, in one resampling (see
augloader.transforms.policies); torchvision resamples once per geometric op in the drawn order.
Policies run on the whole batch (the CPU engine does not split it into cache-sized chunks for them),
so their per-call overhead is paid once per batch. The machine
is shared with other work (2 cores): single numbers move by 10-20% between runs; the interleaved
rounds keep each row's columns comparable.
"""

SOURCES = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "motorcycle_left",
)


def photos(n: int, size: int = 224, seed: int = 0) -> torch.Tensor:
    """``n`` uint8 ``(3, size, size)`` crops of real photographs at random scales, some flipped."""
    from skimage import data

    g = torch.Generator().manual_seed(seed)
    images = []
    for name in SOURCES:
        try:
            img = torch.from_numpy(getattr(data, name)()[..., :3].copy()).permute(2, 0, 1)
        except Exception:  # a sample image that needs a download: skip it
            continue
        images.append(img)
    out = torch.empty(n, 3, size, size, dtype=torch.uint8)
    for i in range(n):
        img = images[i % len(images)].unsqueeze(0).float()
        side = min(img.shape[-2:])
        scale = (size + torch.rand(1, generator=g).item() * (side - size)) / side
        h, w = max(size, round(img.shape[-2] * scale)), max(size, round(img.shape[-1] * scale))
        img = F.interpolate(img, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        top = int(torch.randint(0, h - size + 1, (1,), generator=g))
        left = int(torch.randint(0, w - size + 1, (1,), generator=g))
        crop = img[0, :, top : top + size, left : left + size]
        out[i] = (crop.flip(-1) if i % 3 == 1 else crop).round().clamp(0, 255).to(torch.uint8)
    return out


def runners(policy: str, batch: torch.Tensor) -> dict[str, Callable[[], None]]:
    import torchvision.transforms.v2 as T2
    import torchvision.transforms.v2.functional as TF

    import augloader as A

    if policy == "TrivialAugmentWide":
        ours = {i: A.TrivialAugmentWide(interpolation=i) for i in ("nearest", "bilinear")}
        theirs = T2.TrivialAugmentWide()
    else:
        ours = {i: A.RandAugment(2, 9, interpolation=i) for i in ("nearest", "bilinear")}
        theirs = T2.RandAugment(2, 9)
    g = torch.Generator().manual_seed(0)
    images = list(batch)
    pils = [TF.to_pil_image(img) for img in images]
    return {
        "augloader nearest": lambda: ours["nearest"](batch, generator=g),
        "augloader bilinear": lambda: ours["bilinear"](batch, generator=g),
        "torchvision tensor": lambda: [theirs(img) for img in images],
        "torchvision PIL": lambda: [theirs(img) for img in pils],
    }


def measure(run: dict[str, Callable[[], None]], n: int, repeats: int) -> dict[str, float]:
    """Median ms per image per runner over ``repeats`` interleaved rounds (after one warm-up each)."""
    for f in run.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in run}
    for _ in range(repeats):
        for name, f in run.items():
            t0 = time.perf_counter()
            f()
            times[name].append((time.perf_counter() - t0) * 1e3 / n)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batches", type=int, nargs="+", default=[8, 32, 128])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    header = machine_header(("torchvision", "PIL"))
    pool = photos(max(args.batches))
    lines = [
        NOTES,
        "| policy | B | augloader nearest | augloader bilinear | torchvision tensor | torchvision PIL |"
        " torchvision tensor / augloader nearest |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for policy in ("TrivialAugmentWide", "RandAugment(2, 9)"):
        for b in args.batches:
            ms = measure(runners(policy, pool[:b]), b, args.repeats)
            row = (
                f"| {policy} | {b} | {ms['augloader nearest']:.3f} | {ms['augloader bilinear']:.3f} | "
                f"{ms['torchvision tensor']:.3f} | {ms['torchvision PIL']:.3f} | "
                f"{ms['torchvision tensor'] / ms['augloader nearest']:.2f}x |"
            )
            print(row, flush=True)
            lines.append(row)
    write_report("policies", "Benchmark: RandAugment-style policies, per core", header, lines)


if __name__ == "__main__":
    main()
