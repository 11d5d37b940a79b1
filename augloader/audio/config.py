"""Audio pipelines from YAML (safe loading only): a list of ``{TransformName: {arguments}}`` steps.

Example (``configs/audio.yaml``)::

    pipeline:
      - AddNoise: {snr_db: [10, 40], color: [white, pink, brown], p: 0.5}
      - PitchShift: {semitones: [-4, 4], p: 0.5}
    collate: {mode: pad, length: 16000}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

import yaml

from .base import AudioTransform
from .compose import AudioCompose
from .mix import AudioMixUp
from .noise import AddBackgroundNoise, AddNoise, Gain
from .spectrogram import FrequencyMasking, MelSpectrogram, Spectrogram, TimeMasking
from .time import PitchShift, SpeedChange, TimeShift, TimeStretch

__all__ = ["AUDIO_TRANSFORMS", "AudioConfig", "build_audio_pipeline", "load_audio_config"]

#: The names a config may use, and nothing else.
AUDIO_TRANSFORMS: dict[str, type[AudioTransform]] = {
    cls.__name__: cls
    for cls in (
        AddNoise,
        AddBackgroundNoise,
        Gain,
        TimeShift,
        SpeedChange,
        TimeStretch,
        PitchShift,
        Spectrogram,
        MelSpectrogram,
        FrequencyMasking,
        TimeMasking,
        AudioMixUp,
    )
}
_COLLATE_KEYS = ("mode", "length", "crop")


@dataclass
class AudioConfig:
    """A loaded audio config: the pipeline and the keyword arguments for :func:`~augloader.audio.pad_or_crop`."""

    pipeline: AudioCompose
    collate: dict[str, Any] = field(default_factory=dict)


def build_audio_pipeline(steps: Sequence[Any]) -> AudioCompose:
    """Builds an :class:`AudioCompose` from ``[{Name: {arg: value}}, "Name", ...]``.

    Raises:
        ValueError: an unknown name, a malformed step, or arguments the transform rejects.
    """
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence) or not steps:
        raise ValueError(f"pipeline must be a non-empty list of steps, got {steps!r:.80}")
    transforms = []
    for i, step in enumerate(steps):
        if isinstance(step, str):
            name, kwargs = step, {}
        elif isinstance(step, Mapping) and len(step) == 1:
            name, kwargs = next(iter(step.items()))
            kwargs = {} if kwargs is None else kwargs
        else:
            raise ValueError(f"pipeline step {i} must be 'Name' or {{Name: {{args}}}}, got {step!r:.80}")
        if name not in AUDIO_TRANSFORMS:
            raise ValueError(f"pipeline step {i}: unknown audio transform {name!r}; known: {sorted(AUDIO_TRANSFORMS)}")
        if not isinstance(kwargs, Mapping):
            raise ValueError(f"pipeline step {i} ({name}): arguments must be a mapping, got {kwargs!r:.80}")
        try:
            transforms.append(AUDIO_TRANSFORMS[name](**kwargs))
        except TypeError as err:  # unknown keyword
            raise ValueError(f"pipeline step {i} ({name}): {err}") from err
    return AudioCompose(transforms)


def load_audio_config(source: Union[str, Path, Mapping[str, Any]]) -> AudioConfig:
    """Reads a YAML file (or an already parsed mapping) with ``pipeline`` and optional ``collate`` keys."""
    if isinstance(source, Mapping):
        spec = source
    else:
        with open(source, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
    if not isinstance(spec, Mapping):
        raise ValueError(f"an audio config must be a mapping with a 'pipeline' key, got {type(spec).__name__}")
    unknown = set(spec) - {"pipeline", "collate"}
    if unknown or "pipeline" not in spec:
        raise ValueError(f"an audio config has keys 'pipeline' and optionally 'collate'; got {sorted(spec)}")
    collate = dict(spec.get("collate") or {})
    if set(collate) - set(_COLLATE_KEYS):
        raise ValueError(f"collate accepts {_COLLATE_KEYS}, got {sorted(collate)}")
    return AudioConfig(build_audio_pipeline(spec["pipeline"]), collate)
