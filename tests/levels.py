"""Comparing two devices' results for transforms that round to 8-bit levels (posterize, solarize, equalize).

Those ops turn a last-bit difference upstream (the warp's interpolation weights, a colour op's fused
multiply-add) into a whole level: a value that sits on a rounding edge lands on one side on the CPU and
on the other on CUDA. Everything else stays within one 8-bit level (1/255); a few values flip further
(a posterize step, a solarize inversion), and their share is bounded instead.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import augloader as A

#: Transforms that round values to 8-bit levels, wherever they sit in a container.
LEVEL_ROUNDING = (A.RandomPosterize, A.RandomSolarize, A.RandomEqualize)
#: At most this share of the values may differ by more than one level (edge flips).
MAX_FLIP_SHARE = 1e-3


def rounds_to_levels(t: nn.Module) -> bool:
    """True when ``t`` or a transform inside it rounds to levels; a RandAugment-style policy (``_policy``)
    always counts, as its op list holds Posterize, Solarize and Equalize."""
    return any(isinstance(m, LEVEL_ROUNDING) or getattr(m, "_policy", None) is not None for m in t.modules())


def assert_within_one_level(
    expected: Tensor, actual: Tensor, what: str, max_flip_share: float = MAX_FLIP_SHARE
) -> None:
    """Every value of ``actual`` within one 8-bit level of ``expected``, but for at most ``max_flip_share`` of them.

    Shape:
        two tensors of one shape and dtype: uint8 (a level is 1), or float in ``[0, 1]`` (a level is 1/255).
    """
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, (
        f"{what}: {tuple(actual.shape)} {actual.dtype} vs {tuple(expected.shape)} {expected.dtype}"
    )
    if expected.numel() == 0:
        return
    levels = (actual.double() - expected.double()).abs() * (1.0 if expected.dtype == torch.uint8 else 255.0)
    beyond = levels > 1.0 + 1e-3
    share = beyond.double().mean().item()
    assert share <= max_flip_share, (
        f"{what}: {int(beyond.sum())} of {levels.numel()} values ({100 * share:.3f}%) differ by more than one "
        f"8-bit level (largest {levels.max().item():.1f} levels); at most {100 * max_flip_share:.1f}% may flip"
    )
