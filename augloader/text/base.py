"""Shared call convention of the text transforms: a ``str`` or a batch ``list[str]`` in, the same out.

Text transforms keep strings but follow the contract of the image side (:mod:`augloader._protocol`):
``t(text, params=None, generator=None)``. Each call draws its parameters once (:func:`draw_seed`: a
seed from the ``torch.Generator``, or from the transform's own ``random.Random`` without one) and runs
on a private ``random.Random`` seeded with it; ``last_params`` holds them and ``params=`` replays the
call exactly. Constructor arguments are recorded, so :func:`augloader.to_config` can write a text
pipeline built in Python back as a config.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from typing import Any, Optional, overload

import torch

from .._protocol import ReplayMixin
from .tokens import detokenize, tokenize

__all__ = ["TextTransform", "make_rng", "check_batch", "draw_seed", "params_rng", "call_rng"]

#: Seeds are drawn below 2 ** 63 (an int64 tensor holds them).
_SEED_HIGH = 2**63 - 1


def make_rng(seed: int | None = None, rng: random.Random | None = None) -> random.Random:
    """Return ``rng`` or a new ``random.Random(seed)`` (never the global RNG).

    Raises:
        ValueError: Both ``seed`` and ``rng`` were given.
        TypeError: ``rng`` is not a ``random.Random`` or ``seed`` is not an int.
    """
    if rng is not None:
        if seed is not None:
            raise ValueError("pass either seed or rng, not both")
        if not isinstance(rng, random.Random):
            raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}")
        return rng
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise TypeError(f"seed must be an int or None, got {seed!r}")
    return random.Random(seed)


def check_batch(texts: object, name: str = "text") -> list[str]:
    """Validate a batch of strings and return it as a list.

    Raises:
        TypeError: ``texts`` is not a list/tuple of ``str``.
    """
    if not isinstance(texts, (list, tuple)):
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(t).__name__}")
    return list(texts)


def call_rng(
    params: Any, rng: Optional[random.Random], generator: Optional[torch.Generator], where: str
) -> tuple[Optional[dict[str, Any]], Optional[random.Random]]:
    """Sorts out a call's ``params``, ``rng`` and ``generator``; returns ``(params, rng)``.

    A ``random.Random`` in the ``params`` slot is the positional ``rng`` of augloader 0.1 (``t(text, rng)``):
    it still works, with a :class:`DeprecationWarning`, until 0.3.

    Raises:
        ValueError: more than one of ``params``, ``rng`` and ``generator`` was given.
        TypeError: ``generator`` is not a ``torch.Generator`` or ``rng`` not a ``random.Random``.
    """
    if isinstance(params, random.Random):
        warnings.warn(
            f"{where}(text, rng) is deprecated and will be removed in augloader 0.3; pass rng=rng "
            "(or generator=torch.Generator)",
            DeprecationWarning,
            stacklevel=3,
        )
        if rng is not None:
            raise ValueError(f"{where}: rng given twice (positionally and as rng=)")
        params, rng = None, params
    given = [name for name, v in (("params", params), ("rng", rng), ("generator", generator)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"{where}: pass one of params, rng and generator, got {' and '.join(given)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{where}: generator must be a torch.Generator, got {type(generator).__name__}")
    if rng is not None and not isinstance(rng, random.Random):
        raise TypeError(f"{where}: rng must be a random.Random, got {type(rng).__name__}")
    return params, rng


def draw_seed(generator: Optional[torch.Generator], rng: random.Random) -> dict[str, Any]:
    """A call's parameters: ``{"seed": () int64}``, from ``generator`` (one torch draw) or else ``rng``.

    Shape:
        ``{"seed": ()}``.
    """
    if generator is not None:
        seed = torch.randint(_SEED_HIGH, (), generator=generator, device=generator.device).cpu()
    else:
        seed = torch.tensor(rng.getrandbits(63) % _SEED_HIGH, dtype=torch.int64)
    return {"seed": seed}


def params_rng(params: dict[str, Any], where: str) -> random.Random:
    """The ``random.Random`` a call with ``params`` runs on (seeded with ``params["seed"]``).

    Raises:
        ValueError: ``params`` has no integer ``seed`` (not from this transform's ``last_params``).
    """
    seed = params.get("seed")
    if isinstance(seed, torch.Tensor) and seed.numel() == 1 and not seed.is_floating_point():
        return random.Random(int(seed))
    if isinstance(seed, int) and not isinstance(seed, bool):
        return random.Random(seed)
    raise ValueError(f"{where}: params must hold an integer 'seed' (from last_params), got {sorted(map(str, params))}")


class TextTransform(ReplayMixin):
    """Base class: subclasses implement :meth:`apply_tokens` on one tokenised sentence.

    Each call runs on a ``random.Random`` seeded by the call's parameters (:func:`draw_seed`): drawn from
    ``generator`` when one is given, else from the transform's own ``random.Random`` (seeded at
    construction) or the ``rng`` of the call, so the same seed gives the same outputs, and
    ``t(text, params=t.last_params)`` gives the last call's outputs again.

    Args:
        seed: Seed of the transform's private RNG.
        rng: A ``random.Random`` to draw from instead (mutually exclusive with ``seed``).

    Shape:
        a ``str`` or a ``list[str]`` of B sentences; params ``{"seed": ()}``.
    """

    def __init__(self, seed: int | None = None, rng: random.Random | None = None) -> None:
        self.rng = make_rng(seed, rng)

    def sample_params(
        self, n: int, generator: Optional[torch.Generator] = None, rng: Optional[random.Random] = None
    ) -> dict[str, Any]:
        """The parameters of a call on ``n`` texts: a seed from ``generator``, else ``rng`` or the own RNG."""
        return draw_seed(generator, self.rng if rng is None else rng)

    def apply_tokens(self, tokens: list[str], rng: random.Random) -> list[str]:
        """Return an augmented copy of ``tokens`` (the input list is not modified)."""
        raise NotImplementedError

    def apply_text(self, text: str, rng: random.Random) -> str:
        """Augment one string: tokenise, :meth:`apply_tokens`, join."""
        return detokenize(self.apply_tokens(tokenize(text), rng))

    @overload
    def __call__(
        self, text: str, params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> str: ...
    @overload
    def __call__(
        self, text: Sequence[str], params: Any = None, generator: Optional[torch.Generator] = None, *, rng: Any = None
    ) -> list[str]: ...

    def __call__(
        self,
        text: str | Sequence[str],
        params: Any = None,
        generator: Optional[torch.Generator] = None,
        *,
        rng: Optional[random.Random] = None,
    ) -> str | list[str]:
        """Augment a string or each string of a batch.

        Args:
            text: One sentence, or a list of sentences.
            params: ``last_params`` of an earlier call, to replay it exactly.
            generator: A ``torch.Generator`` the call's seed is drawn from.
            rng: A ``random.Random`` the call's seed is drawn from (defaults to the transform's own).

        Returns:
            A string for a string input, a list of the same length for a list input.
        """
        name = type(self).__name__
        params, rng = call_rng(params, rng, generator, name)
        batch = [text] if isinstance(text, str) else check_batch(text)
        params = self._params(params, lambda: self.sample_params(len(batch), generator, rng))
        r = params_rng(params, name)
        apply = self.apply_text
        out = [apply(t, r) for t in batch]
        return out[0] if isinstance(text, str) else out
