"""``LazyImage``: an image file whose header is read now and whose pixels are decoded later, at the scale needed.

A per-sample crop first decides its box from the header size, then asks for only the resolution that
box needs: JPEG decoders can produce 1/2, 1/4 or 1/8 scale directly from the DCT coefficients (PIL's
``draft``), which is where large photos gain most. At full scale JPEGs decode with
``torchvision.io.decode_jpeg`` (libjpeg-turbo, faster than PIL here); other formats with PIL.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor

from .bitdepth import to_8bit

Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


class ImageDecodeError(OSError):
    """An image file (or bytes) that is missing, truncated, corrupt or not an image; names the source."""


_GRAY = ("1", "L", "LA", "I", "I;16", "F")


@dataclass(frozen=True)
class LazyImage:
    """An image source and its header: ``size`` is ``(H, W)``, ``channels`` 1 (grayscale) or 3 (RGB).

    Shape:
        :meth:`decode` gives uint8 ``(C, H, W)`` (or ``(C, H', W')`` at a reduced scale).
    """

    source: Source
    size: tuple[int, int]
    channels: int
    format: Optional[str]

    @staticmethod
    def open(source: Source) -> "LazyImage":
        """Reads the header of a file path or encoded bytes (no pixels are decoded).

        Raises:
            ImageDecodeError: the source is missing or not an image, naming it.
        """
        from PIL import Image

        if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
            raise TypeError(f"an image source must be a path or bytes, got {type(source).__name__}")
        if isinstance(source, (bytearray, memoryview)):
            source = bytes(source)
        try:
            if not isinstance(source, bytes):
                with open(source, "rb") as f:  # one read: PIL's header parser reads a file in many small pieces
                    source = _NamedBytes(f.read(), str(Path(source)))
            with Image.open(_stream(source)) as img:
                w, h = img.size
                return LazyImage(source, (h, w), 1 if img.mode in _GRAY else 3, img.format)
        except (OSError, ValueError, SyntaxError) as e:  # PIL's UnidentifiedImageError is an OSError
            raise ImageDecodeError(f"cannot read image {describe(source)}: {e}") from e

    @property
    def name(self) -> str:
        return describe(self.source)

    def draft_size(self, box_size: tuple[float, float], out_size: tuple[int, int]) -> tuple[int, int]:
        """The smallest ``(H, W)`` to decode at so that a ``box_size`` region still has ``out_size`` pixels."""
        (bh, bw), (oh, ow), (h, w) = box_size, out_size, self.size
        factor = min(bh / oh, bw / ow, 8.0)  # how far the box is downscaled; DCT scaling stops at 1/8
        if factor <= 1.0:
            return self.size
        return (math.ceil(h / factor), math.ceil(w / factor))

    def decode(self, at_least: Optional[tuple[int, int]] = None) -> Tensor:
        """Decodes to uint8 ``(C, H, W)``; with ``at_least=(h, w)`` a JPEG may decode at 1/2, 1/4 or 1/8
        scale, never below ``(h, w)``.

        Raises:
            ImageDecodeError: a truncated or corrupt file, naming it.
        """
        try:
            if self.format == "JPEG" and self.channels == 3 and not (at_least is not None and self.reducible(at_least)):
                return _decode_jpeg_full(self.source)
            return _decode_pil(self.source, self.channels, at_least)
        except (OSError, ValueError, RuntimeError, SyntaxError) as e:
            raise ImageDecodeError(f"cannot decode image {self.name}: {e}") from e

    def reducible(self, at_least: tuple[int, int]) -> bool:
        """Whether a JPEG decode at 1/2 scale (or less) still has ``at_least`` ``(h, w)`` pixels."""
        h, w = self.size
        return self.format == "JPEG" and math.ceil(h / 2) >= at_least[0] and math.ceil(w / 2) >= at_least[1]

    def decode_resized(
        self,
        box: tuple[float, float, float, float],
        out_size: tuple[int, int],
        at_least: tuple[int, int],
        interpolation: str = "bilinear",
    ) -> Tensor:
        """Decodes at the smallest DCT scale with ``at_least`` pixels, then resizes ``box`` (``left, top,
        right, bottom`` in full-size pixels, fractional after the scaling) to ``out_size`` with PIL's
        antialiased filter: the box keeps its exact position at any scale.

        Shape:
            ``(C, out_size[0], out_size[1])`` uint8.
        """
        from PIL import Image

        mode = "L" if self.channels == 1 else "RGB"
        try:
            with Image.open(_stream(self.source)) as img:
                img.draft(mode, (at_least[1], at_least[0]))
                scale = 2 ** round(math.log2(self.size[1] / img.size[0]))  # 1, 2, 4 or 8: the DCT scaling
                img = img.convert(mode)
                resample = Image.Resampling.BICUBIC if interpolation == "bicubic" else Image.Resampling.BILINEAR
                img = img.resize((out_size[1], out_size[0]), resample, box=tuple(v / scale for v in box))
                return array_to_chw(np.array(img))
        except (OSError, ValueError, SyntaxError) as e:
            raise ImageDecodeError(f"cannot decode image {self.name}: {e}") from e

    def to_pil(self):
        """The whole image as a PIL image in ``"L"`` or ``"RGB"`` (for torchvision-style transforms)."""
        from PIL import Image

        try:
            with Image.open(_stream(self.source)) as img:
                return to_8bit(img).convert("L" if self.channels == 1 else "RGB")
        except (OSError, ValueError, SyntaxError) as e:
            raise ImageDecodeError(f"cannot decode image {self.name}: {e}") from e


class _NamedBytes(bytes):
    """A file's contents that remember the file's path (for error messages)."""

    path: str

    def __new__(cls, data: bytes, path: str) -> "_NamedBytes":
        obj = super().__new__(cls, data)
        obj.path = path
        return obj

    def __reduce__(self):  # pickles (DataLoader workers) keep the path
        return (_NamedBytes, (bytes(self), self.path))


def describe(source: Source) -> str:
    """How an error message names a source: the path, or the size of in-memory bytes."""
    if isinstance(source, _NamedBytes):
        return repr(source.path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes in memory>"
    return repr(str(Path(source)))


def _stream(source: Source):
    return io.BytesIO(source) if isinstance(source, bytes) else source


def _decode_jpeg_full(source: Source) -> Tensor:
    from torchvision.io import ImageReadMode, decode_jpeg

    if isinstance(source, bytes):
        data = torch.frombuffer(bytearray(source), dtype=torch.uint8)
    else:
        with open(source, "rb") as f:
            data = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    with warnings.catch_warnings():
        # torchvision 0.29 marks its decoders deprecated in favour of TorchCodec; they remain the
        # fastest full-scale JPEG decoder here (libjpeg-turbo), measured against PIL.
        warnings.simplefilter("ignore", DeprecationWarning)
        return decode_jpeg(data, mode=ImageReadMode.RGB)


def _decode_pil(source: Source, channels: int, at_least: Optional[tuple[int, int]]) -> Tensor:
    from PIL import Image

    mode = "L" if channels == 1 else "RGB"
    with Image.open(_stream(source)) as img:
        if at_least is not None:
            img.draft(mode, (at_least[1], at_least[0]))  # a JPEG picks the smallest DCT scale >= this; others ignore it
        return array_to_chw(np.array(to_8bit(img).convert(mode)))  # one writable copy of the decoded pixels


def array_to_chw(array: np.ndarray) -> Tensor:
    """A uint8 ``(H, W)`` or ``(H, W, C)`` array as a ``(C, H, W)`` tensor sharing its memory.

    The ``(H, W, C)`` memory is seen as ``(C, H, W)`` without a transposing copy (torch's uint8 resize
    is fastest on that layout); call ``.contiguous()`` where a plain layout is needed.

    Shape:
        ``(H, W[, C])`` -> ``(C, H, W)``.
    """
    tensor = torch.from_numpy(array)
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1)
