"""Audio pipelines from YAML (safe loading only): a list of ``{TransformName: {arguments}}`` steps.

Example (``configs/audio.yaml``)::

    pipeline:
      - AudioGaussianNoise: {snr_db: [10, 40], color: [white, pink, brown], p: 0.5}
      - RandomPitchShift: {semitones: [-4, 4], p: 0.5}
    collate: {mode: pad, length: 16000}

:func:`augloader.from_config` reads these too (a ``collate`` key or ``kind: audio`` marks them), and
:func:`augloader.to_config` / :func:`augloader.save_config` write them back (with ``kind: audio``) via
:func:`audio_to_config`. Every audio transform records the arguments it was constructed with (the
image side's hook, :mod:`augloader._protocol`), so pipelines built in Python are written back too;
only the arguments given are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from torch import Tensor

from .._config_read import MAX_CONFIG_BYTES, ConfigError, did_you_mean, read_config
from .._init_args import init_args
from .._repr import short_repr
from ._aliases import DEPRECATED_AUDIO_TRANSFORMS
from .base import AudioTransform
from .compose import AudioCompose
from .mix import AudioMixUp
from .noise import AudioGaussianNoise, RandomBackgroundNoise, RandomGain
from .spectrogram import MelSpectrogram, RandomFrequencyMasking, RandomTimeMasking, Spectrogram
from .time import RandomPitchShift, RandomSpeed, RandomTimeShift, RandomTimeStretch

__all__ = [
    "AUDIO_TRANSFORMS",
    "DEPRECATED_AUDIO_TRANSFORMS",
    "AudioConfig",
    "audio_to_config",
    "build_audio_pipeline",
    "load_audio_config",
]

#: The names a config may use (plus the deprecated old names in ``DEPRECATED_AUDIO_TRANSFORMS``, which
#: warn and build the new class), and nothing else.
AUDIO_TRANSFORMS: dict[str, type[AudioTransform]] = {
    cls.__name__: cls
    for cls in (
        AudioGaussianNoise,
        RandomBackgroundNoise,
        RandomGain,
        RandomTimeShift,
        RandomSpeed,
        RandomTimeStretch,
        RandomPitchShift,
        Spectrogram,
        MelSpectrogram,
        RandomFrequencyMasking,
        RandomTimeMasking,
        AudioMixUp,
    )
}
_COLLATE_KEYS = ("mode", "length", "crop")
_TOP_LEVEL_KEYS = ("kind", "pipeline", "collate")


@dataclass
class AudioConfig:
    """A loaded audio config: the pipeline and the keyword arguments for :func:`~augloader.audio.pad_or_crop`."""

    pipeline: AudioCompose
    collate: dict[str, Any] = field(default_factory=dict)


def build_audio_pipeline(steps: Sequence[Any]) -> AudioCompose:
    """Builds an :class:`AudioCompose` from ``[{Name: {arg: value}}, "Name", ...]``.

    Steps are built as image pipeline steps are (:func:`augloader.from_config`): the same checks and
    messages, with the closest valid name for an unknown transform or argument. A deprecated name
    (``Gain``, ...) warns and builds the new class.

    Raises:
        ConfigError: (a ``ValueError``) an unknown name or argument, a malformed step, a missing or
            wrongly typed argument, or arguments the transform rejects; the message names the step.
    """
    from ..config import _build  # (augloader.config imports this module lazily)

    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence) or not steps:
        raise ConfigError(f"pipeline: must be a non-empty list of steps, got {short_repr(steps)}")
    transforms = [
        _build(step, f"pipeline[{i}]", AUDIO_TRANSFORMS, "audio transform", DEPRECATED_AUDIO_TRANSFORMS)
        for i, step in enumerate(steps)
    ]
    return AudioCompose(transforms)


def load_audio_config(source: Union[str, Path, Mapping[str, Any]], *, max_bytes: int = MAX_CONFIG_BYTES) -> AudioConfig:
    """Reads a YAML file (or an already parsed mapping) with ``pipeline`` and optional ``collate`` keys.

    Files are read as :func:`augloader.from_config` reads them (bounded safe YAML: size, depth and
    alias-expansion caps); ``kind: audio`` may mark the file as an audio config.

    Raises:
        TypeError: ``source`` is neither a path nor a mapping.
        ConfigError: (a ``ValueError``) an unreadable file or a malformed config, naming the problem.
    """
    spec, label = read_config(source, max_bytes=max_bytes)
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"{label}: an audio config must be a mapping with a 'pipeline' key, got {type(spec).__name__}"
        )
    if spec.get("kind", "audio") != "audio":
        raise ConfigError(
            f"{label}: kind is {short_repr(spec['kind'], 40)}, not 'audio'; load it with augloader.from_config"
        )
    for key in spec:
        if key not in _TOP_LEVEL_KEYS:
            raise ConfigError(
                f"{label}: unknown top-level key {short_repr(key, 60)}{did_you_mean(key, _TOP_LEVEL_KEYS)} "
                f"(an audio config has: {', '.join(_TOP_LEVEL_KEYS)})"
            )
    if "pipeline" not in spec:
        raise ConfigError(f"{label}: an audio config needs a 'pipeline' list")
    collate = spec.get("collate") or {}
    if not isinstance(collate, Mapping):
        raise ConfigError(f"{label}: collate must be a mapping, got {type(collate).__name__} {short_repr(collate, 60)}")
    _check_collate(collate, "collate")
    return AudioConfig(build_audio_pipeline(spec["pipeline"]), dict(collate))


def _check_collate(collate: Mapping[str, Any], path: str) -> None:
    """Refuses a ``collate`` key that :func:`~augloader.audio.pad_or_crop` does not take, suggesting the closest."""
    for key in collate:
        if key not in _COLLATE_KEYS:
            raise ConfigError(
                f"{path}: unknown argument {short_repr(key, 60)}{did_you_mean(key, _COLLATE_KEYS)} "
                f"(collate takes: {', '.join(_COLLATE_KEYS)})"
            )


def _public_name(obj: AudioTransform, path: str) -> str:
    """The config name of ``obj``'s class (a deprecated alias is written under its new name)."""
    for klass in type(obj).__mro__:
        if AUDIO_TRANSFORMS.get(klass.__name__) is klass:
            return klass.__name__
    raise ConfigError(f"{path}: {type(obj).__name__} is not a public audio transform, so a config cannot name it")


