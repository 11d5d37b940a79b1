"""``DeviceAugmenter``: the training-loop hook that moves uint8 batches to the device and augments there.

Like timm's ``PrefetchLoader``: while the model works on batch ``k``, batch ``k + 1`` is already being
copied (from pinned memory, ``non_blocking``) and augmented on a side CUDA stream. On the CPU the
same API runs without streams. Example::

    train = DeviceAugmenter(DataLoader(ds, 256, num_workers=8, pin_memory=True, collate_fn=BatchAugment()),
                            A.Compose([A.RandomResizedCrop(224), A.ColorJitter(0.4, 0.4, 0.4), A.Normalize(m, s)]),
                            device="cuda", mix=MixUpCutMix(num_classes=1000), seed=0)
    for epoch in range(epochs):
        train.set_epoch(epoch)
        for images, targets in train: ...
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Union

import torch
from torch import Tensor

from .._batch import check_finite
from .decode import call_transform, takes_generator
from .seeding import Seeded, make_generator


def _to_device(x: Any, device: torch.device) -> Any:
    """Moves tensors (nested in tuples / dicts) to ``device``; CPU tensors are pinned first for CUDA."""
    if isinstance(x, Tensor):
        if device.type == "cuda" and x.device.type == "cpu" and not x.is_pinned():
            x = x.pin_memory()
        return x.to(device, non_blocking=True)
    if isinstance(x, Mapping):
        return {k: _to_device(v, device) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_to_device(v, device) for v in x) if isinstance(x, tuple) else [_to_device(v, device) for v in x]
    return x


def _record(x: Any, stream: Any) -> None:
    """Tells the caching allocator that ``x`` is used on the consumer's stream too."""
    if isinstance(x, Tensor) and x.is_cuda:
        x.record_stream(stream)
    elif isinstance(x, Mapping):
        for v in x.values():
            _record(v, stream)
    elif isinstance(x, (tuple, list)):
        for v in x:
            _record(v, stream)


def check_device(device: Union[str, torch.device]) -> torch.device:
    """``device`` as a ``torch.device``, or a clear error when this machine cannot use it."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"DeviceAugmenter: device {device!r} is not a device name ({e})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"DeviceAugmenter: device {str(dev)!r} needs CUDA, which is not available here "
                f"(torch.cuda.is_available() is False); use device='cpu'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"DeviceAugmenter: device {str(dev)!r} does not exist; this machine has "
                f"{torch.cuda.device_count()} CUDA device(s)"
            )
    elif dev.type != "cpu":
        try:
            torch.empty(0, device=dev)
        except (RuntimeError, AssertionError) as e:
            raise RuntimeError(f"DeviceAugmenter: device {str(dev)!r} is not usable here ({e})") from None
    return dev


def _check_images(batch: Any, where: str) -> None:
    """:func:`check_finite` on a batch's images: a tensor, a tuple's first item or a dict's ``image``."""
    if isinstance(batch, Mapping):
        batch = batch.get("image")
    elif isinstance(batch, (tuple, list)):
        batch = batch[0] if batch else None
    if isinstance(batch, Tensor):
        check_finite(batch, where)


