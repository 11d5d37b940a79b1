"""The export manifest: one JSON object per line, one line per augmented file.

Fields: ``source`` (path relative to the input folder), ``index`` (the source's position in sorted
order), ``copy``, ``seed`` (the copy's generator seed), ``config`` (a fingerprint of the pipeline),
``params`` (the drawn parameters as lists), ``output`` (path relative to the output folder) and
``sha256`` (of the output file). Lines are appended as files are written, so a run killed at any
moment leaves a readable manifest (a torn last line is ignored); a finished run rewrites it in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from .imagefiles import write_atomic

MANIFEST_NAME = "manifest.jsonl"
Entry = dict[str, Any]


def to_jsonable(value: Any) -> Any:
    """Parameters as JSON: tensors as (nested) lists, tuples as lists, anything else as text."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def read_manifest(path: Path) -> dict[tuple[str, int], Entry]:
    """Entries by ``(source, copy)``; unreadable lines (a run killed mid-write, damage) are skipped.

    Bytes that are not UTF-8 spoil only their own line, and so does a line nested too deep for
    ``json`` (``RecursionError``); a skipped entry's file is simply redone.
    """
    entries: dict[tuple[str, int], Entry] = {}
    if not path.is_file():
        return entries
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                entry = json.loads(line)
                if isinstance(entry, dict):
                    entries[(str(entry["source"]), int(entry["copy"]))] = entry
            except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
                continue
    return entries


def entry_line(entry: Entry) -> str:
    """One manifest line: the entry as compact JSON with sorted keys, newline-terminated."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"


def write_manifest(path: Path, entries: Iterable[Entry]) -> None:
    """Rewrites the manifest atomically, ordered by source index then copy."""
    ordered = sorted(entries, key=lambda e: (e["index"], e["copy"]))
    write_atomic(path, "".join(entry_line(e) for e in ordered))
