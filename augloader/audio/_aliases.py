"""The audio names before 0.2, kept one release: each warns (naming the new class) and builds the new one."""

from __future__ import annotations

from .._deprecated import deprecated_alias
from .noise import AudioGaussianNoise, RandomBackgroundNoise, RandomGain
from .spectrogram import RandomFrequencyMasking, RandomTimeMasking
from .time import RandomPitchShift, RandomSpeed, RandomTimeShift, RandomTimeStretch

#: Old name -> new class. Removed in 0.3.
RENAMED = {
    "AddNoise": AudioGaussianNoise,
    "AddBackgroundNoise": RandomBackgroundNoise,
    "Gain": RandomGain,
    "TimeShift": RandomTimeShift,
    "SpeedChange": RandomSpeed,
    "TimeStretch": RandomTimeStretch,
    "PitchShift": RandomPitchShift,
    "FrequencyMasking": RandomFrequencyMasking,
    "TimeMasking": RandomTimeMasking,
}
REMOVED_IN = "0.3"

#: Old name -> a deprecated alias class (a subclass of the new one that warns when constructed).
DEPRECATED_AUDIO_TRANSFORMS = {old: deprecated_alias(old, new, REMOVED_IN) for old, new in RENAMED.items()}

AddNoise = DEPRECATED_AUDIO_TRANSFORMS["AddNoise"]
AddBackgroundNoise = DEPRECATED_AUDIO_TRANSFORMS["AddBackgroundNoise"]
Gain = DEPRECATED_AUDIO_TRANSFORMS["Gain"]
TimeShift = DEPRECATED_AUDIO_TRANSFORMS["TimeShift"]
SpeedChange = DEPRECATED_AUDIO_TRANSFORMS["SpeedChange"]
TimeStretch = DEPRECATED_AUDIO_TRANSFORMS["TimeStretch"]
PitchShift = DEPRECATED_AUDIO_TRANSFORMS["PitchShift"]
FrequencyMasking = DEPRECATED_AUDIO_TRANSFORMS["FrequencyMasking"]
TimeMasking = DEPRECATED_AUDIO_TRANSFORMS["TimeMasking"]
