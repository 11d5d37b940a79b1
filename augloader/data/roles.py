"""The val/test guard: which split a dataset is, and whether a transform draws random values.

Example::

    role_of(Subset(val_view, range(10)))             # "val" (found through Subset/ConcatDataset)
    random_member(torchvision.transforms.Resize(256))  # None: deterministic
    check_role(A.RandomCrop(224), "val", False, "AugmentedDataset")  # ValueError naming RandomCrop
"""

from __future__ import annotations

from typing import Any, Optional

from torch import nn
from torch.utils.data import ConcatDataset, Subset

EVAL_ROLES = ("val", "test")

#: torchvision transforms that draw nothing; every other torchvision transform counts as random.
TORCHVISION_DETERMINISTIC = frozenset(
    {
        "CenterCrop",
        "ClampBoundingBoxes",
        "ConvertBoundingBoxFormat",
        "ConvertImageDtype",
        "Grayscale",
        "Identity",
        "Normalize",
        "PILToTensor",
        "Pad",
        "Resize",
        "SanitizeBoundingBoxes",
        "ToDtype",
        "ToImage",
        "ToPILImage",
        "ToPureTensor",
        "ToTensor",
    }
)


def role_of(dataset: Any) -> Optional[str]:
    """The split role of ``dataset``: its ``role``, else that of the dataset a ``Subset`` views, else the
    one role shared by every part of a ``ConcatDataset`` (None when unknown or mixed)."""
    role = getattr(dataset, "role", None)
    if role is not None:
        return role
    if isinstance(dataset, Subset):
        return role_of(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        roles = {role_of(d) for d in dataset.datasets}
        return roles.pop() if len(roles) == 1 else None
    return None


def _members(transform: Any) -> Optional[list]:
    """The steps of a plain pipeline (a Compose or ``nn.Sequential``), or None for anything else."""
    if isinstance(transform, nn.Sequential):
        return list(transform)
    if type(transform).__name__ in ("Compose", "AudioCompose"):
        steps = getattr(transform, "transforms", None)
        return list(steps) if steps is not None else None
    return None


def _is_torchvision(transform: Any) -> bool:
    return type(transform).__module__.startswith("torchvision.transforms")


def random_member(transform: Any, where: tuple[str, ...] = ()) -> Optional[str]:
    """The name of the first random step of ``transform`` (with its place inside pipelines), or None.

    augloader transforms say so with ``randomized``; torchvision's count as deterministic when listed in
    :data:`TORCHVISION_DETERMINISTIC`; any other callable without a ``randomized`` flag counts as random.
    """
    if transform is None:
        return None
    name = type(transform).__name__
    steps = _members(transform)
    if steps is not None:
        for i, step in enumerate(steps):
            found = random_member(step, (*where, f"{name}.transforms[{i}]"))
            if found is not None:
                return found
        return None
    if _is_torchvision(transform):
        random = name not in TORCHVISION_DETERMINISTIC
    else:
        random = bool(getattr(transform, "randomized", True))
    if not random:
        return None
    return f"{name} ({' > '.join(where)})" if where else name


def is_random(transform: Any) -> bool:
    """True when ``transform`` draws random values (see :func:`random_member`)."""
    return random_member(transform) is not None


def check_role(transform: Any, role: Optional[str], allow_random: bool, where: str) -> None:
    """Raises if a random ``transform`` is attached to data whose ``role`` is val or test."""
    if role not in EVAL_ROLES or allow_random:
        return
    found = random_member(transform)
    if found is not None:
        raise ValueError(
            f"{where}: {found} is a random transform and this data is the {role!r} split; "
            f"evaluation data should only get deterministic transforms (Resize, CenterCrop, Normalize). "
            f"Pass allow_random=True if this is intended (e.g. test-time augmentation)."
        )
