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


def test_demo_script_writes_preview(tmp_path, monkeypatch):
    out = tmp_path / "preview.png"
    monkeypatch.setattr(sys, "argv", ["demo.py", "--out", str(out), "--variants", "2"])
    runpy.run_path(str(ROOT / "scripts" / "demo.py"), run_name="__main__")
    with Image.open(out) as img:
        assert img.size == (4 + 3 * 164, 4 + 4 * 164)  # 4 photos x (original + 2), 160 px cells
