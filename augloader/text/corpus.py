"""Loader for the Debian ``fortunes`` corpus: a real labelled text corpus that ships offline.

Each topic file under ``/usr/share/games/fortunes`` (e.g. ``science``, ``politics``) is a
label; entries are separated by lines holding a single ``%``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

__all__ = ["DEFAULT_FORTUNES_DIR", "fortune_topics", "load_fortunes", "split_sentences", "fortune_sentences"]

DEFAULT_FORTUNES_DIR = "/usr/share/games/fortunes"

_OVERSTRIKE_RE = re.compile(r".\x08")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SENTENCE_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z])")
_ATTRIBUTION_RE = re.compile(r"\s--\s.*$")


def _check_dir(root: str) -> None:
    if not os.path.isdir(root):
        raise FileNotFoundError(
            f"fortunes corpus not found at {root!r}; install the Debian package 'fortunes' (apt-get install fortunes)"
        )


def fortune_topics(root: str | os.PathLike[str] = DEFAULT_FORTUNES_DIR) -> list[str]:
    """Return the topic (label) names found in ``root``, sorted."""
    root = os.fspath(root)
    _check_dir(root)
    return sorted(
        name
        for name in os.listdir(root)
        if "." not in name and os.path.isfile(os.path.join(root, name)) and not os.path.islink(os.path.join(root, name))
    )


def load_fortunes(
    topics: Iterable[str] | None = None, root: str | os.PathLike[str] = DEFAULT_FORTUNES_DIR
) -> list[tuple[str, str]]:
    """Return ``(text, topic)`` pairs, one per fortune, with whitespace collapsed.

    Args:
        topics: Topic files to read (default: every topic in ``root``).
        root: The fortunes directory.

    Raises:
        FileNotFoundError: The directory or a named topic is missing.
    """
    root = os.fspath(root)
    names = fortune_topics(root) if topics is None else list(topics)
    out: list[tuple[str, str]] = []
    for name in names:
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"fortune topic {name!r} not found in {root!r}")
        with open(path, encoding="utf-8", errors="replace") as fh:
            raw = _CONTROL_RE.sub("", _OVERSTRIKE_RE.sub("", fh.read()))
        for entry in re.split(r"^%\s*$", raw, flags=re.MULTILINE):
            text = " ".join(entry.split())
            if text:
                out.append((text, name))
    return out


def split_sentences(text: str) -> list[str]:
    """Split text after ``.``, ``!`` or ``?`` followed by a capitalised word (a simple heuristic)."""
    return [s for s in _SENTENCE_RE.split(text) if s]


def fortune_sentences(
    n: int | None = None,
    min_words: int = 4,
    max_words: int = 40,
    topics: Iterable[str] | None = None,
    root: str | os.PathLike[str] = DEFAULT_FORTUNES_DIR,
) -> list[tuple[str, str]]:
    """Return up to ``n`` ``(sentence, topic)`` pairs of mostly-alphabetic prose, in corpus order.

    Attributions (`` -- Author``) are dropped, and sentences with fewer than ``min_words`` or
    more than ``max_words`` tokens, or less than 70 % letters, are skipped (this removes ASCII art).
    """
    out: list[tuple[str, str]] = []
    for text, topic in load_fortunes(topics, root):
        for sent in split_sentences(_ATTRIBUTION_RE.sub("", text)):
            words = sent.split()
            letters = sum(c.isalpha() for c in sent)
            if min_words <= len(words) <= max_words and letters >= 0.7 * len(sent.replace(" ", "")):
                out.append((sent, topic))
                if n is not None and len(out) >= n:
                    return out
    return out
