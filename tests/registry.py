"""Every public transform with a configuration that exercises it; the shared checkers run over this.

Each entry builds the transform for a given ``p`` (``None`` when the transform has no ``p`` gate).
``tests/test_registry_coverage.py`` fails when a public transform class of :mod:`augloader` or
:mod:`augloader.advanced` has no entry here (in ``REGISTRY`` or ``EXEMPT``).

``REGISTRY`` entries pass every check of ``tests/test_transform_contract.py``. ``EXEMPT`` holds the
entries that cannot meet a named check, each with the reason; they are kept out of ``REGISTRY`` and
``tests/test_registry_coverage.py`` runs every *other* contract check over them.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

import augloader as A
import augloader.advanced as AD

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
    "RandomOrderGeometric": (
        lambda p: A.RandomOrder([A.RandomRotation(20), A.RandomAffine(0, scale=(0.8, 1.2))]),
        False,
    ),
    "ComposeImageNet": (
        lambda p: A.Compose(
            [
                A.RandomResizedCrop(32),
                A.RandomHorizontalFlip(),
                A.ColorJitter(0.4, 0.4, 0.4, 0.1),
                A.Normalize([0.5] * 3, [0.25] * 3),
            ]
        ),
        False,
    ),
    "ComposeCifar": (
        lambda p: A.Compose(
            [A.RandomCrop(40, padding=4), A.RandomHorizontalFlip(), A.Normalize([0.5] * 3, [0.25] * 3)]
        ),
        False,
    ),
    "ComposeAffineBlur": (
        lambda p: A.Compose(
            [A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.GaussianBlur(5)]
        ),
        False,
    ),
    "ComposeCropThenRotate": (
        lambda p: A.Compose([A.RandomCrop(36), A.RandomRotation(30), A.RandomPerspective(0.3, p=1.0)]),
        False,
    ),
    # augloader.advanced (image side)
    "FourierAmplitudeMixBank": (lambda p: AD.FourierAmplitudeMix(0.1, (0.3, 1.0), p=p, style_bank=_style_bank()), True),
    "RandomStyle": (lambda p: AD.RandomStyle(p=p), True),
    "RandomStyleColourOnly": (
        lambda p: AD.RandomStyle(kernel_size=1, shift=1.0, scale=1.0, strength=(0.5, 1.0), p=p, seed=3),
        True,
    ),
    "StyleNetworkAugment": (lambda p: AD.StyleNetworkAugment(_style_net(), p=p, strength=(0.5, 1.0)), True),
    "StyleNetworkAugmentRunAll": (lambda p: AD.StyleNetworkAugment(_style_net(), p=p, run_all=True), True),
}


def _style_bank() -> torch.Tensor:
    """Four fixed random 3-channel style images, smaller than the test batch (so they are resized)."""
    return torch.rand(4, 3, 24, 20, generator=torch.Generator().manual_seed(7))


def _style_net() -> nn.Module:
    """A fixed per-pixel colour network (1x1 convolution and a sigmoid; weights set by hand, no download)."""
    net = nn.Sequential(nn.Conv2d(3, 3, 1), nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.2, 0.7, 0.1], [0.5, 0.2, 0.3], [0.1, 0.3, 0.6]]).view(3, 3, 1, 1) * 4 - 1)
        net[0].bias.fill_(0.1)
    return net


#: Entries that cannot meet some contract checks: name -> (factory taking p, whether it honours p,
#: {contract test function name: reason}). Never silently skipped: the coverage test runs every other
#: check of tests/test_transform_contract.py over them and checks that the reasons stay true.
EXEMPT: dict[str, tuple[Factory, bool, dict[str, str]]] = {
    "FourierAmplitudeMix": (
        lambda p: AD.FourierAmplitudeMix(0.1, (0.3, 1.0), p=p),
        True,
        {
            "test_batch_equals_per_sample_loop": "cross-sample (cross_sample = True): each sample's amplitude is mixed "
            "with a partner from the same batch, so one sample alone (its own "
            "partner) is left unchanged while the batch is not"
        },
    ),
}


def build(name: str, p: Optional[float] = 1.0) -> A.Transform:
    factory = REGISTRY[name][0] if name in REGISTRY else EXEMPT[name][0]
    return factory(1.0 if p is None else p)
