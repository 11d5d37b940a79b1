"""Reading PCM WAV files with the standard library (no torchaudio or soundfile needed)."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Union

import numpy as np
import torch
from torch import Tensor

from .ops import resample

__all__ = ["load_wav", "load_folder"]

PathLike = Union[str, Path]


def load_wav(path: PathLike) -> tuple[Tensor, int]:
    """Reads an integer PCM WAV file (8, 16, 24 or 32 bit) as float32 in ``[-1, 1]``.

    Returns:
        ``(audio, sample_rate)`` with ``audio`` of shape ``(C, T)``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not an integer PCM WAV (e.g. float or compressed).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such WAV file: {path}")
    try:
        with wave.open(str(path), "rb") as f:
            channels, width, rate, frames = f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()
            raw = f.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise ValueError(f"{path} is not an integer PCM WAV file ({err})") from err
    if width == 1:  # 8-bit WAV is unsigned
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        dtype = np.int16 if width == 2 else np.int32
        data = np.frombuffer(raw, dtype=f"<i{width}").astype(np.float32) / float(-np.iinfo(dtype).min)
    elif width == 3:  # 24-bit little-endian: widen to int32 by putting the 3 bytes in the top of 4
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        data = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).astype(np.float32) / 2.0**31
    else:
        raise ValueError(f"{path}: unsupported sample width of {width} bytes")
    audio = torch.from_numpy(data.reshape(-1, channels).T.copy())  # (C, T)
    return audio, rate


def load_folder(path: PathLike, sample_rate: int) -> list[Tensor]:
    """Every ``*.wav`` under ``path`` (or the file itself), resampled to ``sample_rate``, sorted by name.

    Shape:
        a list of ``(C, T_i)`` float32 tensors.
    """
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob("*.wav")) if path.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no .wav files found at {path}")
    clips = []
    for file in files:  # loading happens once, at construction
        audio, rate = load_wav(file)
        clips.append(resample(audio.unsqueeze(0), rate, sample_rate).squeeze(0))
    return clips
