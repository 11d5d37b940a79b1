"""Offline rule-based translation through Apertium (Debian ``apertium`` + ``apertium-eng-spa``)."""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from .._init_args import record_init_args
from .._repr import short_repr
from .translator import BackendUnavailableError

__all__ = ["ApertiumTranslator", "ISO_639_3"]

#: ISO 639-1 -> the three-letter codes Apertium's modes use.
ISO_639_3: dict[str, str] = {
    "en": "eng",
    "es": "spa",
    "fr": "fra",
    "ca": "cat",
    "pt": "por",
    "it": "ita",
    "de": "deu",
    "gl": "glg",
    "eo": "epo",
    "ro": "ron",
    "oc": "oci",
    "nl": "nld",
}

# Sentences are sent as paragraphs separated by a blank line. Apertium copies blank lines
# ("superblanks") through unchanged, and inputs are flattened to one line, so the separator
# cannot occur inside a text and the output splits back into exactly one piece per input.
_SEPARATOR = "\n\n"
_SPLIT_RE = re.compile(r"\n[ \t]*\n")


class ApertiumTranslator:
    """Translate batches with the ``apertium`` command: one process per batch, never per sentence.

    Texts are flattened to one line each and joined with blank lines; the output is split back
    and its count checked. Unknown-word marks are suppressed (``-u``) and runs of spaces that
    Apertium leaves for dropped pronouns are collapsed. Apertium's tagger carries a little
    context across paragraphs, so a sentence's translation can differ slightly with its
    neighbours in the batch.

    Args:
        executable: The ``apertium`` program (name on PATH or a path).
        timeout: Seconds allowed for one batch before :class:`RuntimeError`.
        data_dir: Optional Apertium data directory (``-d``).
        codes: Extra ISO 639-1 -> Apertium code mappings.
        name: Identifier used in cache keys (change it to invalidate cached results).

    Raises:
        ValueError: ``timeout`` is not a positive, finite number.
        TypeError: ``executable``, ``name``, ``data_dir`` or ``codes`` has the wrong type.
    """

    @record_init_args  # so augloader.to_config can write a BackTranslation built in Python
    def __init__(
        self,
        executable: str = "apertium",
        timeout: float = 300.0,
        data_dir: str | None = None,
        codes: Mapping[str, str] | None = None,
        name: str = "apertium",
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
            raise ValueError(f"timeout must be a positive number of seconds, got {short_repr(timeout, 60)}")
        for arg, value in (("executable", executable), ("name", name)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{arg} must be a non-empty str, got {type(value).__name__} {short_repr(value, 60)}")
        if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a path or None, got {type(data_dir).__name__}")
        if codes is not None and (
            not isinstance(codes, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in codes.items())
        ):
            raise TypeError(
                f"codes must map language codes to Apertium codes (str -> str), got {short_repr(codes, 60)}"
            )
        self.executable = executable
        self.timeout = float(timeout)
        self.data_dir = data_dir
        self.codes = {**ISO_639_3, **(codes or {})}
        self.name = name
        self.calls = 0  # number of apertium processes started (for tests and monitoring)

    def __repr__(self) -> str:
        return f"ApertiumTranslator(executable={self.executable!r}, timeout={self.timeout})"

    def mode(self, source: str, target: str) -> str:
        """Return the Apertium mode name for a language pair, e.g. ``("en", "es") -> "eng-spa"``."""
        return f"{self.codes.get(source, source)}-{self.codes.get(target, target)}"

    def _program(self) -> str:
        path = shutil.which(self.executable)
        if path is None:
            raise BackendUnavailableError(
                f"Apertium program {self.executable!r} not found; install the Debian packages "
                "'apertium' and 'apertium-eng-spa' (apt-get install apertium apertium-eng-spa)"
            )
        return path

    def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Translate ``texts`` from ``source`` to ``target`` with a single apertium process.

        Args:
            texts: The batch (empty or blank texts translate to ``""`` without being sent).
            source: Source language (``"en"`` or ``"eng"``).
            target: Target language.

        Returns:
            One translation per input text, whitespace-normalised.

        Raises:
            BackendUnavailableError: apertium or the language pair is not installed.
            RuntimeError: apertium failed, timed out, or returned a different number of texts.
            TypeError: A text is not a ``str``.
        """
        if isinstance(texts, (str, bytes)) or not isinstance(texts, Sequence):
            raise TypeError(f"texts must be a list of str, got {type(texts).__name__}")
        flat: list[str] = []
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] must be a str, got {type(t).__name__}")
            flat.append(" ".join(t.split()))
        todo = [i for i, t in enumerate(flat) if t]
        out = [""] * len(flat)
        if not todo:
            return out
        mode = self.mode(source, target)
        cmd = [self._program(), "-u"]
        if self.data_dir:
            cmd += ["-d", self.data_dir]
        cmd.append(mode)
        payload = _SEPARATOR.join(flat[i] for i in todo) + _SEPARATOR
        self.calls += 1
        try:
            proc = subprocess.run(
                cmd,
                input=payload,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(
                f"apertium {mode} timed out after {self.timeout:g} s on a batch of {len(todo)} texts"
            ) from exc
        if proc.returncode != 0:
            err = proc.stderr.strip()
            if "does not exist" in err or "Mode" in err:
                raise BackendUnavailableError(
                    f"Apertium has no mode {mode!r} ({err.splitlines()[0] if err else 'no message'}); "
                    f"install the language pair package, e.g. 'apertium-eng-spa' for eng-spa/spa-eng"
                )
            raise RuntimeError(f"apertium {mode} failed with exit code {proc.returncode}: {err[:500]}")
        pieces = _SPLIT_RE.split(proc.stdout.strip("\n"))
        if len(pieces) != len(todo):
            raise RuntimeError(
                f"apertium {mode} returned {len(pieces)} texts for a batch of {len(todo)}; "
                "the blank-line separator did not survive translation"
            )
        for i, piece in zip(todo, pieces):
            out[i] = " ".join(piece.split())
        return out
