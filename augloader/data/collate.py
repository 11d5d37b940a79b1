"""``BatchAugment``: a collate_fn that stacks uint8 samples and augments the whole batch in the worker.

Example::

    collate = BatchAugment(A.Compose([A.RandomResizedCrop(224), A.ColorJitter(0.4, 0.4, 0.4)]),
                           mix=MixUpCutMix(num_classes=1000), seed=0)
    loader = DataLoader(AugmentedDataset(ds), batch_size=64, num_workers=2, collate_fn=collate)

The batch's draws come from a generator keyed by ``(seed, epoch, rank, batch index)`` when the
sampler tags batches (:func:`augloader.data.loader`), else by a hash of the batch's sample indices
(:class:`AugmentedDataset` or a split view passes them), else by the batch's position in the epoch,
counted from the DataLoader's round-robin order (the same for any ``num_workers`` when ``set_epoch``
is called each epoch; not with persistent workers).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional, Sequence

import torch
from torch import Tensor
from torch.utils.data import default_collate

from .._batch import check_finite
from .._memory import new_batch
from ._samples import batch_indices, check_same_structure, name_batch
from .decode import call_transform, decoder, split_sample, takes_generator, to_image_tensor
from .roles import check_role, role_of
from .seeding import BatchSeeded


def _collate_targets(values: list) -> Any:
    """Labels to a tensor (ints, floats, tensors); anything ragged stays a list."""
    try:
        return default_collate(values)
    except (RuntimeError, TypeError):
        return list(values)


def stack_images(images: Sequence[Tensor]) -> Tensor:
    """Stacks same-size ``(C, H, W)`` images into a new batch (shared memory inside a worker).

    Shape:
        ``B x (C, H, W)`` -> ``(B, C, H, W)``.
    """
    shapes = Counter(tuple(im.shape) for im in images)
    if len(shapes) > 1:
        listed = ", ".join(f"{s} x{n}" for s, n in shapes.most_common())
        raise ValueError(
            f"BatchAugment got images of different sizes: {listed}. Give every sample the same size first: "
            f"a size-fixing per-sample transform in AugmentedDataset (e.g. A.RandomResizedCrop(224) or "
            f"A.Compose([A.Resize(256), A.CenterCrop(224)])), or BatchAugment(size_fix=...)"
        )
    dtypes = {im.dtype for im in images}
    if len(dtypes) > 1:
        raise TypeError(f"BatchAugment got images of different dtypes: {sorted(map(str, dtypes))}")
    out = new_batch((len(images), *images[0].shape), images[0].dtype)
    return torch.stack(list(images), out=out)


class BatchAugment(BatchSeeded):
    """collate_fn: stack uint8 samples, then run ``transform`` and the optional ``mix`` on the batch.

    Args:
        transform: batch transform (an augloader Transform, or anything with ``takes_labels``
            such as :meth:`ClassBalancedAugment.transform`, which then gets ``(images, labels)``).
        mix: optional :class:`~augloader.mix.MixUpCutMix`, run after the transform.
        seed: base seed; None draws one now (fixed, shared with the workers).
        size_fix: optional transform run on each group of same-size samples before stacking, e.g.
            ``A.Compose([A.Resize(256), A.CenterCrop(224)])``, for datasets of mixed image sizes.
        rank: distributed rank mixed into the draws; None reads ``torch.distributed``.
        allow_random: permit a random transform on samples from a ``val``/``test`` split view.
        kind: ``"image"``, or ``"audio"``: samples are waveforms ``(T,)``/``(C, T)`` (alone, first in a
            tuple, or under ``audio`` in a dict) of any length; the batch is a dict ``{"audio": (B, C, T),
            "lengths": (B,), "mask": (B, T) bool, "label": ...}`` built with
            :func:`augloader.audio.pad_or_crop`, and ``transform``/``mix`` are audio transforms
            (e.g. :class:`~augloader.audio.AudioCompose`, :class:`~augloader.audio.AudioMixUp`).
        length, length_mode, crop: audio only: the batch length (default: the longest clip for
            ``"pad"``, the shortest for ``"crop"``) and where longer clips are cut
            (``"start"``, ``"center"``, ``"random"``).
        check_finite: raise a ValueError naming the sample (and its dataset index, when the batch
            carries indices) whose input or output image (or audio) holds a NaN or inf. NaN/inf pixels
            otherwise pass through inside their own sample, but a mix spreads them to the partner.
            Costs one pass and one host read per check.

    Every sample of a batch must have the same structure (dict keys, tuple length); errors raised
    while building a batch name its dataset indices when the dataset tags them
    (:class:`AugmentedDataset`, a split view).

    Shape:
        samples ``(C, H, W)`` (or ``(image, label, ...)`` tuples or dicts) -> a batch of the same
        structure: ``(B, C', H', W')`` images; labels ``(B,)`` (``(B, K)`` float after mixing).
    """

    def __init__(
        self,
        transform: Any = None,
        mix: Any = None,
        seed: Optional[int] = None,
        size_fix: Any = None,
        *,
        rank: Optional[int] = None,
        allow_random: bool = False,
        kind: str = "image",
        length: Optional[int] = None,
        length_mode: str = "pad",
        crop: str = "start",
        check_finite: bool = False,
    ) -> None:
        for name, fn in (("transform", transform), ("mix", mix), ("size_fix", size_fix)):
            if fn is not None and not callable(fn):
                raise TypeError(f"BatchAugment: {name} must be callable, got {type(fn).__name__}")
        self.transform = transform
        self.mix = mix
        self.size_fix = size_fix
        self.allow_random = allow_random
        self.kind = kind
        self._key, self._decode = decoder(kind)
        if kind == "text":
            raise ValueError(
                "BatchAugment stacks tensors; for batches of strings use augloader.text.TextAugmentCollate"
            )
        if kind == "audio":
            if length_mode not in ("pad", "crop"):
                raise ValueError(f"length_mode must be 'pad' or 'crop', got {length_mode!r}")
            if size_fix is not None:
                raise ValueError("size_fix is for images; audio batches use length= and length_mode=")
        self.length, self.length_mode, self.crop = length, length_mode, crop
        if not isinstance(check_finite, bool):
            raise TypeError(f"BatchAugment: check_finite must be a bool, got {type(check_finite).__name__}")
        self.check_finite = check_finite
        self._gen_ok = takes_generator(transform) if transform is not None else False
        self._calls = 0
        self._init_seeding(seed, rank)

    def check_dataset(self, dataset: Any) -> None:
        """Raises if ``dataset`` is a val/test view and this collate draws random augmentations."""
        role = role_of(dataset)  # through Subset / ConcatDataset too
        check_role(self.transform, role, self.allow_random, "BatchAugment")
        check_role(self.mix, role, self.allow_random, "BatchAugment (mix)")

    def set_epoch(self, epoch: int) -> None:
        super().set_epoch(epoch)
        if hasattr(self.mix, "set_epoch"):
            self.mix.set_epoch(epoch)

    def __call__(self, samples: Sequence[Any]) -> Any:
        if len(samples) == 0:
            raise ValueError("BatchAugment got an empty batch")
        try:
            return self._collate(samples)
        except Exception as e:  # name the batch's dataset indices (a DataLoader worker's error says nothing else)
            named = name_batch(e, samples, "BatchAugment")
            if named is e:
                raise
            raise named from e

    def _collate(self, samples: Sequence[Any]) -> Any:
        self.check_dataset(samples)  # a SampleBatch from a split view carries its role
        check_same_structure(samples, "BatchAugment")
        tagged_epoch = getattr(samples, "epoch", None)
        if tagged_epoch is not None and hasattr(self.mix, "set_epoch"):
            self.mix.set_epoch(tagged_epoch)  # reaches persistent workers too (mix off_epoch)
        if self.kind == "audio":
            return self._audio(samples)
        images, rebuild = self._parse(samples)
        if self.size_fix is not None:
            images = self._fix_sizes(images, self.generator(samples, "size_fix"))
        batch = stack_images(images)
        self._check_finite(batch, samples, "input")
        labels, extra = rebuild
        if self.transform is not None:
            g = self.generator(samples, "batch")
            if getattr(self.transform, "takes_labels", False):
                batch = self.transform(batch, labels, generator=g)
            elif isinstance(extra, dict):
                out = call_transform(self.transform, {**extra, "image": batch}, g, self._gen_ok)
                batch, extra = out["image"], {k: v for k, v in out.items() if k != "image"}
            else:
                batch = call_transform(self.transform, batch, g, self._gen_ok)
            self._check_finite(batch, samples, "transform's output")
        if self.mix is not None:
            if labels is None:
                raise ValueError(
                    "BatchAugment: mix needs labels; samples must be (image, label) tuples or dicts with 'label'"
                )
            g = self.generator(samples, "mix")
            if isinstance(extra, dict):
                out = self.mix({**extra, "image": batch, "label": labels}, generator=g)
                batch, labels = out["image"], out["label"]
                extra = {k: v for k, v in out.items() if k not in ("image", "label")}
            else:
                batch, labels = self.mix((batch, labels), generator=g)
            self._check_finite(batch, samples, "mix's output")
        self._count_batch()
        if isinstance(extra, dict):
            return {**extra, "image": batch, **({"label": labels} if labels is not None else {})}
        if extra is None:
            return batch
        return (batch, labels, *extra)

    def _check_finite(self, batch: Any, samples: Sequence[Any], stage: str) -> None:
        """With ``check_finite``: raises naming the first sample with a NaN or inf (input or output)."""
        if self.check_finite and isinstance(batch, Tensor):
            check_finite(batch, f"BatchAugment (check_finite, the {stage})", batch_indices(samples))

    # ---- internals ------------------------------------------------------------------------------
    def _audio(self, samples: Sequence[Any]) -> dict[str, Any]:
        """Pads or crops clips into one batch, then runs the audio transform and mix on a dict."""
        from ..audio import length_mask, pad_or_crop

        first = samples[0]
        clips = [self._decode(split_sample(s, "audio")[0]) for s in samples]
        batch: dict[str, Any] = {}
        if isinstance(first, Mapping):
            for k in first:
                if k != "audio":
                    batch[k] = _collate_targets([s[k] for s in samples])
        elif isinstance(first, (tuple, list)):
            columns = [_collate_targets(list(c)) for c in zip(*[tuple(s)[1:] for s in samples])]
            if columns:
                batch["label"] = columns[0]
            if len(columns) > 1:
                batch["targets"] = tuple(columns[1:])
        audio, lengths = pad_or_crop(clips, self.length, self.length_mode, self.crop, self.generator(samples, "crop"))
        batch["audio"], batch["lengths"] = audio, lengths
        self._check_finite(audio, samples, "input")
        if self.transform is not None:
            batch = call_transform(self.transform, batch, self.generator(samples, "batch"), self._gen_ok)
            self._check_finite(batch["audio"], samples, "transform's output")
        if self.mix is not None:
            if "label" not in batch:
                raise ValueError(
                    "BatchAugment: mix needs labels; samples must be (clip, label) tuples or dicts with 'label'"
                )
            batch = self.mix(batch, generator=self.generator(samples, "mix"))
            self._check_finite(batch["audio"], samples, "mix's output")
        self._count_batch()
        batch["mask"] = length_mask(batch["lengths"], batch["audio"].shape[-1])
        return batch

    def _parse(self, samples: Sequence[Any]) -> tuple[list[Tensor], tuple[Any, Any]]:
        """Images decoded, plus ``(labels, extra)``: extra is None (bare images), a tuple of collated
        further targets, or a dict of collated non-image keys (``label`` included in labels)."""
        first = samples[0]
        if isinstance(first, Mapping):
            images = [to_image_tensor(s["image"]) for s in samples]
            keys = [k for k in first if k not in ("image", "label")]
            extra = {k: _collate_targets([s[k] for s in samples]) for k in keys}
            labels = _collate_targets([s["label"] for s in samples]) if "label" in first else None
            return images, (labels, extra)
        if isinstance(first, (tuple, list)):
            images = [to_image_tensor(split_sample(s)[0]) for s in samples]
            columns = list(zip(*[tuple(s)[1:] for s in samples]))
            collated = [_collate_targets(list(c)) for c in columns]
            labels = collated[0] if collated else None
            return images, (labels, tuple(collated[1:]))
        return [to_image_tensor(s) for s in samples], (None, None)

    def _fix_sizes(self, images: list[Tensor], g: torch.Generator) -> list[Tensor]:
        """Runs ``size_fix`` once per group of same-size images (a loop over sizes, not samples)."""
        groups: dict[tuple, list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(tuple(im.shape), []).append(i)
        out: list[Optional[Tensor]] = [None] * len(images)
        gen_ok = takes_generator(self.size_fix)
        for idx in groups.values():
            fixed = call_transform(self.size_fix, torch.stack([images[i] for i in idx]), g, gen_ok)
            for j, i in enumerate(idx):
                out[i] = fixed[j]
        return out  # type: ignore[return-value]

    def __getstate__(self) -> dict[str, Any]:
        return self._freeze_rank(dict(self.__dict__))
