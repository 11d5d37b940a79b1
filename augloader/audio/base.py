"""The audio sibling of :class:`augloader.transforms.Transform`: same contract, on waveforms.

A batch is a float tensor ``(B, C, T)`` (a single clip ``(C, T)`` is a batch of one), or a dict with
an ``"audio"`` tensor of that shape. Spectrogram transforms take ``(B, C, F, N)`` / ``(C, F, N)``.
In a dict, ``"lengths"`` (``(B,)`` int, valid samples per clip, see :mod:`.collate`) is read by the
transforms that care (noise levels are measured on the valid part only) and updated by the ones that
change the duration; ``"label"`` is mixed by :class:`~augloader.audio.AudioMixUp`; every other key
passes through untouched.

Subclasses implement :meth:`AudioTransform.sample_params` (every random value, ``(B, ...)`` tensors
drawn in one vectorised call per parameter, the ``p`` gate folded in as neutral values) and
:meth:`AudioTransform.apply` (the deterministic batched op). :meth:`AudioTransform.forward` is final.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional, Union

import torch
from torch import Tensor, nn

from .._batch import working_dtype
from .._protocol import ReplayMixin
from ..transforms._args import probability as check_probability
from ..transforms._types import Params

#: ``(B, C, T)`` for waveforms, ``(B, C, F, N)`` for spectrograms.
AudioShape = tuple[int, ...]
AudioBatch = Union[Tensor, Mapping[str, Any]]

#: Input rank (batched) of each domain.
DOMAIN_RANK = {"waveform": 3, "spectrogram": 4}
_DOMAIN_SHAPES = {"waveform": "(C, T) or (B, C, T)", "spectrogram": "(C, F, N) or (B, C, F, N)"}
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


@dataclass
class AudioView:
    """A parsed audio batch: the audio with a leading batch dimension plus what rebuilds the caller's form."""

    audio: Tensor  # (B, C, T) or (B, C, F, N)
    lengths: Optional[Tensor]  # (B,) int64 valid samples, or None
    label: Any  # the dict's "label" or None
    unbatched: bool  # the caller gave no batch dimension
    container: Optional[Mapping[str, Any]]  # the caller's dict, or None for a bare tensor

    @staticmethod
    def parse(batch: AudioBatch, domain: str) -> "AudioView":
        """Validates ``batch`` for ``domain`` (``"waveform"`` or ``"spectrogram"``) and returns a view."""
        if isinstance(batch, Tensor):
            container, audio = None, batch
        elif isinstance(batch, Mapping):
            if "audio" not in batch:
                raise KeyError(f"audio batch dict has no 'audio' key (keys: {sorted(batch)})")
            container, audio = batch, batch["audio"]
            if not isinstance(audio, Tensor):
                raise TypeError(f"batch['audio'] must be a torch.Tensor, got {type(audio).__name__}")
        else:
            raise TypeError(
                f"expected an audio tensor {_DOMAIN_SHAPES[domain]} or a dict with an 'audio' key, got {type(batch).__name__}"
            )
        rank = DOMAIN_RANK[domain]
        if audio.dim() not in (rank - 1, rank):
            raise ValueError(f"{domain} audio must have shape {_DOMAIN_SHAPES[domain]}, got shape {tuple(audio.shape)}")
        if audio.dtype not in FLOAT_DTYPES:
            raise TypeError(f"audio must be a floating tensor (float32, float64, float16, bfloat16), got {audio.dtype}")
        unbatched = audio.dim() == rank - 1
        if unbatched:
            audio = audio.unsqueeze(0)
        lengths = container.get("lengths") if container is not None else None
        if lengths is not None:
            lengths = check_lengths(lengths, audio.shape[0], audio.device, unbatched, size=audio.shape[-1])
        label = container.get("label") if container is not None else None
        return AudioView(audio, lengths, label, unbatched, container)

    def rebuild(self, audio: Tensor, lengths: Optional[Tensor], label: Any) -> AudioBatch:
        """Returns the caller's structure with the audio (and lengths, label) replaced."""
        out_audio = audio.squeeze(0) if self.unbatched else audio
        if self.container is None:
            return out_audio
        out = dict(self.container)
        out["audio"] = out_audio
        if lengths is not None:
            out["lengths"] = lengths.reshape(self.container["lengths"].shape) if self.unbatched else lengths
        if label is not None:
            out["label"] = label
        return out


