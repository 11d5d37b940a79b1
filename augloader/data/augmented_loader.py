"""``loader(...)``: the recommended DataLoader for augloader, reproducible for any ``num_workers``.

It wraps the dataset in :class:`AugmentedDataset`, uses :class:`BatchAugment` as the collate_fn and
an :class:`IndexedBatchSampler`, so every batch carries its index and epoch into the worker (the
augmented stream is then identical for ``num_workers`` 0, 1, 2 and with persistent workers)::

    dl = loader(train, batch_size=64, batch_transform=pipeline, mix=MixUpCutMix(num_classes=10),
                seed=0, shuffle=True, num_workers=2, persistent_workers=True)
    for epoch in range(epochs):
        dl.set_epoch(epoch)
        for images, targets in dl: ...
"""

from __future__ import annotations

from typing import Any, Optional

from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from .collate import BatchAugment
from .dataset import AugmentedDataset
from .seeding import IndexedBatchSampler, SeededRandomSampler, derive_seed, resolve_seed


class AugmentedLoader(DataLoader):
    """A DataLoader whose ``set_epoch`` reaches the sampler, the per-sample and the batch stage."""

    def set_epoch(self, epoch: int) -> None:
        """Call before iterating each epoch (also forwards to ``DistributedSampler.set_epoch``)."""
        self.batch_sampler.set_epoch(epoch)
        self.dataset.set_epoch(epoch)
        self.collate_fn.set_epoch(epoch)

    @property
    def epoch(self) -> int:
        return self.batch_sampler.epoch

    def state_dict(self) -> dict[str, Any]:
        """Epoch plus the seeds of the sampler, the per-sample and the batch stage."""
        sampler = self.batch_sampler.batch_sampler.sampler
        return {
            "epoch": self.epoch,
            "sampler_seed": getattr(sampler, "seed", None),
            "dataset": self.dataset.state_dict(),
            "collate": self.collate_fn.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores :meth:`state_dict`; the next iteration repeats that epoch's augmentations."""
        sampler = self.batch_sampler.batch_sampler.sampler
        if state.get("sampler_seed") is not None and hasattr(sampler, "seed"):
            sampler.seed = state["sampler_seed"]
        self.dataset.load_state_dict(state["dataset"])
        self.collate_fn.load_state_dict(state["collate"])
        self.set_epoch(state["epoch"])


def loader(
    dataset: Dataset,
    batch_size: int,
    transform: Any = None,
    batch_transform: Any = None,
    mix: Any = None,
    seed: Optional[int] = None,
    shuffle: bool = False,
    sampler: Optional[Sampler] = None,
    drop_last: bool = False,
    size_fix: Any = None,
    allow_random: bool = False,
    **dataloader_kwargs: Any,
) -> AugmentedLoader:
    """A reproducible augmenting DataLoader.

    Args:
        dataset: a map-style dataset (PIL / numpy / tensor images, tuples or dicts with targets).
        batch_size: samples per batch.
        transform: per-sample transform run in :class:`AugmentedDataset` (e.g. a size-fixing crop).
        batch_transform: batch transform run in the worker by :class:`BatchAugment`.
        mix: optional :class:`~augloader.mix.MixUpCutMix` after ``batch_transform``.
        seed: base seed of the shuffle and every augmentation (None draws one).
        shuffle: shuffle by ``(seed, epoch)`` when no ``sampler`` is given.
        sampler: e.g. ``DistributedSampler`` or :class:`ClassBalancedAugment`.
        drop_last, size_fix, allow_random: as in ``DataLoader`` / :class:`BatchAugment`.
        **dataloader_kwargs: ``num_workers``, ``pin_memory``, ``persistent_workers``, ...
    """
    seed = resolve_seed(seed)
    if not isinstance(dataset, AugmentedDataset):
        dataset = AugmentedDataset(dataset, transform, seed=derive_seed(seed, "dataset"), allow_random=allow_random)
    elif transform is not None:
        raise ValueError("dataset is already an AugmentedDataset; give the per-sample transform to it, not to loader()")
    collate = BatchAugment(
        batch_transform, mix, seed=derive_seed(seed, "collate"), size_fix=size_fix, allow_random=allow_random
    )
    collate.check_dataset(dataset.dataset)
    if sampler is None:
        sampler = (
            SeededRandomSampler(len(dataset), derive_seed(seed, "shuffle")) if shuffle else SequentialSampler(dataset)
        )
    elif shuffle:
        raise ValueError("give either shuffle=True or a sampler, not both")
    batches = IndexedBatchSampler(BatchSampler(sampler, batch_size, drop_last))
    return AugmentedLoader(dataset, batch_sampler=batches, collate_fn=collate, **dataloader_kwargs)
