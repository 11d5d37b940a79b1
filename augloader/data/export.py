"""Offline augmentation: N augmented copies of an ImageFolder tree, resumable, with a manifest.

``export_augmented(config, input_dir, output_dir, copies, seed)`` (the ``augloader export`` command)
reads ``input_dir/<class>/.../<name>.<ext>`` and writes ``output_dir/<class>/.../<name>_aug<copy>.png``
plus ``output_dir/manifest.jsonl`` (see :mod:`augloader.data.manifest`).

- The pipeline must deliver uint8 images: configs that end in ``Normalize`` (float output) are
  refused before any work; a float pipeline that ends in ``ToUint8`` is fine. Mixing (``mix:``) is
  ignored: it needs batches with labels.
- Each copy has its own seed derived from ``(seed, source index, copy)``, so a rerun with the same
  seed writes identical files, and a killed run picks up where it stopped: files present in the
  manifest with a matching checksum are kept (each checksum re-verified), everything else redone.
- Files are written atomically (a temporary file in the same folder, then ``os.replace``).
- A source that cannot be decoded is reported and skipped; the run goes on. 16-bit gray sources are
  scaled to 8 bits (the high byte, see :mod:`augloader.data.bitdepth`), not clipped to white.
- A missing, non-directory or read-only output folder fails before any work, leaving nothing behind.
- A write that fails mid-run (a full disk) raises :class:`ExportError` naming the file; what was
  written and logged so far stays valid, so a rerun resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, TextIO, Union

import torch

from ..config import ConfigError, PipelineConfig, from_config, to_config
from ..transforms.base import Transform
from .imagefiles import (
    PathLike,
    encode_png,
    list_images,
    read_image,
    remove_stale_temps,
    sha256_bytes,
    sha256_file,
    write_atomic,
)
from .manifest import MANIFEST_NAME, Entry, entry_line, read_manifest, to_jsonable, write_manifest

__all__ = ["ExportError", "ExportResult", "copy_seed", "export_augmented"]


class ExportError(RuntimeError):
    """The export cannot start (bad folders, a float pipeline, nothing to read) or cannot write (a full disk)."""


@dataclass
class ExportResult:
    """What a run did. ``failed`` lists ``(source, reason)`` for sources that could not be read."""

    written: int = 0
    kept: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    manifest: Optional[Path] = None


def copy_seed(seed: int, index: int, copy: int) -> int:
    """The generator seed of copy ``copy`` of source ``index`` (63 bits of SHA-256; stable everywhere)."""
    digest = hashlib.sha256(f"augloader-export:{seed}:{index}:{copy}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _pipeline(config: Union[PathLike, PipelineConfig, Transform, dict]) -> Transform:
    if isinstance(config, Transform):
        return config
    if isinstance(config, PipelineConfig):
        return config.transform
    if isinstance(config, bool) or not isinstance(config, (str, os.PathLike, dict)):
        raise TypeError(
            f"config must be a path, a mapping, a PipelineConfig or a Transform, got {type(config).__name__}"
        )
    loaded = from_config(config)
    if not isinstance(loaded, PipelineConfig):
        raise ExportError(
            f"export needs an image pipeline config; {config if not isinstance(config, dict) else 'this config'} "
            f"is an {'audio' if hasattr(loaded, 'collate') else 'text'} config"
        )
    return loaded.transform


def _write_error(path: Path, err: OSError) -> ExportError:
    return ExportError(
        f"cannot write {path}: {err.strerror or err}; the files written so far are kept and "
        "recorded, so a rerun with the same arguments resumes"
    )


def _fingerprint(transform: Transform) -> str:
    try:
        text = json.dumps(to_config(transform), sort_keys=True)
    except ConfigError:
        text = repr(transform)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _check_output_dir(output: Path) -> None:
    if not output.exists():
        raise ExportError(f"output directory {output} does not exist; create it first (nothing was written)")
    if not output.is_dir():
        raise ExportError(f"output path {output} is not a directory (nothing was written)")
    try:  # a real write: os.access is wrong for root and for read-only mounts
        fd, probe = tempfile.mkstemp(dir=output, prefix=".augloader-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ExportError(
            f"output directory {output} is not writable: {err.strerror or err} (nothing was written)"
        ) from err


def _check_sources(input_dir: Path, output: Path) -> list[Path]:
    if not input_dir.is_dir():
        raise ExportError(f"input directory {input_dir} does not exist or is not a directory")
    if output.resolve() == input_dir.resolve() or input_dir.resolve() in output.resolve().parents:
        raise ExportError(f"output directory {output} must not be inside the input directory {input_dir}")
    sources = list_images(input_dir)
    if not sources:
        raise ExportError(
            f"no images in {input_dir}: expected class subfolders (ImageFolder layout) holding image files"
        )
    names: dict[Path, Path] = {}
    for src in sources:
        out = src.with_name(src.stem)
        if out in names:
            raise ExportError(f"{names[out]} and {src} would write the same output names; rename one of them")
        names[out] = src
    return sources


def _output_name(source: Path, copy: int) -> str:
    return source.with_name(f"{source.stem}_aug{copy:03d}.png").as_posix()


def _is_complete(entry: Optional[Entry], expected: Entry, output: Path) -> bool:
    """True when ``entry`` describes the file we would write and the file on disk still matches it."""
    if entry is None or any(entry.get(k) != expected[k] for k in ("index", "seed", "config", "output")):
        return False
    path = output / entry["output"]
    return path.is_file() and sha256_file(path) == entry.get("sha256")


def _write_copy(transform: Transform, image: torch.Tensor, expected: Entry, output: Path, log: TextIO) -> Entry:
    """Augments ``image`` with the copy's seed, writes the PNG atomically and appends its manifest line."""
    out = transform(image, generator=torch.Generator().manual_seed(expected["seed"]))
    data = encode_png(out)
    entry = {**expected, "params": to_jsonable(transform.last_params), "sha256": sha256_bytes(data)}
    path = output / expected["output"]
    try:
        write_atomic(path, data)
    except OSError as err:
        raise _write_error(path, err) from err
    try:
        log.write(entry_line(entry))
        log.flush()
    except OSError as err:
        raise _write_error(output / MANIFEST_NAME, err) from err
    return entry


