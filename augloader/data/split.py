"""Deterministic, stratified train/val/test splits; views carry their role for the val/test guard (``roles``).

Example::

    train, val, test = split_dataset(ds, (0.8, 0.1, 0.1), stratify=labels, seed=0)
    train_aug = train.with_transform(A.Compose([A.RandomResizedCrop(224), A.RandomHorizontalFlip()]))
    val.with_transform(A.RandomHorizontalFlip())   # ValueError: random transform on a 'val' split
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import torch
from torch.utils.data import Dataset, Subset

from .dataset import AugmentedDataset
from .roles import EVAL_ROLES, check_role, is_random, role_of  # noqa: F401  (the guard's home is roles.py)
from .seeding import SampleBatch, batch_tags, make_generator

__all__ = ["EVAL_ROLES", "SplitView", "check_role", "is_random", "role_of", "split_dataset"]


class SplitView(Subset):
    """A Subset with a ``role`` (``"train"``, ``"val"``, ``"test"``, or ``"split<i>"``)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int], role: str) -> None:
        super().__init__(dataset, list(indices))
        self.role = role

    def __getitems__(self, indices: list) -> SampleBatch:
        batch_index, epoch = batch_tags(indices)
        samples = [self.dataset[self.indices[i]] for i in indices]
        return SampleBatch(samples, indices, batch_index, epoch, self.role)

    def with_transform(
        self, transform: Any, seed: Optional[int] = None, allow_random: bool = False, **kwargs: Any
    ) -> AugmentedDataset:
        """This view wrapped in an :class:`~augloader.data.AugmentedDataset` (guarded for val/test)."""
        return AugmentedDataset(self, transform, seed=seed, allow_random=allow_random, **kwargs)

    def __repr__(self) -> str:
        return f"SplitView(role={self.role!r}, size={len(self.indices)})"


def _roles(n: int) -> list[str]:
    return {1: ["train"], 2: ["train", "val"], 3: ["train", "val", "test"]}.get(n, [f"split{i}" for i in range(n)])


def _fractions(spec: Sequence[Union[int, float]], n: int) -> tuple[list[float], bool]:
    spec = list(spec)
    if not spec:
        raise ValueError("split_dataset needs at least one fraction or size")
    if all(isinstance(s, int) and not isinstance(s, bool) for s in spec):
        if any(s < 0 for s in spec) or sum(spec) > n:
            raise ValueError(f"split sizes {spec} must be non-negative and sum to at most the dataset size {n}")
        return [s / n if n else 0.0 for s in spec], True
    if any(not isinstance(s, (int, float)) or isinstance(s, bool) or s < 0 for s in spec) or sum(spec) > 1 + 1e-9:
        raise ValueError(f"split fractions {spec} must be non-negative numbers summing to at most 1")
    return [float(s) for s in spec], False


def _targets(n: int, fractions: list[float], sizes: Optional[list[int]]) -> list[int]:
    """Split sizes plus a last "unused" column, summing to ``n`` (cumulative rounding of fractions)."""
    if sizes is None:
        bounds, acc = [0], 0.0
        for f in fractions:
            acc += f
            bounds.append(min(n, int(round(acc * n))))
        sizes = [bounds[i + 1] - bounds[i] for i in range(len(fractions))]
    return [*sizes, n - sum(sizes)]


def _allocate(class_sizes: list[int], targets: list[int]) -> list[list[int]]:
    """Per class, how many samples go to each split: proportional, rows summing to the class sizes and
    columns to ``targets`` exactly (floors, then the largest remainders, greedily)."""
    n = sum(class_sizes)
    quota = [[c * t / n if n else 0.0 for t in targets] for c in class_sizes]
    alloc = [[int(q) for q in row] for row in quota]
    row_left = [c - sum(row) for c, row in zip(class_sizes, alloc)]
    col_left = [t - sum(row[s] for row in alloc) for s, t in enumerate(targets)]
    order = sorted(
        ((quota[c][s] - alloc[c][s], c, s) for c in range(len(alloc)) for s in range(len(targets))), reverse=True
    )
    for _, c, s in order:
        if row_left[c] > 0 and col_left[s] > 0:
            alloc[c][s] += 1
            row_left[c] -= 1
            col_left[s] -= 1
    for c in range(len(alloc)):  # rare: the greedy pass left a remainder; any open column keeps totals exact
        for s in range(len(targets)):
            k = min(row_left[c], col_left[s])
            alloc[c][s] += k
            row_left[c] -= k
            col_left[s] -= k
    return alloc


def _class_of_each(stratify: Any, n: int) -> torch.Tensor:
    """The class position of every sample, ``(n,)`` int64; raises naming the first NaN label."""
    try:
        labels = torch.as_tensor(stratify).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"stratify must be a sequence of numeric class labels, one per sample ({e})") from None
    if labels.numel() != n:
        raise ValueError(f"stratify has {labels.numel()} labels for a dataset of {n} samples")
    if labels.is_complex():
        raise TypeError(f"stratify labels must be real numbers, got dtype {labels.dtype}")
    if labels.is_floating_point():
        nan = torch.isnan(labels)
        if bool(nan.any()):
            first = int(nan.nonzero()[0, 0])
            raise ValueError(
                f"stratify label of sample {first} is NaN ({int(nan.sum())} NaN labels in all); "
                f"every sample needs a class to be split by"
            )
        labels = labels + 0.0  # -0.0 and 0.0 are one class
    return torch.unique(labels, return_inverse=True)[1]


def split_dataset(
    dataset: Dataset,
    fractions_or_sizes: Sequence[Union[int, float]],
    stratify: Optional[Sequence[int]] = None,
    seed: int = 0,
    roles: Optional[Sequence[str]] = None,
) -> list[SplitView]:
    """Splits ``dataset`` into disjoint views, deterministically for a given ``seed``.

    Args:
        dataset: any map-style dataset with ``__len__``.
        fractions_or_sizes: fractions (summing to at most 1) or sample counts, one per split.
        stratify: one class label per sample; each class is then split in the same proportions.
            Split sizes are exact either way (fractions: ``round(cumulative fraction * n)`` boundaries);
            each class's share of a split is proportional to within one sample (in all but rare cases).
        seed: the shuffle seed.
        roles: names of the splits; default ``train``/``val``/``test`` for 1 to 3 splits.

    Returns:
        one :class:`SplitView` per entry, sorted indices inside each, no index in two views.
    """
    n = len(dataset)
    fractions, exact = _fractions(fractions_or_sizes, n)
    roles = list(roles) if roles is not None else _roles(len(fractions))
    if len(roles) != len(fractions):
        raise ValueError(f"got {len(roles)} roles for {len(fractions)} splits")
    g = make_generator(seed, "split")
    targets = _targets(n, fractions, [int(x) for x in fractions_or_sizes] if exact else None)
    if stratify is None:
        groups = [torch.randperm(n, generator=g)]
    else:
        inverse = _class_of_each(stratify, n)  # (n,) group of every sample: none left out
        order = torch.argsort(inverse, stable=True)
        groups = [
            members[torch.randperm(members.numel(), generator=g)]
            for members in torch.split(order, torch.bincount(inverse).tolist())
        ]
    alloc = _allocate([m.numel() for m in groups], targets)
    parts: list[list[int]] = [[] for _ in fractions]
    for members, counts in zip(groups, alloc):
        start = 0
        for s in range(len(fractions)):
            parts[s].extend(members[start : start + counts[s]].tolist())
            start += counts[s]
    return [SplitView(dataset, sorted(p), role) for p, role in zip(parts, roles)]
