"""The four EDA word operations (Wei and Zou, 2019): replace, insert, swap, delete.

Each works on word tokens only (punctuation stays in place), never touches protected words,
and draws all randomness from the ``random.Random`` it is given.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from .base import TextTransform
from .lexicon import PROTECTED, PUNCT, Lexicon, PosTagger, match_case
from .thesaurus import ThesaurusSource

__all__ = [
    "WordOperation",
    "SynonymReplacement",
    "RandomInsertion",
    "RandomSwap",
    "RandomDeletion",
    "check_rate",
    "count_for_rate",
]


def check_rate(value: float, name: str) -> float:
    """Return ``value`` as a float after checking it is a number in [0, 1] (errors name ``name``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


def count_for_rate(rate: float, num_words: int) -> int:
    """Number of edits for a sentence of ``num_words`` words: ``max(1, int(rate * num_words))``, 0 if rate is 0."""
    if rate <= 0.0 or num_words == 0:
        return 0
    return max(1, int(rate * num_words))


def _synonym_slots(lex: Lexicon, rate: float, tokens: list[str]) -> tuple[list, int, object, list[int]]:
    """The shared start of the synonym ops: ``(kinds, n edits, tags, candidate positions)``.

    No candidates (and no tagging) when the rate gives zero edits.
    """
    kinds = lex.kinds(tokens)
    n = count_for_rate(rate, len(kinds) - kinds.count(PUNCT))
    if n == 0:
        return kinds, 0, None, []
    tags = lex.tags(tokens)
    return kinds, n, tags, lex.candidates(tokens, kinds, tags)


class WordOperation(TextTransform):
    """Base of the four word operations: a rate, a shared :class:`Lexicon` and an RNG."""

    uses_thesaurus = False

    def __init__(
        self,
        rate: float,
        *,
        thesaurus: ThesaurusSource = None,
        stopwords: Iterable[str] | None = None,
        protected: Iterable[str] | None = None,
        pos_tagger: PosTagger | None = None,
        lexicon: Lexicon | None = None,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(seed, rng)
        self.rate = check_rate(rate, "rate")
        if lexicon is not None and not isinstance(lexicon, Lexicon):
            raise TypeError(f"lexicon must be a Lexicon, got {type(lexicon).__name__}")
        self.lexicon = lexicon or Lexicon(thesaurus, stopwords, protected, pos_tagger)
        if self.uses_thesaurus and self.rate > 0:
            _ = self.lexicon.thesaurus  # clear error now if the thesaurus data is missing

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rate={self.rate})"


class SynonymReplacement(WordOperation):
    """Replace ``n = max(1, rate * words)`` random non-stopword, unprotected words by a synonym.

    Args:
        rate: Fraction of the sentence's words to replace (``alpha_sr`` in the paper).
        thesaurus: Synonym source (default: Debian ``mythes-en-us``); see ``resolve_thesaurus``.
        stopwords: Words never replaced (default: English stopwords).
        protected: Words never touched (default: negations).
        pos_tagger: Optional tagger restricting synonyms to the word's part of speech.
        lexicon: A shared :class:`Lexicon` (overrides the four previous arguments).
        seed: Seed of the private RNG.
        rng: RNG to use instead of ``seed``.
    """

    uses_thesaurus = True

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return ``tokens`` with some words replaced by thesaurus synonyms (same length)."""
        lex = self.lexicon
        _, n, tags, cands = _synonym_slots(lex, self.rate, tokens)
        out = list(tokens)
        if len(cands) > n:
            cands = [cands[int(rng.random() * len(cands))]] if n == 1 else rng.sample(cands, n)
        for i in cands:
            syns = lex.synonyms(tokens[i], None if tags is None else tags[i])
            out[i] = match_case(tokens[i], syns[int(rng.random() * len(syns))])
        return out


class RandomInsertion(WordOperation):
    """Insert ``n`` synonyms of random non-stopword, unprotected words at random positions.

    Positions are drawn among the gaps up to the last word, so trailing punctuation stays last.

    Args:
        rate: Fraction of the sentence's word count to insert (``alpha_ri``).
        thesaurus, stopwords, protected, pos_tagger, lexicon, seed, rng: As for
            :class:`SynonymReplacement`.
    """

    uses_thesaurus = True

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return ``tokens`` with synonyms (lower case, as the thesaurus lists them) inserted."""
        lex = self.lexicon
        kinds, n, tags, cands = _synonym_slots(lex, self.rate, tokens)
        out = list(tokens)
        if not cands:
            return out
        rand = rng.random
        end = max(i for i, k in enumerate(kinds) if k != PUNCT) + 1  # insert before trailing punctuation
        for _ in range(n):
            i = cands[int(rand() * len(cands))]
            syns = lex.synonyms(tokens[i], None if tags is None else tags[i])
            out.insert(int(rand() * (end + 1)), syns[int(rand() * len(syns))])
            end += 1
        return out


class RandomSwap(WordOperation):
    """Swap two random unprotected words, ``n = max(1, rate * words)`` times.

    Punctuation and protected words keep their positions, so the multiset of tokens is unchanged.

    Args:
        rate: Fraction of the sentence's word count giving the number of swaps (``alpha_rs``).
        stopwords, protected, lexicon, seed, rng: As for :class:`SynonymReplacement`.
    """

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return a copy of ``tokens`` with some words swapped."""
        kinds = self.lexicon.kinds(tokens)
        out = list(tokens)
        n = count_for_rate(self.rate, len(kinds) - kinds.count(PUNCT))
        movable = [i for i, k in enumerate(kinds) if k > PROTECTED]
        m = len(movable)
        if n == 0 or m < 2:
            return out
        rand = rng.random
        for _ in range(n):
            a = int(rand() * m)
            b = int(rand() * (m - 1))
            if b >= a:
                b += 1
            i, j = movable[a], movable[b]
            out[i], out[j] = out[j], out[i]
        return out


class RandomDeletion(WordOperation):
    """Delete each unprotected word with probability ``p``, always keeping at least one word.

    Punctuation is kept. A sentence of a single word is returned unchanged.

    Args:
        rate: Probability ``p`` of deleting each word (``p_rd``).
        stopwords, protected, lexicon, seed, rng: As for :class:`SynonymReplacement`.
    """

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return ``tokens`` without the deleted words."""
        p = self.rate
        kinds = self.lexicon.kinds(tokens)
        deletable = [i for i, k in enumerate(kinds) if k > PROTECTED]
        n_words = len(kinds) - kinds.count(PUNCT)
        if p <= 0.0 or n_words <= 1 or not deletable:
            return list(tokens)
        rand = rng.random
        dropped = {i for i in deletable if rand() < p}
        if len(dropped) == n_words:  # every word would go: keep one at random
            dropped.discard(deletable[int(rand() * len(deletable))])
        return [t for i, t in enumerate(tokens) if i not in dropped]
