"""Pure batched waveform ops: a float batch ``(B, C, T)`` plus per-sample parameter tensors ``(B, ...)``.

Nothing here draws random numbers, loops over samples or mutates its input; neutral parameters
(0 dB, shift 0, factor 1, SNR ``inf``) return the input values unchanged. One concept per module:

- :mod:`.lengths`: :func:`length_mask` (valid samples of padded clips);
- :mod:`.gain`: :func:`db_to_amplitude`, :func:`gain`, :func:`rms`;
- :mod:`.noise`: :func:`colored_noise`, :func:`add_at_snr`;
- :mod:`.filters`: :func:`lowpass`;
- :mod:`.resample`: :func:`interpolate`, :func:`resample`;
- :mod:`.stft`: :func:`stft`, :func:`istft`, :func:`phase_vocoder`;
- :mod:`.time`: :func:`time_shift`, :func:`speed_change`, :func:`speed_lengths`, :func:`time_stretch`;
- :mod:`.pitch`: :func:`semitones_to_factor`, :func:`pitch_shift`;
- :mod:`.spectrogram`: :func:`spectrogram`, :func:`mel_filterbank`;
- :mod:`.masks`: :func:`mask_along_axis`;
- :mod:`.mix`: :func:`mix`.

Every function is re-exported here, so ``from augloader.audio import ops; ops.gain(...)`` and
``from augloader.audio.ops import gain`` keep working.
"""

from ._common import _exact_dtype, _per_sample  # noqa: F401  (kept importable from augloader.audio.ops)
from .filters import _lowpass_response, lowpass  # noqa: F401
from .gain import db_to_amplitude, gain, rms
from .lengths import length_mask
from .masks import mask_along_axis
from .mix import mix
from .noise import add_at_snr, colored_noise
from .pitch import pitch_shift, semitones_to_factor
from .resample import interpolate, resample
from .spectrogram import mel_filterbank, spectrogram
from .stft import istft, phase_vocoder, stft
from .time import speed_change, speed_lengths, time_shift, time_stretch

__all__ = [
    "db_to_amplitude",
    "gain",
    "rms",
    "length_mask",
    "colored_noise",
    "add_at_snr",
    "time_shift",
    "interpolate",
    "lowpass",
    "speed_change",
    "speed_lengths",
    "resample",
    "mask_along_axis",
    "mix",
    "stft",
    "istft",
    "phase_vocoder",
    "time_stretch",
    "semitones_to_factor",
    "pitch_shift",
    "spectrogram",
    "mel_filterbank",
]
