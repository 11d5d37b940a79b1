"""``ClassBalancedAugment``: oversample minority classes, and augment them harder.

Two levers, usable together:

- **sampling**: a sampler drawing ``num_samples`` indices per epoch with replacement, sample ``i``
  weighted ``target[c_i] / count[c_i]``, so an epoch's class distribution approaches ``target``
  (uniform by default); repeated draws of a rare sample get different augmentations because draws are
  keyed by batch position (use :func:`augloader.data.loader`).
- **strength**: :attr:`ClassBalancedAugment.transform`, a batch transform that sends each sample
  through ``strong`` with its class's probability (``1 - count / max count`` by default: the largest
  class is always weak, the rarest almost always strong) and through ``weak`` otherwise.

Example::

    balance = ClassBalancedAugment(labels, weak=A.RandomHorizontalFlip(),
                                   strong=A.Compose([A.RandomHorizontalFlip(), A.RandAugment()]), seed=0)
    dl = loader(ds, 64, sampler=balance, batch_transform=balance.transform, seed=0, num_workers=2)
    balance.epoch_distribution()   # {class: share of this epoch's draws}
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import torch
from torch import Tensor
from torch.utils.data import Sampler

from .._memory import new_batch
from .decode import call_transform, takes_generator
from .seeding import Seeded, make_generator

Target = Union[None, str, Sequence[float], Mapping[int, float]]


def _per_class(values: Any, classes: Tensor, name: str) -> Tensor:
    """A per-class float vector from a sequence (in class order) or a ``{class: value}`` mapping."""
    if isinstance(values, Mapping):
        missing = [c for c in classes.tolist() if c not in values]
        if missing:
            raise ValueError(f"{name} has no entry for classes {missing}")
        return torch.tensor([float(values[c]) for c in classes.tolist()], dtype=torch.float64)
    out = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if out.numel() != classes.numel():
        raise ValueError(f"{name} has {out.numel()} entries for {classes.numel()} classes {classes.tolist()}")
    return out


def _class_labels(labels: Any) -> Tensor:
    """``labels`` as ``(N,)`` int64 class indices; float labels must hold whole numbers (named if not)."""
    try:
        values = torch.as_tensor(labels).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as e:
        raise TypeError(f"labels must be a sequence of integer class indices ({e})") from None
    if values.is_complex():
        raise TypeError(f"labels must be integer class indices, got dtype {values.dtype}")
    if values.is_floating_point():
        bad = ~torch.isfinite(values) | (values != torch.round(values)) | (values.abs() >= 2**53)
        if bool(bad.any()):
            first = int(bad.nonzero()[0, 0])
            raise ValueError(
                f"labels must be integer class indices; labels[{first}] = {values[first].item()!r} is not "
                f"({int(bad.sum())} such labels)"
            )
    return values.to(torch.int64)


class ClassStrength:
    """Per sample, ``strong`` with its class's probability, else ``weak`` (None: unchanged).

    Each branch runs once on its subset of the batch (index_select, no loop over samples; on CUDA
    the subset sizes cost one host sync per batch).

    Shape:
        ``images (B, C, H, W)``, ``labels (B,)`` -> ``(B, C', H', W')``.
    """

    takes_labels = True
    randomized = True

    def __init__(self, weak: Any, strong: Any, classes: Tensor, p_strong: Tensor) -> None:
        self.weak, self.strong = weak, strong
        self.classes = classes
        self.p_strong = p_strong.to(torch.float32)

    def _branch(self, fn: Any, images: Tensor, g: Optional[torch.Generator]) -> Tensor:
        return images if fn is None else call_transform(fn, images, g, takes_generator(fn))

    def __call__(self, images: Tensor, labels: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        labels = torch.as_tensor(labels)
        if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
            raise ValueError(
                f"ClassStrength needs class-index labels (B,) for {images.shape[0]} images, got {tuple(labels.shape)}"
            )
        if labels.device.type == "cpu" and not torch.isin(labels, self.classes).all():  # checked where it costs no sync
            raise ValueError("ClassStrength got labels that were not in the class list it was built with")
        classes, p_strong = self.classes.to(labels.device), self.p_strong.to(labels.device)
        pos = torch.searchsorted(classes, labels).clamp_(max=classes.numel() - 1)
        u = torch.rand(
            labels.shape[0], generator=generator, device=generator.device if generator is not None else "cpu"
        )
        strong = (u.to(labels.device) < p_strong[pos]).to(images.device)
        idx_s, idx_w = strong.nonzero().flatten(), (~strong).nonzero().flatten()
        parts = [
            (idx, self._branch(fn, images.index_select(0, idx), generator))
            for idx, fn in ((idx_w, self.weak), (idx_s, self.strong))
            if idx.numel()
        ]
        if len(parts) == 1:
            return parts[0][1]
        shapes = {(tuple(p.shape[1:]), p.dtype) for _, p in parts}
        if len(shapes) > 1:
            raise ValueError(
                f"weak and strong pipelines must give the same image shape and dtype, got {sorted(map(str, shapes))}"
            )
        first = parts[0][1]
        out = new_batch((images.shape[0], *first.shape[1:]), first.dtype, first.device)
        for idx, p in parts:
            out.index_copy_(0, idx.to(out.device), p)
        return out


class ClassBalancedAugment(Sampler, Seeded):
    """Class-balanced sampler plus per-class augmentation strength.

    Args:
        labels: one class index per sample of the dataset.
        weak: the pipeline for majority classes (None: unchanged).
        strong: the pipeline for minority classes (None: no strength lever, :attr:`transform` is None).
        target: epoch class distribution to reach: None/"uniform", "sqrt" (counts ** 0.5, a softer
            rebalancing), "natural" (no oversampling), or per-class weights (sequence or mapping).
        num_samples: draws per epoch (default: the dataset size).
        strength: per-class probability of the strong pipeline (default ``1 - count / max count``).
        seed: base seed of the draws; rank: mixed into the seed (None: torch.distributed's), so each
            rank draws its own indices (give each rank ``num_samples = total // world_size``).
    """

    def __init__(
        self,
        labels: Sequence[int],
        weak: Any = None,
        strong: Any = None,
        target: Target = None,
        num_samples: Optional[int] = None,
        strength: Any = None,
        seed: Optional[int] = None,
        *,
        rank: Optional[int] = None,
    ) -> None:
        self.labels = _class_labels(labels)
        if self.labels.numel() == 0:
            raise ValueError("ClassBalancedAugment needs at least one label")
        self.classes, inverse, counts = torch.unique(self.labels, return_inverse=True, return_counts=True)
        self.counts = counts.to(torch.float64)
        self._pos = inverse
        if target is None or target == "uniform":
            tgt = torch.ones_like(self.counts)
        elif target == "sqrt":
            tgt = self.counts.sqrt()
        elif target == "natural":
            tgt = self.counts.clone()
        elif isinstance(target, str):
            raise ValueError(f"target must be 'uniform', 'sqrt', 'natural' or per-class weights, got {target!r}")
        else:
            tgt = _per_class(target, self.classes, "target")
        if (tgt < 0).any() or tgt.sum() <= 0:
            raise ValueError(f"target weights must be non-negative with a positive sum, got {tgt.tolist()}")
        self.target = tgt / tgt.sum()
        self.weights = (self.target / self.counts)[self._pos]
        self.num_samples = int(num_samples) if num_samples is not None else self.labels.numel()
        if self.num_samples <= 0:
            raise ValueError(f"num_samples must be positive, got {num_samples!r}")
        p_strong = (
            1.0 - self.counts / self.counts.max()
            if strength is None
            else _per_class(strength, self.classes, "strength")
        )
        if (p_strong < 0).any() or (p_strong > 1).any():
            raise ValueError(f"strength must be probabilities in [0, 1], got {p_strong.tolist()}")
        self.p_strong = p_strong
        self.transform = ClassStrength(weak, strong, self.classes, p_strong) if strong is not None else None
        self._init_seeding(seed, rank)

    def __iter__(self) -> Iterator[int]:
        return iter(self.epoch_indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def epoch_indices(self) -> Tensor:
        """This epoch's draws (the same on every call for the same seed, epoch and rank).

        Shape:
            ``(num_samples,)`` int64.
        """
        g = make_generator(self.seed, self.epoch, self.get_rank(), "balance")
        return torch.multinomial(self.weights, self.num_samples, replacement=True, generator=g)

    def epoch_distribution(self) -> dict[int, float]:
        """The class shares of this epoch's draws, ``{class: fraction}``."""
        hist = torch.bincount(self._pos[self.epoch_indices()], minlength=self.classes.numel()).to(torch.float64)
        return dict(zip(self.classes.tolist(), (hist / hist.sum()).tolist()))

    def expected_distribution(self) -> dict[int, float]:
        """The target class shares the sampler draws towards."""
        return dict(zip(self.classes.tolist(), self.target.tolist()))

    def strong_probability(self) -> dict[int, float]:
        """Per class, the probability that a sample goes through the strong pipeline."""
        return dict(zip(self.classes.tolist(), self.p_strong.tolist()))
