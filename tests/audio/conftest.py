"""Real speech for the audio tests: the ALSA test sounds of the Debian package ``alsa-utils``.

``make testdata`` installs it (scripts/system-packages.txt). A missing package fails the tests that
need it with a message saying so; it is never a silent skip.
"""

from __future__ import annotations

import pytest
import torch
from audio_helpers import SPEECH, SR, alsa_file

from augloader.audio import load_wav, ops, pad_or_crop


@pytest.fixture(scope="session")
def speech_clips() -> list[torch.Tensor]:
    """The eight spoken channel names, mono ``(1, T_i)`` at 16 kHz (about 1.3 s each)."""
    clips = []
    for name in SPEECH:
        audio, rate = load_wav(alsa_file(name))
        clips.append(ops.resample(audio.unsqueeze(0), rate, SR).squeeze(0))
    return clips


@pytest.fixture(scope="session")
def speech(speech_clips) -> torch.Tensor:
    """Four one-second speech clips ``(4, 1, 16000)``."""
    batch, _ = pad_or_crop(speech_clips[:4], length=SR, crop="center")
    return batch


@pytest.fixture(scope="session")
def speech_stereo(speech_clips) -> torch.Tensor:
    """Three stereo one-second clips ``(3, 2, 8000)``, a different voice recording in each channel."""
    batch, _ = pad_or_crop(speech_clips[:6], length=8000, crop="center")
    return batch.view(3, 2, 8000)
