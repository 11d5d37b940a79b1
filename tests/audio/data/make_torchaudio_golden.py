"""Writes torchaudio_golden.json: reference outputs of torchaudio on small deterministic inputs.

Run with an environment that has torchaudio (it is not an augloader dependency), e.g.
``/tmp/ta-venv/bin/python tests/audio/data/make_torchaudio_golden.py``.
"""

import json
import math
from pathlib import Path

import torch
import torchaudio
import torchaudio.functional as AF
import torchaudio.transforms as AT


def chirp(n: int, sample_rate: int) -> torch.Tensor:
    """A deterministic test signal: a 200 -> 3000 Hz linear chirp plus a 500 Hz tone."""
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    dur = n / sample_rate
    x = 0.5 * torch.sin(2 * math.pi * (200 * t + (3000 - 200) / (2 * dur) * t**2)) + 0.3 * torch.sin(
        2 * math.pi * 500 * t
    )
    return x.float()


def _round(value):
    """7 significant digits (float32 precision) keep the file small."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, list):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def main() -> None:
    sr = 16000
    x = chirp(1600, sr)  # 0.1 s
    mel = AT.MelSpectrogram(sample_rate=sr, n_fft=400, hop_length=160, n_mels=40)(x)  # (40, 11)
    mel_slaney = AT.MelSpectrogram(
        sample_rate=sr,
        n_fft=256,
        hop_length=128,
        n_mels=24,
        f_min=50.0,
        f_max=7000.0,
        norm="slaney",
        mel_scale="slaney",
    )(x)
    n_fft, hop = 64, 16
    spec = torch.stft(x[:400], n_fft, hop, window=torch.hann_window(n_fft), return_complex=True)  # (33, 26)
    stretched = {}
    for rate in (1.37, 2.0):  # 1.37: no step lands on a whole frame, where float32 and float64 grids may floor apart
        out = AF.phase_vocoder(spec, rate, torch.linspace(0, math.pi * hop, n_fft // 2 + 1)[..., None])
        stretched[str(rate)] = {"real": out.real.tolist(), "imag": out.imag.tolist()}
    data = {
        "torchaudio": torchaudio.__version__,
        "torch": torch.__version__,
        "signal": "chirp(1600, 16000): 0.5 sin(200->3000 Hz linear chirp) + 0.3 sin(500 Hz)",
        "mel_htk_400_160_40": mel.tolist(),
        "mel_slaney_256_128_24_50_7000": mel_slaney.tolist(),
        "phase_vocoder_64_16": stretched,
    }
    out = Path(__file__).with_name("torchaudio_golden.json")
    out.write_text(json.dumps(_round(data)))
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
