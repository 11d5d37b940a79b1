"""Trains augloader's small class-conditional generator (``ConditionalVAE``) on Fashion-MNIST, then checks it.

The sanity figure: a classifier trained on *real* Fashion-MNIST (``SmallCNN`` from ``scripts/demo.py``)
labels ``--per-class`` generated images of every class; the accuracy against the classes the generator was
asked for should be well above chance (10%; target > 70%). For reference the same classifier's accuracy on
the real 10k test set is reported too.

Outputs in the folder of ``--out`` (default ``out/generator.pt``): the checkpoint, ``generator_report.md``
(the table), ``generator_report.json`` and ``generator_samples.png`` (one row of samples per class).

Usage: ``python scripts/train_generator.py [--epochs 6] [--train-size 60000] [--threads 1] [--out out/generator.pt] [--fast]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Optional

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import CLASSES, SmallCNN, evaluate, load_fashion_mnist, normalize  # noqa: E402

from augloader.advanced.generative import ConditionalVAE, train_vae  # noqa: E402
from augloader.data import save_image  # noqa: E402


def train_classifier(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, batch_size: int = 128) -> SmallCNN:
    """SmallCNN on real images (no augmentation), Adam 2e-3 with cosine decay."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = SmallCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = epochs * ((len(y) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        for start in range(0, len(y), batch_size):
            idx = order[start : start + batch_size]
            loss = F.cross_entropy(model(normalize(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
    model.eval()
    return model


def sample_grid(vae: ConditionalVAE, per_row: int, seed: int) -> torch.Tensor:
    """uint8 ``(1, 10*28, per_row*28)``: row c holds ``per_row`` samples of class c."""
    labels = torch.arange(10).repeat_interleave(per_row)
    imgs = vae.sample(labels, torch.Generator().manual_seed(seed))  # (10*per_row, 1, 28, 28)
    grid = imgs.view(10, per_row, 1, 28, 28).permute(2, 0, 3, 1, 4).reshape(1, 10 * 28, per_row * 28)
    return grid.repeat_interleave(2, 1).repeat_interleave(2, 2)  # x2 for legibility


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=6, help="VAE epochs")
    ap.add_argument(
        "--train-size", type=int, default=60000, help="training images used (a stratified-enough prefix of a shuffle)"
    )
    ap.add_argument("--clf-epochs", type=int, default=2, help="epochs of the real-data classifier")
    ap.add_argument("--per-class", type=int, default=100, help="generated images per class for the check (10 classes)")
    ap.add_argument("--latent", type=int, default=8)
    ap.add_argument("--width", type=int, default=16, help="ConditionalVAE conv width")
    ap.add_argument("--batch-size", type=int, default=64, help="VAE batch size")
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest for these small models on a shared machine)"
    )
    ap.add_argument(
        "--classifier", default=None, help="reuse a saved classifier state_dict (else one is trained and saved)"
    )
    ap.add_argument("--out", default="out/generator.pt")
    ap.add_argument("--fast", action="store_true", help="a smoke run: 2,000 images, 1 epoch each")
    args = ap.parse_args(argv)
    if args.fast:
        args.epochs, args.train_size, args.clf_epochs, args.per_class = 1, 2000, 1, 20
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = load_fashion_mnist()
    order = torch.randperm(len(data["train_y"]), generator=torch.Generator().manual_seed(args.seed))[: args.train_size]
    x, y = data["train_x"][order], data["train_y"][order]

    vae = ConditionalVAE(num_classes=10, latent_dim=args.latent, width=args.width)
    history = train_vae(
        vae,
        x,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        log=lambda m: print("vae", m, flush=True),
    )
    torch.save(
        {
            "model": vae.state_dict(),
            "config": {"num_classes": 10, "image_shape": (1, 28, 28), "latent_dim": args.latent, "width": args.width},
        },
        out,
    )
    t_vae = time.perf_counter() - t0

    reused = bool(args.classifier and Path(args.classifier).exists())
    if reused:
        clf = SmallCNN()
        clf.load_state_dict(torch.load(args.classifier))
        clf.eval()
    else:
        clf = train_classifier(x, y, args.clf_epochs, args.seed)
        torch.save(clf.state_dict(), out.with_name("classifier.pt"))
    t_clf = time.perf_counter() - t0 - t_vae
    clf_note = (
        f"SmallCNN reused from {args.classifier}"
        if reused
        else f"SmallCNN trained {args.clf_epochs} epochs on the same real images ({t_clf:.0f} s)"
    )
    _, real_acc, _ = evaluate(clf, data["test_x"], data["test_y"])

    labels = torch.arange(10).repeat_interleave(args.per_class)
    fake = vae.sample(labels, torch.Generator().manual_seed(args.seed + 1), temperature=args.temperature)
    _, gen_acc, recall = evaluate(clf, fake, labels)
    seconds = time.perf_counter() - t0

    rows = ["| class | real-data classifier recognises generated images as their class (%) |", "|---|--:|"]
    rows += [f"| {c} {name} | {100 * float(r):.1f} |" for c, (name, r) in enumerate(zip(CLASSES, recall))]
    rows.append(f"| **all ({10 * args.per_class} generated images)** | **{100 * gen_acc:.1f}** |")
    header = (
        f"ConditionalVAE (latent {args.latent}, width {args.width}, batch {args.batch_size}), {args.epochs} epochs on {len(y)} Fashion-MNIST training images "
        f"({t_vae:.0f} s); classifier: {clf_note}, "
        f"{100 * real_acc:.1f}% on the real 10k test set. Chance: 10%. Sampling temperature "
        f"{args.temperature}; total {seconds:.0f} s on {args.threads} CPU threads.\n"
    )
    (out.with_name("generator_report.md")).write_text(header + "\n" + "\n".join(rows) + "\n")
    summary = {
        "epochs": args.epochs,
        "train_size": len(y),
        "vae_loss": history,
        "classifier_real_test_acc": real_acc,
        "generated_acc": gen_acc,
        "per_class_recall": recall.tolist(),
        "per_class": args.per_class,
        "seconds": round(seconds, 1),
        "vae_seconds": round(t_vae, 1),
        "classifier_seconds": round(t_clf, 1),
    }
    (out.with_name("generator_report.json")).write_text(json.dumps(summary, indent=1))
    save_image(sample_grid(vae, 10, args.seed + 2), out.with_name("generator_samples.png"))
    print("\n" + header + "\n" + "\n".join(rows))
    print(f"\nwrote {out}, {out.with_name('generator_report.md')}, generator_report.json, generator_samples.png")
    return summary


if __name__ == "__main__":
    main(sys.argv[1:])
