"""Shared fixtures: devices (CPU always, CUDA when present), seeded generators, real images."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import settings

# CI runs the property tests on a fixed example sequence, so a green run can be repeated exactly;
# locally hypothesis explores new examples each run (and keeps failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


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


@pytest.fixture(scope="session")
def images_u8() -> torch.Tensor:
    return natural_batch()
