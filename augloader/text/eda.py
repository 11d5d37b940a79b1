"""EDA: Easy Data Augmentation (Wei and Zou, 2019), one-to-many sentence augmentation."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any, Optional, overload

import torch

from .._protocol import ReplayMixin
from .base import call_rng, check_batch, draw_seed, make_rng, params_rng
from .lexicon import Lexicon, PosTagger
from .thesaurus import ThesaurusSource
from .tokens import detokenize, tokenize
from .word_ops import RandomDeletion, RandomInsertion, RandomSwap, SynonymReplacement, WordOperation, check_rate

__all__ = ["EDA"]


class EDA(ReplayMixin):
    """Produce ``num_aug`` variants of each sentence, each made by one EDA operation.

    Operations are used evenly: with ``m`` enabled operations (rate > 0) each one makes
    ``num_aug // m`` variants and the remaining ``num_aug % m`` variants use distinct, randomly
    chosen operations; the variants come in random order. (The reference code instead draws
    from ``num_aug // 4 + 1`` candidates per operation, so an operation can be missed.) With
    all four operations and ``num_aug=4`` every sentence gets one variant per operation.

    Calling with a ``str`` returns ``list[str]`` (the variants); with a ``list[str]`` it returns
    one such list per sentence. :meth:`expand` flattens a batch and repeats its labels, for use
    in a collate function. Calls follow the protocol of :class:`~augloader.text.TextTransform`:
    ``generator=`` (a ``torch.Generator``) seeds the call, ``params=eda.last_params`` replays it.

    Args:
        alpha_sr: Synonym-replacement rate (0 disables).
        alpha_ri: Random-insertion rate (0 disables).
        alpha_rs: Random-swap rate (0 disables).
        p_rd: Random-deletion probability (0 disables).
        num_aug: Variants per sentence (>= 1).
        thesaurus: Synonym source (default: Debian ``mythes-en-us``).
        stopwords: Words never replaced nor used for insertion (default: English stopwords).
        protected: Words never deleted, swapped, replaced or inserted (default: negations).
        pos_tagger: Optional tagger restricting synonyms to the word's part of speech.
        seed: Seed of the private RNG.
        rng: RNG to use instead of ``seed``.

    Raises:
        ValueError: A rate is outside [0, 1], ``num_aug`` < 1 or every operation is disabled.

    Shape:
        a ``str`` -> ``num_aug`` strings; a ``list[str]`` of B -> B lists; params ``{"seed": ()}``.
    """

    def __init__(
        self,
        alpha_sr: float = 0.1,
        alpha_ri: float = 0.1,
        alpha_rs: float = 0.1,
        p_rd: float = 0.1,
        num_aug: int = 4,
        *,
        thesaurus: ThesaurusSource = None,
        stopwords: Iterable[str] | None = None,
        protected: Iterable[str] | None = None,
        pos_tagger: PosTagger | None = None,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(num_aug, bool) or not isinstance(num_aug, int):
            raise TypeError(f"num_aug must be an int, got {num_aug!r}")
        if num_aug < 1:
            raise ValueError(f"num_aug must be >= 1, got {num_aug}")
        for name, value in (("alpha_sr", alpha_sr), ("alpha_ri", alpha_ri), ("alpha_rs", alpha_rs), ("p_rd", p_rd)):
            check_rate(value, name)
        self.rng = make_rng(seed, rng)
        self.num_aug = num_aug
        self.lexicon = Lexicon(thesaurus, stopwords, protected, pos_tagger)
        ops: list[WordOperation] = [
            SynonymReplacement(alpha_sr, lexicon=self.lexicon),
            RandomInsertion(alpha_ri, lexicon=self.lexicon),
            RandomSwap(alpha_rs, lexicon=self.lexicon),
            RandomDeletion(p_rd, lexicon=self.lexicon),
        ]
        self.operations: list[WordOperation] = [op for op in ops if op.rate > 0]
        if not self.operations:
            raise ValueError("EDA needs at least one of alpha_sr, alpha_ri, alpha_rs, p_rd > 0")

    def __repr__(self) -> str:
        ops = ", ".join(repr(op) for op in self.operations)
        return f"EDA(num_aug={self.num_aug}, operations=[{ops}])"

    def augment_tokens(self, tokens: list[str], rng: random.Random | None = None) -> list[tuple[str, list[str]]]:
        """Return ``num_aug`` pairs ``(operation name, augmented tokens)`` for one tokenised sentence."""
        r = self.rng if rng is None else make_rng(rng=rng)
        return [(type(op).__name__, op.apply_tokens(tokens, r)) for op in self._plan(r)]

    def _plan(self, rng: random.Random) -> list[WordOperation]:
        ops = self.operations
        full, rest = divmod(self.num_aug, len(ops))
        plan = ops * full + (rng.sample(ops, rest) if rest else [])
        rng.shuffle(plan)
        return plan

    def augment(self, text: str, rng: random.Random | None = None) -> list[str]:
        """Return ``num_aug`` augmented variants of one sentence."""
        r = self.rng if rng is None else make_rng(rng=rng)
        tokens = tokenize(text)
        return [detokenize(op.apply_tokens(tokens, r)) for op in self._plan(r)]

    def sample_params(
        self, n: int, generator: Optional[torch.Generator] = None, rng: Optional[random.Random] = None
    ) -> dict[str, Any]:
        """The parameters of a call on ``n`` texts: a seed from ``generator``, else ``rng`` or the own RNG."""
        return draw_seed(generator, self.rng if rng is None else rng)

    def _call_rng(self, n: int, params: Any, rng: Any, generator: Optional[torch.Generator]) -> random.Random:
        params, rng = call_rng(params, rng, generator, "EDA")
        params = self._params(params, lambda: self.sample_params(n, generator, rng))
        return params_rng(params, "EDA")

    @overload
    def __call__(
        self, text: str, params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> list[str]: ...
    @overload
    def __call__(
        self, text: Sequence[str], params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> list[list[str]]: ...

    def __call__(
        self,
        text: str | Sequence[str],
        params: Any = None,
        generator: Optional[torch.Generator] = None,
        *,
        rng: Optional[random.Random] = None,
    ) -> list[str] | list[list[str]]:
        """Augment one sentence (-> its variants) or a batch (-> a list of variant lists).

        Args:
            text: One sentence, or a list of sentences.
            params: ``last_params`` of an earlier call, to replay it exactly.
            generator: A ``torch.Generator`` the call's seed is drawn from.
            rng: A ``random.Random`` the call's seed is drawn from (defaults to the transform's own).
        """
        batch = [text] if isinstance(text, str) else check_batch(text)
        r = self._call_rng(len(batch), params, rng, generator)
        augment = self.augment
        out = [augment(t, r) for t in batch]
        return out[0] if isinstance(text, str) else out

    def expand(
        self,
        texts: Sequence[str],
        labels: Sequence[Any] | None = None,
        include_original: bool = True,
        rng: random.Random | None = None,
        *,
        params: Optional[dict[str, Any]] = None,
        generator: Optional[torch.Generator] = None,
    ) -> tuple[list[str], list[Any]]:
        """Flatten a batch into originals plus variants, repeating each sentence's label.

        Args:
            texts: The batch of sentences.
            labels: One label per sentence (any objects); ``None`` gives ``None`` labels.
            include_original: Whether each sentence itself precedes its variants.
            rng: Optional RNG the call's seed is drawn from.
            params: ``last_params`` of an earlier call, to replay it exactly.
            generator: A ``torch.Generator`` the call's seed is drawn from.

        Returns:
            ``(texts, labels)`` of equal length: ``len(texts) * (num_aug + include_original)``.

        Raises:
            ValueError: ``labels`` has a different length from ``texts``.
        """
        batch = check_batch(texts, "texts")
        labs = [None] * len(batch) if labels is None else list(labels)
        if len(labs) != len(batch):
            raise ValueError(f"got {len(labs)} labels for {len(batch)} texts")
        r = self._call_rng(len(batch), params, rng, generator)
        out_t: list[str] = []
        out_l: list[Any] = []
        for text, label in zip(batch, labs):
            variants = self.augment(text, r)
            if include_original:
                out_t.append(text)
            out_t.extend(variants)
            out_l.extend([label] * (len(variants) + include_original))
        return out_t, out_l