class DeviceAugmenter(Seeded):
    """Iterates ``loader``, moves each batch to ``device``, augments it there and prefetches the next one.

    Args:
        loader: yields uint8 batches: a tensor ``(B, C, H, W)``, ``(images, labels, ...)`` or a dict with ``image``.
        transform: batch transform run on the device (None: only the move and the mix).
        device: where to augment (``"cuda"``, ``"cpu"``, ...).
        mix: optional :class:`~augloader.mix.MixUpCutMix` after the transform.
        seed: base seed; batch ``k`` of epoch ``e`` draws from ``(seed, e, rank, k)``.
        rank: distributed rank mixed into the draws; None reads ``torch.distributed``.
        check_finite: raise a ValueError naming the batch position of the first sample whose image holds
            a NaN or inf, before the transform and after the transform and the mix (a mix would spread
            one sample's NaN to its partner). Costs a pass and a host sync per check.

    It stands in for the loader in a trainer: ``len``, ``dataset``, ``sampler``, ``batch_sampler``,
    ``batch_size``, ``drop_last`` and ``num_workers`` read through to ``loader``, and timm
    ``PrefetchLoader``'s ``mixup_enabled`` switches the mix. Call :meth:`set_epoch` on this object (it
    forwards to the sampler); a trainer that calls only ``loader.sampler.set_epoch`` reshuffles but
    leaves these draws at their epoch.

    Shape:
        the loader's structure, images on ``device`` as the transform makes them (e.g. float ``(B, 3, 224, 224)``).
    """

    def __init__(
        self,
        loader: Any,
        transform: Any,
        device: Union[str, torch.device],
        mix: Any = None,
        seed: Optional[int] = None,
        *,
        rank: Optional[int] = None,
        check_finite: bool = False,
    ) -> None:
        self.loader = loader
        self.transform = transform
        self.device = check_device(device)
        self.mix = mix
        if not isinstance(check_finite, bool):
            raise TypeError(f"DeviceAugmenter: check_finite must be a bool, got {type(check_finite).__name__}")
        self.check_finite = check_finite
        self._gen_ok = takes_generator(transform) if transform is not None else False
        self._init_seeding(seed, rank)
        self.position = 0  # batches of the current epoch already handed out
        self._skip = 0

    def __len__(self) -> int:
        return len(self.loader)

    # ---- what a trainer reads from its loader (timm's PrefetchLoader, a torch DataLoader) -----------
    def _loader_attr(self, name: str) -> Any:
        """``self.loader.<name>``; AttributeError naming the wrapped loader when it has none."""
        try:
            return getattr(self.loader, name)
        except AttributeError:
            raise AttributeError(f"DeviceAugmenter: the wrapped {type(self.loader).__name__} has no {name!r}") from None

    @property
    def dataset(self) -> Any:
        """The wrapped loader's dataset (e.g. for ``len(loader.dataset)``)."""
        return self._loader_attr("dataset")

    @property
    def sampler(self) -> Any:
        """The wrapped loader's sampler (a trainer calls ``loader.sampler.set_epoch`` on a DistributedSampler)."""
        return self._loader_attr("sampler")

    @property
    def batch_sampler(self) -> Any:
        """The wrapped loader's batch sampler."""
        return self._loader_attr("batch_sampler")

    @property
    def batch_size(self) -> Optional[int]:
        """The wrapped loader's batch size (None when its batch sampler sets the size)."""
        return self._loader_attr("batch_size")

    @property
    def drop_last(self) -> bool:
        """The wrapped loader's ``drop_last``."""
        return self._loader_attr("drop_last")

    @property
    def num_workers(self) -> int:
        """The wrapped loader's worker count."""
        return self._loader_attr("num_workers")

    def _mixes(self) -> list[Any]:
        """Every mix this pipeline runs: ``self.mix`` and the loader's collate_fn's (a :class:`BatchAugment`)."""
        found = [self.mix, getattr(getattr(self.loader, "collate_fn", None), "mix", None)]
        return [m for m in found if m is not None and hasattr(m, "enabled")]

    @property
    def mixup_enabled(self) -> bool:
        """timm ``PrefetchLoader``'s switch: True while any mix (here or in the collate_fn) is on.

        Setting it turns every mix's ``enabled`` on or off. A collate_fn's mix runs in the DataLoader's
        workers, which copy it when an epoch's iterator starts: set this before iterating (with
        ``persistent_workers=True`` the workers keep the value they started with). A mix built with
        ``off_epoch`` sets ``enabled`` again on each ``set_epoch``.
        """
        return any(m.enabled for m in self._mixes())

    @mixup_enabled.setter
    def mixup_enabled(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"mixup_enabled must be a bool, got {type(value).__name__}")
        mixes = self._mixes()
        if value and not mixes:
            raise ValueError("mixup_enabled=True: DeviceAugmenter has no mix (pass mix=, or a collate_fn with one)")
        for m in mixes:
            m.enabled = value

    def set_epoch(self, epoch: int) -> None:
        """Selects the epoch; forwarded to the loader (or its sampler) and the mix."""
        super().set_epoch(epoch)
        self.position = 0
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)  # an AugmentedLoader forwards to its sampler itself
        elif hasattr(getattr(self.loader, "sampler", None), "set_epoch"):
            self.loader.sampler.set_epoch(epoch)  # DistributedSampler
        if hasattr(self.mix, "set_epoch"):
            self.mix.set_epoch(epoch)

    def state_dict(self) -> dict[str, Any]:
        """Seed, epoch and how many batches of this epoch were consumed (a mid-epoch resume skips them)."""
        return {**super().state_dict(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.set_epoch(state["epoch"])
        self._skip = self.position = int(state.get("position", 0))

    # ---- iteration ----------------------------------------------------------------------------------
    def _augment(self, batch: Any, index: int) -> Any:
        return self._augment_checked(batch, index) if self.check_finite else self._augment_plain(batch, index)

    def _augment_checked(self, batch: Any, index: int) -> Any:
        """:meth:`_augment_plain` between finiteness checks of the images (``check_finite=True``)."""
        _check_images(batch, f"DeviceAugmenter (check_finite, batch {index}, input)")
        out = self._augment_plain(batch, index)
        _check_images(out, f"DeviceAugmenter (check_finite, batch {index}, output)")
        return out

    def _augment_plain(self, batch: Any, index: int) -> Any:
        g = make_generator(self.seed, self.epoch, self.get_rank(), "device", index)
        gm = make_generator(self.seed, self.epoch, self.get_rank(), "device-mix", index)
        if isinstance(batch, Mapping):
            out = dict(batch)
            if getattr(self.transform, "takes_labels", False):
                out["image"] = self.transform(out["image"], out["label"], generator=g)
            elif self.transform is not None:
                out = call_transform(self.transform, out, g, self._gen_ok)
            return self.mix(out, generator=gm) if self.mix is not None else out
        if self.mix is not None and not (isinstance(batch, (tuple, list)) and len(batch) > 1):
            raise ValueError(
                "DeviceAugmenter: mix needs labels; the loader must yield (images, labels, ...) or dicts with 'label'"
            )
        if isinstance(batch, (tuple, list)):
            images, rest = batch[0], tuple(batch[1:])
            if self.transform is not None:
                if getattr(self.transform, "takes_labels", False):
                    images = self.transform(images, rest[0], generator=g)
                else:
                    images = call_transform(self.transform, images, g, self._gen_ok)
            if self.mix is not None:
                images, labels = self.mix((images, rest[0]), generator=gm)
                rest = (labels, *rest[1:])
            return (images, *rest)
        out = call_transform(self.transform, batch, g, self._gen_ok) if self.transform is not None else batch
        return out

    def _prepare(self, batch: Any, index: int, stream: Any) -> Any:
        if stream is None:
            return self._augment(_to_device(batch, self.device), index)
        with torch.cuda.stream(stream):
            return self._augment(_to_device(batch, self.device), index)

    def __iter__(self) -> Iterator[Any]:
        stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None
        it = iter(self.loader)
        start, self._skip = self._skip, 0
        self.position = start
        for _ in range(start):  # a mid-epoch resume: the loader still loads these, nothing is augmented
            next(it, None)
        index = start
        pending = None
        for batch in it:
            ready = self._prepare(batch, index, stream)  # queued on the side stream: overlaps the step
            if pending is not None:
                yield self._hand_over(pending, stream)
            pending, index = ready, index + 1
        if pending is not None:
            yield self._hand_over(pending, stream)

    def _hand_over(self, batch: Any, stream: Any) -> Any:
        if stream is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_stream(stream)
            _record(batch, current)
        self.position += 1
        return batch

    def __getstate__(self) -> dict[str, Any]:
        return self._freeze_rank(dict(self.__dict__))
