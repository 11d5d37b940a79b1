"""augloader's demonstration on real data: augmentation closes the train/validation gap.

Fashion-MNIST (Debian's ``dataset-fashion-mnist``), a scarce stratified training set of 1,000 images
and a validation split drawn from the 60k training images with ``split_dataset``; the official 10k
test set is used once per run, at the end. A small CNN, same seed, same epochs, is trained

1. without augmentation, and 2. with an augloader pipeline (geometry + photometry + MixUp/CutMix)
   through ``BatchAugment``;
3. on an imbalanced cut (three classes reduced to 10%), with ``ClassBalancedAugment`` off and on.

Every claim is measured over ``--seeds`` seeds and reported as mean and spread. Outputs go to
``--out`` (default ``out/demo``): ``results.md`` (the table), ``results.json``, ``curves.png``
(loss and accuracy per epoch), ``pipeline.png`` (the pipeline on Fashion-MNIST) and
``photos.png`` (the ImageNet-style preset on photographs).

A progress bar with an ETA (one step per epoch) shows on a terminal; ``--quiet`` or ``AUGLOADER_QUIET=1``
hides it.

Usage: ``python scripts/demo.py [--seeds 3] [--epochs 60] [--out out/demo] [--fast] [--quiet]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

import augloader as A
from augloader._progress import progress
from augloader.data import AugmentedDataset, ClassBalancedAugment, loader, preview_grid, save_image, split_dataset
from augloader.losses import SoftTargetCrossEntropy
from augloader.mix import MixUpCutMix
from augloader.presets import imagenet_train

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MINORITY = (0, 2, 6)  # T-shirt, Pullover, Shirt: the classes most easily confused with each other
MEAN, STD = [0.286], [0.353]


# ---- data -------------------------------------------------------------------------------------------
def load_fashion_mnist(root: Path = FASHION_DIR) -> dict[str, Tensor]:
    """The four idx files as uint8 images ``(N, 1, 28, 28)`` and int64 labels ``(N,)``."""
    files = {
        k: root / f"{k}-ubyte.gz"
        for k in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")
    }
    if not all(f.exists() for f in files.values()):
        try:  # where the internet is reachable, torchvision's downloader is the fallback
            from torchvision.datasets import FashionMNIST

            tr = FashionMNIST("out/data", train=True, download=True)
            te = FashionMNIST("out/data", train=False, download=True)
            return {
                "train_x": tr.data.unsqueeze(1),
                "train_y": tr.targets,
                "test_x": te.data.unsqueeze(1),
                "test_y": te.targets,
            }
        except Exception as err:  # no package, no internet: say what to do
            raise SystemExit(
                f"Fashion-MNIST not found in {root} and could not be downloaded ({err}).\n"
                "Install it with `make testdata` (Debian package dataset-fashion-mnist) or `apt-get install dataset-fashion-mnist`."
            ) from None

    def read(path: Path, offset: int) -> np.ndarray:
        with gzip.open(path, "rb") as f:
            return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

    out = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = read(files[f"{prefix}-images-idx3"], 16).reshape(-1, 1, 28, 28)
        out[f"{split}_x"] = torch.from_numpy(x.copy())
        out[f"{split}_y"] = torch.from_numpy(read(files[f"{prefix}-labels-idx1"], 8).astype(np.int64))
    return out


class Pairs(Dataset):
    """``(image uint8 (1, 28, 28), label)`` pairs over tensors."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        return self.x[i], int(self.y[i])


# ---- model and training -----------------------------------------------------------------------------
class SmallCNN(nn.Module):
    """Two conv blocks and two linear layers: large enough to overfit 1,000 images, small enough for a CPU."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2w, 7, 7)
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


def normalize(x: Tensor) -> Tensor:
    return (x.float() / 255 - MEAN[0]) / STD[0]


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor) -> tuple[float, float, Tensor]:
    """Loss, accuracy and per-class recall on clean (unaugmented) images."""
    model.eval()
    logits = torch.cat([model(normalize(xb)) for xb in x.split(1000)])
    loss = F.cross_entropy(logits, y).item()
    pred = logits.argmax(1)
    recall = torch.stack(
        [(pred[y == c] == c).float().mean() if (y == c).any() else torch.tensor(float("nan")) for c in range(10)]
    )
    return loss, (pred == y).float().mean().item(), recall


def augmented_pipeline() -> A.Compose:
    """The demo's pipeline, tuned on the validation split only (see ``docs/demo.md``)."""
    return A.Compose(
        [
            A.RandomAffine(5, translate=(0.08, 0.08), scale=(0.95, 1.05)),
            A.RandomHorizontalFlip(),
            A.RandomErasing(p=0.2, scale=(0.02, 0.1)),
            A.Normalize(MEAN, STD),
        ]
    )


