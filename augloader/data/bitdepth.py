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

__all__ = ["WIDE_INT_MODES", "to_8bit"]

#: PIL modes holding integer gray values wider than 8 bits (treated as 16-bit data).
WIDE_INT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def to_8bit(img: Any) -> Any:
    """A PIL image with 16/32-bit integer gray values as an 8-bit ``L`` image (high byte); others unchanged."""
    from PIL import Image

    if img.mode not in WIDE_INT_MODES:
        return img
    values = np.asarray(img).astype(np.int64)  # (H, W); byte order handled by PIL's array interface
    return Image.fromarray((np.clip(values, 0, 65535) >> 8).astype(np.uint8))  # 2-D uint8: mode L
