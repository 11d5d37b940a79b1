"""Checks on a list of samples before they become one batch: same structure, errors naming the samples."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from .._batch import sample_label

#: Exception types whose message can be extended safely (a single message argument).
_RETYPED = (ValueError, TypeError, RuntimeError, IndexError, ZeroDivisionError)


def _structure(sample: Any) -> tuple:
    """What the collate step reads from a sample: dict keys, tuple length, or a bare item."""
    if isinstance(sample, Mapping):
        return ("dict", tuple(sorted(sample, key=str)))
    if isinstance(sample, (tuple, list)):
        return ("tuple", len(sample))
    return ("bare",)


def _describe(sample: Any) -> str:
    kind = _structure(sample)
    if kind[0] == "dict":
        return f"a dict with keys {list(kind[1])}"
    if kind[0] == "tuple":
        return f"a {type(sample).__name__} of {kind[1]} items"
    return f"a bare {type(sample).__name__}"


def check_same_structure(samples: Sequence[Any], where: str) -> None:
    """Raises a ValueError naming the first sample whose structure differs from sample 0's.

    A batch is built from sample 0's structure (its dict keys, its tuple length); a later sample
    with more or other fields would otherwise lose them silently.
    """
    first = _structure(samples[0])
    indices = getattr(samples, "indices", None)
    for i in range(1, len(samples)):
        if _structure(samples[i]) != first:
            raise ValueError(
                f"{where}: {sample_label(i, indices)} is {_describe(samples[i])}, but sample 0 is "
                f"{_describe(samples[0])}; every sample of a batch must have the same structure "
                f"(the same dict keys, or tuples of the same length)"
            )


def _short(indices: Sequence[int], limit: int = 16) -> str:
    shown = ", ".join(str(int(i)) for i in list(indices)[:limit])
    return f"[{shown}, ... ({len(indices)} in all)]" if len(indices) > limit else f"[{shown}]"


def name_batch(err: Exception, samples: Sequence[Any], where: str) -> Exception:
    """``err`` with the batch's dataset indices added to its message (the same type), when known.

    Common single-message errors are re-created with the indices appended (raise it ``from err``);
    others get a note (shown in tracebacks, including a DataLoader worker's). Returns ``err`` itself
    when the batch carries no indices or the error already names them.
    """
    indices = getattr(samples, "indices", None)
    if indices is None or getattr(err, "_names_batch", False):
        return err
    suffix = f"{where}, batch of dataset indices {_short(indices)}"
    if type(err) in _RETYPED and len(err.args) == 1 and isinstance(err.args[0], str):
        new = type(err)(f"{err.args[0]} [{suffix}]")
        new._names_batch = True  # type: ignore[attr-defined]
        return new
    err.add_note(suffix)
    err._names_batch = True  # type: ignore[attr-defined]
    return err


def batch_indices(samples: Sequence[Any]) -> Optional[Sequence[int]]:
    """The dataset indices a tagged batch carries (:class:`~augloader.data.seeding.SampleBatch`), else None."""
    return getattr(samples, "indices", None)
