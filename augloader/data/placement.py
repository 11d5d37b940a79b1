"""Where each part of a pipeline runs: per sample, on the batch in the workers, or where the batch is consumed.

One pipeline, written once, split so that nothing runs twice::

    pipeline = A.Compose([A.RandomResizedCrop(224), A.RandomHorizontalFlip(), A.TrivialAugmentWide(),
                          A.Normalize(mean, std), A.RandomErasing(0.1)])
    parts = split_pipeline(pipeline)                  # sample: crop + flip; batch: the rest
    parts = split_pipeline(pipeline, uint8_batch=True)  # batch: TA (uint8); consumer: Normalize + erasing

``sample`` runs in :class:`AugmentedDataset` (images of any size; it ends with the first step whose
output size does not depend on the input's, and the flips right after it, which fuse into the crop),
``batch`` in :class:`BatchAugment` on same-size samples,
``consumer`` (with ``uint8_batch=True``) in :class:`DeviceAugmenter`, after the uint8 batch crossed the
process boundary (4x fewer bytes) or moved to the GPU.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import torch

from ..transforms.base import Transform
from ..transforms.compose import Compose

# Two unrelated input sizes: a step fixes the size when both give the same output size.
_PROBE_SIZES = ((97, 131), (211, 173))


class PipelineParts(NamedTuple):
    """The parts of a split pipeline; a part with nothing to do is None."""

    sample: Optional[Transform]
    batch: Optional[Transform]
    consumer: Optional[Transform]


def fixes_size(t: Transform) -> bool:
    """Whether ``t`` gives every input the same output size (RandomResizedCrop, CenterCrop, Resize((h, w)))."""
    try:
        return len({t.output_size(s) for s in _PROBE_SIZES}) == 1
    except ValueError:  # e.g. a crop larger than a probe size
        return False


def _part(transforms: Sequence[Transform], template: Transform) -> Optional[Transform]:
    if not transforms:
        return None
    if isinstance(template, Compose):
        return Compose(list(transforms), invariances=template.invariances, targets=template.target_options)
    return transforms[0] if len(transforms) == 1 else Compose(list(transforms))


def split_pipeline(pipeline: Transform, uint8_batch: bool = False) -> PipelineParts:
    """Splits ``pipeline`` into its per-sample, batch and consumer parts (see the module docstring).

    Args:
        pipeline: a transform or :class:`~augloader.Compose` written for whole images.
        uint8_batch: stop the batch part before the first step that makes uint8 images float
            (Normalize, ToFloat, ...); that step and the rest form ``consumer``.

    Returns:
        :class:`PipelineParts` ``(sample, batch, consumer)``; the parts share the transform objects.

    Raises:
        TypeError: ``pipeline`` is not an augloader transform.
    """
    if not isinstance(pipeline, Transform):
        raise TypeError(f"split_pipeline needs an augloader Transform or Compose, got {type(pipeline).__name__}")
    steps = list(pipeline.transforms) if isinstance(pipeline, Compose) else [pipeline]
    cut = next((i + 1 for i, t in enumerate(steps) if fixes_size(t)), 0)
    while 0 < cut < len(steps) and steps[cut].frame_preserving and steps[cut].axis_aligned:
        cut += 1  # flips right after the crop fuse into it: free per sample, a copy on the batch
    sample, rest = steps[:cut], steps[cut:]
    consumer: list[Transform] = []
    if uint8_batch:
        to_float = next((i for i, t in enumerate(rest) if t.output_dtype(torch.uint8) != torch.uint8), len(rest))
        rest, consumer = rest[:to_float], rest[to_float:]
    return PipelineParts(_part(sample, pipeline), _part(rest, pipeline), _part(consumer, pipeline))
