"""AudioCompose: audio transforms in order, parameters drawn once for the whole chain."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import Tensor, nn

from ..transforms._args import transform_list
from .base import AudioShape, AudioTransform, Params

__all__ = ["AudioCompose"]


class AudioCompose(AudioTransform):
    """Runs audio transforms in order; ``print(pipeline)`` lists them.

    Params are a dict keyed by each transform's position (``"0"``, ``"1"``, ...). Each step must read
    what the previous one returns (a spectrogram transform only after a waveform-to-spectrogram one).

    Args:
        transforms: the :class:`AudioTransform` steps (nested composes are flattened).

    Shape:
        what the first transform takes; returns what the last one returns.
    """

    def __init__(self, transforms: Sequence[AudioTransform]) -> None:
        super().__init__()
        steps: list[AudioTransform] = []
        for t in transform_list(transforms, "AudioCompose", AudioTransform, "an AudioTransform"):
            steps.extend(t.transforms if isinstance(t, AudioCompose) else [t])
        for prev, nxt in zip(steps, steps[1:]):
            produced = prev.output_domain or prev.domain
            if nxt.domain != produced:
                raise ValueError(
                    f"{type(nxt).__name__} takes a {nxt.domain} but {type(prev).__name__} returns a {produced}"
                )
        self.transforms = nn.ModuleList(steps)
        self.domain = steps[0].domain
        self.output_domain = steps[-1].output_domain or steps[-1].domain
        self.randomized = any(t.randomized for t in steps)

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        params = {}
        for i, t in enumerate(self.transforms):
            params[str(i)] = t.sample_params(shape, generator)
            shape = t.output_shape(shape)
        return params

    def output_shape(self, shape: AudioShape) -> AudioShape:
        for t in self.transforms:
            shape = t.output_shape(shape)
        return shape

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return self._transform(audio, lengths, None, params)[0]

    def _transform(
        self, audio: Tensor, lengths: Optional[Tensor], label: Any, params: Params
    ) -> tuple[Tensor, Optional[Tensor], Any]:
        for i, t in enumerate(self.transforms):
            audio, lengths, label = t._transform(audio, lengths, label, params[str(i)])
        return audio, lengths, label

    def extra_repr(self) -> str:
        return ""
