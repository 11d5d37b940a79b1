"""Golden checks: each op against the physics it promises, or against torchaudio's stored output."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from audio_helpers import SR, alsa_file, dominant_frequency, sine, spectral_scale
from hypothesis import given, settings
from hypothesis import strategies as st

import augloader.audio as A
from augloader.audio import ops as O

GOLDEN = json.loads((Path(__file__).parent / "data" / "torchaudio_golden.json").read_text())


def last_nonzero(audio: torch.Tensor) -> list[int]:
    """Index of the last sample above 1e-6 in each ``(B, 1, T)`` sample."""
    return [int((a.abs() > 1e-6).nonzero().max()) for a in audio[:, 0]]


def snr_db(clean: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
    noise = noisy.double() - clean.double()
    return 10 * torch.log10(clean.double().square().mean(dim=(1, 2)) / noise.square().mean(dim=(1, 2)))


# ---- pitch, speed, stretch -------------------------------------------------------------------------


def test_pitch_shift_octave_doubles_frequency_and_keeps_duration():
    x = sine(440.0, batch=3)
    t = A.RandomPitchShift((-12, 12))
    semitones = torch.tensor([12.0, -12.0, 7.0])
    y = t(x, params={"semitones": semitones})
    assert y.shape == x.shape
    expected = 440.0 * 2.0 ** (semitones / 12.0)
    torch.testing.assert_close(dominant_frequency(y)[:, 0], expected.double(), rtol=0.01, atol=0.0)
    # Duration kept: the tone is present from the start to the end, at about its input level.
    level = y[:, 0].view(3, 16, 1000).square().mean(-1).sqrt() * math.sqrt(2) / 0.5  # 16 windows of 1/16 s
    assert level.min() > 0.85 and level.max() < 1.15, level


def test_pitch_shift_of_speech_scales_its_spectrum(speech):
    semitones = torch.tensor([12.0, -12.0, 5.0, -3.0])
    y = A.RandomPitchShift(12)(speech, params={"semitones": semitones})
    found = torch.tensor(spectral_scale(speech, y), dtype=torch.float64)
    torch.testing.assert_close(found, 2.0 ** (semitones.double() / 12), rtol=0.02, atol=0.0)


def test_speed_change_two_times_halves_duration_and_doubles_frequency():
    x = sine(300.0, batch=2)
    t = A.RandomSpeed((0.5, 2.0))
    out = t({"audio": x, "lengths": torch.tensor([SR, SR])}, params={"factor": torch.tensor([2.0, 0.5])})
    y = out["audio"]
    assert last_nonzero(y)[0] == (SR - 1) // 2  # content ends at T / 2 ...
    assert out["lengths"].tolist() == [SR // 2, SR]  # ... and the lengths say so
    f = dominant_frequency(y[:1, :, : SR // 2])
    assert abs(float(f) / 600.0 - 1) < 0.01
    assert abs(float(dominant_frequency(y[1:])) / 150.0 - 1) < 0.01  # slower: half the pitch, cropped to T


def test_time_stretch_keeps_pitch_and_changes_duration():
    x = sine(440.0, batch=2)
    out = A.RandomTimeStretch((0.5, 2.0))(
        {"audio": x, "lengths": torch.tensor([SR, SR])}, params={"rate": torch.tensor([2.0, 0.5])}
    )
    y = out["audio"]
    assert last_nonzero(y)[0] == (SR - 1) // 2
    assert out["lengths"].tolist() == [SR // 2, SR]
    assert abs(float(dominant_frequency(y[:1, :, : SR // 2])) / 440 - 1) < 0.01
    assert abs(float(dominant_frequency(y[1:])) / 440 - 1) < 0.01
    level = y[1, 0].view(16, 1000).square().mean(-1).sqrt() * math.sqrt(2) / 0.5
    assert level.min() > 0.9, level  # a slower steady tone keeps its level (see ops.phase_vocoder)


def test_phase_vocoder_matches_torchaudio():
    """Same as torchaudio.functional.phase_vocoder from output frame 1 on (frame 0 starts differently, by design)."""
    n_fft, hop = 64, 16
    x = _chirp(1600)[:400]
    spec = torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft), return_complex=True)
    for rate, ref in GOLDEN["phase_vocoder_64_16"].items():
        expected = torch.complex(torch.tensor(ref["real"]), torch.tensor(ref["imag"]))  # (33, M)
        r = torch.tensor([float(rate), float(rate)])
        ours = O.phase_vocoder(spec.view(1, 1, *spec.shape).expand(2, 1, -1, -1), r, hop, expected.shape[-1])
        torch.testing.assert_close(ours[0, 0, :, 1:], expected[:, 1:], atol=2e-3, rtol=1e-3)
        torch.testing.assert_close(ours[0, 0, :, 0].abs(), expected[:, 0].abs(), atol=1e-4, rtol=1e-4)


def test_pitch_shift_zero_semitones_is_exact_identity():
    x = sine(440.0, batch=2)
    y = A.RandomPitchShift(3)(x, params={"semitones": torch.tensor([0.0, 3.0])})
    assert torch.equal(y[0], x[0]) and not torch.equal(y[1], x[1])


# ---- shift -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["roll", "zero"])
def test_time_shift_moves_an_impulse_exactly(mode):
    t = 1000
    x = torch.zeros(6, 2, t)
    x[:, :, 100] = 1.0
    shifts = torch.tensor([0, 1, 37, -100, 899, -101])
    y = A.RandomTimeShift((-t, t), unit="samples", mode=mode)(x, params={"shift": shifts})
    for i, s in enumerate(shifts.tolist()):
        target = 100 + s
        if mode == "roll":
            target %= t
        if 0 <= target < t:
            expected = torch.zeros(2, t)
            expected[:, target] = 1.0
        else:
            expected = torch.zeros(2, t)  # shifted out of the clip
        assert torch.equal(y[i], expected), (i, s)


@settings(max_examples=40, deadline=None)
@given(st.integers(-3000, 3000), st.integers(1, 500))
def test_time_shift_roll_is_a_rotation(shift, length):
    x = torch.arange(length, dtype=torch.float32).view(1, 1, length)
    y = O.time_shift(x, torch.tensor([shift]), "roll")
    assert torch.equal(y, torch.roll(x, shift, dims=-1))


# ---- noise and gain ----------------------------------------------------------------------------------


@pytest.mark.parametrize("color", ["white", "pink", "brown"])
def test_noise_snr_is_the_requested_one(color, speech):
    request = torch.tensor([0.0, 6.0, 17.5, 35.0])
    t = A.AudioGaussianNoise((0, 40), color=color)
    y = t(speech, params={**t.sample_params(tuple(speech.shape), torch.Generator().manual_seed(3)), "snr_db": request})
    assert (snr_db(speech, y) - request.double()).abs().max() < 0.5


def test_noise_snr_with_padded_batch(speech):
    lengths = torch.tensor([16000, 12000, 8000, 3000])
    x = speech * O.length_mask(lengths, SR).unsqueeze(1)
    t = A.AudioGaussianNoise((10, 10))
    y = t({"audio": x, "lengths": lengths}, generator=torch.Generator().manual_seed(0))["audio"]
    for i, n in enumerate(lengths.tolist()):
        assert torch.equal(y[i, :, n:], x[i, :, n:])  # padding stays silent
        assert abs(float(snr_db(x[i : i + 1, :, :n], y[i : i + 1, :, :n])) - 10.0) < 0.5


def test_background_noise_snr_and_looping(speech):
    t = A.RandomBackgroundNoise(alsa_file("Noise"), snr_db=(-5, 25), sample_rate=SR)
    request = torch.tensor([-5.0, 3.0, 12.0, 25.0])
    params = {**t.sample_params(tuple(speech.shape), torch.Generator().manual_seed(1)), "snr_db": request}
    y = t(speech, params=params)
    assert (snr_db(speech, y) - request.double()).abs().max() < 0.5

    short = torch.tensor([[1.0, 2.0, 3.0]])  # one 3-sample clip tiles a longer batch, from the drawn offset
    looped = A.RandomBackgroundNoise(short)
    silent_plus = looped(
        torch.zeros(1, 1, 8),
        params={"snr_db": torch.tensor([0.0]), "index": torch.tensor([0]), "offset": torch.tensor([0.4])},
    )
    assert torch.equal(silent_plus, torch.zeros(1, 1, 8))  # a silent clip stays silent (SNR is relative)
    ones = torch.ones(1, 1, 8)
    mixed = looped(
        ones, params={"snr_db": torch.tensor([0.0]), "index": torch.tensor([0]), "offset": torch.tensor([0.4])}
    )
    noise = (mixed - ones)[0, 0]
    torch.testing.assert_close(noise / noise[0], torch.tensor([2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0]) / 2.0)


def test_background_noise_from_a_tensor_bank_and_a_folder(speech, generator):
    bank = torch.randn(5, 4000)
    y = A.RandomBackgroundNoise(bank, snr_db=(10, 10))(speech, generator=generator)
    assert (snr_db(speech, y) - 10).abs().max() < 0.5
    folder = A.RandomBackgroundNoise(alsa_file("Noise").parent, sample_rate=SR)
    assert folder.bank.shape[0] == 9  # every .wav of the folder


@pytest.mark.parametrize("color, slope", [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_noise_colour_has_the_right_spectral_slope(color, slope):
    t = A.AudioGaussianNoise((0, 0), color=color)
    params = t.sample_params((8, 1, 32768), torch.Generator().manual_seed(0))
    noise = O.colored_noise(params["noise"], params["decay"]) if color != "white" else params["noise"]
    power = torch.fft.rfft(noise.double(), dim=-1).abs().square().mean(dim=(0, 1))  # (F,)
    freqs = torch.arange(power.shape[0], dtype=torch.float64)
    band = slice(32, 8192)  # away from DC and Nyquist
    lx, ly = freqs[band].log10(), power[band].log10()
    fitted = float(((lx - lx.mean()) * (ly - ly.mean())).sum() / (lx - lx.mean()).square().sum())
    assert abs(fitted - slope) < 0.1, fitted


def test_gain_is_exact(speech):
    g = torch.tensor([-6.0, 0.0, 3.0, 20.0])
    y = A.RandomGain((-20, 20))(speech, params={"gain_db": g})
    torch.testing.assert_close(y, speech * (10 ** (g / 20)).view(-1, 1, 1))


# ---- SpecAugment ----------------------------------------------------------------------------------


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("cls, axis", [(A.RandomFrequencyMasking, -2), (A.RandomTimeMasking, -1)])
def test_masks_cover_exactly_the_requested_widths(cls, axis, per_channel):
    spec = torch.ones(16, 2, 40, 60)
    t = cls(25, per_channel=per_channel)
    y = t(spec, generator=torch.Generator().manual_seed(7))
    width, start = t.last_params["width"], t.last_params["start"]
    other = -1 if axis == -2 else -2
    covered = (y == 0).all(dim=other)  # (B, C, size): masked lines are masked across the other axis
    per = width.view(16, -1) if per_channel else width.view(16, 1).expand(16, 2)
    assert torch.equal(covered.sum(-1), per)
    assert (start >= 0).all() and (start + width <= spec.shape[axis]).all()
    assert width.max() <= 25 and width.unique().numel() > 3
    if not per_channel:
        assert torch.equal(covered[:, 0], covered[:, 1])


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 59), st.integers(0, 60), st.sampled_from([-1, -2]))
def test_mask_width_property(start, width, axis):
    size = 60
    width = min(width, size - start)
    x = torch.ones(1, 1, size, size)
    y = O.mask_along_axis(x, torch.tensor([[start]]), torch.tensor([[width]]), axis)
    line = y[0, 0, 0, :] if axis == -1 else y[0, 0, :, 0]
    assert int((line == 0).sum()) == width
    assert torch.equal(line[start : start + width], torch.zeros(width))


def test_time_masking_on_waveform_masks_samples(speech):
    t = A.RandomTimeMasking(400, domain="waveform")
    y = t(
        speech,
        params={"start": torch.tensor([[0], [100], [15600], [7]]), "width": torch.tensor([[400], [0], [400], [1]])},
    )
    for i, (s, w) in enumerate([(0, 400), (100, 0), (15600, 400), (7, 1)]):
        assert torch.equal(y[i, :, s : s + w], torch.zeros(1, w))
        assert torch.equal(y[i, :, :s], speech[i, :, :s]) and torch.equal(y[i, :, s + w :], speech[i, :, s + w :])


# ---- spectrograms ------------------------------------------------------------------------------------


def _chirp(n: int) -> torch.Tensor:
    t = torch.arange(n, dtype=torch.float64) / SR
    dur = n / SR
    x = 0.5 * torch.sin(2 * math.pi * (200 * t + (3000 - 200) / (2 * dur) * t**2)) + 0.3 * torch.sin(
        2 * math.pi * 500 * t
    )
    return x.float()


def test_mel_spectrogram_matches_torchaudio():
    x = _chirp(1600).view(1, 1, -1)
    ours = A.MelSpectrogram(sample_rate=SR, n_fft=400, hop_length=160, n_mels=40)(x)[0, 0]
    expected = torch.tensor(GOLDEN["mel_htk_400_160_40"])
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4 * float(expected.max()))
    slaney = A.MelSpectrogram(
        SR, 256, hop_length=128, n_mels=24, f_min=50.0, f_max=7000.0, norm="slaney", mel_scale="slaney"
    )(x)[0, 0]
    expected = torch.tensor(GOLDEN["mel_slaney_256_128_24_50_7000"])
    torch.testing.assert_close(slaney, expected, rtol=1e-4, atol=1e-4 * float(expected.max()))


def test_spectrogram_is_the_stft_power(speech):
    y = A.Spectrogram(n_fft=512, hop_length=128)(speech)
    ref = torch.stft(speech[:, 0], 512, 128, window=torch.hann_window(512), return_complex=True).abs().square()
    torch.testing.assert_close(y[:, 0], ref)
    assert A.Spectrogram(n_fft=512).output_shape((4, 1, SR)) == tuple(A.Spectrogram(n_fft=512)(speech).shape)


def test_pipeline_to_specaugment_tracks_frame_lengths(speech, generator):
    pipe = A.AudioCompose(
        [
            A.RandomGain(),
            A.MelSpectrogram(n_mels=64, hop_length=160),
            A.RandomFrequencyMasking(8),
            A.RandomTimeMasking(10),
        ]
    )
    out = pipe({"audio": speech, "lengths": torch.tensor([16000, 8000, 160, 0])}, generator=generator)
    assert out["audio"].shape == (4, 1, 64, 101)
    assert out["lengths"].tolist() == [101, 51, 2, 1]


# ---- resampling and files ------------------------------------------------------------------------------


def test_resample_keeps_frequency_and_is_band_limited():
    x = sine(1000.0, n=48000, sr=48000) + sine(12000.0, n=48000, sr=48000)  # 12 kHz must vanish at 16 kHz
    y = O.resample(x, 48000, SR)
    assert y.shape == (1, 1, SR)
    assert abs(float(dominant_frequency(y)) - 1000.0) < 2.0
    spec = torch.fft.rfft(y[0, 0].double() * torch.hann_window(SR, dtype=torch.float64)).abs()
    assert spec[3900:].max() < 1e-3 * spec.max()  # the 12 kHz tone (aliasing to 4 kHz) is gone


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_load_wav_reads_every_pcm_width(tmp_path, width):
    import wave

    import numpy as np

    ref = np.array([[0.0, 0.5, -0.5, 0.25, -1.0], [0.125, -0.25, 0.75, 0.0, 0.5]])  # (C, T)
    scale = 2 ** (8 * width - 1)
    ints = np.round(ref.T.reshape(-1) * scale).clip(-scale, scale - 1).astype(np.int64)
    if width == 1:
        raw = (ints + 128).astype(np.uint8).tobytes()
    else:
        raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints)
    path = tmp_path / f"w{width}.wav"
    with wave.open(str(path), "wb") as f:
        f.setnchannels(2)
        f.setsampwidth(width)
        f.setframerate(8000)
        f.writeframes(raw)
    audio, rate = A.load_wav(path)
    assert rate == 8000 and audio.shape == (2, 5) and audio.dtype == torch.float32
    torch.testing.assert_close(audio, torch.tensor(ref, dtype=torch.float32), atol=1.0 / scale, rtol=0)


def test_load_wav_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        A.load_wav(tmp_path / "missing.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file at all")
    with pytest.raises(ValueError, match="PCM WAV"):
        A.load_wav(bad)


def test_alsa_speech_loads_at_its_rate():
    audio, rate = A.load_wav(alsa_file("Front_Center"))
    assert rate == 48000 and audio.shape[0] == 1 and audio.shape[1] > 48000
    assert 0.01 < float(audio.abs().max()) <= 1.0
