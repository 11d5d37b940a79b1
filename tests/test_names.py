"""Names follow one rule across domains; the old audio names still work for one release and warn."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch

import augloader
import augloader.audio as A
from augloader import from_config
from augloader.audio import AudioTransform
from augloader.audio._aliases import DEPRECATED_AUDIO_TRANSFORMS, RENAMED

OLD_TO_NEW = {
    "AddNoise": "AudioGaussianNoise",
    "AddBackgroundNoise": "RandomBackgroundNoise",
    "Gain": "RandomGain",
    "TimeShift": "RandomTimeShift",
    "SpeedChange": "RandomSpeed",
    "TimeStretch": "RandomTimeStretch",
    "PitchShift": "RandomPitchShift",
    "FrequencyMasking": "RandomFrequencyMasking",
    "TimeMasking": "RandomTimeMasking",
}
#: Arguments some transforms need to be built.
ARGS = {
    "AddBackgroundNoise": {"sounds": torch.randn(2, 300)},
    "FrequencyMasking": {"max_width": 4},
    "TimeMasking": {"max_width": 4},
}


def _public_audio_transforms() -> dict[str, type]:
    return {
        name: obj
        for name in A.__all__
        for obj in [getattr(A, name)]
        if inspect.isclass(obj) and issubclass(obj, AudioTransform) and obj is not AudioTransform
    }


def test_the_rename_table_is_the_one_the_package_uses():
    assert {old: new.__name__ for old, new in RENAMED.items()} == OLD_TO_NEW
    assert set(DEPRECATED_AUDIO_TRANSFORMS) == set(OLD_TO_NEW)


@pytest.mark.parametrize("old, new", sorted(OLD_TO_NEW.items()))
def test_old_name_builds_the_new_class_and_warns_naming_it(old, new):
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated .*use {new} ") as record:
        t = getattr(A, old)(**ARGS.get(old, {}))
    assert type(t) is getattr(A, new) and type(t).__name__ == new  # reprs and configs show the new name
    assert isinstance(t, getattr(A, old)) and issubclass(getattr(A, new), getattr(A, old))
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert old not in A.__all__


@pytest.mark.parametrize("old, new", sorted(OLD_TO_NEW.items()))
def test_old_name_gives_the_same_output_as_the_new_one(old, new):
    if old in ("FrequencyMasking", "TimeMasking"):
        batch = torch.rand(2, 1, 16, 20, generator=torch.Generator().manual_seed(0))
    else:
        batch = torch.randn(2, 1, 800, generator=torch.Generator().manual_seed(0))
    with pytest.warns(DeprecationWarning):
        out_old = getattr(A, old)(**ARGS.get(old, {}))(batch, generator=torch.Generator().manual_seed(3))
    out_new = getattr(A, new)(**ARGS.get(old, {}))(batch, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(out_old, out_new)


def test_a_config_naming_an_old_transform_loads_and_warns():
    spec = {"kind": "audio", "pipeline": [{"AddNoise": {"snr_db": [10, 20]}}, "Gain"]}
    with pytest.warns(DeprecationWarning) as record:
        config = from_config(spec)
    assert [type(t).__name__ for t in config.pipeline.transforms] == ["AudioGaussianNoise", "RandomGain"]
    messages = [str(w.message) for w in record if issubclass(w.category, DeprecationWarning)]
    assert any("use AudioGaussianNoise" in m for m in messages) and any("use RandomGain" in m for m in messages)


def test_a_config_with_new_names_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        config = from_config({"kind": "audio", "pipeline": ["AudioGaussianNoise", "RandomGain"]})
    assert len(config.pipeline.transforms) == 2


def test_old_audio_name_in_an_image_config_still_gets_the_audio_hint():
    with pytest.raises(augloader.ConfigError, match="an audio transform: add 'kind: audio'"):
        from_config({"pipeline": ["Gain"]})


def test_new_names_are_exported_and_configurable():
    for new in OLD_TO_NEW.values():
        assert new in A.__all__ and new in A.AUDIO_TRANSFORMS
    assert set(A.AUDIO_TRANSFORMS).isdisjoint(OLD_TO_NEW)  # error messages list only the new names


def test_no_public_random_audio_transform_lacks_the_prefix():
    """Random ones start with Random, or are ``Audio`` + the image class they mirror; deterministic ones are free."""
    image_names = set(augloader.__all__)
    offenders = []
    for name, cls in _public_audio_transforms().items():
        if not cls.randomized:
            continue
        if name.startswith("Random"):
            continue
        if name.startswith("Audio") and name[len("Audio") :] in image_names:
            continue
        offenders.append(name)
    assert offenders == []
    # and no audio class shares its name with an image class
    assert image_names.isdisjoint(_public_audio_transforms())


def test_a_subclass_of_an_old_name_still_works_and_warns():
    with pytest.warns(DeprecationWarning, match="use RandomGain"):

        class Louder(A.Gain):
            pass

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        t = Louder((6, 6))
    assert type(t) is Louder and isinstance(t, A.RandomGain)


def test_shared_helpers_are_defined_once():
    """``Params`` lives in transforms/_types.py; audio, mix and advanced take no helper from the base-class module."""
    from pathlib import Path

    root = Path(augloader.__file__).parent
    sources = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.py")}
    assert [p for p, s in sources.items() if "\nParams = dict[" in s] == ["transforms/_types.py"]
    for path, src in sources.items():
        if path.split("/")[0] in ("audio", "mix", "advanced"):
            base_imports = [line for line in src.splitlines() if "transforms.base import" in line]
            assert not any("check_probability" in line for line in base_imports), path
            assert "_sample_dirichlet" not in src and "def _sample_gamma" not in src, path
