"""Back translation (source -> pivot -> source) with an on-disk cache and offline precompute."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Optional, overload

import torch

from .._protocol import ReplayMixin
from .._repr import short_repr
from .base import call_rng, check_batch, make_rng
from .cache import TranslationCache, cache_key
from .translator import Translator

__all__ = ["BackTranslation"]


class BackTranslation(ReplayMixin):
    """Paraphrase sentences by translating them to ``pivot`` and back.

    A batch costs two backend calls (there and back) for the texts not already cached;
    results are stored in the cache keyed by SHA-256 of backend name, languages and text, so
    later epochs (or a run after :meth:`precompute`) never start the backend.

    Args:
        translator: A :class:`~augloader.text.translator.Translator` (e.g. ``ApertiumTranslator()``).
        pivot: Pivot language code.
        source: Language of the input texts.
        cache: A :class:`TranslationCache`, a path to its SQLite file, or ``None`` (no disk cache).
        p: Probability of back-translating each text (the rest are returned unchanged).
        batch_size: Largest number of texts sent to the backend in one call.
        on_miss: What to do with texts not in the cache: ``"translate"`` (call the backend),
            ``"keep"`` (return them unchanged, never starting the backend: for per-sample use in
            Dataset workers after :meth:`precompute`), or ``"error"`` (raise ``KeyError``).
        seed: Seed of the private RNG used for ``p``.
        rng: RNG to use instead of ``seed``.

    Calls follow the protocol of :class:`~augloader.text.TextTransform`: which texts are back-translated
    is drawn once per call (from ``generator=``, a ``torch.Generator``, else the private RNG), kept in
    ``last_params`` and replayed by ``params=``.

    Shape:
        a ``str`` or a ``list[str]`` of B sentences, the same back; params ``{"chosen": (B,) bool}``.
    """

    def __init__(
        self,
        translator: Translator,
        pivot: str = "es",
        source: str = "en",
        cache: TranslationCache | str | os.PathLike[str] | None = None,
        p: float = 1.0,
        batch_size: int = 512,
        on_miss: str = "translate",
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not isinstance(translator, Translator):
            raise TypeError(
                f"translator must implement Translator (name, translate()), got {type(translator).__name__}"
            )
        if not isinstance(pivot, str) or not isinstance(source, str) or not pivot or not source:
            raise ValueError(f"pivot and source must be language codes, got {pivot!r} and {source!r}")
        if pivot == source:
            raise ValueError(f"pivot must differ from source, both are {pivot!r}")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a number in [0, 1], got {p!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if on_miss not in ("translate", "keep", "error"):
            raise ValueError(f"on_miss must be 'translate', 'keep' or 'error', got {on_miss!r}")
        if on_miss != "translate" and cache is None:
            raise ValueError(f"on_miss={on_miss!r} needs a cache")
        self.on_miss = on_miss
        self.translator = translator
        self.pivot = pivot
        self.source = source
        self.cache = cache if cache is None or isinstance(cache, TranslationCache) else TranslationCache(cache)
        self.p = float(p)
        self.batch_size = batch_size
        self.rng = make_rng(seed, rng)

    def __repr__(self) -> str:
        return f"BackTranslation({self.translator!r}, pivot={self.pivot!r}, source={self.source!r}, p={self.p})"

    def _key(self, text: str) -> str:
        return cache_key(self.translator.name, self.source, self.pivot, text)

    def _call(self, texts: list[str], source: str, target: str) -> list[str]:
        """One backend call, its answer checked: a list with one ``str`` per text."""
        result = self.translator.translate(texts, source, target)
        name = short_repr(getattr(self.translator, "name", type(self.translator).__name__), 60)
        if isinstance(result, (str, bytes)) or not isinstance(result, Sequence):
            raise TypeError(
                f"translator {name} ({source} -> {target}) returned {type(result).__name__} "
                f"{short_repr(result, 60)}, expected a list of {len(texts)} strings"
            )
        if len(result) != len(texts):
            raise RuntimeError(
                f"translator {name} ({source} -> {target}) returned {len(result)} texts for {len(texts)}"
            )
        for i, r in enumerate(result):
            if not isinstance(r, str):
                raise TypeError(
                    f"translator {name} ({source} -> {target}) returned {type(r).__name__} "
                    f"{short_repr(r, 60)} for text {i} ({short_repr(texts[i], 60)}), expected a str"
                )
        return list(result)

    def _translate_uncached(self, texts: list[str]) -> list[str]:
        out: list[str] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = texts[start : start + self.batch_size]
            there = self._call(chunk, self.source, self.pivot)
            out.extend(self._call(there, self.pivot, self.source))
        return out

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        """Back-translate every text (ignoring ``p``), using and filling the cache (see ``on_miss``)."""
        batch = check_batch(texts, "texts")
        keys = [self._key(t) for t in batch]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        missing = list(dict.fromkeys(t for t, k in zip(batch, keys) if k not in found))
        if missing and self.on_miss == "error":
            raise KeyError(f"{len(missing)} texts are not in the back-translation cache, e.g. {missing[0][:80]!r}")
        if missing and self.on_miss == "keep":
            return [found.get(k, t) for t, k in zip(batch, keys)]
        if missing:
            results = self._translate_uncached(missing)
            new = {self._key(t): r for t, r in zip(missing, results)}
            if self.cache is not None:
                self.cache.put_many(new)
            found.update(new)
        return [found[k] for k in keys]

    def sample_params(
        self, n: int, generator: Optional[torch.Generator] = None, rng: Optional[random.Random] = None
    ) -> dict[str, Any]:
        """Which of ``n`` texts a call back-translates (each with probability ``p``).

        From ``generator`` (one vectorised draw) when given, else from ``rng`` or the private RNG (one
        ``random()`` per text; none at all when ``p`` is 1).

        Shape:
            ``{"chosen": (n,) bool}``.
        """
        if self.p >= 1.0:
            return {"chosen": torch.ones(n, dtype=torch.bool)}
        if generator is not None:
            return {"chosen": torch.rand(n, generator=generator, device=generator.device).cpu() < self.p}
        r = self.rng if rng is None else rng
        return {"chosen": torch.tensor([r.random() < self.p for _ in range(n)], dtype=torch.bool)}

    @overload
    def __call__(
        self, text: str, params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> str: ...
    @overload
    def __call__(
        self, text: Sequence[str], params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> list[str]: ...

    def __call__(
        self,
        text: str | Sequence[str],
        params: Any = None,
        generator: Optional[torch.Generator] = None,
        *,
        rng: Optional[random.Random] = None,
    ) -> str | list[str]:
        """Back-translate a string or a batch (each text with probability ``p``).

        Args:
            text: One sentence, or a list of sentences.
            params: ``last_params`` of an earlier call, to replay its choice of texts.
            generator: A ``torch.Generator`` the choice is drawn from.
            rng: A ``random.Random`` the choice is drawn from (defaults to the private RNG).
        """
        params, rng = call_rng(params, rng, generator, "BackTranslation")
        single = isinstance(text, str)
        batch = [text] if single else check_batch(text)
        params = self._params(params, lambda: self.sample_params(len(batch), generator, rng))
        chosen_mask = params.get("chosen")
        if not isinstance(chosen_mask, torch.Tensor) or chosen_mask.shape != (len(batch),):
            raise ValueError(
                f"BackTranslation: params must hold 'chosen', a ({len(batch)},) bool tensor (from last_params), "
                f"got {short_repr(chosen_mask, 60)}"
            )
        chosen = [i for i, c in enumerate(chosen_mask.tolist()) if c]
        out = list(batch)
        if chosen:
            for i, t in zip(chosen, self.translate_batch([batch[i] for i in chosen])):
                out[i] = t
        return out[0] if single else out

    def precompute(
        self, texts: Iterable[str], chunk_size: int = 2048, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Fill the cache for a whole corpus offline.

        Args:
            texts: The corpus (duplicates are translated once).
            chunk_size: Texts looked up and stored per step (translated in ``batch_size`` calls).
            progress: Called with ``(done, total)`` after each chunk.

        Returns:
            The number of texts that were translated (were not cached yet).

        Raises:
            ValueError: No cache is configured.
        """
        if self.cache is None:
            raise ValueError("precompute needs a cache; pass cache=path to BackTranslation")
        unique = list(dict.fromkeys(check_batch(list(texts), "texts")))
        translated = 0
        for start in range(0, len(unique), chunk_size):
            chunk = unique[start : start + chunk_size]
            found = self.cache.get_many([self._key(t) for t in chunk])
            todo = [t for t in chunk if self._key(t) not in found]
            if todo:
                results = self._translate_uncached(todo)
                self.cache.put_many({self._key(t): r for t, r in zip(todo, results)})
                translated += len(todo)
            if progress is not None:
                progress(min(start + chunk_size, len(unique)), len(unique))
        return translated
