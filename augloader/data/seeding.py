"""Reproducible randomness for the data layer: every draw derives from (seed, epoch, rank, index).

A generator is seeded by hashing the key, so the augmented stream does not depend on which process
(main, worker 0, worker 1, a persistent worker) makes the draw, nor on the order they run in.

Batches carry their identity into DataLoader workers as tagged lists: :class:`BatchIndices` (what
:class:`IndexedBatchSampler` yields: the indices plus ``batch_index`` and ``epoch``) and
:class:`SampleBatch` (what :meth:`AugmentedDataset.__getitems__` returns to the collate_fn).
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from typing import Any, Iterator, Optional, Sequence

import torch
from torch.utils.data import Sampler

_MASK63 = (1 << 63) - 1


def derive_seed(*key: Any) -> int:
    """A 63-bit seed from a key of ints and strings (stable across processes and runs)."""
    h = hashlib.blake2b(digest_size=8)
    for part in key:
        if isinstance(part, str):
            h.update(b"s" + part.encode())
        else:
            h.update(b"i" + struct.pack("<q", int(part) & _MASK63))
    return int.from_bytes(h.digest(), "little") & _MASK63


def make_generator(*key: Any) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded by :func:`derive_seed` of ``key``."""
    return torch.Generator().manual_seed(derive_seed(*key))


def indices_key(indices: Sequence[int]) -> int:
    """A key for a batch whose position in the epoch is unknown: a hash of its sample indices."""
    return derive_seed("indices", *[int(i) for i in indices])


def current_rank() -> int:
    """This process's rank in ``torch.distributed``, or 0 when it is not initialised."""
    import torch.distributed as dist

    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def resolve_seed(seed: Optional[int]) -> int:
    """``seed`` as an int; None draws a fresh one (fixed from then on, so workers agree)."""
    if seed is None:
        return secrets.randbits(62)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    return seed


class Seeded:
    """Mixin: a seed, an epoch and a rank, with ``set_epoch`` and ``state_dict``.

    ``rank=None`` means "the torch.distributed rank": read in the main process when the object is
    sent to a DataLoader worker (pickled), or at use when it runs in the main process.
    """

    seed: int
    epoch: int
    rank: Optional[int]

    def _init_seeding(self, seed: Optional[int], rank: Optional[int]) -> None:
        self.seed = resolve_seed(seed)
        self.epoch = 0
        self.rank = rank

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch whose augmentations are drawn next."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.epoch = epoch

    def get_rank(self) -> int:
        return current_rank() if self.rank is None else self.rank

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to repeat the same augmentations."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name in ("seed", "epoch"):
            if name not in state:
                raise KeyError(f"state_dict has no {name!r} (keys: {sorted(state)})")
        self.seed = resolve_seed(state["seed"])
        self.set_epoch(state["epoch"])

    def _freeze_rank(self, state: dict[str, Any]) -> dict[str, Any]:
        if state.get("rank") is None:
            state["rank"] = current_rank()
        return state


class BatchSeeded(Seeded):
    """Mixin for a ``collate_fn``: each batch draws from ``(seed, epoch, rank, stream, batch key)``.

    The key is the batch index an augloader loader tags the batch with, else its dataset indices, else
    the batch's position in the epoch (see :meth:`_batch_position`); subclasses call
    :meth:`_count_batch` once per collated batch.
    """

    _calls: int = 0

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        self._calls = 0  # the fallback key counts batches within an epoch

    def generator(self, samples: Sequence[Any], stream: str) -> torch.Generator:
        """The generator of this batch for ``stream`` (e.g. ``"batch"``, ``"mix"``, ``"size_fix"``)."""
        batch_index = getattr(samples, "batch_index", None)
        epoch = getattr(samples, "epoch", None)
        epoch = self.epoch if epoch is None else epoch
        if batch_index is not None:
            key = ("b", batch_index)
        elif getattr(samples, "indices", None) is not None:
            key = ("i", indices_key(samples.indices))
        else:
            key = ("c", self._batch_position())
        return make_generator(self.seed, epoch, self.get_rank(), stream, *key)

    def _batch_position(self) -> int:
        """This batch's index in the epoch, from this process's call count: the DataLoader deals batches
        to its workers round-robin (batch k to worker ``k % num_workers``) and each worker collates its
        batches in order, so worker ``w``'s ``c``-th call is batch ``c * num_workers + w``.

        Exact with ``set_epoch`` called before each epoch (it resets the count; a worker gets the
        reset copy). Persistent workers keep counting across epochs without seeing ``set_epoch``:
        there the stream depends on ``num_workers``; :func:`augloader.data.loader` tags batches instead.
        """
        info = torch.utils.data.get_worker_info()
        if info is None:
            return self._calls
        return self._calls * info.num_workers + info.id

    def _count_batch(self) -> None:
        self._calls += 1


class BatchIndices(list):
    """A batch of sample indices tagged with its position in the epoch (survives pickling to workers)."""

    def __init__(self, indices: Sequence[int], batch_index: int, epoch: Optional[int] = None) -> None:
        super().__init__(indices)
        self.batch_index = batch_index
        self.epoch = epoch


class SampleBatch(list):
    """Samples for a collate_fn, tagged with where they came from.

    Attributes: ``indices`` (dataset indices), ``batch_index`` and ``epoch`` (None when the sampler did
    not tag them) and ``role`` (``"train"``/``"val"``/``"test"`` for a split view, else None).
    """

    def __init__(
        self,
        samples: Sequence[Any],
        indices: Sequence[int],
        batch_index: Optional[int] = None,
        epoch: Optional[int] = None,
        role: Optional[str] = None,
    ) -> None:
        super().__init__(samples)
        self.indices = list(indices)
        self.batch_index = batch_index
        self.epoch = epoch
        self.role = role


def batch_tags(indices: Sequence[int]) -> tuple[Optional[int], Optional[int]]:
    """``(batch_index, epoch)`` carried by ``indices``, or ``(None, None)`` for a plain list."""
    return getattr(indices, "batch_index", None), getattr(indices, "epoch", None)


class IndexedBatchSampler(Sampler):
    """Wraps a batch sampler so each batch knows its index in the epoch (and the epoch) in workers.

    Yields :class:`BatchIndices`. ``set_epoch`` is forwarded to the inner sampler (``DistributedSampler``,
    :class:`SeededRandomSampler`, :class:`ClassBalancedAugment`) when it has one.
    """

    def __init__(self, batch_sampler: Any) -> None:
        self.batch_sampler = batch_sampler
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        inner = getattr(self.batch_sampler, "sampler", None)
        if hasattr(inner, "set_epoch"):
            inner.set_epoch(epoch)

    def __iter__(self) -> Iterator[BatchIndices]:
        for i, batch in enumerate(self.batch_sampler):
            yield BatchIndices(batch, i, self.epoch)

    def __len__(self) -> int:
        return len(self.batch_sampler)


class SeededRandomSampler(Sampler):
    """A shuffle that depends only on ``(seed, epoch)``: the same order whatever the process state."""

    def __init__(self, n: int, seed: Optional[int] = None) -> None:
        self.n = int(n)
        self.seed = resolve_seed(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        return iter(torch.randperm(self.n, generator=make_generator(self.seed, self.epoch, "shuffle")).tolist())

    def __len__(self) -> int:
        return self.n
