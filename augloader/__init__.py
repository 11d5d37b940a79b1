"""augloader: batched, per-sample, fused data augmentation for PyTorch on any device."""

from .transforms import (
    CenterCrop,
    ColorJitter,
    Compose,
    GaussianBlur,
    GaussianNoise,
    Normalize,
    Pad,
    RandAugment,
    RandomAffine,
    RandomApply,
    RandomAutocontrast,
    RandomChoice,
    RandomCrop,
    RandomEqualize,
    RandomErasing,
    RandomGamma,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomInvert,
    RandomOrder,
    RandomPerspective,
    RandomPosterize,
    RandomResizedCrop,
    RandomRotation,
    RandomSharpness,
    RandomSolarize,
    RandomVerticalFlip,
    Resize,
    SaltAndPepperNoise,
    ToFloat,
    ToUint8,
    TimmRandAugment,
    Transform,
    TrivialAugmentWide,
)

from .config import ConfigError, PipelineConfig, from_config, save_config, to_config
from .data import AugmentedDataset, BatchAugment, ClassBalancedAugment, DeviceAugmenter, split_dataset
from ._memory import tune_memory
from .losses import SoftTargetCrossEntropy
from .mix import CutMix, MixUp, MixUpCutMix
from .targets import TargetOptions
from . import policies

__version__ = "0.1.0"  # the one version source: pyproject.toml reads it (tool.setuptools.dynamic)

__all__ = [
    "CenterCrop", "ColorJitter", "Compose", "GaussianBlur", "GaussianNoise", "Normalize", "Pad", "RandAugment",
    "RandomAffine", "RandomApply", "RandomAutocontrast", "RandomChoice", "RandomCrop", "RandomEqualize",
    "RandomErasing", "RandomGamma", "RandomGrayscale", "RandomHorizontalFlip", "RandomInvert", "RandomOrder",
    "RandomPerspective", "RandomPosterize", "RandomResizedCrop", "RandomRotation", "RandomSharpness",
    "RandomSolarize", "RandomVerticalFlip", "Resize", "SaltAndPepperNoise", "ToFloat", "ToUint8", "Transform",
    "TimmRandAugment", "TrivialAugmentWide", "policies", "CutMix", "MixUp", "MixUpCutMix", "SoftTargetCrossEntropy", "TargetOptions",
    "AugmentedDataset", "BatchAugment", "ClassBalancedAugment", "DeviceAugmenter", "split_dataset",
    "ConfigError", "PipelineConfig", "from_config", "save_config", "to_config", "tune_memory", "__version__",
]
