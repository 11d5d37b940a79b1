"""``augloader.data.ImageFolder``: torchvision's ``ImageFolder`` whose images open lazily.

Example::

    train = AugmentedDataset(ImageFolder("photos/train"), A.RandomResizedCrop(224), seed=0)
    image, label = train[0]          # decoded at the scale the crop needs, uint8 (3, 224, 224)

Same classes, ``class_to_idx``, ``samples``, ``targets`` and ``imgs`` as torchvision's (it lists the
folder with torchvision's own code). Items are ``(LazyImage, target)``: only the header has been read,
so :class:`AugmentedDataset` can crop before it decodes. Given a torchvision-style ``transform``, items
are decoded to PIL first and behave exactly as torchvision's.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from torchvision.datasets import ImageFolder as _TorchvisionImageFolder

from .lazy import LazyImage


def _open_pil(path: str) -> Any:
    return LazyImage.open(path).to_pil()


class ImageFolder(_TorchvisionImageFolder):
    """A drop-in for ``torchvision.datasets.ImageFolder`` that yields :class:`LazyImage` items.

    Args:
        root: the folder of class subfolders.
        transform: optional torchvision-style transform; then items are decoded PIL images.
        target_transform, is_valid_file, allow_empty: as torchvision's.

    Raises:
        augloader.data.ImageDecodeError: (on access) a file that is not a readable image, naming it.
    """

    def __init__(
        self,
        root: str,
        transform: Optional[Callable] = None,
        target_transform: Optional[Callable] = None,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        allow_empty: bool = False,
    ) -> None:
        loader = LazyImage.open if transform is None else _open_pil
        super().__init__(
            root,
            transform=transform,
            target_transform=target_transform,
            loader=loader,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
