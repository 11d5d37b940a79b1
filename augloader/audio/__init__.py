"""Batched audio augmentation: waveforms ``(B, C, T)``, per-sample parameters, any device, pure torch.

The audio sibling of the image engine: :class:`AudioTransform` draws every random value per sample in
one vectorised call and applies a pure batched op from :mod:`augloader.audio.ops`.
"""

from . import ops
from .base import AudioTransform, AudioView
from .collate import length_mask, pad_or_crop
from .compose import AudioCompose
from .config import AUDIO_TRANSFORMS, AudioConfig, build_audio_pipeline, load_audio_config
from .io import load_folder, load_wav
from .mix import AudioMixUp, sample_beta
from .noise import NOISE_COLORS, AddBackgroundNoise, AddNoise, Gain
from .spectrogram import FrequencyMasking, MelSpectrogram, Spectrogram, TimeMasking
from .time import PitchShift, SpeedChange, TimeShift, TimeStretch

__all__ = [
    "AUDIO_TRANSFORMS",
    "AddBackgroundNoise",
    "AddNoise",
    "AudioCompose",
    "AudioConfig",
    "AudioMixUp",
    "AudioTransform",
    "AudioView",
    "FrequencyMasking",
    "Gain",
    "MelSpectrogram",
    "NOISE_COLORS",
    "PitchShift",
    "SpeedChange",
    "Spectrogram",
    "TimeMasking",
    "TimeShift",
    "TimeStretch",
    "build_audio_pipeline",
    "length_mask",
    "load_audio_config",
    "load_folder",
    "load_wav",
    "ops",
    "pad_or_crop",
    "sample_beta",
]
