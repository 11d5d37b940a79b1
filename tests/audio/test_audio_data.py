"""Collation of variable-length clips, MixUp for audio, YAML configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augloader.audio as A
from augloader.config import ConfigError

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "audio.yaml"


# ---- pad_or_crop and length_mask ---------------------------------------------------------------


def test_pad_mode_pads_to_the_longest_with_lengths():
    clips = [torch.ones(1, 5), torch.full((1, 3), 2.0), torch.full((8,), 3.0)]
    batch, lengths = A.pad_or_crop(clips)
    assert batch.shape == (3, 1, 8) and lengths.tolist() == [5, 3, 8]
    assert torch.equal(A.length_mask(lengths, 8), batch[:, 0] != 0)


def test_crop_mode_crops_to_the_shortest():
    clips = [torch.arange(10.0).view(1, 10), torch.arange(4.0).view(1, 4)]
    batch, lengths = A.pad_or_crop(clips, mode="crop", crop="center")
    assert batch.shape == (2, 1, 4) and lengths.tolist() == [4, 4]
    assert batch[0, 0].tolist() == [3.0, 4.0, 5.0, 6.0]


def test_random_crop_is_seeded_and_in_range():
    clips = [torch.arange(100.0).view(1, 100)] * 6
    a, _ = A.pad_or_crop(clips, length=10, crop="random", generator=torch.Generator().manual_seed(0))
    b, _ = A.pad_or_crop(clips, length=10, crop="random", generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    starts = a[:, 0, 0]
    assert starts.unique().numel() > 1 and (starts <= 90).all()
    assert torch.equal(a - starts.view(-1, 1, 1), torch.arange(10.0).expand(6, 1, 10))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 50), min_size=1, max_size=6),
    st.integers(1, 60),
    st.sampled_from(["start", "center", "random"]),
)
def test_pad_or_crop_property(sizes, length, crop):
    clips = [torch.arange(1.0, n + 1).repeat(2, 1) for n in sizes]  # (2, n), values 1..n
    batch, lengths = A.pad_or_crop(clips, length=length, crop=crop, generator=torch.Generator().manual_seed(1))
    assert batch.shape == (len(sizes), 2, length)
    assert lengths.tolist() == [min(n, length) for n in sizes]
    mask = A.length_mask(lengths, length)
    assert torch.equal(batch != 0, mask.unsqueeze(1).expand_as(batch))  # valid samples are the clip's, padding is 0
    diffs = batch[:, :, 1:] - batch[:, :, :-1]
    assert ((diffs == 1) | ~mask[:, 1:].unsqueeze(1)).all()  # a contiguous piece of the clip


def test_collate_feeds_a_pipeline_with_lengths(speech_clips, generator):
    batch, lengths = A.pad_or_crop(speech_clips)
    out = A.AudioCompose([A.AudioGaussianNoise((20, 20)), A.RandomSpeed((1.2, 1.2))])(
        {"audio": batch, "lengths": lengths}, generator=generator
    )
    assert out["audio"].shape == batch.shape
    assert (out["lengths"] < lengths).all()
    assert (
        not A.length_mask(out["lengths"], batch.shape[-1])
        .unsqueeze(1)
        .logical_not()
        .logical_and(out["audio"] != 0)
        .any()
    )


@pytest.mark.parametrize(
    "args, error",
    [
        (([],), ValueError),
        ((torch.zeros(2, 10),), TypeError),
        (([torch.zeros(1, 4), torch.zeros(2, 4)],), ValueError),
        (([torch.zeros(1, 2, 3)],), ValueError),
        (([torch.zeros(4)], 0), ValueError),
        (([torch.zeros(4)], None, "stretch"), ValueError),
        (([torch.zeros(4)], None, "pad", "end"), ValueError),
    ],
)
def test_pad_or_crop_errors(args, error):
    with pytest.raises(error):
        A.pad_or_crop(*args)


# ---- MixUp -------------------------------------------------------------------------------------


def test_mixup_blends_audio_and_labels(speech, generator):
    t = A.AudioMixUp(alpha=1.0, num_classes=5, label_smoothing=0.1)
    out = t({"audio": speech, "label": torch.tensor([0, 1, 2, 4])}, generator=generator)
    lam, index = t.last_params["lam"], t.last_params["index"]
    assert ((lam >= 0) & (lam <= 1)).all() and sorted(index.tolist()) == [0, 1, 2, 3]
    lam3 = lam.view(-1, 1, 1)
    torch.testing.assert_close(out["audio"], lam3 * speech + (1 - lam3) * speech[index])
    soft = out["label"]
    assert soft.shape == (4, 5) and soft.dtype == torch.float32
    torch.testing.assert_close(soft.sum(-1), torch.ones(4))
    one_hot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 4]), 5).float() * 0.9 + 0.02
    torch.testing.assert_close(soft, lam.view(-1, 1) * one_hot + (1 - lam.view(-1, 1)) * one_hot[index])


def test_mixup_soft_labels_p0_and_errors(speech, generator):
    soft = torch.softmax(torch.randn(4, 3), -1)
    out = A.AudioMixUp(0.4)({"audio": speech, "label": soft}, generator=generator)
    torch.testing.assert_close(out["label"].sum(-1), torch.ones(4))
    same = A.AudioMixUp(0.4, p=0.0)({"audio": speech, "label": soft}, generator=generator)
    assert torch.equal(same["audio"], speech) and torch.equal(same["label"], soft)
    with pytest.raises(ValueError, match="num_classes"):
        A.AudioMixUp(0.4)({"audio": speech, "label": torch.tensor([0, 1, 0, 1])})


@settings(max_examples=15, deadline=None)
@given(st.floats(0.05, 8.0), st.integers(0, 2**31 - 1))
def test_beta_draws_have_the_beta_moments(alpha, seed):
    lam = A.sample_beta(20000, alpha, torch.Generator().manual_seed(seed)).double()
    assert ((lam >= 0) & (lam <= 1)).all() and torch.isfinite(lam).all()
    var = 1.0 / (4 * (2 * alpha + 1))  # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
    assert abs(float(lam.mean()) - 0.5) < 5 * (var / 20000) ** 0.5 + 1e-3
    assert abs(float(lam.var()) / var - 1) < 0.08


# ---- YAML config ---------------------------------------------------------------------------------


def test_shipped_config_builds_and_runs(speech_clips, generator):
    config = A.load_audio_config(CONFIG)
    assert isinstance(config.pipeline, A.AudioCompose) and len(config.pipeline.transforms) == 7
    batch, lengths = A.pad_or_crop(speech_clips, generator=generator, **config.collate)
    out = config.pipeline({"audio": batch, "lengths": lengths}, generator=generator)
    assert out["audio"].shape == (8, 1, 64, 101) and torch.isfinite(out["audio"]).all()


@pytest.mark.parametrize(
    "spec",
    [
        {"pipeline": [{"Explode": {}}]},
        {"pipeline": [{"RandomGain": {"gain": 3}}]},
        {"pipeline": [{"RandomGain": {"gain_db": [3, -3]}}]},
        {"pipeline": "RandomGain"},
        {"pipeline": []},
        {"pipeline": ["RandomGain"], "extra": 1},
        {"pipeline": ["RandomGain"], "collate": {"pad_to": 3}},
        {"steps": ["RandomGain"]},
    ],
)
def test_bad_configs_raise_value_errors(spec):
    with pytest.raises(ValueError):
        A.load_audio_config(spec)


def test_config_loading_is_safe(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("pipeline: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="Python tags are refused"):
        A.load_audio_config(path)