def strong_pipeline() -> A.Compose:
    """Stronger augmentation for minority classes under ClassBalancedAugment."""
    return A.Compose(
        [
            A.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
            A.RandomHorizontalFlip(),
            A.ColorJitter(brightness=0.2, contrast=0.2),
            A.RandomErasing(p=0.3, scale=(0.02, 0.12)),
            A.Normalize(MEAN, STD),
        ]
    )


def train_run(
    kind: str,
    train_view: Any,
    data: dict[str, Tensor],
    val: tuple[Tensor, Tensor],
    epochs: int,
    seed: int,
    batch_size: int = 64,
    on_epoch: Optional[Callable[[], None]] = None,
) -> dict[str, Any]:
    """Trains one model; returns per-epoch curves and the final metrics (``on_epoch`` is called after each epoch)."""
    torch.manual_seed(seed)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    labels = [int(data["train_y"][i]) for i in train_view.indices]
    ds = AugmentedDataset(train_view, seed=seed)
    if kind == "baseline":
        dl = loader(ds, batch_size, batch_transform=A.Normalize(MEAN, STD), seed=seed, shuffle=True)
    elif kind == "augmented":
        mix = MixUpCutMix(mixup_alpha=0.2, cutmix_alpha=1.0, prob=0.2, mode="elem", num_classes=10)
        dl = loader(ds, batch_size, batch_transform=augmented_pipeline(), mix=mix, seed=seed, shuffle=True)
    elif kind == "imbalanced":
        dl = loader(ds, batch_size, batch_transform=augmented_pipeline(), seed=seed, shuffle=True)
    elif kind == "balanced":
        balance = ClassBalancedAugment(labels, weak=augmented_pipeline(), strong=strong_pipeline(), seed=seed)
        dl = loader(ds, batch_size, sampler=balance, batch_transform=balance.transform, seed=seed)
    else:
        raise ValueError(kind)
    soft_loss = SoftTargetCrossEntropy()
    train_x = data["train_x"][train_view.indices]
    train_y = data["train_y"][train_view.indices]
    curves: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(dl))
    for epoch in range(epochs):
        dl.set_epoch(epoch)
        model.train()
        for images, targets in dl:
            logits = model(images)
            loss = soft_loss(logits, targets) if targets.dim() == 2 else F.cross_entropy(logits, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
        tl, ta, _ = evaluate(model, train_x, train_y)
        vl, va, _ = evaluate(model, *val)
        for k, v in zip(curves, (tl, ta, vl, va)):
            curves[k].append(v)
        if on_epoch is not None:
            on_epoch()
    test_loss, test_acc, recall = evaluate(model, data["test_x"], data["test_y"])
    return {
        "curves": curves,
        "train_acc": curves["train_acc"][-1],
        "val_acc": curves["val_acc"][-1],
        "gap": curves["train_acc"][-1] - curves["val_acc"][-1],
        "test_acc": test_acc,
        "recall": recall.tolist(),
        "minority_recall": float(recall[list(MINORITY)].mean()),
    }


# ---- reporting --------------------------------------------------------------------------------------
def mean_spread(values: list[float]) -> str:
    m = statistics.fmean(values)
    s = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * m:.1f} ± {100 * s:.1f}"


