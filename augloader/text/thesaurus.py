"""Pluggable synonym sources.

A *thesaurus* is any object with ``synonyms(word, pos=None) -> Sequence[str]``. Two offline
readers ship with augloader (:class:`~augloader.text.mythes.MyThesThesaurus` for the Debian
``mythes-en-us`` package and :class:`~augloader.text.wordnet.WordNetThesaurus` for
``wordnet-base``); a plain ``dict`` or a callable can be used instead through
:func:`resolve_thesaurus`.

Part-of-speech codes are WordNet's: ``"n"`` noun, ``"v"`` verb, ``"a"`` adjective, ``"r"`` adverb.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Protocol, Union, runtime_checkable

__all__ = [
    "POS_CODES",
    "Thesaurus",
    "DictThesaurus",
    "CallableThesaurus",
    "ThesaurusSource",
    "resolve_thesaurus",
    "default_thesaurus",
    "penn_to_pos",
]

POS_CODES: frozenset[str] = frozenset({"n", "v", "a", "r"})


@runtime_checkable
class Thesaurus(Protocol):
    """Anything that maps a lower-case word (and optional POS code) to its synonyms."""

    def synonyms(self, word: str, pos: str | None = None) -> Sequence[str]:
        """Return the synonyms of ``word`` (never ``word`` itself); empty when unknown."""
        ...


def _check_pos(pos: str | None) -> None:
    if pos is not None and pos not in POS_CODES:
        raise ValueError(f"pos must be one of {sorted(POS_CODES)} or None, got {pos!r}")


class DictThesaurus:
    """A thesaurus backed by a mapping ``word -> synonyms`` (POS is ignored).

    Args:
        mapping: Words to iterables of synonyms; keys are matched case-insensitively.
    """

    def __init__(self, mapping: Mapping[str, Iterable[str]]) -> None:
        if not isinstance(mapping, Mapping):
            raise TypeError(f"mapping must be a Mapping, got {type(mapping).__name__}")
        table: dict[str, tuple[str, ...]] = {}
        for key, values in mapping.items():
            if not isinstance(key, str):
                raise TypeError(f"thesaurus keys must be str, got {key!r}")
            if isinstance(values, str) or not isinstance(values, Iterable):
                raise TypeError(f"synonyms of {key!r} must be an iterable of str")
            word = key.lower()
            new = tuple(values)
            bad = [v for v in new if not isinstance(v, str)]
            if bad:
                raise TypeError(f"synonyms of {key!r} must be str, got {bad[0]!r}")
            merged = table.get(word, ()) + tuple(v for v in new if v.lower() != word)
            table[word] = tuple(dict.fromkeys(merged))
        self._table = table

    def synonyms(self, word: str, pos: str | None = None) -> Sequence[str]:
        """Return the synonyms listed for ``word``."""
        _check_pos(pos)
        return self._table.get(word.lower(), ())


class CallableThesaurus:
    """A thesaurus backed by a function ``word -> synonyms``, with results cached.

    Args:
        fn: Called with the lower-case word; returns an iterable of synonyms.
        cache: Whether to memoise results per word (the function must then be pure).
    """

    def __init__(self, fn: Callable[[str], Iterable[str]], cache: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self._fn = fn
        self._cache: dict[str, tuple[str, ...]] | None = {} if cache else None

    def synonyms(self, word: str, pos: str | None = None) -> Sequence[str]:
        """Return ``fn(word)`` without the word itself."""
        _check_pos(pos)
        word = word.lower()
        if self._cache is not None and word in self._cache:
            return self._cache[word]
        result = self._fn(word)
        if isinstance(result, str) or not isinstance(result, Iterable):
            raise TypeError(
                f"synonym function returned {type(result).__name__} for {word!r}; expected an iterable of str"
            )
        syns = tuple(dict.fromkeys(s for s in result if s.lower() != word))
        if self._cache is not None:
            self._cache[word] = syns
        return syns


ThesaurusSource = Union[
    str, os.PathLike[str], Thesaurus, Mapping[str, Iterable[str]], Callable[[str], Iterable[str]], None
]


@lru_cache(maxsize=8)
def _shared(kind: str, path: str | None) -> Thesaurus:
    if kind == "mythes":
        from .mythes import MyThesThesaurus

        return MyThesThesaurus(path) if path else MyThesThesaurus()
    from .wordnet import WordNetThesaurus

    return WordNetThesaurus(path) if path else WordNetThesaurus()


def default_thesaurus() -> Thesaurus:
    """Return the process-wide MyThes thesaurus (``mythes-en-us``), loaded lazily on first lookup."""
    return _shared("mythes", None)


def resolve_thesaurus(source: ThesaurusSource = None) -> Thesaurus:
    """Turn any supported synonym source into a :class:`Thesaurus`.

    Args:
        source: ``None`` or ``"mythes"`` (Debian ``mythes-en-us``), ``"wordnet"`` (Debian
            ``wordnet-base``), a path to a MyThes ``.dat`` file or a WordNet ``dict`` directory,
            a thesaurus object, a mapping ``word -> synonyms`` or a callable ``word -> synonyms``.

    Returns:
        A thesaurus; the built-in readers are shared per path and load lazily.

    Raises:
        FileNotFoundError: A named data file or package is missing.
        TypeError: ``source`` is of an unsupported type.
    """
    if source is None or source == "mythes":
        return default_thesaurus()
    if source == "wordnet":
        return _shared("wordnet", None)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if os.path.isdir(path):
            return _shared("wordnet", path)
        if path.endswith(".dat") or os.path.isfile(path):
            return _shared("mythes", path)
        raise FileNotFoundError(
            f"thesaurus {path!r} is neither 'mythes', 'wordnet', a MyThes .dat file nor a WordNet directory"
        )
    if isinstance(source, Mapping):
        return DictThesaurus(source)
    if isinstance(source, Thesaurus):
        return source
    if callable(source):
        return CallableThesaurus(source)
    raise TypeError(f"unsupported thesaurus source of type {type(source).__name__}")


_PENN = {"N": "n", "V": "v", "J": "a", "R": "r"}


def penn_to_pos(tag: str | None) -> str | None:
    """Map a Penn Treebank tag (``NN``, ``VBD``, ``JJ``, ``RB`` ...) to a WordNet POS code or ``None``."""
    if not tag:
        return None
    return _PENN.get(tag[0].upper())
