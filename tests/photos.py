"""Real photographs as test batches (scikit-image's bundled images), shared by conftest and tests."""

from __future__ import annotations

import numpy as np
import torch


def natural_batch(b: int = 4, h: int = 48, w: int = 64, dtype: torch.dtype = torch.uint8) -> torch.Tensor:
    """Real photographs (scikit-image's astronaut, chelsea, coffee, ...), resized to ``(h, w)``."""
    from skimage import data
    from skimage.transform import resize

    sources = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    images = []
    for i in range(b):
        img = sources[i % len(sources)]
        img = resize(img, (h, w), anti_aliasing=True, preserve_range=True)
        if i >= len(sources):  # vary repeats so no two samples are identical
            img = np.roll(img, 7 * i, axis=1)
        images.append(torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1))
    batch = torch.stack(images).round().clamp(0, 255).to(torch.uint8)
    return batch if dtype == torch.uint8 else batch.to(dtype) / 255.0
