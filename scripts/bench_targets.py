"""P1 with detection/segmentation targets: augloader vs albumentations, same boxes and masks.

P1 (RandomResizedCrop 224 + flip + ColorJitter + Normalize, see ``bench_images.py``) on 256x256
uint8 images, each with 20 boxes (+ a label per box) and a uint8 segmentation mask. Both libraries
run in a DataLoader with 2 workers; augloader also in-process. Run directly or through
``scripts/bench.py --suite targets``; writes ``benchmarks/targets.md``.
"""

from __future__ import annotations

import argparse
from typing import Callable

import torch
from benchlib import machine_header, measure, write_report
from torch.utils.data import DataLoader, Dataset

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
SIZE, BATCH, N_BATCHES, N_BOXES = 256, 64, 6, 20

NOTES = """
Images/s (each with 20 boxes and a mask), median of interleaved repeats; every runner sees the same
uint8 images, boxes (xyxy pixels, 10-80 px, one integer label each) and uint8 masks in memory.
DataLoader runners use 2 worker processes (1 torch thread each). albumentations runs per sample
(`BboxParams(format="pascal_voc", label_fields=["labels"])`, the mask through `mask=`) and its
collate_fn stacks images and masks and keeps each image's boxes and labels as tensors in lists
(their number varies after filtering). augloader runs the batch in the collate_fn
(`__getitems__` fetches the batch with one indexing) and returns padded boxes `(B, 20, 4)` with
`boxes_valid` and `box_labels` aligned, the mask `(B, 224, 224)` resampled with nearest (one exact
gather: the map is axis-aligned). The hue_mode='linear' rows rotate hue about the gray axis (an
approximation of HSV hue, see the README), the exact HSV hue is augloader's default.
Boxes are clipped and kept when any part is visible in both (albumentations' defaults:
min_visibility 0, min_area 0).
"""


