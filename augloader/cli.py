"""The ``augloader`` command: ``preview``, ``export`` and ``bench`` (also ``python -m augloader``).

Examples::

    augloader preview --config configs/imagenet.yaml --out out/grid.png --variants 6 --seed 0
    augloader export --config export.yaml --input data/train --output data/train_aug --copies 4 --seed 0
    augloader bench --suite images
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path
from typing import Optional, Sequence


class CommandError(Exception):
    """A command cannot run here (a missing optional package, no source checkout): one ``error:`` line."""


def _sample_photos() -> list:
    """scikit-image's sample photographs, or a :class:`CommandError` that says how to get them."""
    from .data.preview_files import sample_photos

    try:
        return sample_photos()
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] != "skimage":
            raise
        raise CommandError(
            "preview without --input shows scikit-image's sample photos, and scikit-image is not "
            "installed: pip install scikit-image, or pass --input <image or folder>"
        ) from err


def _preview(args: argparse.Namespace) -> int:
    import torch

    from .config import ConfigError, PipelineConfig, from_config
    from .data.preview import save_image
    from .data.preview_files import load_inputs, render_preview

    config = from_config(args.config)
    if not isinstance(config, PipelineConfig):
        raise ConfigError(f"{args.config}: preview needs an image pipeline config, this is an audio or text config")
    inputs = load_inputs(args.input) if args.input else _sample_photos()
    grid, notes = render_preview(
        inputs,
        config.transform,
        variants=args.variants,
        cell=args.cell or None,
        generator=torch.Generator().manual_seed(args.seed),
        progress=not args.quiet,
    )
    path = save_image(grid, args.out)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {path} ({grid.shape[2]}x{grid.shape[1]}: {len(inputs)} images x {args.variants} variants)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .data.export import export_augmented

    result = export_augmented(
        args.config, args.input, args.output, args.copies, seed=args.seed, progress=not args.quiet
    )
    print(
        f"wrote {result.written} files, kept {result.kept} verified files from an earlier run; manifest: {result.manifest}"
    )
    if result.failed:
        print(
            f"skipped {len(result.failed)} unreadable source(s): " + ", ".join(s for s, _ in result.failed),
            file=sys.stderr,
        )
    return 0


def _source_checkout() -> Optional[Path]:
    """The repository root when this package runs from a source checkout (an editable install), else None."""
    root = Path(__file__).resolve().parent.parent
    if all((root / name).is_file() for name in ("pyproject.toml", "scripts/bench.py", "scripts/benchlib.py")):
        return root
    return None


def _bench(args: argparse.Namespace) -> int:
    root = _source_checkout()
    if root is None:
        raise CommandError(
            "benchmarks run from a source checkout: git clone the augloader repository, "
            "pip install -e '.[test,bench]', then make bench "
            "(this installation has no scripts/bench.py)"
        )
    script = root / "scripts" / "bench.py"
    saved = sys.argv
    sys.argv = [str(script), *args.rest]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``augloader`` command."""
    ap = argparse.ArgumentParser(prog="augloader", description="augloader: batched, per-sample data augmentation.")
    sub = ap.add_subparsers(dest="command", metavar="{preview,export,bench}", required=True)

    p = sub.add_parser(
        "preview",
        help="render original + augmented variants in a grid image",
        description="Renders each image next to N augmented draws of a config's pipeline. Boxes, "
        "keypoints and masks from a sidecar <image>.json are drawn when present.",
    )
    p.add_argument("--config", required=True, help="pipeline YAML (see docs/config_cli.md)")
    p.add_argument("--input", help="an image or a folder of images (default: scikit-image's sample photos)")
    p.add_argument("--out", default="out/preview.png", help="output image (.png or .jpg; default: %(default)s)")
    p.add_argument("--variants", type=int, default=6, help="augmented copies per image (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument(
        "--cell", type=int, default=160, help="tile height in pixels, 0 for original sizes (default: %(default)s)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (it shows only on a terminal anyway)")
    p.set_defaults(run=_preview)

    e = sub.add_parser(
        "export",
        help="write N augmented copies of an image folder, with a manifest",
        description="Writes N augmented PNG copies of every image of an ImageFolder tree (class "
        "subfolders) into an existing output folder, with manifest.jsonl (source, copy, seed, "
        "parameters, output, sha256). A rerun keeps verified files and redoes the rest.",
    )
    e.add_argument("--config", required=True, help="pipeline YAML whose output is uint8 (no Normalize)")
    e.add_argument("--input", required=True, help="input folder: <class>/<image> files")
    e.add_argument("--output", required=True, help="output folder (must exist and be writable)")
    e.add_argument("--copies", type=int, required=True, help="augmented copies per image")
    e.add_argument("--seed", type=int, default=0, help="base seed; same seed, same files (default: %(default)s)")
    e.add_argument(
        "-q",
        "--quiet",
        "--no-progress",
        dest="quiet",
        action="store_true",
        help="no progress bar (it shows only on a terminal anyway)",
    )
    e.set_defaults(run=_export)

    b = sub.add_parser(
        "bench",
        help="run the benchmark suites (source checkout only)",
        add_help=False,
        description="Forwards every argument to scripts/bench.py (e.g. --suite images,mix).",
    )
    b.add_argument("-h", "--help", action="store_true", help="show this help, then scripts/bench.py's")
    b.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for scripts/bench.py")
    b.set_defaults(run=_bench, bench_help=b.format_help)
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the command line; returns the exit status (errors are printed as one ``error:`` line, status 2)."""
    from ._repr import clip
    from .config import ConfigError
    from .data.export import ExportError

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command != "bench" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "bench":
        args.rest = [*extra, *args.rest]
        if args.help:
            print(args.bench_help())
            args.rest = ["--help"]
    try:
        return args.run(args)
    except (CommandError, ConfigError, ExportError, ValueError) as err:
        print(f"augloader {args.command}: error: {clip(str(err), 2000)}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk, a missing or unwritable path: one line, not a traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"augloader {args.command}: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
