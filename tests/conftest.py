"""Shared fixtures: devices (CPU always, CUDA when present), seeded generators, real images."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings
from photos import natural_batch

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


@pytest.fixture(scope="session")
def images_u8() -> torch.Tensor:
    return natural_batch()
