"""The one call contract of every augloader transform, whatever its domain (image, audio, text, mixing).

A transform that follows it:

- is called as ``forward(batch, params=None, generator=None)`` (``__call__`` for plain objects): every random
  value is drawn once per call from ``generator`` (a ``torch.Generator``; the transform's own source without
  one), as per-sample ``(B, ...)`` tensors;
- keeps the parameters of its last call in ``last_params``; passing them back as ``params=`` replays that
  call exactly (no draw);
- returns the structure it received (a tensor, a dict routed by its domain's key, a tuple);
- records the arguments it was constructed with (:mod:`augloader._init_args`), so
  :func:`augloader.to_config` can write a pipeline built in Python back as a config.

:class:`ReplayMixin` gives a class the last two for free: subclassing it records every subclass's
constructor arguments, and :meth:`ReplayMixin._params` is the draw-or-replay step of a ``forward``.
Audio (:class:`~augloader.audio.AudioTransform`), text (:class:`~augloader.text.TextTransform`,
:class:`~augloader.text.EDA`, :class:`~augloader.text.BackTranslation`) and mixing
(:class:`~augloader.mix.MixUpCutMix`, :class:`~augloader.advanced.SyntheticMix`) use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import torch

from ._batch import params_to
from ._init_args import record_init_args

if TYPE_CHECKING:
    from .transforms._types import Params

__all__ = ["ReplayMixin"]


class ReplayMixin:
    """Records constructor arguments and gives ``forward`` its draw-or-replay step (``last_params``).

    Put it first among the bases (``class AudioTransform(ReplayMixin, nn.Module)``) so its
    ``__init_subclass__`` runs for every subclass: each ``__init__`` a subclass defines is wrapped by
    :func:`~augloader._init_args.record_init_args` (the outermost call records what the caller passed).

    Shape:
        no data of its own: ``params`` are the ``(B, ...)`` tensors the transform's ``sample_params`` draws.
    """

    #: The parameters of the last call (None before the first); passing them back as ``params=`` replays it.
    last_params: Optional[Params] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = record_init_args(cls.__init__)  # type: ignore[method-assign]

    def _params(
        self,
        params: Optional[Params],
        draw: Callable[[], Params],
        device: Union[torch.device, str, None] = None,
    ) -> Params:
        """The parameters of this call: ``params`` (a replay) or ``draw()``; moved to ``device``; kept in ``last_params``.

        Args:
            params: the caller's ``params=`` (``last_params`` of an earlier call), or None to draw.
            draw: draws every random value of the call (``lambda: self.sample_params(shape, generator)``).
            device: where the batch lives; the parameters are moved there (one packed copy), None keeps them.

        Raises:
            TypeError: ``params`` is not a dict.
        """
        if params is None:
            params = draw()
        elif not isinstance(params, dict):
            raise TypeError(f"params must be a dict from sample_params or last_params, got {type(params).__name__}")
        if device is not None:
            params = params_to(params, device)
        self.last_params = params
        return params
