"""Real-photo ImageFolder trees for the file benchmarks, cut from the Debian ``mate-backgrounds`` photographs.

Two sets, each in 10 class folders (``c0`` ... ``c9``), JPEG quality 90 (4:2:0 chroma, like most
camera and ImageNet files):

- ``small``: 1,500 files of 500x375 (45%), 500x333 (40%) or 375x500 (15%): ImageNet-like sizes.
- ``large``: 300 files of 2048x1536 (40%), 1920x1440 (35%) or 1536x2048 (25%): camera-like sizes.

Each file is a random crop of one of the 12 photographs in ``/usr/share/backgrounds/mate/nature``
(1280x1024 to 2560x1920; flowers, leaves, grass, water, sky, wood) at the output's aspect ratio,
rescaled (Lanczos) to the output size. The small set is always a downscale (so it has the detail
of a real photo); the large set draws only from the sources at least 1920 wide and is rescaled by
0.8x to 1.7x (portrait crops of landscape sources are upscaled most). gnome-backgrounds is not
used: its files are rendered illustrations and SVGs, not photographs.

Deterministic: image ``i`` of a set draws from its own ``random.Random`` seeded by (set, i), so the
same sources give the same bytes. Cached under ``.cache/photos/<set>-v1`` (git-ignored) and rebuilt
only when missing or when the recipe or the sources changed (a ``.complete`` stamp holds both).
The folder is built next to its final place and renamed into it, so an interrupted build leaves no
half folder behind.

    .venv/bin/python scripts/make_photo_folders.py [--sets small,large] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "photos"
SOURCE_DIR = Path("/usr/share/backgrounds/mate/nature")
VERSION = 1  # bump when the recipe below changes in a way the stamp cannot see


@dataclass(frozen=True)
class PhotoSet:
    count: int
    sizes: tuple[tuple[int, int, float], ...]  # (width, height, weight)
    scale: tuple[float, float]  # crop area as a fraction of the largest crop of that aspect the source holds
    min_source_width: int  # sources narrower than this are not used
    classes: int = 10
    quality: int = 90


SETS = {
    "small": PhotoSet(1500, ((500, 375, 0.45), (500, 333, 0.40), (375, 500, 0.15)), (0.15, 1.0), 0),
    "large": PhotoSet(300, ((2048, 1536, 0.40), (1920, 1440, 0.35), (1536, 2048, 0.25)), (0.6, 1.0), 1920),
}


def sources() -> list[Path]:
    found = sorted(p for p in SOURCE_DIR.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not found:
        raise SystemExit(
            f"no photographs in {SOURCE_DIR}: install the Debian package mate-backgrounds "
            f"(`make bench` does: scripts/install_system_data.sh scripts/bench-packages.txt)"
        )
    return found


def folder(name: str) -> Path:
    return CACHE / f"{name}-v{VERSION}"


def _stamp(name: str, spec: PhotoSet, srcs: list[Path]) -> dict:
    stamp = {
        "set": name,
        "version": VERSION,
        "spec": asdict(spec),
        "sources": [[str(p), p.stat().st_size] for p in srcs],
    }
    return json.loads(json.dumps(stamp))  # as read back (tuples become lists)


def _read_stamp(path: Path) -> dict | None:
    try:
        return json.loads((path / ".complete").read_text())
    except (OSError, ValueError):
        return None


def _crop_box(
    rng: random.Random, src_w: int, src_h: int, out_w: int, out_h: int, scale: tuple[float, float]
) -> tuple[float, float, float, float]:
    """A random box of the output's aspect ratio inside the source: area ``scale`` of the largest such box."""
    aspect = out_w / out_h
    max_w = min(src_w, src_h * aspect)
    s = rng.uniform(*scale) ** 0.5  # side factor
    w, h = max_w * s, max_w * s / aspect
    x = rng.uniform(0, src_w - w)
    y = rng.uniform(0, src_h - h)
    return (x, y, x + w, y + h)


def build(name: str, force: bool = False, verbose: bool = True) -> Path:
    """The folder of set ``name``, built if missing or stale."""
    from PIL import Image

    spec = SETS[name]
    srcs = sources()
    out = folder(name)
    stamp = _stamp(name, spec, srcs)
    if not force and _read_stamp(out) == stamp:
        return out
    usable = [p for p in srcs if Image.open(p).size[0] >= spec.min_source_width] or srcs
    if verbose:
        print(f"building {out} ({spec.count} JPEGs from {len(usable)} photos in {SOURCE_DIR}) ...", flush=True)
    t0 = time.perf_counter()
    images = {p: Image.open(p).convert("RGB") for p in usable}  # decoded once (<= 12 x 15 MB)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for c in range(spec.classes):
        (tmp / f"c{c}").mkdir(parents=True)
    weights = [wt for _, _, wt in spec.sizes]
    total = 0
    for i in range(spec.count):
        rng = random.Random(f"{name}-{i}")  # one stream per image: any image can be rebuilt alone
        src = usable[rng.randrange(len(usable))]
        out_w, out_h, _ = rng.choices(spec.sizes, weights=weights)[0]
        im = images[src]
        box = _crop_box(rng, im.width, im.height, out_w, out_h, spec.scale)
        cut = im.resize((out_w, out_h), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
        path = tmp / f"c{i % spec.classes}" / f"{i:05d}.jpg"
        cut.save(path, "JPEG", quality=spec.quality, subsampling="4:2:0")
        total += path.stat().st_size
    (tmp / ".complete").write_text(json.dumps(stamp, indent=1) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    if verbose:
        print(
            f"  {spec.count} files, {total / spec.count / 1024:.0f} KiB mean, {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    return out


def describe(name: str) -> str:
    """One line for reports: the set's sizes and mean file size."""
    spec = SETS[name]
    files = list(folder(name).glob("c*/*.jpg"))
    mean_kib = sum(f.stat().st_size for f in files) / max(len(files), 1) / 1024
    sizes = ", ".join(f"{w}x{h}" for w, h, _ in spec.sizes)
    return (
        f"{len(files):,} JPEGs ({sizes}; q{spec.quality}, 4:2:0, {mean_kib:.0f} KiB mean) in {spec.classes} "
        f"class folders, cut from the mate-backgrounds nature photographs"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="small,large", help="comma-separated: " + ", ".join(SETS))
    ap.add_argument("--force", action="store_true", help="rebuild even when the cached folder is current")
    args = ap.parse_args(argv)
    for name in args.sets.split(","):
        path = build(name, force=args.force)
        print(f"{name}: {path}: {describe(name)}")


if __name__ == "__main__":
    main()
