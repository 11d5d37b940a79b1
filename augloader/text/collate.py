"""Collate-stage integration: augment a batch of strings before tokenisation."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..data.decode import takes_generator
from ..data.seeding import BatchSeeded

__all__ = ["TextAugmentCollate"]


class TextAugmentCollate(BatchSeeded):
    """A ``collate_fn`` for ``(text, label)`` samples that augments the texts as one batch.

    With a one-to-one transform (e.g. :class:`~augloader.text.BackTranslation`, the word
    operations) each text is replaced. With ``expand=True`` and a one-to-many transform that
    has ``expand(texts, labels)`` (e.g. :class:`~augloader.text.EDA`), the batch grows to the
    originals plus their variants and labels are repeated to match.

    Args:
        transform: Callable on ``list[str]`` returning ``list[str]`` (or an ``EDA`` with ``expand=True``).
        tokenizer: Optional callable applied to the augmented ``list[str]`` (e.g. a HF tokenizer).
        expand: Use ``transform.expand`` and grow the batch.
        seed: base seed; a transform taking ``generator=`` (EDA, BackTranslation, the word operations)
            draws batch ``k`` of epoch ``e`` from ``(seed, e, rank, k)``, as
            :class:`~augloader.data.BatchAugment` does, whatever ``num_workers`` is. Call
            :meth:`set_epoch` each epoch.
        rank: distributed rank mixed into the draws; None reads ``torch.distributed``.

    Returns (when called):
        ``(texts_or_tokenized, labels)`` where integer/float labels become a tensor.
    """

    def __init__(
        self,
        transform: Callable[..., Any],
        tokenizer: Callable[[list[str]], Any] | None = None,
        expand: bool = False,
        seed: int | None = None,
        *,
        rank: int | None = None,
    ) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        if expand and not callable(getattr(transform, "expand", None)):
            raise TypeError(f"expand=True needs a transform with an expand() method, got {type(transform).__name__}")
        self.transform = transform
        self.tokenizer = tokenizer
        self.expand = expand
        self._gen_ok = takes_generator(transform.expand if expand else transform)
        self._init_seeding(seed, rank)

    def __call__(self, samples: Sequence[tuple[str, Any]]) -> tuple[Any, Any]:
        """Augment and collate one batch of ``(text, label)`` samples."""
        texts: list[str] = []
        labels: list[Any] = []
        for i, sample in enumerate(samples):
            if not isinstance(sample, (tuple, list)) or len(sample) != 2 or not isinstance(sample[0], str):
                raise TypeError(f"sample {i} must be a (text, label) pair with a str text, got {sample!r:.80}")
            texts.append(sample[0])
            labels.append(sample[1])
        g = {"generator": self.generator(samples, "text")} if self._gen_ok else {}
        if self.expand:
            texts, labels = self.transform.expand(texts, labels, **g)  # type: ignore[attr-defined]
        else:
            out = self.transform(texts, **g)
            if not isinstance(out, list) or len(out) != len(texts) or not all(isinstance(t, str) for t in out):
                raise TypeError(
                    "transform must map a list[str] to a list[str] of the same length; use expand=True for EDA"
                )
            texts = out
        self._count_batch()
        collated: Any = labels
        if labels and all(isinstance(x, numbers.Number) and not isinstance(x, bool) for x in labels):
            collated = torch.tensor(labels)
        return (self.tokenizer(texts) if self.tokenizer is not None else texts), collated
