"""Ready-made training pipelines: the common recipes, built from augloader transforms."""

from __future__ import annotations

from .transforms import (
    ColorJitter,
    Compose,
    Normalize,
    RandAugment,
    RandomCrop,
    RandomErasing,
    RandomHorizontalFlip,
    RandomResizedCrop,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def imagenet_train(size: int = 224, normalize: bool = True, hue_mode: str = "hsv") -> Compose:
    """RandomResizedCrop + flip + ColorJitter(0.4, 0.4, 0.4, 0.1) (+ Normalize): the classic recipe."""
    steps = [RandomResizedCrop(size), RandomHorizontalFlip(), ColorJitter(0.4, 0.4, 0.4, 0.1, hue_mode=hue_mode)]
    return Compose(steps + ([Normalize(IMAGENET_MEAN, IMAGENET_STD)] if normalize else []))


def imagenet_randaugment(size: int = 224, num_ops: int = 2, magnitude: int = 9, normalize: bool = True) -> Compose:
    """RandomResizedCrop + flip + per-sample RandAugment (+ Normalize, RandomErasing): timm-style."""
    steps = [RandomResizedCrop(size), RandomHorizontalFlip(), RandAugment(num_ops, magnitude)]
    if normalize:
        steps += [Normalize(IMAGENET_MEAN, IMAGENET_STD), RandomErasing(0.25)]
    return Compose(steps)


def cifar_train(normalize: bool = True) -> Compose:
    """RandomCrop(32, padding=4) + flip (+ Normalize)."""
    steps = [RandomCrop(32, padding=4), RandomHorizontalFlip()]
    return Compose(steps + ([Normalize(CIFAR_MEAN, CIFAR_STD)] if normalize else []))
