"""Image files on disk: list an ImageFolder tree, decode to uint8 tensors, encode PNG, write atomically."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Union

import numpy as np
import torch
from torch import Tensor

from .bitdepth import to_8bit

#: Suffixes treated as images (case-insensitive), as torchvision's ImageFolder.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp", ".gif")
#: Suffix of the temporary files :func:`write_atomic` leaves behind if it is killed.
TEMP_SUFFIX = ".augtmp"
PathLike = Union[str, "os.PathLike[str]"]


def list_images(root: PathLike) -> list[Path]:
    """Image files under ``root``'s class subfolders (any depth), sorted, relative to ``root``."""
    root = Path(root)
    files = [
        p
        for d in sorted(root.iterdir())
        if d.is_dir()
        for p in d.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(p.relative_to(root) for p in files)


def read_image(path: PathLike) -> Tensor:
    """Decodes an image file to uint8 ``(C, H, W)``: 1 channel for grayscale files, else 3 (RGB); 16-bit
    gray files are scaled to 8 bits (:func:`augloader.data.bitdepth.to_8bit`).

    Raises:
        OSError: the file is missing, truncated or not an image (PIL's ``UnidentifiedImageError`` too).
    """
    from PIL import Image

    with Image.open(path) as img:
        img.load()  # decode now, so a truncated file fails here
        img = to_8bit(img)  # 16-bit gray keeps its high byte (PIL's convert would clip it to white)
        gray = img.mode in ("1", "L", "LA", "F")
        array = np.asarray(img.convert("L" if gray else "RGB"))
    tensor = torch.from_numpy(array.copy())
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1).contiguous()


def encode_png(image: Tensor) -> bytes:
    """A uint8 ``(C, H, W)`` image (C = 1 or 3) as PNG bytes (deterministic for the same pixels)."""
    from PIL import Image

    if image.dtype != torch.uint8 or image.dim() != 3 or image.shape[0] not in (1, 3):
        raise ValueError(f"expected a uint8 (1 or 3, H, W) image, got {tuple(image.shape)} {image.dtype}")
    array = image.permute(1, 2, 0).contiguous().cpu().numpy()
    buffer = io.BytesIO()
    Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(buffer, format="PNG")
    return buffer.getvalue()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: PathLike) -> str:
    """The hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: PathLike, data: Union[bytes, str]) -> None:
    """Writes ``data`` to a temporary file next to ``path``, flushes it to disk, then renames it over ``path``.

    A reader (or a rerun after a crash) sees either the old file or the complete new one, never half.
    """
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(root: PathLike) -> int:
    """Deletes temporary files a killed :func:`write_atomic` left under ``root``; returns how many."""
    stale = [p for p in Path(root).rglob(f".*{TEMP_SUFFIX}") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)
