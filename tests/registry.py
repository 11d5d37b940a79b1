"""Every public transform with a configuration that exercises it; the shared checkers run over this.

Each entry builds the transform for a given ``p`` (``None`` when the transform has no ``p`` gate).
"""

from __future__ import annotations

from typing import Callable, Optional

import augloader as A

Factory = Callable[[float], A.Transform]

#: name -> (factory taking p, whether the factory honours p)
REGISTRY: dict[str, tuple[Factory, bool]] = {
    "RandomHorizontalFlip": (lambda p: A.RandomHorizontalFlip(p=p), True),
    "RandomVerticalFlip": (lambda p: A.RandomVerticalFlip(p=p), True),
    "RandomRotation": (lambda p: A.RandomRotation(30, p=p), True),
    "RandomRotationExpand": (lambda p: A.RandomRotation(20, expand=True, p=p), False),
    "RandomAffine": (lambda p: A.RandomAffine(25, (0.1, 0.1), (0.8, 1.2), 10, fill=30, p=p), True),
    "RandomPerspective": (lambda p: A.RandomPerspective(0.5, p=p), True),
    "RandomCrop": (lambda p: A.RandomCrop(40, padding=4), False),
    "RandomCropReflect": (lambda p: A.RandomCrop((40, 56), padding=(3, 5), padding_mode="reflect"), False),
    "CenterCrop": (lambda p: A.CenterCrop((40, 50)), False),
    "RandomResizedCrop": (lambda p: A.RandomResizedCrop((32, 40)), False),
    "Resize": (lambda p: A.Resize(24), False),
    "ResizeAntialias": (lambda p: A.Resize((24, 30), antialias=True), False),
    "Pad": (lambda p: A.Pad((2, 3, 4, 5), padding_mode="edge"), False),
    "ColorJitter": (lambda p: A.ColorJitter(0.4, 0.4, 0.4, 0.1, p=p), True),
    "RandomGrayscale": (lambda p: A.RandomGrayscale(p=p), True),
    "RandomGamma": (lambda p: A.RandomGamma((0.7, 1.5), p=p), True),
    "RandomSolarize": (lambda p: A.RandomSolarize(0.6, p=p), True),
    "RandomPosterize": (lambda p: A.RandomPosterize(3, p=p), True),
    "RandomAutocontrast": (lambda p: A.RandomAutocontrast(p=p), True),
    "RandomEqualize": (lambda p: A.RandomEqualize(p=p), True),
    "RandomInvert": (lambda p: A.RandomInvert(p=p), True),
    "GaussianNoise": (lambda p: A.GaussianNoise((0.02, 0.1), p=p), True),
    "SaltAndPepperNoise": (lambda p: A.SaltAndPepperNoise((0.01, 0.1), p=p), True),
    "GaussianBlur": (lambda p: A.GaussianBlur(5, (0.5, 2.0), p=p), True),
    "RandomSharpness": (lambda p: A.RandomSharpness((0.5, 3.0), p=p), True),
    "RandomErasing": (lambda p: A.RandomErasing(p=p, value="random"), True),
    "Normalize": (lambda p: A.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), False),
    "ToFloat": (lambda p: A.ToFloat(), False),
    "ToUint8": (lambda p: A.ToUint8(), False),
    "RandAugment": (lambda p: A.RandAugment(2, 9), False),
    "TrivialAugmentWide": (lambda p: A.TrivialAugmentWide(), False),
    "TimmRandAugment": (lambda p: A.policies.from_timm("rand-m9-mstd0.5-inc1"), False),
    "RandomApply": (lambda p: A.RandomApply([A.ColorJitter(0.3, 0.3), A.RandomRotation(15)], p=p), True),
    "RandomApplyGeometric": (lambda p: A.RandomApply([A.RandomRotation(15), A.RandomHorizontalFlip(1.0)], p=p), True),
    "RandomChoice": (lambda p: A.RandomChoice([A.RandomInvert(1.0), A.GaussianBlur(3), A.RandomRotation(20)]), False),
    "RandomChoiceGeometric": (lambda p: A.RandomChoice([A.RandomRotation(20), A.RandomHorizontalFlip(1.0)]), False),
    "RandomOrder": (lambda p: A.RandomOrder([A.ColorJitter(0.3), A.RandomInvert(0.5), A.RandomSolarize(0.5)]), False),
    "RandomOrderGeometric": (lambda p: A.RandomOrder([A.RandomRotation(20), A.RandomAffine(0, scale=(0.8, 1.2))]), False),
    "ComposeImageNet": (
        lambda p: A.Compose([A.RandomResizedCrop(32), A.RandomHorizontalFlip(), A.ColorJitter(0.4, 0.4, 0.4, 0.1),
                             A.Normalize([0.5] * 3, [0.25] * 3)]),
        False,
    ),
    "ComposeCifar": (lambda p: A.Compose([A.RandomCrop(40, padding=4), A.RandomHorizontalFlip(), A.Normalize([0.5] * 3, [0.25] * 3)]), False),
    "ComposeAffineBlur": (
        lambda p: A.Compose([A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.GaussianBlur(5)]),
        False,
    ),
    "ComposeCropThenRotate": (lambda p: A.Compose([A.RandomCrop(36), A.RandomRotation(30), A.RandomPerspective(0.3, p=1.0)]), False),
}


def build(name: str, p: Optional[float] = 1.0) -> A.Transform:
    factory, _ = REGISTRY[name]
    return factory(1.0 if p is None else p)