def export_augmented(
    config: Union[PathLike, PipelineConfig, Transform, dict],
    input_dir: PathLike,
    output_dir: PathLike,
    copies: int,
    seed: int = 0,
    progress: bool = True,
    report: Optional[Callable[[str], None]] = None,
) -> ExportResult:
    """Writes ``copies`` augmented PNG copies of every image under ``input_dir`` to ``output_dir``.

    Args:
        config: a config path or mapping (see :mod:`augloader.config`), a loaded config, or a transform.
        input_dir: an ImageFolder tree (class subfolders holding images).
        output_dir: an existing, writable folder; the class subfolders are mirrored inside it.
        copies: augmented copies per source image (>= 1).
        seed: base seed; the same seed gives byte-identical files.
        progress: show a progress bar with an ETA on stderr (only when stderr is a terminal and
            ``AUGLOADER_QUIET`` is unset; False: never).
        report: called with a message for each skipped source (default: print to stderr).

    Returns:
        An :class:`ExportResult` (files written, files kept from an earlier run, sources that failed).

    Raises:
        ExportError: bad folders, a non-image config or a pipeline whose output is not uint8, before any
            file is written; or a write that failed (a full disk), naming the file.
        ConfigError: an invalid config.
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ExportError(f"copies must be a positive int, got {copies!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ExportError(f"seed must be an int, got {seed!r}")
    transform = _pipeline(config)
    if transform.output_dtype(torch.uint8) != torch.uint8:
        raise ExportError(
            "export writes uint8 images, but this pipeline returns "
            f"{transform.output_dtype(torch.uint8)} (it normalises); drop Normalize for export, "
            "or end the pipeline with ToUint8 if its values are in [0, 1]"
        )
    input_dir, output = Path(input_dir), Path(output_dir)
    _check_output_dir(output)
    sources = _check_sources(input_dir, output)
    from tqdm import tqdm

    from .._progress import progress as progress_bar

    report = report or (lambda msg: tqdm.write(msg, file=sys.stderr))

    remove_stale_temps(output)
    manifest = output / MANIFEST_NAME
    previous, config_id = read_manifest(manifest), _fingerprint(transform)
    result, entries = ExportResult(manifest=manifest), []
    try:
        bar = progress_bar(total=len(sources) * copies, desc="export", unit="img", quiet=not progress)
        with open(manifest, "a", encoding="utf-8") as log, bar:
            for index, source in enumerate(sources):
                expected = [
                    {
                        "source": source.as_posix(),
                        "index": index,
                        "copy": c,
                        "seed": copy_seed(seed, index, c),
                        "config": config_id,
                        "output": _output_name(source, c),
                    }
                    for c in range(copies)
                ]
                todo = []
                for c, exp in enumerate(expected):
                    old = previous.get((exp["source"], c))
                    if _is_complete(old, exp, output):
                        entries.append(old)
                        result.kept += 1
                        bar.update(1)
                    else:
                        todo.append(exp)
                if not todo:
                    continue
                try:
                    image = read_image(input_dir / source)
                except Exception as err:  # any decoder failure: report, skip, go on
                    result.failed.append((source.as_posix(), f"{type(err).__name__}: {err}"))
                    report(f"skipped {source.as_posix()}: cannot read it ({type(err).__name__}: {err})")
                    bar.update(len(todo))
                    continue
                try:
                    (output / source).parent.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    raise _write_error(output / source.parent, err) from err
                for exp in todo:
                    entries.append(_write_copy(transform, image, exp, output, log))
                    result.written += 1
                    bar.update(1)
        write_manifest(manifest, entries)
    except OSError as err:  # opening, flushing or closing the manifest, or its final rewrite
        raise _write_error(manifest, err) from err
    return result
