"""The :class:`Translator` protocol that back translation is written against."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

__all__ = ["Translator", "BackendUnavailableError"]


class BackendUnavailableError(RuntimeError):
    """A translation backend (program, language pair or model) is not installed."""


@runtime_checkable
class Translator(Protocol):
    """Translates a batch of texts between two languages in one backend call.

    Attributes:
        name: A stable identifier of the backend and its data (part of the cache key).
    """

    name: str

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Return one translation per text, in order (ISO 639-1 or -3 language codes)."""
        ...
