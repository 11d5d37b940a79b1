"""Shared call convention of the text transforms: a ``str`` or a batch ``list[str]`` in, the same out."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import overload

from .tokens import detokenize, tokenize

__all__ = ["TextTransform", "make_rng", "check_batch"]


def make_rng(seed: int | None = None, rng: random.Random | None = None) -> random.Random:
    """Return ``rng`` or a new ``random.Random(seed)`` (never the global RNG).

    Raises:
        ValueError: Both ``seed`` and ``rng`` were given.
        TypeError: ``rng`` is not a ``random.Random`` or ``seed`` is not an int.
    """
    if rng is not None:
        if seed is not None:
            raise ValueError("pass either seed or rng, not both")
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        return rng
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return random.Random(seed)


def check_batch(texts: object, name: str = "text") -> list[str]:
    """Validate a batch of strings and return it as a list.

    Raises:
        TypeError: ``texts`` is not a list/tuple of ``str``.
    """
    if not isinstance(texts, (list, tuple)):
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(t).__name__}")
    return list(texts)


class TextTransform:
    """Base class: subclasses implement :meth:`apply_tokens` on one tokenised sentence.

    Randomness comes from the transform's own ``random.Random`` (seeded at construction) or
    from an ``rng`` passed per call, so the same seed gives the same outputs.

    Args:
        seed: Seed of the transform's private RNG.
        rng: A ``random.Random`` to draw from instead (mutually exclusive with ``seed``).
    """

    def __init__(self, seed: int | None = None, rng: random.Random | None = None) -> None:
        self.rng = make_rng(seed, rng)

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return an augmented copy of ``tokens`` (the input list is not modified)."""
        raise NotImplementedError

    def apply_text(self, text: str, rng: random.Random) -> str:
        """Augment one string: tokenise, :meth:`apply_tokens`, join."""
        return detokenize(self.apply_tokens(tokenize(text), rng))

    @overload
    def __call__(self, text: str, rng: random.Random | None = None) -> str: ...
    @overload
    def __call__(self, text: Sequence[str], rng: random.Random | None = None) -> list[str]: ...

    def __call__(self, text: str | Sequence[str], rng: random.Random | None = None) -> str | list[str]:
        """Augment a string or each string of a batch.

        Args:
            text: One sentence, or a list of sentences.
            rng: Optional RNG for this call (defaults to the transform's own).

        Returns:
            A string for a string input, a list of the same length for a list input.
        """
        r = self.rng if rng is None else make_rng(rng=rng)
        if isinstance(text, str):
            return self.apply_text(text, r)
        apply = self.apply_text
        return [apply(t, r) for t in check_batch(text)]
