"""16-bit images to 8 bits: the high byte, not a clip.

PIL's ``Image.convert("L")`` clips an ``I;16`` image to 255 (a 16-bit PNG whose values mostly exceed
255 comes out almost all white). Here 16-bit gray images (``I;16``, ``I;16B``, ``I;16L``, ``I;16N``)
and 32-bit integer images (``I``, which older Pillows and TIFF files use for 16-bit data) keep their
top 8 of 16 bits: ``clip(value, 0, 65535) >> 8``, so 0 -> 0, 256 -> 1 and 65535 -> 255. 16-bit RGB
PNGs already decode to 8-bit ``RGB`` in PIL; float (``F``) images keep PIL's clipping to [0, 255].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["WIDE_INT_MODES", "read_image_8bit", "to_8bit"]

#: PIL modes holding integer gray values wider than 8 bits (treated as 16-bit data).
WIDE_INT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_GRAY = ("1", "L", "LA", "F")


def to_8bit(img: Any) -> Any:
    """A PIL image with 16/32-bit integer gray values as an 8-bit ``L`` image (high byte); others unchanged."""
    from PIL import Image

    if img.mode not in WIDE_INT_MODES:
        return img
    values = np.asarray(img).astype(np.int64)  # (H, W); byte order handled by PIL's array interface
    return Image.fromarray((np.clip(values, 0, 65535) >> 8).astype(np.uint8))  # 2-D uint8: mode L


def read_image_8bit(path: Any) -> Tensor:
    """Decodes an image file to uint8 ``(C, H, W)`` (1 channel for grayscale, else 3), 16-bit files scaled.

    Raises:
        OSError: the file is missing, truncated or not an image (PIL's ``UnidentifiedImageError`` too).
    """
    from PIL import Image

    with Image.open(path) as img:
        img.load()  # decode now, so a truncated file fails here
        img = to_8bit(img)
        array = np.asarray(img.convert("L" if img.mode in _GRAY else "RGB"))
    tensor = torch.from_numpy(array.copy())
    return tensor.unsqueeze(0) if tensor.dim() == 2 else tensor.permute(2, 0, 1).contiguous()  # (C, H, W)
