"""Targets that live in image space and move with it: boxes, masks, keypoints."""

from . import boxes, keypoints, masks
from .batch import Targets
from .options import BOX_FORMATS, TargetOptions, target_options

__all__ = ["BOX_FORMATS", "TargetOptions", "Targets", "boxes", "keypoints", "masks", "target_options"]
