"""Audio transforms keep the image side's protocol: recorded arguments (Python-built pipelines write back
with augloader.to_config), last_params replay through the shared mixin, deprecated names written as new."""

from __future__ import annotations

import warnings

import pytest
import torch
from test_audio_contract import ALL, make_input

import augloader
import augloader.audio as A
from augloader._protocol import ReplayMixin
from augloader.config import ConfigError


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", ALL)
def test_python_built_transform_round_trips_through_config(name, speech):
    t = ALL[name]()
    written = augloader.to_config(t)
    assert written["kind"] == "audio" and len(written["pipeline"]) == 1
    rebuilt = augloader.from_config(written).pipeline
    assert augloader.to_config(rebuilt) == written
    x = make_input(name, speech)
    torch.testing.assert_close(rebuilt(x, generator=_seeded(3)), t(x, generator=_seeded(3)))


def test_python_built_pipeline_round_trips_and_replays(speech):
    pipeline = A.AudioCompose(
        [
            A.RandomGain((-6, 6), p=0.5),
            A.AudioGaussianNoise(snr_db=[10, 30], color=["white", "pink"]),
            A.RandomTimeShift(0.1, unit="fraction"),
            A.MelSpectrogram(sample_rate=16000, n_mels=32),
            A.RandomTimeMasking(5, num_masks=2),
        ]
    )
    written = augloader.to_config(augloader.audio.AudioConfig(pipeline, {"mode": "pad", "length": 16000}))
    assert written == {
        "kind": "audio",
        "pipeline": [
            {"RandomGain": {"gain_db": [-6, 6], "p": 0.5}},
            {"AudioGaussianNoise": {"snr_db": [10, 30], "color": ["white", "pink"]}},
            {"RandomTimeShift": {"shift": 0.1, "unit": "fraction"}},
            {"MelSpectrogram": {"sample_rate": 16000, "n_mels": 32}},
            {"RandomTimeMasking": {"max_width": 5, "num_masks": 2}},
        ],
        "collate": {"mode": "pad", "length": 16000},
    }
    rebuilt = augloader.from_config(written)
    y = pipeline(speech, generator=_seeded(1))
    assert torch.equal(rebuilt.pipeline(speech, generator=_seeded(1)), y)
    assert torch.equal(pipeline(speech, params=pipeline.last_params), y)  # replay, no draw
    assert not torch.equal(pipeline(speech, generator=_seeded(2)), y)


def test_deprecated_name_built_in_python_is_written_under_the_new_name():
    with pytest.warns(DeprecationWarning, match="Gain is deprecated"):
        old = A.Gain(gain_db=(-2, 2))
    assert augloader.to_config(old) == {"kind": "audio", "pipeline": [{"RandomGain": {"gain_db": [-2, 2]}}]}


def test_arguments_a_config_cannot_hold_are_refused():
    bank = A.RandomBackgroundNoise(torch.randn(2, 1, 800, generator=_seeded()), snr_db=(5, 10))
    with pytest.raises(
        ConfigError, match=r"pipeline\[0\]\.RandomBackgroundNoise: argument 'sounds' holds audio tensors"
    ):
        augloader.to_config(bank)


def test_shared_protocol_mixin():
    t = A.RandomGain((-3, 3))
    assert isinstance(t, ReplayMixin) and isinstance(A.AudioCompose([t]), ReplayMixin)
    assert t.last_params is None
    with pytest.raises(TypeError, match="params must be a dict"):
        t(torch.zeros(2, 1, 16), params=[1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new names record without any warning
        assert augloader.config.init_args(A.RandomGain(p=0.25)) == {"p": 0.25}