def check_lengths(
    lengths: Any, batch_size: int, device: torch.device, unbatched: bool = False, size: Optional[int] = None
) -> Tensor:
    """Validates a ``lengths`` entry and returns it as ``(B,)`` int64 on ``device``.

    With ``size`` (the last axis: samples, or frames of a spectrogram), every length must lie in
    ``[0, size]``; checked where it costs no device sync (lengths on the CPU, as collate makes them).
    """
    if (
        not isinstance(lengths, Tensor)
        or lengths.dtype.is_floating_point
        or lengths.dtype.is_complex
        or lengths.dtype == torch.bool
    ):
        raise TypeError(f"batch['lengths'] must be an integer tensor of valid samples per clip, got {lengths!r:.80}")
    if unbatched and lengths.numel() == 1:
        lengths = lengths.reshape(1)
    if lengths.shape != (batch_size,):
        raise ValueError(f"batch['lengths'] must have shape ({batch_size},), got {tuple(lengths.shape)}")
    if size is not None and lengths.device.type == "cpu" and lengths.numel():
        bad = (lengths < 0) | (lengths > size)
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise ValueError(
                f"batch['lengths'] of sample {i} is {int(lengths[i])}, outside [0, {size}] "
                f"(the audio's last axis has {size} entries; {int(bad.sum())} such samples)"
            )
    return lengths.to(device=device, dtype=torch.int64)


class AudioTransform(ReplayMixin, nn.Module):
    """Base of every audio transform: draw per-sample parameters once, then apply a pure batched op.

    The call contract is the image side's (:mod:`augloader._protocol`): ``forward(batch, params=None,
    generator=None)``, ``last_params`` replay, the caller's structure returned, and constructor arguments
    recorded so a pipeline built in Python writes back with :func:`augloader.to_config`.

    Class attributes:

    - ``domain``: what the transform reads, ``"waveform"`` or ``"spectrogram"``.
    - ``output_domain``: what it returns (only :class:`Spectrogram` and :class:`MelSpectrogram`
      turn waveforms into spectrograms).
    - ``randomized``: False for deterministic transforms.

    Args:
        p: probability that a sample is transformed; skipped samples get neutral parameters and come
            back unchanged.

    Shape:
        waveform ``(C, T)`` or ``(B, C, T)`` (spectrogram ``(C, F, N)`` / ``(B, C, F, N)``), or a dict
        with an ``"audio"`` tensor of that shape; the same structure comes back.
    """

    domain: str = "waveform"  # an instance may override it (RandomTimeMasking, AudioMixUp, AudioCompose)
    output_domain: Optional[str] = None  # None: same as ``domain``
    randomized: ClassVar[bool] = True

    def __init__(self, p: float = 1.0) -> None:
        super().__init__()
        self.p = check_probability(p)
        self.last_params: Optional[Params] = None

    # ---- what subclasses implement -------------------------------------------------------------
    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        """Draws every random value for a batch of ``shape``, each a ``(B, ...)`` tensor."""
        return {}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        """The deterministic op on a float batch; ``lengths`` (``(B,)``) is given when the batch has one."""
        raise NotImplementedError(f"{type(self).__name__} does not implement apply()")

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        """New valid lengths after the op, for an input whose last axis has ``size`` entries."""
        return lengths

    def apply_label(self, label: Any, params: Params) -> Any:
        """New labels after the op (only mixing changes them)."""
        return label

    def output_shape(self, shape: AudioShape) -> AudioShape:
        """Shape returned for an input of ``shape``."""
        return shape

    # ---- the engine ----------------------------------------------------------------------------
    def forward(
        self, batch: AudioBatch, params: Optional[Params] = None, generator: Optional[torch.Generator] = None
    ) -> AudioBatch:
        """Draws parameters once (or replays ``params``) and transforms the batch.

        The drawn parameters are kept in ``self.last_params``; passing them back replays the call.
        """
        view = AudioView.parse(batch, self.domain)
        audio = view.audio
        params = self._params(params, lambda: self.sample_params(tuple(audio.shape), generator), audio.device)
        out_shape = self.output_shape(tuple(audio.shape))
        if audio.shape[0] == 0 or (audio.shape[-1] == 0 and out_shape == audio.shape):  # no samples, or silent clips
            return view.rebuild(audio.new_zeros(out_shape), view.lengths, view.label)
        out, lengths, label = self._transform(audio.to(working_dtype(audio.dtype)), view.lengths, view.label, params)
        if out.dtype != audio.dtype:
            out = out.to(audio.dtype)
        return view.rebuild(out, lengths, label)

    def _transform(
        self, audio: Tensor, lengths: Optional[Tensor], label: Any, params: Params
    ) -> tuple[Tensor, Optional[Tensor], Any]:
        """One step on the parsed batch; containers override it to chain their children."""
        out = self.apply(audio, params, lengths)
        if lengths is not None:
            lengths = self.apply_lengths(lengths, params, audio.shape[-1])
        if label is not None:
            label = self.apply_label(label, params)
        return out, lengths, label

    def extra_repr(self) -> str:
        return f"p={self.p}" if self.p != 1.0 else ""
