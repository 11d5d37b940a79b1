"""The preview grid and the README's `make demo` entry point."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import torch
from PIL import Image

import augloader as A
from augloader.data import make_grid, preview_grid, save_image

ROOT = Path(__file__).resolve().parent.parent


def test_preview_grid_layout(images_u8, generator):
    t = A.Compose([A.RandomResizedCrop(32), A.ColorJitter(0.3)])
    grid = preview_grid(images_u8[:2], t, variants=3, generator=generator)
    # 2 rows x (original + 3 variants); cells as large as the largest tile (48x64), 4 px padding
    assert grid.dtype == torch.uint8 and grid.shape == (3, 4 + 2 * (48 + 4), 4 + 4 * (64 + 4))
    assert torch.equal(grid[:, 4 : 4 + 48, 4 : 4 + 64], images_u8[0])  # the original comes first
    variants = [grid[:, 4:36, x : x + 32] for x in (72, 140, 208)]
    assert not torch.equal(variants[0], variants[1])  # per-sample draws


def test_normalised_outputs_are_displayable(images_u8, generator):
    t = A.Compose([A.RandomHorizontalFlip(), A.Normalize([0.5] * 3, [0.2] * 3)])
    grid = preview_grid(images_u8[:1], t, variants=2, generator=generator)
    assert grid.dtype == torch.uint8 and int(grid[:, 4:52, 72:136].max()) == 255


def test_save_image_roundtrip(tmp_path, images_u8):
    path = save_image(make_grid([[images_u8[0], images_u8[1]]]), tmp_path / "g.png")
    back = torch.from_numpy(__import__("numpy").array(Image.open(path))).permute(2, 0, 1)
    assert torch.equal(back[:, 4:52, 4:68], images_u8[0])


def test_demo_runs_end_to_end_on_a_tiny_subset(tmp_path, monkeypatch):
    """`make demo`'s script in --fast mode: one seed, one epoch, small subsets; outputs well formed."""
    import json

    out = tmp_path / "demo"
    monkeypatch.setattr(sys, "argv", ["demo.py", "--fast", "--out", str(out)])
    runpy.run_path(str(ROOT / "scripts" / "demo.py"), run_name="__main__")
    summary = json.loads((out / "results.json").read_text())
    assert summary["seeds"] == 1 and summary["epochs"] == 1
    runs = summary["results"]
    assert set(runs) == {"baseline", "augmented", "imbalanced", "balanced"}
    for kind, seeds in runs.items():
        r = seeds[0]
        assert 0.0 <= r["test_acc"] <= 1.0 and 0.0 <= r["val_acc"] <= 1.0
        assert len(r["recall"]) == 10 and len(r["curves"]["val_acc"]) == 1
        assert abs(r["gap"] - (r["train_acc"] - r["val_acc"])) < 1e-9
    table = (out / "results.md").read_text()
    assert table.count("\n| (") == 4 and "± " in table
    for name, min_size in (("curves.png", 10_000), ("pipeline.png", 2_000), ("photos.png", 50_000)):
        with Image.open(out / name) as img:
            assert img.format == "PNG" and img.size[0] > 100
        assert (out / name).stat().st_size > min_size
