"""``AugmentedDataset``: decode each sample to uint8 ``(C, H, W)`` and run an optional per-sample transform.

Example::

    ds = AugmentedDataset(ImageFolder(root), A.RandomResizedCrop(224), seed=0)
    loader = DataLoader(ds, batch_size=64, num_workers=2, collate_fn=BatchAugment(A.ColorJitter(0.4), seed=0))

Each sample's draws come from a generator keyed by ``(seed, epoch, rank, batch index, position)``
when the sampler tags batches (:func:`augloader.data.loader`), else ``(seed, epoch, rank, index)``:
the stream is the same for any ``num_workers``. An ``IterableDataset`` is wrapped lazily
(:class:`AugmentedIterableDataset`), never materialised.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Iterator, Mapping, Optional, Union

from torch.utils.data import Dataset, IterableDataset, get_worker_info

from ..transforms.base import Transform
from .decode import call_transform, decoder, split_sample, takes_generator
from .first_stage import transform_lazy
from .lazy import ImageDecodeError, LazyImage
from .roles import check_role, role_of
from .seeding import SampleBatch, Seeded, batch_tags, make_generator


class _SampleStage(Seeded):
    """Decode + optional transform of one sample, shared by the map-style and iterable wrappers."""

    def _init_stage(
        self,
        dataset: Any,
        transform: Any,
        seed: Optional[int],
        rank: Optional[int],
        allow_random: bool,
        kind: str = "image",
    ) -> None:
        self.kind = kind
        self._key, self._decode = decoder(kind)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.role = role_of(dataset)  # through Subset / ConcatDataset too
        check_role(transform, self.role, allow_random, "AugmentedDataset")
        self.dataset = dataset
        self.transform = transform
        self.allow_random = allow_random
        self._gen_ok = takes_generator(transform) if transform is not None else False
        self._init_seeding(seed, rank)

    def _process(self, sample: Any, key: tuple, epoch: Optional[int] = None) -> Any:
        image, rebuild = split_sample(sample, self._key)
        if self.kind == "image" and isinstance(image, (str, os.PathLike, bytes, bytearray)):
            image = LazyImage.open(image)  # a file path or encoded bytes: read the header only
        if (
            isinstance(image, LazyImage) and isinstance(self.transform, Transform) and not isinstance(sample, dict)
        ):  # decode only what the leading crop needs
            g = make_generator(self.seed, self.epoch if epoch is None else epoch, self.get_rank(), "sample", *key)
            return rebuild(transform_lazy(self.transform, image, g))
        image = self._decode(image)
        if self.transform is None:
            return rebuild(image)
        g = make_generator(self.seed, self.epoch if epoch is None else epoch, self.get_rank(), "sample", *key)
        if isinstance(sample, dict) and self.kind != "text":  # image/audio transforms route a dict's targets
            return call_transform(self.transform, rebuild(image), g, self._gen_ok)
        return rebuild(call_transform(self.transform, image, g, self._gen_ok))

    def __getstate__(self) -> dict[str, Any]:
        return self._freeze_rank(dict(self.__dict__))


class AugmentedDataset(_SampleStage, Dataset):
    """Wraps a map-style dataset (or, dispatching, an iterable one) with decoding and a per-sample transform.

    Args:
        dataset: returns PIL images, ``(H, W, C)`` uint8 arrays, ``(C, H, W)`` tensors, or tuples
            ``(image, target, ...)`` / dicts with an ``image`` key holding one of those.
        transform: optional per-sample transform (an augloader Transform gets a seeded generator).
        seed: base seed; None draws one now (fixed for the object's life, shared with its workers).
        rank: distributed rank mixed into every draw; None reads ``torch.distributed``.
        allow_random: permit a random transform on a ``val``/``test`` split view.
        kind: ``"image"``, ``"audio"`` (waveforms ``(T,)``/``(C, T)`` float, dict key ``audio``,
            per-sample transforms from :mod:`augloader.audio`) or ``"text"`` (``str``, dict key
            ``text``, transforms from :mod:`augloader.text` such as ``EDA`` or ``BackTranslation``).

    Shape:
        each sample's image comes out as a ``(C, H, W)`` tensor (uint8 unless the transform converts it);
        audio as ``(C, T)`` float.
    """

    def __new__(cls, dataset: Any = None, *args: Any, **kwargs: Any):
        if cls is AugmentedDataset and isinstance(dataset, IterableDataset):
            return AugmentedIterableDataset(dataset, *args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        dataset: Dataset,
        transform: Any = None,
        seed: Optional[int] = None,
        *,
        rank: Optional[int] = None,
        allow_random: bool = False,
        kind: str = "image",
        on_error: str = "raise",
    ) -> None:
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(
                f"AugmentedDataset needs a map-style dataset (__getitem__ and __len__), got {type(dataset).__name__}"
            )
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.skipped: list[int] = []  # indices replaced under on_error="skip" (in this process)
        self._init_stage(dataset, transform, seed, rank, allow_random, kind)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        index = self._check_index(index)
        return self._fetch(index, (index,))

    def __getitems__(self, indices: list) -> SampleBatch:
        """The DataLoader's batched fetch: samples tagged with indices, batch position, epoch and role."""
        batch_index, epoch = batch_tags(indices)
        if batch_index is None:
            samples = [self._fetch(int(i), (int(i),), epoch) for i in indices]
        else:
            samples = [self._fetch(int(i), ("b", batch_index, k), epoch) for k, i in enumerate(indices)]
        return SampleBatch(samples, indices, batch_index, epoch, self.role)  # epoch: the sampler's tag or None

    def _check_index(self, index: int) -> int:
        n = len(self)
        if not -n <= int(index) < n:
            raise IndexError(f"index {index} is out of range for an AugmentedDataset of {n} samples")
        return int(index) % n  # ds[-1] is ds[n - 1], with the same draws

    def _fetch(self, index: int, key: tuple, epoch: Optional[int] = None) -> Any:
        """Sample ``index`` decoded and transformed; an unreadable image raises naming the sample and file,
        or with ``on_error="skip"`` is replaced by the next readable sample (same draws) and reported."""
        try:
            return self._process(self.dataset[index], key, epoch)
        except ImageDecodeError as e:
            if self.on_error == "raise":
                raise ImageDecodeError(f"sample {index}: {e}") from e
            self.skipped.append(index)
            warnings.warn(
                f"AugmentedDataset: skipped sample {index} ({e}); the next readable sample stands in", stacklevel=2
            )
            n = len(self)
            for step in range(1, n):
                try:
                    return self._process(self.dataset[(index + step) % n], key, epoch)
                except ImageDecodeError:
                    continue
            raise ImageDecodeError(f"no sample of the dataset could be decoded (the first: {e})") from e


class AugmentedIterableDataset(_SampleStage, IterableDataset):
    """The iterable counterpart: pulls samples one at a time from ``dataset``, never all at once.

    A sample that names itself draws from ``(seed, epoch, rank, its name)``: the same augmentation for
    any ``num_workers``, shard order or shuffle. By default a dict carrying webdataset's ``__key__``
    names itself; ``sample_key`` picks the name elsewhere (``-1`` for
    ``.to_tuple("jpg", "cls", "__key__")``). Names must be unique in the dataset. Any other sample draws
    from ``(seed, epoch, rank, worker id, position in that worker's stream)``, which changes with
    ``num_workers``. Sharding the stream between ranks and workers is the wrapped dataset's job
    (``wds.split_by_node`` / ``wds.split_by_worker`` for webdataset), as with any IterableDataset.

    Args:
        dataset: an IterableDataset of samples as :class:`AugmentedDataset` takes them.
        transform, seed, rank, allow_random, kind: as for :class:`AugmentedDataset`.
        sample_key: None (a dict's ``__key__`` when it has one), a tuple position (int) or a dict key
            (str) holding each sample's name (a str or int); with an int or str every sample must have it.

    Shape:
        as :class:`AugmentedDataset`: each sample's image comes out as ``(C, H, W)``.
    """

    def __init__(
        self,
        dataset: IterableDataset,
        transform: Any = None,
        seed: Optional[int] = None,
        *,
        rank: Optional[int] = None,
        allow_random: bool = False,
        kind: str = "image",
        sample_key: Union[int, str, None] = None,
    ) -> None:
        if sample_key is not None and (isinstance(sample_key, bool) or not isinstance(sample_key, (int, str))):
            raise TypeError(f"sample_key must be None, a tuple position (int) or a dict key (str), got {sample_key!r}")
        self._init_stage(dataset, transform, seed, rank, allow_random, kind)
        self.sample_key = sample_key

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        for k, sample in enumerate(self.dataset):
            name = sample_name(sample, self.sample_key)
            yield self._process(sample, ("w", worker, k) if name is None else ("key", name))


def sample_name(sample: Any, field: Union[int, str, None] = None) -> Optional[str]:
    """A streamed sample's own name, or None when it has none (see :class:`AugmentedIterableDataset`).

    ``field=None`` reads webdataset's ``__key__`` from a dict sample; an int indexes a tuple/list
    sample, a str a dict sample, and then a sample without it is an error.
    """
    if field is None:
        return str(sample["__key__"]) if isinstance(sample, Mapping) and "__key__" in sample else None
    if isinstance(field, str):
        if not isinstance(sample, Mapping):
            raise TypeError(f"sample_key={field!r} names a dict key, but the sample is a {type(sample).__name__}")
        if field not in sample:
            raise KeyError(f"sample_key={field!r}: sample has no such key (keys: {sorted(sample)})")
        value = sample[field]
    else:
        if not isinstance(sample, (tuple, list)):
            raise TypeError(f"sample_key={field} is a tuple position, but the sample is a {type(sample).__name__}")
        if not -len(sample) <= field < len(sample):
            raise IndexError(f"sample_key={field} is out of range for a sample of {len(sample)} fields")
        value = sample[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"sample_key={field!r} must select a str or int name, got a {type(value).__name__}")
    return str(value)