def make_data(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    n = BATCH * N_BATCHES
    low = torch.randint(0, 256, (n, 3, SIZE // 8, SIZE // 8), generator=g, dtype=torch.uint8)
    images = (
        torch.nn.functional.interpolate(low.float(), size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        .round()
        .to(torch.uint8)
    )
    wh = 10 + torch.rand(n, N_BOXES, 2, generator=g) * 70
    xy = torch.rand(n, N_BOXES, 2, generator=g) * (SIZE - wh)
    boxes = torch.cat([xy, xy + wh], dim=-1).round()  # (n, 20, 4) xyxy pixels
    labels = torch.randint(0, 80, (n, N_BOXES), generator=g)
    masks = torch.zeros(n, SIZE, SIZE, dtype=torch.uint8)
    for k in range(5):  # a few filled boxes per mask: realistic runs of labels (setup, not timed)
        for i in range(n):
            x0, y0, x1, y1 = boxes[i, k].long().tolist()
            masks[i, y0:y1, x0:x1] = k + 1
    return images, boxes, labels, masks


# ---- augloader ----------------------------------------------------------------------------------
def augloader_pipeline(hue_mode: str = "hsv"):
    import augloader as A

    return A.Compose(
        [
            A.RandomResizedCrop(224),
            A.RandomHorizontalFlip(),
            A.ColorJitter(0.4, 0.4, 0.4, 0.1, hue_mode=hue_mode),
            A.Normalize(MEAN, STD),
        ]
    )


class BatchTargets(Dataset):
    def __init__(self, images, boxes, labels, masks) -> None:
        self.images, self.boxes, self.labels, self.masks = images, boxes, labels, masks

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitems__(self, indices: list[int]) -> dict:
        idx = torch.as_tensor(indices)
        return {
            "image": self.images[idx],
            "boxes": self.boxes[idx],
            "box_labels": self.labels[idx],
            "mask": self.masks[idx],
        }


class Augment:
    def __init__(self, transform) -> None:
        self.transform = transform

    def __call__(self, batch: dict) -> dict:
        return self.transform(batch)


# ---- albumentations ------------------------------------------------------------------------------
def albumentations_pipeline():
    import albumentations as Al

    return Al.Compose(
        [
            Al.RandomResizedCrop((224, 224)),
            Al.HorizontalFlip(),
            Al.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0),
            Al.Normalize(MEAN, STD),
            Al.ToTensorV2(),
        ],
        bbox_params=Al.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )


class PerSample(Dataset):
    def __init__(self, images, boxes, labels, masks, transform) -> None:
        self.images = images.permute(0, 2, 3, 1).contiguous().numpy()
        self.boxes, self.labels, self.masks = boxes.numpy(), labels.numpy(), masks.numpy()
        self.transform = transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> dict:
        out = self.transform(image=self.images[i], mask=self.masks[i], bboxes=self.boxes[i], labels=self.labels[i])
        return {
            "image": out["image"],
            "mask": out["mask"],
            "boxes": torch.as_tensor(out["bboxes"], dtype=torch.float32).view(-1, 4),
            "box_labels": torch.as_tensor(out["labels"]),
        }


def collate_lists(samples: list[dict]) -> dict:
    return {
        "image": torch.stack([s["image"] for s in samples]),
        "mask": torch.stack([s["mask"] for s in samples]),
        "boxes": [s["boxes"] for s in samples],
        "box_labels": [s["box_labels"] for s in samples],
    }


# ---- runners ---------------------------------------------------------------------------------------
def _loader_runner(dataset: Dataset, collate) -> Callable[[], int]:
    loader = DataLoader(
        dataset, batch_size=BATCH, num_workers=2, persistent_workers=True, collate_fn=collate, prefetch_factor=2
    )

    def run() -> int:
        n = 0
        for out in loader:
            n += out["image"].shape[0]
        return n

    run()  # start the workers and warm up
    return run


def _in_process_runner(data, transform) -> Callable[[], int]:
    images, boxes, labels, masks = data
    batches = [
        {
            "image": images[s : s + BATCH],
            "boxes": boxes[s : s + BATCH],
            "box_labels": labels[s : s + BATCH],
            "mask": masks[s : s + BATCH],
        }
        for s in range(0, images.shape[0], BATCH)
    ]

    def run() -> int:
        for b in batches:
            transform(b)
        return images.shape[0]

    run()
    return run


TARGET = 1.5  # issue 3: augloader >= 1.5x albumentations, both in a 2-worker DataLoader


def main(argv=None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/targets.md alone")
    args = ap.parse_args(argv)
    header = machine_header(("albumentations", "cv2", "numpy"))
    torch.set_num_threads(2)
    data = make_data()
    runners = {
        "(d) albumentations per sample, DataLoader 2 workers": _loader_runner(
            PerSample(*data, albumentations_pipeline()), collate_lists
        ),
        "augloader BatchCollate, DataLoader 2 workers": _loader_runner(
            BatchTargets(*data), Augment(augloader_pipeline())
        ),
        "augloader batch in-process (2 threads)": _in_process_runner(data, augloader_pipeline()),
        "augloader BatchCollate, hue_mode='linear'": _loader_runner(
            BatchTargets(*data), Augment(augloader_pipeline("linear"))
        ),
        "augloader in-process, hue_mode='linear'": _in_process_runner(data, augloader_pipeline("linear")),
    }
    result = measure(runners, args.repeats)
    base = result["(d) albumentations per sample, DataLoader 2 workers"]
    lines = [
        f"\n### P1 + 20 boxes + mask ({SIZE}x{SIZE} uint8 in, 224x224 out, batch {BATCH})\n",
        "| runner | images/s | vs (d) |",
        "|---|--:|--:|",
    ]
    for name, ips in result.items():
        lines.append(f"| {name} | {ips:,.0f} | {ips / base:.2f}x |")
    lines.append("")
    for row in ("augloader BatchCollate, DataLoader 2 workers", "augloader BatchCollate, hue_mode='linear'"):
        same = result[row] / base
        lines.append(
            f"- target: augloader >= {TARGET}x (d) in the same 2-worker DataLoader; {row}: {same:.2f}x "
            f"({'met' if same >= TARGET else 'MISSED'})"
        )
    print("\n".join(lines), flush=True)
    if not args.no_write:
        write_report("targets", "Benchmark: P1 with boxes and masks (issue 3)", header + NOTES, lines)
    return lines


if __name__ == "__main__":
    main()
