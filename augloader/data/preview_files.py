"""Preview grids from files: the ``augloader preview`` command's work, with targets drawn when present.

Each row is a source image followed by ``variants`` augmented draws of it. Targets from a sidecar
JSON (see :mod:`augloader.data.annotate`) go through the pipeline with the image; when the pipeline
cannot move them yet, they are drawn on the original only and :func:`render_preview` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .._progress import progress as progress_bar
from ..transforms.base import Transform
from .annotate import draw_annotations, has_targets, read_sidecar
from .imagefiles import IMAGE_SUFFIXES, PathLike, read_image
from .preview import _display, _fit, make_grid

#: Most images a directory input contributes (one row each).
MAX_ROWS = 8


@dataclass
class PreviewInput:
    """One source row: a uint8 ``(C, H, W)`` image and its targets (``boxes``, ``keypoints``, ``mask``)."""

    name: str
    image: Tensor
    targets: dict[str, Tensor] = field(default_factory=dict)


def sample_photos(size: int = 256) -> list[PreviewInput]:
    """scikit-image's bundled photographs, resized to ``size`` x ``size`` (as ``scripts/demo.py``)."""
    from skimage import data

    out = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        t = torch.from_numpy(getattr(data, name)()).permute(2, 0, 1).float().unsqueeze(0)
        t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(PreviewInput(name, t[0].round().clamp(0, 255).to(torch.uint8)))
    return out


def load_inputs(path: PathLike) -> list[PreviewInput]:
    """An image file, or the first :data:`MAX_ROWS` images of a folder (recursively, sorted), with sidecars."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)[:MAX_ROWS]
        if not files:
            raise FileNotFoundError(f"no images in {path}")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"input {path} does not exist")
    return [PreviewInput(f.name, read_image(f), read_sidecar(f)) for f in files]


def _augment(
    transform: Transform, item: PreviewInput, variants: int, generator: torch.Generator
) -> tuple[Tensor, Optional[dict], bool]:
    """Runs ``variants`` copies; returns the images, the moved targets (or None) and whether they moved."""
    batch = item.image.unsqueeze(0).expand(variants, -1, -1, -1).contiguous()
    if has_targets(item.targets):
        state = generator.get_state()
        sample = {"image": batch}
        for key, value in item.targets.items():
            sample[key] = value.unsqueeze(0).expand(variants, *value.shape).contiguous()
        try:
            out = transform(sample, generator=generator)
            return out["image"], out, True
        except (ValueError, TypeError, KeyError, NotImplementedError, RuntimeError):
            generator.set_state(state)  # the engine cannot route these targets yet: image only
    return transform(batch, generator=generator), None, False


def render_preview(
    inputs: list[PreviewInput],
    transform: Transform,
    variants: int = 6,
    generator: Optional[torch.Generator] = None,
    cell: Optional[int] = 160,
    progress: bool = False,
) -> tuple[Tensor, list[str]]:
    """The preview grid as uint8 ``(3, H, W)``, and notes for the user (targets not moved, ...).

    Args:
        inputs: the source rows.
        transform: the pipeline; each row is one batch of ``variants`` per-sample draws.
        variants: augmented copies per source.
        generator: makes the grid reproducible.
        cell: tile height in pixels (aspect kept); None keeps each tile's size.
        progress: show a progress bar with an ETA, one step per row (on a terminal only).
    """
    generator = generator or torch.Generator().manual_seed(0)
    rows, notes = [], []
    for item in progress_bar(inputs, desc="preview", unit="img", quiet=not progress):
        images, moved, ok = _augment(transform, item, variants, generator)
        tiles = [draw_annotations(item.image, **{k: item.targets.get(k) for k in ("boxes", "keypoints", "mask")})]
        for v, img in enumerate(_display(images)):
            targets = {k: moved[k][v] for k in ("boxes", "keypoints", "mask") if moved is not None and k in moved}
            tiles.append(draw_annotations(img, **targets))
        if has_targets(item.targets) and not ok:
            notes.append(
                f"{item.name}: this pipeline does not move boxes/masks/keypoints yet; drawn on the original only"
            )
        rows.append([_fit(t, cell) for t in tiles] if cell else tiles)
    return make_grid(rows), notes
