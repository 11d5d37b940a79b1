"""Word/punctuation tokenisation shared by the text transforms.

Tokens are either *words* (letters or digits, with inner apostrophes and hyphens kept, so
``don't`` and ``well-known`` are one token) or single punctuation/symbol characters. Joining
puts one space between tokens, as the EDA reference implementation does, except that closing
punctuation is glued to the token before it and opening brackets to the token after it, so
``"Hello , world !"`` comes back as ``"Hello, world!"``. Original spacing is not preserved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["tokenize", "detokenize", "is_word"]

_TOKEN_RE = re.compile(r"\w+(?:['’\-]\w+)*|\.{2,}|-{2,}|[!?]+|[^\w\s]", re.UNICODE)
_FINDALL = _TOKEN_RE.findall
_CLOSING = ".,!?;:%)]}…"  # glued to the token before
_OPENING = "([{$"  # glued to the token after


def tokenize(text: str) -> list[str]:
    """Split ``text`` into word and punctuation tokens.

    Args:
        text: A sentence or short document.

    Returns:
        The tokens in order; whitespace is dropped.
    """
    out: list[str] = []
    append, extend = out.append, out.extend
    for chunk in text.split():  # fast path: most chunks are plain words
        if chunk.isalnum():
            append(chunk)
        else:
            extend(_FINDALL(chunk))
    return out


def detokenize(tokens: Sequence[str]) -> str:
    """Join tokens with single spaces, attaching punctuation to its neighbour.

    Args:
        tokens: Tokens as produced by :func:`tokenize` (multi-word synonyms may contain spaces).

    Returns:
        The joined text.
    """
    text = " ".join(tokens)
    for c in _CLOSING:
        if c in text:
            text = text.replace(" " + c, c)
    for c in _OPENING:
        if c in text:
            text = text.replace(c + " ", c)
    return text


def is_word(token: str) -> bool:
    """Return whether ``token`` is a word (starts with a letter, digit or underscore)."""
    return bool(token) and (token[0].isalnum() or token[0] == "_")
