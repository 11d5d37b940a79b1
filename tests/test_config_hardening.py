"""Hostile and broken configs: every case ends fast with a clear error (issue 16).

Each hang case of the issue (alias bombs, huge files, deep nesting, self-references) is timed: the
bound is far below the old behaviour (minutes, or a RecursionError) and leaves room for a busy machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import augloader as A
from augloader._repr import short_repr
from augloader.audio import AudioConfig, load_audio_config
from augloader.config import ConfigError, PipelineConfig, from_config
from augloader.text import load_text_config
from augloader.text.mythes import DEFAULT_MYTHES_PATH

ROOT = Path(__file__).resolve().parents[1]
FAST = 1.0  # seconds; every refusal below takes milliseconds


def _bomb(levels: int = 9) -> str:
    """A billion-laughs YAML flow list (9^10 leaves once aliases are expanded) in ~500 bytes."""
    text = "&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    for i in range(1, levels + 1):
        text = f"[{text}, &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]]"
    return text


def _timed_error(fn, *args, error=ConfigError, **kwargs) -> str:
    start = time.perf_counter()
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    elapsed = time.perf_counter() - start
    assert elapsed < FAST, f"took {elapsed:.2f} s"
    return str(info.value)


# ---- hangs -----------------------------------------------------------------------------------------
def test_alias_bomb_inside_an_argument_is_refused_fast(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"pipeline:\n  - RandomRotation: {{degrees: {_bomb()}}}\n")
    assert path.stat().st_size < 1000
    message = _timed_error(from_config, path)
    assert str(path) in message and "aliases" in message and "100,000" in message and len(message) < 300


@pytest.mark.parametrize("loader", [load_audio_config, load_text_config])
def test_alias_bomb_is_refused_by_the_audio_and_text_loaders(tmp_path, loader):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"pipeline: [{{Gain: {{gain_db: {_bomb()}}}}}]\ntext: {{eda: {{protected: {_bomb()}}}}}\n")
    assert "aliases" in _timed_error(loader, path)


def test_shared_python_structure_counts_as_expanded(tmp_path):
    leaves = ["lol"] * 9
    for _ in range(9):
        leaves = [leaves] * 9  # 9^10 leaves, 90 list objects
    message = _timed_error(from_config, {"pipeline": [{"RandomRotation": {"degrees": leaves}}]})
    assert message.startswith("config['pipeline'][0]['RandomRotation']['degrees']") and "100,000 values" in message


def test_the_node_cap_can_be_raised():
    spec = {"pipeline": [{"RandomHorizontalFlip": {"p": 0.5}}] * 50}
    with pytest.raises(ConfigError, match="more than 100 values"):
        from_config(spec, max_nodes=100)
    assert isinstance(from_config(spec), PipelineConfig)


def test_self_referencing_anchor_is_a_config_error(tmp_path):
    path = tmp_path / "self.yaml"
    path.write_text("pipeline: &a\n  - RandomRotation: {degrees: *a}\n")
    message = _timed_error(from_config, path)
    assert f"{path}: line 2: alias *a is used inside its own anchor &a" in message


def test_self_containing_mapping_is_a_config_error():
    steps: list = [{"RandomHorizontalFlip": {}}]
    steps.append(steps)
    assert "config['pipeline'][1]: contains itself" in _timed_error(from_config, {"pipeline": steps})


@pytest.mark.parametrize("body", ["[" * 100_000, "[a, " * 100_000, "{a: " * 50_000, "[\n" * 100_000])
def test_deep_nesting_is_a_config_error_not_a_recursion_error(tmp_path, body):
    path = tmp_path / "deep.yaml"
    path.write_text(f"pipeline: {body}\n")
    assert "nested deeper than 100 levels" in _timed_error(from_config, path)


def test_deeply_nested_mapping_is_a_config_error():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert "nested deeper than 100 levels" in _timed_error(from_config, {"pipeline": value})


def test_large_file_is_refused_by_the_size_cap_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("pipeline:\n" + "  - RandomHorizontalFlip\n" * 180_000)  # ~4 MB; parsing took 78 s
    assert path.stat().st_size > 4_000_000
    message = _timed_error(from_config, path)
    assert f"{path}: larger than the 1,048,576-byte limit" in message and "max_bytes=" in message


def test_the_size_cap_can_be_raised_and_lowered(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("pipeline:\n" + "  - RandomHorizontalFlip\n" * 40)
    with pytest.raises(ConfigError, match="larger than the 100-byte limit"):
        from_config(path, max_bytes=100)
    assert len(from_config(path, max_bytes=10_000).transform.transforms) == 40


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_endless_file_is_read_only_up_to_the_cap():
    assert "larger than" in _timed_error(from_config, "/dev/zero")


# ---- obscure errors made clear ---------------------------------------------------------------------
def test_non_utf8_file_names_the_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# café\npipeline: [RandomHorizontalFlip]\n".encode("latin-1"))
    message = _timed_error(from_config, path)
    assert message.startswith(f"{path}: not UTF-8 text (byte 5")


@pytest.mark.parametrize("source, name", [(3, "int"), (None, "NoneType"), (b"x.yaml", "bytes"), ([], "list")])
def test_wrong_source_type_is_a_type_error_naming_the_type(source, name):
    for loader in (from_config, load_audio_config, load_text_config):
        with pytest.raises(TypeError, match=f"got {name}$|got {name};"):
            loader(source)


def test_directory_and_missing_file_name_the_path(tmp_path):
    assert f"cannot read config {tmp_path}: it is a directory" in _timed_error(from_config, tmp_path)
    assert f"cannot read config {tmp_path / 'no.yaml'}" in _timed_error(from_config, tmp_path / "no.yaml")


def test_yaml_syntax_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("pipeline:\n- - a\n - b\n")
    message = _timed_error(from_config, path)
    assert message.startswith(f"{path}: not valid YAML") and f'in "{path}", line 3' in message


def test_messages_quote_values_in_bounded_form():
    huge = list(range(300_000))
    start = time.perf_counter()
    assert short_repr(huge) == "[0, 1, 2, 3, 4, 5, ...]"
    assert len(short_repr("x" * 10**6)) <= 80
    assert time.perf_counter() - start < 0.1
    message = _timed_error(from_config, {"pipeline": [{"RandomHorizontalFlip": {"p": huge[:90_000]}}]})
    assert "argument 'p' must be a number, got list [0, 1, 2" in message and len(message) < 200
    message = _timed_error(from_config, {"pipeline": [{"RandomRotation": {"degrees": huge[:90_000]}}]})
    assert message.startswith("pipeline[0].RandomRotation: ") and len(message) < 600
    message = _timed_error(from_config, {"pipeline": [{str(huge[:1000]): {}}]})
    assert "unknown transform '[0, 1, 2" in message and len(message) < 200


# ---- one reader for image, audio and text configs --------------------------------------------------
@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_through_from_config(path):
    if path.name == "text.yaml" and not os.path.exists(DEFAULT_MYTHES_PATH):
        pytest.skip("Debian package 'mythes-en-us' not installed (make testdata)")
    config = from_config(path)
    if path.name == "audio.yaml":
        assert isinstance(config, AudioConfig) and config.collate["length"] == 16000
    elif path.name == "text.yaml":
        assert set(config) == {"eda", "back_translation"}
    else:
        assert isinstance(config, PipelineConfig) and len(config.transform.transforms) >= 1


def test_kind_key_selects_the_loader(tmp_path):
    assert isinstance(from_config({"kind": "audio", "pipeline": ["RandomGain"]}), AudioConfig)
    assert isinstance(from_config({"kind": "image", "pipeline": ["RandomHorizontalFlip"]}), PipelineConfig)
    assert isinstance(load_audio_config({"kind": "audio", "pipeline": ["RandomGain"]}), AudioConfig)
    built = from_config({"kind": "text", "text": {"back_translation": {"cache": str(tmp_path / "bt.sqlite")}}})
    assert isinstance(built["back_translation"], A.text.BackTranslation)
    with pytest.raises(ConfigError, match="kind must be one of image, audio, text, got 'video'"):
        from_config({"kind": "video", "pipeline": ["RandomGain"]})
    with pytest.raises(ConfigError, match="not 'audio'"):
        load_audio_config({"kind": "image", "pipeline": ["RandomGain"]})


def test_audio_and_text_errors_through_from_config_are_config_errors():
    with pytest.raises(ConfigError, match="unknown audio transform 'Gian'"):
        from_config({"kind": "audio", "pipeline": ["Gian"]})
    with pytest.raises(ConfigError, match=r"pipeline\[0\]\.RandomGain: "):
        from_config({"kind": "audio", "pipeline": [{"RandomGain": {"gain_db": [3, -3]}}]})
    with pytest.raises(ConfigError, match="text: unknown section 'edaa'"):
        from_config({"kind": "text", "text": {"edaa": {}}})
    with pytest.raises(ConfigError, match="collate must be a mapping, got list"):
        from_config({"pipeline": ["RandomGain"], "collate": [1, 2]})


def test_audio_transform_in_an_image_config_gets_a_hint():
    with pytest.raises(
        ConfigError, match=r"unknown transform 'AudioGaussianNoise'.*\(an audio transform: add 'kind: audio'"
    ):
        from_config({"pipeline": ["AudioGaussianNoise"]})


# ---- audio and text mistakes read like image ones: the place, then the closest valid name -------------------
@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"kind": "audio", "pipeline": ["RandomGian"]},
            "pipeline[0]: unknown audio transform 'RandomGian'; did you mean 'RandomGain'?",
        ),
        (
            {"kind": "audio", "pipeline": ["Gian"]},
            "did you mean 'RandomGain'?",
        ),  # close to a deprecated name: its new one
        (
            {"kind": "audio", "pipeline": ["RandomGain", {"RandomTimeShift": {"shfit": 0.1}}]},
            "pipeline[1].RandomTimeShift: unknown argument 'shfit'; did you mean 'shift'?",
        ),
        (
            {"kind": "audio", "pipeline": [{"RandomGain": {"p": "high"}}]},
            "pipeline[0].RandomGain: argument 'p' must be a number, got str 'high'",
        ),
        (
            {"kind": "audio", "pipeline": [{"RandomGain": {"gain_db": [3, -3]}}]},
            "pipeline[0].RandomGain: gain_db range must have low <= high",
        ),
        ({"kind": "audio", "pipeline": [{"RandomGain": 3}]}, "pipeline[0].RandomGain: arguments must be a mapping"),
        ({"kind": "audio", "pipeline": []}, "pipeline: must be a non-empty list of steps"),
        (
            {"kind": "audio", "pipeline": ["GaussianNoise"]},
            "unknown audio transform 'GaussianNoise'; did you mean 'AudioGaussianNoise'? (an image transform",
        ),
        ({"kind": "audio", "pipline": ["RandomGain"]}, "unknown top-level key 'pipline'; did you mean 'pipeline'?"),
        (
            {"pipeline": ["RandomGain"], "collate": {"lenght": 8}},
            "collate: unknown argument 'lenght'; did you mean 'length'?",
        ),
        ({"kind": "text", "text": {"back_translaton": {}}}, "text: unknown section 'back_translaton'; did you mean"),
        (
            {"kind": "text", "text": {"eda": {"alpha_s": 0.1}}},
            "text.eda: unknown argument 'alpha_s'; did you mean 'alpha_sr'?",
        ),
        (
            {"kind": "text", "text": {"eda": {"num_aug": "4"}}},
            "text.eda: argument 'num_aug' must be an int, got str '4'",
        ),
        ({"kind": "text", "text": {"eda": {"num_aug": 0}}}, "text.eda: num_aug must be >= 1, got 0"),
        ({"kind": "text", "text": {"eda": [1]}}, "text.eda: arguments must be a mapping"),
        (
            {"kind": "text", "text": {"back_translation": {"bach_size": 4}}},
            "text.back_translation: unknown argument 'bach_size'; did you mean 'batch_size'?",
        ),
        (
            {"kind": "text", "text": {"back_translation": {"p": "half"}}},
            "text.back_translation: argument 'p' must be a number, got str 'half'",
        ),
        ({"kind": "text", "text": {"back_translation": {"timeout": -1}}}, "text.back_translation: timeout must be"),
        (
            {"kind": "text", "text": {"thesaurus": {"pth": "x"}, "eda": {}}},
            "text.thesaurus: unknown argument 'pth'; did you mean 'path'?",
        ),
    ],
)
def test_audio_and_text_errors_name_the_place_and_the_closest_name(spec, message):
    with pytest.raises(ConfigError) as info:
        from_config(spec)
    assert message in str(info.value)


def test_deprecated_audio_name_still_builds_with_a_warning():
    with pytest.warns(DeprecationWarning, match="Gain is deprecated"):
        config = from_config({"kind": "audio", "pipeline": [{"Gain": {"gain_db": [-1, 1]}}]})
    assert type(config.pipeline.transforms[0]) is A.audio.RandomGain
    with pytest.raises(ConfigError, match=r"pipeline\[0\]\.Gain: unknown argument 'gain'; did you mean 'gain_db'?"):
        from_config({"kind": "audio", "pipeline": [{"Gain": {"gain": 1}}]})