def table(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = [
        "| run | train acc % | val acc % | test acc % | train-val gap (pts) | minority recall % (T-shirt, Pullover, Shirt) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    names = {
        "baseline": "(1) no augmentation",
        "augmented": "(2) augloader pipeline + MixUp/CutMix",
        "imbalanced": "(3a) imbalanced, augmented, no balancing",
        "balanced": "(3b) imbalanced, ClassBalancedAugment",
    }
    for kind, runs in results.items():
        cells = [
            mean_spread([r[k] for r in runs]) for k in ("train_acc", "val_acc", "test_acc", "gap", "minority_recall")
        ]
        rows.append(f"| {names[kind]} | " + " | ".join(cells) + " |")
    return rows


def plot(results: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for kind, colour in (("baseline", "tab:red"), ("augmented", "tab:blue")):
        runs = results.get(kind)
        if not runs:
            continue
        for metric, ax in (("loss", axes[0]), ("acc", axes[1])):
            for split, style in (("train", "--"), ("val", "-")):
                curve = np.mean([r["curves"][f"{split}_{metric}"] for r in runs], axis=0)
                ax.plot(np.arange(1, len(curve) + 1), curve, style, color=colour, label=f"{kind} {split}")
    axes[0].set(title="loss (clean images, mean over seeds)", xlabel="epoch", yscale="log")
    axes[1].set(title="accuracy (clean images, mean over seeds)", xlabel="epoch")
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def photos(size: int = 256) -> Tensor:
    """scikit-image's bundled photographs as uint8 ``(4, 3, size, size)``."""
    from skimage import data

    out = []
    for img in (data.astronaut(), data.chelsea(), data.coffee(), data.rocket()):
        t = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0)
        t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(t[0].round().clamp(0, 255).to(torch.uint8))
    return torch.stack(out)


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--train-size", type=int, default=1000)
    ap.add_argument("--val-size", type=int, default=2000)
    ap.add_argument("--out", default="out/demo")
    ap.add_argument("--fast", action="store_true", help="a tiny smoke run (one seed, one epoch, small subsets)")
    ap.add_argument(
        "--quiet", action="store_true", help="no progress bar (also AUGLOADER_QUIET=1; none off a terminal)"
    )
    args = ap.parse_args(argv)
    if args.fast:
        args.seeds, args.epochs, args.train_size, args.val_size = 1, 1, 200, 200
    torch.set_num_threads(2)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = load_fashion_mnist()
    if args.fast:
        data["test_x"], data["test_y"] = data["test_x"][:500], data["test_y"][:500]
    full = Pairs(data["train_x"], data["train_y"])
    labels = data["train_y"].tolist()
    results: dict[str, list[dict[str, Any]]] = {"baseline": [], "augmented": [], "imbalanced": [], "balanced": []}
    kinds = len(results)
    bar = progress(total=args.seeds * kinds * args.epochs, desc="demo", unit="epoch", quiet=args.quiet)
    for seed in range(args.seeds):
        train_view, val_view = split_dataset(full, (args.train_size, args.val_size), stratify=labels, seed=seed)
        val = (data["train_x"][val_view.indices], data["train_y"][val_view.indices])
        # the imbalanced cut: keep 10% of the minority classes' training images
        keep = [i for i in train_view.indices if int(data["train_y"][i]) not in MINORITY]
        for c in MINORITY:
            members = [i for i in train_view.indices if int(data["train_y"][i]) == c]
            keep += members[: max(1, len(members) // 10)]
        imbalanced_view = torch.utils.data.Subset(full, sorted(keep))
        imbalanced_view.role = "train"
        for kind, view in (
            ("baseline", train_view),
            ("augmented", train_view),
            ("imbalanced", imbalanced_view),
            ("balanced", imbalanced_view),
        ):
            r = train_run(kind, view, data, val, args.epochs, seed, on_epoch=lambda: bar.update(1))
            results[kind].append(r)
            bar.write(
                f"seed {seed} {kind:>10}: train {100 * r['train_acc']:.1f}%  val {100 * r['val_acc']:.1f}%  "
                f"test {100 * r['test_acc']:.1f}%  minority recall {100 * r['minority_recall']:.1f}%",
                file=sys.stdout,
            )
    bar.close()
    rows = table(results)
    summary = {
        "seeds": args.seeds,
        "epochs": args.epochs,
        "train_size": args.train_size,
        "val_size": args.val_size,
        "seconds": round(time.perf_counter() - t0, 1),
        "results": results,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    (out / "results.md").write_text(
        f"Fashion-MNIST, {args.train_size} training images (stratified), {args.val_size} validation images, "
        f"official 10k test set; SmallCNN (BatchNorm), Adam 2e-3 with cosine decay, batch 64, {args.epochs} epochs; mean ± std over "
        f"{args.seeds} seeds.\n\n" + "\n".join(rows) + "\n"
    )
    plot(results, out / "curves.png")
    g = torch.Generator().manual_seed(0)
    idx = [int((data["train_y"] == c).nonzero()[0]) for c in range(0, 10, 2)]
    save_image(
        preview_grid(data["train_x"][idx], augmented_pipeline(), variants=8, generator=g, cell=56), out / "pipeline.png"
    )
    save_image(
        preview_grid(photos(), imagenet_train(224, normalize=False), variants=6, generator=g, cell=160),
        out / "photos.png",
    )
    print("\n" + "\n".join(rows))
    print(f"\nwrote {out}/results.md, results.json, curves.png, pipeline.png, photos.png in {summary['seconds']} s")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
