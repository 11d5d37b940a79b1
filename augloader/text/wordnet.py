"""Reader for the Princeton WordNet 3.0 database files (Debian ``wordnet-base``).

``index.<pos>`` maps each lemma to the byte offsets of its synsets in ``data.<pos>``; a
synset line lists its member words. The index files are parsed lazily on the first lookup,
the data files are memory-mapped, and every result is cached. Only exact lemmas are looked
up (no morphological reduction), so ``cats`` has no synonyms while ``cat`` has.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["WordNetThesaurus", "DEFAULT_WORDNET_DIR"]

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"

_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


class WordNetThesaurus:
    """Synonyms from WordNet synsets (members of every synset the lemma belongs to).

    Args:
        directory: Folder holding ``index.noun``, ``data.noun``, ... (WordNet's ``dict``).
        multiword: Whether to return multi-word lemmas such as ``"foot race"``.
        proper_nouns: Whether to return lemmas with capitals (``"brown"`` -> ``"Brown University"``).

    Raises:
        FileNotFoundError: The directory or one of its files is missing (names the package).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] = DEFAULT_WORDNET_DIR,
        multiword: bool = True,
        proper_nouns: bool = False,
    ) -> None:
        self.directory = os.fspath(directory)
        missing = [
            name
            for pos in _FILES.values()
            for name in (f"index.{pos}", f"data.{pos}")
            if not os.path.isfile(os.path.join(self.directory, name))
        ]
        if missing:
            raise FileNotFoundError(
                f"WordNet files {missing} not found in {self.directory!r}; install the Debian package "
                "'wordnet-base' (apt-get install wordnet-base) or pass another synonym source"
            )
        self.multiword = multiword
        self.proper_nouns = proper_nouns
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._index: dict[str, list[tuple[str, int]]] | None = None
        self._data: dict[str, mmap.mmap] = {}
        self._synsets: dict[tuple[str, int], tuple[str, ...]] = {}
        self._cache: dict[tuple[str, str | None], tuple[str, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_index", "_data", "_synsets", "_cache", "_lock"):
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
            index: dict[str, list[tuple[str, int]]] = {}
            data: dict[str, mmap.mmap] = {}
            for pos, name in _FILES.items():
                with open(os.path.join(self.directory, f"index.{name}"), encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        if line.startswith(" "):
                            continue  # licence header
                        fields = line.split()
                        p_cnt = int(fields[3])
                        offsets = fields[6 + p_cnt :]
                        entry = index.setdefault(fields[0], [])
                        entry.extend((pos, int(off)) for off in offsets)
                with open(os.path.join(self.directory, f"data.{name}"), "rb") as fh:
                    data[pos] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            self._data, self._index = data, index

    def _synset(self, pos: str, offset: int) -> tuple[str, ...]:
        key = (pos, offset)
        words = self._synsets.get(key)
        if words is not None:
            return words
        mm = self._data[pos]
        end = mm.find(b"\n", offset)
        fields = mm[offset:end].decode("utf-8", "replace").split(" ")
        count = int(fields[3], 16)
        out = []
        for i in range(count):
            lemma = fields[4 + 2 * i]
            paren = lemma.find("(")  # adjective markers: (a), (p), (ip)
            if paren > 0:
                lemma = lemma[:paren]
            out.append(lemma.replace("_", " "))
        words = tuple(out)
        self._synsets[key] = words
        return words

    def synonyms(self, word: str, pos: str | None = None) -> Sequence[str]:
        """Return the synonyms of ``word`` (optionally only its synsets with POS ``pos``).

        Args:
            word: The word to look up (case-insensitive).
            pos: ``"n"``, ``"v"``, ``"a"``, ``"r"`` or ``None`` for every synset.

        Returns:
            Distinct synset members in WordNet sense order, excluding the word itself.
        """
        key = (word, pos)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        if pos is not None and pos not in _FILES:
            raise ValueError(f"pos must be one of 'n', 'v', 'a', 'r' or None, got {pos!r}")
        if self._index is None:
            self._load()
        lower = word.lower()
        lemma = lower.replace(" ", "_")
        seen: dict[str, None] = {}
        for syn_pos, offset in self._index.get(lemma, ()) if self._index is not None else ():
            if pos is not None and syn_pos != pos:
                continue
            for term in self._synset(syn_pos, offset):
                if (
                    term.lower() != lower
                    and (self.multiword or " " not in term)
                    and (self.proper_nouns or term.islower())
                ):
                    seen.setdefault(term, None)
        result = tuple(seen)
        self._cache[key] = result
        return result
