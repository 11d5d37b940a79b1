"""Reader for MyThes thesaurus files (OpenOffice/LibreOffice format, Debian ``mythes-en-us``).

The ``.dat`` file holds one entry per head word: a ``word|n_senses`` line followed by
``n_senses`` lines ``(pos)|term|term (generic term)|...``; the ``.idx`` file maps each head
word to the byte offset of its entry. Both are opened lazily on the first lookup; the ``.dat``
file is memory-mapped (shared between DataLoader workers through the page cache) and each
entry is parsed once and cached.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["MyThesThesaurus", "DEFAULT_MYTHES_PATH", "MYTHES_RELATIONS"]

DEFAULT_MYTHES_PATH = "/usr/share/mythes/th_en_US_v2.dat"

#: Relation annotations a MyThes term may carry. Antonyms are never returned.
MYTHES_RELATIONS: frozenset[str] = frozenset({"generic term", "similar term", "related term"})

_POS = {"(noun)": "n", "(verb)": "v", "(adj)": "a", "(adv)": "r"}


class MyThesThesaurus:
    """Synonyms from a MyThes ``.dat``/``.idx`` pair.

    Only exact head words are looked up (``cats`` has no entry, ``cat`` has), so replacements
    keep the word form the thesaurus lists rather than guessing inflections.

    Args:
        path: The ``.dat`` file; the ``.idx`` beside it is used when present.
        relations: Annotated terms to include besides plain synonyms (a subset of
            :data:`MYTHES_RELATIONS`, e.g. ``{"similar term"}``). Antonyms are always excluded.
        multiword: Whether to return multi-word terms such as ``"foot race"``.
        proper_nouns: Whether to return terms with capitals (``"brown"`` -> ``"Brown University"``,
            ``"va"`` -> ``"Old Dominion State"``); off by default because they rarely keep the meaning.

    Raises:
        FileNotFoundError: ``path`` does not exist (names the Debian package to install).
        ValueError: ``relations`` names an unknown relation.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_MYTHES_PATH,
        relations: Iterable[str] = (),
        multiword: bool = True,
        proper_nouns: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(
                f"MyThes thesaurus not found at {self.path!r}; install the Debian package "
                "'mythes-en-us' (apt-get install mythes-en-us) or pass another synonym source"
            )
        rel = frozenset(relations)
        unknown = rel - MYTHES_RELATIONS
        if unknown:
            raise ValueError(f"unknown MyThes relations {sorted(unknown)}; choose from {sorted(MYTHES_RELATIONS)}")
        self.relations = rel
        self.multiword = multiword
        self.proper_nouns = proper_nouns
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._mm: mmap.mmap | None = None
        self._index: dict[str, int] | None = None
        self._encoding = "utf-8"
        self._senses: dict[str, tuple[tuple[str | None, tuple[str, ...]], ...]] = {}
        self._cache: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_mm", "_index", "_senses", "_cache", "_lock"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._reset()

    def _load(self) -> None:
        with self._lock:
            if self._index is not None:
                return
            with open(self.path, "rb") as fh:
                mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            end = mm.find(b"\n")
            encoding = mm[:end].decode("ascii", "replace").strip() or "utf-8"
            idx_path = self.path[:-4] + ".idx" if self.path.endswith(".dat") else ""
            index = self._read_idx(idx_path, encoding) if idx_path and os.path.isfile(idx_path) else None
            if index is None:
                index = self._scan_dat(mm, encoding)
            self._encoding, self._mm, self._index = encoding, mm, index

    @staticmethod
    def _read_idx(path: str, encoding: str) -> dict[str, int]:
        with open(path, encoding=encoding, errors="replace") as fh:
            lines = fh.read().split("\n")
        index: dict[str, int] = {}
        for line in lines[2:]:
            word, sep, offset = line.rpartition("|")
            if sep:
                index[word] = int(offset)
        return index

    @staticmethod
    def _scan_dat(mm: mmap.mmap, encoding: str) -> dict[str, int]:
        index: dict[str, int] = {}
        pos = mm.find(b"\n") + 1
        size = len(mm)
        while pos < size:
            end = mm.find(b"\n", pos)
            end = size if end < 0 else end
            word, _, count = mm[pos:end].decode(encoding, "replace").rpartition("|")
            index[word] = pos
            pos = end + 1
            for _ in range(int(count)):
                nxt = mm.find(b"\n", pos)
                pos = size if nxt < 0 else nxt + 1
        return index

    def _entry(self, word: str) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        senses = self._senses.get(word)
        if senses is not None:
            return senses
        if self._index is None:
            self._load()
        offset = self._index.get(word) if self._index is not None else None
        senses = () if offset is None or self._mm is None else self._parse_entry(self._mm, offset)
        self._senses[word] = senses
        return senses

    def _parse_entry(self, mm: mmap.mmap, offset: int) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        end = mm.find(b"\n", offset)
        count = int(mm[offset:end].rpartition(b"|")[2])
        start = end + 1
        for _ in range(count):
            end = mm.find(b"\n", end + 1)
            if end < 0:
                end = len(mm)
                break
        lines = mm[start:end].decode(self._encoding, "replace").split("\n")
        senses = []
        for line in lines[:count]:
            fields = line.split("|")
            pos = _POS.get(fields[0])
            terms = []
            for term in fields[1:]:
                paren = term.find(" (")
                if paren >= 0:
                    relation = term[paren + 2 : -1]
                    if relation not in self.relations:
                        continue
                    term = term[:paren]
                term = term.strip()
                if term and (self.multiword or " " not in term) and (self.proper_nouns or term.islower()):
                    terms.append(term)
            senses.append((pos, tuple(terms)))
        return tuple(senses)

    def synonyms(self, word: str, pos: str | None = None) -> Sequence[str]:
        """Return the synonyms of ``word`` (optionally only from senses with POS ``pos``).

        Args:
            word: The word to look up (case-insensitive).
            pos: ``"n"``, ``"v"``, ``"a"``, ``"r"`` or ``None`` for every sense.

        Returns:
            Distinct synonyms in thesaurus order, excluding the word itself.
        """
        key = (word, pos)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if pos is not None and pos not in _POS.values():
            raise ValueError(f"pos must be one of 'n', 'v', 'a', 'r' or None, got {pos!r}")
        lower = word.lower()
        seen: dict[str, None] = {}
        for sense_pos, terms in self._entry(lower):
            if pos is None or sense_pos == pos:
                for term in terms:
                    if term.lower() != lower:
                        seen.setdefault(term, None)
        result = tuple(seen)
        self._cache[key] = result
        return result
