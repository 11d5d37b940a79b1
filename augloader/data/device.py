"""``DeviceAugmenter``: the training-loop hook that moves uint8 batches to the device and augments there.

Like timm's ``PrefetchLoader``: while the model works on batch ``k``, batch ``k + 1`` is already being
copied (from pinned memory, ``non_blocking``) and augmented on a side CUDA stream, and a background thread
fetches and pins the batch after it. On the CPU the same API runs without streams. Example::

    train = DeviceAugmenter(DataLoader(ds, 256, num_workers=8, pin_memory=True, collate_fn=BatchAugment()),
                            A.Compose([A.RandomResizedCrop(224), A.ColorJitter(0.4, 0.4, 0.4), A.Normalize(m, s)]),
                            device="cuda", mix=MixUpCutMix(num_classes=1000), seed=0)
    for epoch in range(epochs):
        train.set_epoch(epoch)
        for images, targets in train: ...

Stream order on CUDA, per batch ``k``: the side stream waits on the consumer's current stream (inputs or
buffers written there are ready), the copy and the augmentation are queued on the side stream, and a
CUDA event is recorded after them. Batch ``k + 1`` is queued before batch ``k`` is handed over; handing
over makes the current stream wait on batch ``k``'s event only, and ``record_stream`` tells the caching
allocator that the handed-out tensors are used on the current stream. One side stream serves the
object's whole life.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator, Mapping, Optional, Union

import torch
from torch import Tensor, nn

from .._batch import check_finite
from ..transforms.base import Drawn, Transform
from ._prefetch import HostPrefetcher
from .decode import call_transform, takes_generator
from .seeding import Seeded, make_generator

_DONE = object()  # the loader is exhausted
_PREFETCH_DEPTH = 2  # host batches the background thread may hold ready beyond the one on the device


class _Cuda:
    """Every CUDA call the prefetcher makes, in one place: tests swap ``_cuda`` for a fake that logs them."""

    def streams_for(self, device: torch.device) -> bool:
        """Whether batches for ``device`` go through a side stream (and are pinned first)."""
        return device.type == "cuda"

    def new_stream(self, device: torch.device) -> Any:
        return torch.cuda.Stream(device)

    def current_stream(self, device: torch.device) -> Any:
        return torch.cuda.current_stream(device)

    def new_event(self) -> Any:
        return torch.cuda.Event()

    def use(self, stream: Any) -> Any:
        """A context manager that makes ``stream`` current."""
        return torch.cuda.stream(stream)

    def thread_setup(self, device: torch.device) -> Callable[[], None]:
        """What a background thread calls first: select the consumer's CUDA device (as DataLoader's pin thread)."""
        index = device.index if device.index is not None else torch.cuda.current_device()
        return lambda: torch.cuda.set_device(index)

    def pin(self, x: Tensor) -> Tensor:
        return x if x.is_pinned() else x.pin_memory()

    def record_stream(self, x: Tensor, stream: Any) -> None:
        x.record_stream(stream)


_cuda = _Cuda()


def _map_tensors(x: Any, fn: Callable[[Tensor], Tensor]) -> Any:
    """``x`` with ``fn`` applied to every tensor nested in tuples, lists and dicts (other leaves kept)."""
    if isinstance(x, Tensor):
        return fn(x)
    if isinstance(x, Mapping):
        return {k: _map_tensors(v, fn) for k, v in x.items()}
    if isinstance(x, tuple):
        items = [_map_tensors(v, fn) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)  # a namedtuple takes fields
    if isinstance(x, list):
        return [_map_tensors(v, fn) for v in x]
    return x


def _to_device(x: Any, device: torch.device) -> Any:
    """Moves tensors (nested in tuples / dicts) to ``device``, ``non_blocking`` (pinned sources copy async)."""
    return _map_tensors(x, lambda t: t.to(device, non_blocking=True))


def _pin(x: Any) -> Any:
    """``x`` with its CPU tensors in pinned memory (run in the background thread for a CUDA device)."""
    return _map_tensors(x, lambda t: _cuda.pin(t) if t.device.type == "cpu" else t)


def _record(x: Any, stream: Any, device: torch.device) -> None:
    """Tells the caching allocator that the tensors of ``x`` on ``device`` are used on ``stream`` too."""
    if isinstance(x, Tensor):
        if x.device.type == device.type:
            _cuda.record_stream(x, stream)
    elif isinstance(x, Mapping):
        for v in x.values():
            _record(v, stream, device)
    elif isinstance(x, (tuple, list)):
        for v in x:
            _record(v, stream, device)


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

    A background thread takes each batch from ``loader`` (and pins it for CUDA) while the training step
    runs; draws depend only on ``(seed, epoch, rank, batch index)``, so the results are those of a plain
    loop. Breaking out of a loop, a new loop and :meth:`set_epoch` stop the thread; an error in the loader
    is raised in the loop with its own traceback. The transform and the mix are moved to ``device``
    (``.to(device)``, in place) when they are ``nn.Module`` s; other callables are called as they are.

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
        self._stream: Any = None  # the side CUDA stream, made on the first CUDA iteration and kept
        self._prefetcher: Optional[HostPrefetcher] = None  # the running epoch's background thread
        self._moved: tuple[Any, Any] = (None, None)  # the (transform, mix) last moved to the device

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
        """Selects the epoch; forwarded to the loader (or its sampler) and the mix.

        Stops a running iteration's background thread: a loop over this object started before the call
        raises a RuntimeError if it is resumed.
        """
        super().set_epoch(epoch)
        self._stop_prefetch()
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
    def _augment(self, batch: Any, index: int, drawn: Optional[Drawn] = None) -> Any:
        if self.check_finite:
            return self._augment_checked(batch, index, drawn)
        return self._augment_plain(batch, index, drawn)

    def _augment_checked(self, batch: Any, index: int, drawn: Optional[Drawn] = None) -> Any:
        """:meth:`_augment_plain` between finiteness checks of the images (``check_finite=True``)."""
        _check_images(batch, f"DeviceAugmenter (check_finite, batch {index}, input)")
        out = self._augment_plain(batch, index, drawn)
        _check_images(out, f"DeviceAugmenter (check_finite, batch {index}, output)")
        return out

    def _transform_input(self, batch: Any) -> Any:
        """What the transform receives from a batch: the dict, the tuple's images, or the tensor."""
        if isinstance(batch, (tuple, list)):
            return batch[0]
        return batch

    def _draw(self, batch: Any, index: int) -> Optional[Drawn]:
        """The transform's host half for batch ``index`` (params drawn and prepared, see
        ``Transform.draw``), made in the background thread from the host batch; None when the transform
        is not an augloader Transform taking a generator."""
        t = self.transform
        if not isinstance(t, Transform) or not self._gen_ok or getattr(t, "takes_labels", False):
            return None
        g = make_generator(self.seed, self.epoch, self.get_rank(), "device", index)
        return t.draw(self._transform_input(batch), g)

    def _run_transform(self, x: Any, g: torch.Generator, drawn: Optional[Drawn]) -> Any:
        if drawn is not None:
            return self.transform(x, params=drawn)  # the same draws as generator=g, made ahead
        return call_transform(self.transform, x, g, self._gen_ok)

    def _augment_plain(self, batch: Any, index: int, drawn: Optional[Drawn] = None) -> Any:
        g = make_generator(self.seed, self.epoch, self.get_rank(), "device", index)
        gm = make_generator(self.seed, self.epoch, self.get_rank(), "device-mix", index)
        if isinstance(batch, Mapping):
            out = dict(batch)
            if getattr(self.transform, "takes_labels", False):
                out["image"] = self.transform(out["image"], out["label"], generator=g)
            elif self.transform is not None:
                out = self._run_transform(out, g, drawn)
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
                    images = self._run_transform(images, g, drawn)
            if self.mix is not None:
                images, labels = self.mix((images, rest[0]), generator=gm)
                rest = (labels, *rest[1:])
            return (images, *rest)
        return self._run_transform(batch, g, drawn) if self.transform is not None else batch

    def _stop_prefetch(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.stop()
            self._prefetcher = None

    def _modules_to_device(self) -> None:
        """Moves the transform and the mix to the device (once per object), when they are nn.Modules."""
        for part, last in zip((self.transform, self.mix), self._moved):
            if part is not last and isinstance(part, nn.Module):
                part.to(self.device)
        self._moved = (self.transform, self.mix)

    def __iter__(self) -> Iterator[Any]:
        self._stop_prefetch()  # an earlier loop's thread, not finished or not closed yet
        start, self._skip = self._skip, 0
        self.position = start
        self._modules_to_device()
        streams = _cuda.streams_for(self.device)
        prefetcher = HostPrefetcher(
            iter(self.loader),
            skip=start,  # a mid-epoch resume: the loader still loads these, nothing is augmented
            prepare=self._host_half(start, streams),
            setup=_cuda.thread_setup(self.device) if streams else None,
            depth=_PREFETCH_DEPTH,
        )
        self._prefetcher = prefetcher
        try:
            yield from self._stream_loop(prefetcher, start) if streams else self._plain_loop(prefetcher, start)
        finally:  # the loop ended, broke early, or this generator was closed or garbage-collected
            prefetcher.stop()
            if self._prefetcher is prefetcher:
                self._prefetcher = None

    def _host_half(self, start: int, streams: bool) -> Callable[[Any], tuple[Any, Optional[Drawn]]]:
        """What the background thread does to each batch, in loader order from batch ``start``: pin it
        (for CUDA) and draw and prepare the transform's params (``Transform.draw``)."""
        indices = itertools.count(start)

        def host_half(batch: Any) -> tuple[Any, Optional[Drawn]]:
            index = next(indices)
            if streams:
                batch = _pin(batch)
            return batch, self._draw(batch, index)

        return host_half

    def _plain_loop(self, batches: Iterator[Any], index: int) -> Iterator[Any]:
        """No streams (CPU and other devices): each batch is moved and augmented when it is asked for."""
        for batch, drawn in batches:
            out = self._augment(_to_device(batch, self.device), index, drawn)
            index += 1
            self.position += 1
            yield out

    def _stream_loop(self, batches: Iterator[Any], index: int) -> Iterator[Any]:
        """CUDA: batch ``k + 1`` is queued on the side stream before batch ``k`` is handed over.

        An error while fetching or preparing batch ``k + 1`` is raised after batch ``k`` was handed over,
        as without streams.
        """
        if self._stream is None:
            self._stream = _cuda.new_stream(self.device)
        batches = iter(batches)
        pending, error = None, None
        while True:
            try:
                item = next(batches, _DONE)
                ready = self._enqueue(*item, index, self._stream) if item is not _DONE else None
            except Exception as e:  # raised below, once the batch already prepared is handed over
                error, ready = e, None
            if pending is not None:
                yield self._hand_over(*pending)
            if ready is None:
                break
            pending, index = ready, index + 1
        if error is not None:
            raise error

    def _enqueue(self, batch: Any, drawn: Optional[Drawn], index: int, side: Any) -> tuple[Any, Any]:
        """Queues batch ``index``'s copy and augmentation on ``side``; returns it and the event that ends them."""
        side.wait_stream(_cuda.current_stream(self.device))  # inputs and buffers written there are ready
        with _cuda.use(side):
            out = self._augment(_to_device(batch, self.device), index, drawn)
            done = _cuda.new_event()
            done.record(side)
        return out, done

    def _hand_over(self, batch: Any, done: Any) -> Any:
        """The consumer's stream waits for this batch's work (not the side stream's later work)."""
        current = _cuda.current_stream(self.device)
        current.wait_event(done)
        _record(batch, current, self.device)
        self.position += 1
        return batch

    def __getstate__(self) -> dict[str, Any]:
        state = self._freeze_rank(dict(self.__dict__))
        state.update(_stream=None, _prefetcher=None)  # a stream and a thread belong to this process
        return state
