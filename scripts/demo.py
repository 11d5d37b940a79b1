"""augloader's demo: a preview grid of the default ImageNet-style pipeline on real photographs.

Usage: ``python scripts/demo.py [--out out/preview.png] [--variants 6] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import augloader as A
from augloader.data import preview_grid, save_image
from augloader.presets import imagenet_train


def natural_images(size: int = 256) -> torch.Tensor:
    """scikit-image's bundled photographs, resized to ``size`` x ``size`` uint8 ``(B, 3, H, W)``."""
    from skimage import data

    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    out = []
    for img in photos:
        t = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0)
        t = torch.nn.functional.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(t[0].round().clamp(0, 255).to(torch.uint8))
    return torch.stack(out)


def main(argv=None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="out/preview.png")
    ap.add_argument("--variants", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    images = natural_images()
    pipeline = imagenet_train(224, normalize=False)
    print(pipeline)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    grid = preview_grid(images, pipeline, variants=args.variants, generator=g, cell=160)
    path = save_image(grid, args.out)
    print(f"wrote {path} ({grid.shape[2]}x{grid.shape[1]}, {len(images)} images x {args.variants} variants, "
          f"{time.perf_counter() - t0:.2f} s) with augloader {A.__version__}")
    return path


if __name__ == "__main__":
    main()
