"""Random transforms: draw per-sample parameters, then call the pure ops."""

from .base import Transform
from .color import (
    ColorJitter,
    RandomAutocontrast,
    RandomEqualize,
    RandomGamma,
    RandomGrayscale,
    RandomInvert,
    RandomPosterize,
    RandomSolarize,
)
from .compose import Compose, RandomApply, RandomChoice, RandomOrder
from .convert import Normalize, ToFloat, ToUint8
from .filters import GaussianBlur, GaussianNoise, RandomErasing, RandomSharpness, SaltAndPepperNoise
from .geometry import (
    CenterCrop,
    Pad,
    RandomAffine,
    RandomCrop,
    RandomHorizontalFlip,
    RandomPerspective,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    Resize,
)
from .policies import RandAugment, TrivialAugmentWide
from .timm_augment import TimmRandAugment

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "GaussianNoise",
    "Normalize",
    "Pad",
    "RandAugment",
    "RandomAffine",
    "RandomApply",
    "RandomAutocontrast",
    "RandomChoice",
    "RandomCrop",
    "RandomEqualize",
    "RandomErasing",
    "RandomGamma",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomInvert",
    "RandomOrder",
    "RandomPerspective",
    "RandomPosterize",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSharpness",
    "RandomSolarize",
    "RandomVerticalFlip",
    "Resize",
    "SaltAndPepperNoise",
    "ToFloat",
    "ToUint8",
    "Transform",
    "TimmRandAugment",
    "TrivialAugmentWide",
]
