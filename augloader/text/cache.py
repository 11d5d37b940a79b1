"""On-disk cache of back-translations (SQLite, safe to share between DataLoader workers)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["CacheError", "TranslationCache", "cache_key"]

_CHUNK = 500  # SQLite variable limit is 999 on old builds
_SQLITE_MAGIC = b"SQLite format 3\x00"


class CacheError(RuntimeError):
    """The cache file cannot be opened or used (permissions, a full disk, a damaged database)."""


def _check_path(path: str) -> None:
    """Refuses a cache path that is a directory or an existing non-SQLite file, naming it."""
    if os.path.isdir(path):
        raise ValueError(
            f"the back-translation cache {path} is a directory; give a file path, "
            f"e.g. {os.path.join(path, 'backtranslation.sqlite')}"
        )
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise ValueError(
                f"the back-translation cache {path} exists but is not an SQLite database; "
                "give another path (augloader never overwrites it)"
            )


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

    Raises:
        TypeError: ``path`` is not a path.
        ValueError: ``path`` is a directory, or an existing file that is not an SQLite database.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"cache must be a path to an SQLite file (str or os.PathLike), got {type(path).__name__}")
        self.path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        _check_path(self.path)
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
            _check_path(self.path)  # it may have changed since construction (or since the pickle)
            try:
                os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=60.0)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("CREATE TABLE IF NOT EXISTS backtranslation (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                conn.commit()
            except (OSError, sqlite3.Error) as err:
                raise CacheError(f"cannot open the back-translation cache {self.path}: {err}") from err
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
            try:
                found.update(
                    conn.execute(f"SELECT key, value FROM backtranslation WHERE key IN ({marks})", chunk).fetchall()
                )
            except sqlite3.Error as err:
                raise CacheError(f"cannot read the back-translation cache {self.path}: {err}") from err
        return found

    def put_many(self, items: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Store ``key -> value`` pairs (existing keys are overwritten)."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        conn = self._connection()
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO backtranslation (key, value) VALUES (?, ?)", pairs)
        except sqlite3.Error as err:  # a full disk, a read-only file, a damaged database
            raise CacheError(f"cannot write to the back-translation cache {self.path}: {err}") from err

    def __len__(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM backtranslation").fetchone()[0])

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
