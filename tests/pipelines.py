"""The reference pipelines the issues measure, for tests (``scripts/bench_images.py`` has the benchmarks' own).

P1: RandomResizedCrop + flip + ColorJitter(0.4, 0.4, 0.4, 0.1) + Normalize (ImageNet statistics).
P3: RandomAffine(30, 0.1, 0.8-1.2, shear 10) + flip + GaussianBlur 5.
"""

from __future__ import annotations

import augloader as A

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def p1(size: int = 224) -> A.Compose:
    """P1 cropping to ``size`` x ``size``."""
    return A.Compose(
        [A.RandomResizedCrop(size), A.RandomHorizontalFlip(), A.ColorJitter(0.4, 0.4, 0.4, 0.1), A.Normalize(MEAN, STD)]
    )


def p3() -> A.Compose:
    """P3 (keeps the input size)."""
    return A.Compose(
        [A.RandomAffine(30, (0.1, 0.1), (0.8, 1.2), 10), A.RandomHorizontalFlip(), A.GaussianBlur(5, (0.1, 2.0))]
    )
