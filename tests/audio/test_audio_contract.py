"""The shared contract, run over every audio transform on real speech.

Shape, dtype and finiteness kept; a batch equals the same transform one sample at a time with the same
parameters; the input is never mutated; p=0 is the identity; replayed params and equal seeds give
identical output; per-sample draws; empty and unbatched input; dict batches; clear errors.
"""

from __future__ import annotations

import pytest
import torch
from audio_helpers import alsa_file

import augloader.audio as A
from augloader._batch import slice_params

WAVEFORM = {
    "AudioGaussianNoise": lambda **kw: A.AudioGaussianNoise(snr_db=(5, 20), color=["white", "pink", "brown"], **kw),
    "RandomBackgroundNoise": lambda **kw: A.RandomBackgroundNoise(
        alsa_file("Noise"), snr_db=(5, 20), sample_rate=16000, **kw
    ),
    "RandomGain": lambda **kw: A.RandomGain((-9, 9), **kw),
    "RandomTimeShift-roll": lambda **kw: A.RandomTimeShift(0.3, **kw),
    "RandomTimeShift-zero": lambda **kw: A.RandomTimeShift((-800, 800), unit="samples", mode="zero", **kw),
    "RandomSpeed": lambda **kw: A.RandomSpeed((0.7, 1.4), **kw),
    "RandomTimeStretch": lambda **kw: A.RandomTimeStretch((0.7, 1.4), **kw),
    "RandomPitchShift": lambda **kw: A.RandomPitchShift((-5, 5), **kw),
    "RandomTimeMasking-waveform": lambda **kw: A.RandomTimeMasking(1600, num_masks=2, domain="waveform", **kw),
}
SPECTROGRAM = {
    "RandomFrequencyMasking": lambda **kw: A.RandomFrequencyMasking(12, num_masks=2, **kw),
    "RandomFrequencyMasking-per-channel": lambda **kw: A.RandomFrequencyMasking(12, per_channel=True, **kw),
    "RandomTimeMasking": lambda **kw: A.RandomTimeMasking(10, num_masks=2, **kw),
}
ALL = {**WAVEFORM, **SPECTROGRAM}


def make_input(name: str, speech: torch.Tensor) -> torch.Tensor:
    if name in SPECTROGRAM:
        return A.MelSpectrogram(n_mels=64)(speech)  # (B, C, 64, 81)
    return speech


def per_sample(t: A.AudioTransform, x: torch.Tensor, params) -> torch.Tensor:
    return torch.cat([t(x[i : i + 1], params=slice_params(params, i)) for i in range(x.shape[0])])


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_shape_dtype_finite(name, dtype, speech, generator):
    x = make_input(name, speech).to(dtype)
    y = ALL[name]()(x, generator=generator)
    assert y.shape == x.shape and y.dtype == dtype
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", ALL)
def test_batch_equals_per_sample(name, speech, generator):
    x = make_input(name, speech)
    t = ALL[name]()
    y = t(x, generator=generator)
    loop = per_sample(t, x, t.last_params)
    torch.testing.assert_close(y, loop, atol=1e-5 * float(x.abs().max()), rtol=1e-4)


@pytest.mark.parametrize("name", WAVEFORM)
def test_batch_equals_per_sample_stereo(name, speech_stereo, generator):
    t = WAVEFORM[name]()
    y = t(speech_stereo, generator=generator)
    assert y.shape == speech_stereo.shape and torch.isfinite(y).all()
    torch.testing.assert_close(y, per_sample(t, speech_stereo, t.last_params), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ALL)
def test_input_not_mutated_and_replay(name, speech, generator):
    x = make_input(name, speech)
    before = x.clone()
    t = ALL[name]()
    y = t(x, generator=generator)
    assert torch.equal(x, before)
    assert torch.equal(t(x, params=t.last_params), y)
    assert torch.equal(t(x, generator=torch.Generator().manual_seed(1234)), y)  # same seed as the fixture


@pytest.mark.parametrize("name", ALL)
def test_p0_is_identity(name, speech, generator):
    x = make_input(name, speech)
    assert torch.equal(ALL[name](p=0.0)(x, generator=generator), x)


@pytest.mark.parametrize("name", ALL)
def test_parameters_drawn_per_sample(name, speech, generator):
    x = make_input(name, speech)
    t = ALL[name]()
    y = t(x, generator=generator)
    varying = [k for k, v in t.last_params.items() if v.dim() and not torch.equal(v, v[:1].expand_as(v))]
    assert varying, f"no parameter varies across the batch: {t.last_params}"
    outputs = [y[i] - x[i] for i in range(x.shape[0])]
    assert not all(torch.allclose(outputs[0], o) for o in outputs[1:])


@pytest.mark.parametrize("name", ALL)
def test_empty_batch_and_unbatched(name, speech, generator):
    x = make_input(name, speech)
    t = ALL[name]()
    empty = x[:0]
    assert t(empty, generator=generator).shape == empty.shape
    y = t(x[0], generator=torch.Generator().manual_seed(5))
    assert y.shape == x[0].shape
    torch.testing.assert_close(y, t(x[:1], params=t.last_params)[0])


