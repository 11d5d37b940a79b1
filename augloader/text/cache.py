"""On-disk cache of back-translations (SQLite, safe to share between DataLoader workers)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["TranslationCache", "cache_key"]

_CHUNK = 500  # SQLite variable limit is 999 on old builds


def cache_key(backend: str, source: str, pivot: str, text: str) -> str:
    """Return the hex SHA-256 of backend id, language pair and text (the cache key)."""
    h = hashlib.sha256()
    for part in (backend, source, pivot, text):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


class TranslationCache:
    """A persistent ``key -> back-translation`` table in one SQLite file.

    The connection is opened lazily and reopened after a fork, so a cache object can be
    pickled into DataLoader workers.

    Args:
        path: The database file (parent folders are created).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    def __repr__(self) -> str:
        return f"TranslationCache({self.path!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS backtranslation (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            conn.commit()
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """Return the cached values of those ``keys`` that are present."""
        conn = self._connection()
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                conn.execute(f"SELECT key, value FROM backtranslation WHERE key IN ({marks})", chunk).fetchall()
            )
        return found

    def put_many(self, items: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Store ``key -> value`` pairs (existing keys are overwritten)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        conn = self._connection()
        with conn:
            conn.executemany("INSERT OR REPLACE INTO backtranslation (key, value) VALUES (?, ?)", pairs)

    def __len__(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM backtranslation").fetchone()[0])

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