def _audio_step(obj: Any, path: str) -> dict[str, Any]:
    from ..config import _value  # (augloader.config imports this module lazily)

    if not isinstance(obj, AudioTransform) or isinstance(obj, AudioCompose):
        raise ConfigError(f"{path}: an audio pipeline step must be an audio transform, got {type(obj).__name__}")
    name = _public_name(obj, path)
    args = init_args(obj)
    if args is None:
        raise ConfigError(f"{path}: {name} has no recorded constructor arguments")
    for key, value in args.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, Tensor) for v in values):
            raise ConfigError(
                f"{path}.{name}: argument {key!r} holds audio tensors, which a config cannot hold "
                "(name a file or folder of sounds instead)"
            )
    return {name: {k: _value(v, f"{path}.{name}.{k}") for k, v in args.items()}}


def audio_to_config(obj: Union[AudioConfig, AudioTransform]) -> dict[str, Any]:
    """The config mapping (``kind: audio``, ``pipeline``, ``collate`` if any) that rebuilds ``obj``.

    ``obj`` is an :class:`AudioConfig`, an :class:`AudioCompose` or a single audio transform (a one-step
    pipeline), built in Python or by :func:`load_audio_config` / :func:`augloader.from_config`.

    Raises:
        ConfigError: a step that is not a public audio transform, or a value a config cannot hold (tensors).
    """
    from ..config import _value

    out: dict[str, Any] = {"kind": "audio"}
    pipeline = obj.pipeline if isinstance(obj, AudioConfig) else obj
    if isinstance(pipeline, AudioCompose):
        out["pipeline"] = [_audio_step(t, f"pipeline[{i}]") for i, t in enumerate(pipeline.transforms)]
    else:
        out["pipeline"] = [_audio_step(pipeline, "pipeline[0]")]
    if isinstance(obj, AudioConfig) and obj.collate:
        _check_collate(obj.collate, "collate")
        out["collate"] = _value(dict(obj.collate), "collate")
    return out
