"""Audio batches through the three integration points: AugmentedDataset, BatchAugment, DeviceAugmenter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from augloader.audio import AudioCompose, AudioGaussianNoise, AudioMixUp, RandomGain, RandomTimeShift, load_folder
from augloader.data import AugmentedDataset, BatchAugment, DeviceAugmenter

ALSA = Path("/usr/share/sounds/alsa")


@pytest.fixture(scope="module")
def speech() -> list[torch.Tensor]:
    if not ALSA.is_dir():
        pytest.fail("needs Debian's alsa-utils sounds (make testdata installs them)")
    clips = [c.mean(0, keepdim=True) for c in load_folder(ALSA, 16000)]  # mono, real lengths differ
    return [c[:, : 4000 + 1500 * i] for i, c in enumerate(clips[:6])]  # short, and of 6 lengths


def _pipeline():
    return AudioCompose([RandomGain(p=1.0), AudioGaussianNoise(p=1.0), RandomTimeShift(p=1.0)])


def test_pad_mode_keeps_every_sample_and_masks_the_padding(speech):
    samples = [(clip, i % 3) for i, clip in enumerate(speech)]
    mix = AudioMixUp(0.4, num_classes=3)
    out = BatchAugment(_pipeline(), mix=mix, seed=0, kind="audio")(samples)
    longest = max(c.shape[-1] for c in speech)
    assert out["audio"].shape == (6, 1, longest) and out["label"].shape == (6, 3)
    own = torch.tensor([c.shape[-1] for c in speech])
    lam, partner = mix.last_params["lam"], mix.last_params["index"]
    assert (
        out["lengths"].tolist() == torch.where(lam < 1, torch.maximum(own, own[partner]), own).tolist()
    )  # mixed: the longer clip
    assert torch.equal(out["mask"], torch.arange(longest) < out["lengths"][:, None])
    assert torch.allclose(out["label"].sum(1), torch.ones(6))


def test_crop_mode_and_fixed_length(speech):
    out = BatchAugment(None, seed=0, kind="audio", length_mode="crop")(list(speech))
    shortest = min(c.shape[-1] for c in speech)
    assert out["audio"].shape == (6, 1, shortest) and bool(out["mask"].all())
    out = BatchAugment(None, seed=0, kind="audio", length=5000, crop="center")(list(speech))
    assert out["audio"].shape == (6, 1, 5000) and out["lengths"].tolist() == [4000] + [5000] * 5
    assert torch.equal(out["audio"][0, :, :4000], speech[0])  # padded, not touched


def test_stream_independent_of_workers(speech):
    ds = AugmentedDataset(
        [(clip, i % 3) for i, clip in enumerate(speech)], transform=RandomGain(p=0.5), seed=3, kind="audio"
    )
    collate = BatchAugment(_pipeline(), seed=3, kind="audio")
    runs = []
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=3, num_workers=workers, collate_fn=collate)
        runs.append([b["audio"] for b in loader])
    assert all(torch.equal(a, b) for a, b in zip(*runs))
    assert not torch.equal(runs[0][0][:, :, :4000], torch.stack([c[:, :4000] for c in speech[:3]]))  # augmented


def test_device_augmenter_takes_audio_dicts(speech):
    collate = BatchAugment(None, seed=0, kind="audio")
    loader = DataLoader(list(speech), batch_size=3, collate_fn=collate)
    hook = DeviceAugmenter(loader, AudioCompose([RandomGain(p=1.0)]), "cpu", seed=0)
    batches = list(hook)
    assert len(batches) == 2 and all(set(b) >= {"audio", "lengths", "mask"} for b in batches)
    plain = list(loader)
    assert not torch.equal(batches[0]["audio"], plain[0]["audio"])  # gain applied on the "device"


def test_audio_decoding_errors():
    with pytest.raises(TypeError, match="float"):
        BatchAugment(None, kind="audio")([torch.zeros(3, 100, dtype=torch.int16)])
    with pytest.raises(ValueError, match="kind"):
        BatchAugment(None, kind="video")
