"""MixUp and CutMix on whole batches, with labels, masks and boxes mixed exactly.

Classes: :class:`MixUpCutMix` (timm's ``Mixup`` semantics, ``"batch"`` / ``"pair"`` / ``"elem"`` modes)
and its presets :class:`MixUp` and :class:`CutMix`. Pure functions for fixed parameters:
:func:`mix_images`, :func:`mix_masks`, :func:`mix_boxes`, :func:`soft_labels`, :func:`mix_labels`.
:class:`~augloader.losses.SoftTargetCrossEntropy` is re-exported for convenience.
"""

from ..losses import SoftTargetCrossEntropy
from ._images import mix_images, partner_weight
from ._labels import mix_labels, mixed_targets, soft_labels
from ._modules import CutMix, MixUp, MixUpCutMix
from ._params import cutmix_boxes, identity_params, partner_index, sample_mix_params
from ._targets import mix_boxes, mix_masks

__all__ = [
    "CutMix",
    "MixUp",
    "MixUpCutMix",
    "SoftTargetCrossEntropy",
    "cutmix_boxes",
    "identity_params",
    "mix_boxes",
    "mix_images",
    "mix_labels",
    "mix_masks",
    "mixed_targets",
    "partner_index",
    "partner_weight",
    "sample_mix_params",
    "soft_labels",
]
