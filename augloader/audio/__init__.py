"""Batched audio augmentation: waveforms ``(B, C, T)``, per-sample parameters, any device, pure torch.

The audio sibling of the image engine: :class:`AudioTransform` draws every random value per sample in
one vectorised call and applies a pure batched op from :mod:`augloader.audio.ops`.

Naming rule (the image side's, applied to audio):

- An audio class that plays the role of an image class takes that class's name with ``Audio`` in
  front, so ``augloader.X`` and ``augloader.audio.AudioX`` are a pair and no two classes share a name:
  :class:`AudioCompose` (``Compose``), :class:`AudioMixUp` (``MixUp``), :class:`AudioGaussianNoise`
  (``GaussianNoise``; white, pink or brown Gaussian noise at a drawn SNR).
- Every other random transform starts with ``Random`` and keeps the audio word that says what it
  changes: :class:`RandomGain`, :class:`RandomTimeShift`, :class:`RandomSpeed`,
  :class:`RandomTimeStretch`, :class:`RandomPitchShift`, :class:`RandomBackgroundNoise`,
  :class:`RandomFrequencyMasking`, :class:`RandomTimeMasking`.
- Deterministic transforms keep plain names: :class:`Spectrogram`, :class:`MelSpectrogram`.

The names before 0.2 (``AddNoise``, ``AddBackgroundNoise``, ``Gain``, ``TimeShift``, ``SpeedChange``,
``TimeStretch``, ``PitchShift``, ``FrequencyMasking``, ``TimeMasking``) still import and still load
from configs for one release: constructing one emits a ``DeprecationWarning`` naming the new class and
returns an instance of it. They are removed in 0.3.
"""

from . import ops
from ._aliases import (  # deprecated names, not in __all__; removed in 0.3
    AddBackgroundNoise,
    AddNoise,
    FrequencyMasking,
    Gain,
    PitchShift,
    SpeedChange,
    TimeMasking,
    TimeShift,
    TimeStretch,
)
from .base import AudioTransform, AudioView
from .collate import length_mask, pad_or_crop
from .compose import AudioCompose
from .config import AUDIO_TRANSFORMS, AudioConfig, build_audio_pipeline, load_audio_config
from .io import load_folder, load_wav
from .mix import AudioMixUp, sample_beta
from .noise import NOISE_COLORS, AudioGaussianNoise, RandomBackgroundNoise, RandomGain
from .spectrogram import MelSpectrogram, RandomFrequencyMasking, RandomTimeMasking, Spectrogram
from .time import RandomPitchShift, RandomSpeed, RandomTimeShift, RandomTimeStretch

__all__ = [
    "AUDIO_TRANSFORMS",
    "AudioCompose",
    "AudioConfig",
    "AudioGaussianNoise",
    "AudioMixUp",
    "AudioTransform",
    "AudioView",
    "MelSpectrogram",
    "NOISE_COLORS",
    "RandomBackgroundNoise",
    "RandomFrequencyMasking",
    "RandomGain",
    "RandomPitchShift",
    "RandomSpeed",
    "RandomTimeMasking",
    "RandomTimeShift",
    "RandomTimeStretch",
    "Spectrogram",
    "build_audio_pipeline",
    "length_mask",
    "load_audio_config",
    "load_folder",
    "load_wav",
    "ops",
    "pad_or_crop",
    "sample_beta",
]