@pytest.mark.parametrize("name", ["RandomGain", "RandomSpeed", "RandomPitchShift", "RandomTimeMasking-waveform"])
def test_dict_batch_keeps_other_keys(name, speech, generator):
    extra = object()
    batch = {"audio": speech, "label": torch.arange(4), "speaker": ["a", "b", "c", "d"], "extra": extra}
    out = WAVEFORM[name]()(batch, generator=generator)
    assert set(out) == set(batch)
    assert out["extra"] is extra and out["speaker"] is batch["speaker"] and out["label"] is batch["label"]
    assert out["audio"].shape == speech.shape


def test_pipeline_contract(speech, generator):
    t = A.AudioCompose([WAVEFORM[name]() for name in WAVEFORM])
    y = t(speech, generator=generator)
    assert y.shape == speech.shape and torch.isfinite(y).all()
    torch.testing.assert_close(y, per_sample(t, speech, t.last_params), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "bad, error",
    [
        (torch.zeros(2, 1, 3, 100), ValueError),  # 4-D is not a waveform
        (torch.zeros(100), ValueError),
        (torch.zeros(2, 1, 100, dtype=torch.int16), TypeError),
        ({"image": torch.zeros(1, 100)}, KeyError),
        ({"audio": [0.0] * 100}, TypeError),
        ([0.0] * 100, TypeError),
        ({"audio": torch.zeros(2, 1, 1000), "lengths": torch.tensor([1.0, 2.0])}, TypeError),
        ({"audio": torch.zeros(2, 1, 1000), "lengths": torch.tensor([10, 20, 30])}, ValueError),
    ],
)
def test_bad_input_errors(bad, error):
    with pytest.raises(error):
        A.RandomGain()(bad)


def test_stft_transform_rejects_short_clip():
    with pytest.raises(ValueError, match="n_fft"):
        A.RandomPitchShift()(torch.zeros(1, 1, 100))


@pytest.mark.parametrize(
    "make",
    [
        lambda: A.RandomGain(p=1.5),
        lambda: A.RandomGain(gain_db=(3, -3)),
        lambda: A.AudioGaussianNoise(color="purple"),
        lambda: A.AudioGaussianNoise(snr_db=5),
        lambda: A.RandomTimeShift(unit="seconds"),
        lambda: A.RandomTimeShift(mode="reflect"),
        lambda: A.RandomTimeShift((0.5, 1.5), unit="samples"),
        lambda: A.RandomSpeed((0.0, 2.0)),
        lambda: A.RandomSpeed(interpolation="nearest"),
        lambda: A.RandomTimeStretch((-1.0, 1.0)),
        lambda: A.RandomTimeStretch(n_fft=512, hop_length=400),
        lambda: A.RandomPitchShift(30),
        lambda: A.RandomFrequencyMasking(-1),
        lambda: A.RandomTimeMasking(10, num_masks=0),
        lambda: A.RandomTimeMasking(10, domain="image"),
        lambda: A.MelSpectrogram(f_max=9000.0),
        lambda: A.MelSpectrogram(mel_scale="bark"),
        lambda: A.Spectrogram(power=3),
        lambda: A.AudioMixUp(alpha=0),
        lambda: A.RandomBackgroundNoise(torch.zeros(0, 100)),
        lambda: A.RandomBackgroundNoise("/nonexistent-folder", sample_rate=16000),
        lambda: A.RandomBackgroundNoise(alsa_file("Noise")),  # files need a sample rate
        lambda: A.AudioCompose([]),
        lambda: A.AudioCompose([A.RandomGain(), A.RandomFrequencyMasking(4)]),
        lambda: A.AudioCompose([A.MelSpectrogram(), A.RandomGain()]),
    ],
)
def test_bad_arguments_raise_value_errors(make):
    with pytest.raises((ValueError, FileNotFoundError)):
        make()


def test_compose_rejects_non_audio_transforms():
    from augloader import RandomHorizontalFlip

    with pytest.raises(TypeError, match="not an AudioTransform"):
        A.AudioCompose([A.RandomGain(), RandomHorizontalFlip()])


def test_background_channel_mismatch_is_clear(generator):
    t = A.RandomBackgroundNoise(torch.randn(2, 3, 500))
    with pytest.raises(ValueError, match="channels"):
        t(torch.randn(2, 2, 1000), generator=generator)


@pytest.mark.parametrize("name", ALL)
def test_device_matches_cpu(name, speech, device):
    """On every available device (CUDA when present) the same params give the CPU result."""
    x = make_input(name, speech)
    t = ALL[name]()
    expected = t(x, generator=torch.Generator().manual_seed(9))
    y = t.to(device)(x.to(device), params=t.last_params)
    assert y.device.type == device.type
    torch.testing.assert_close(y.cpu(), expected, atol=1e-4 * float(x.abs().max()), rtol=1e-3)
