"""YAML pipelines: every shipped config builds, round trips, and mistakes get helpful errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import augloader as A
from augloader.config import ConfigError, PipelineConfig, from_config, save_config, to_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["imagenet", "cifar", "randaugment", "fashion_mnist"]


def _input(name: str) -> torch.Tensor:
    shape = {"cifar": (4, 3, 32, 32), "fashion_mnist": (4, 1, 28, 28)}.get(name, (4, 3, 64, 80))
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_config_builds_and_runs(name):
    config = from_config(ROOT / "configs" / f"{name}.yaml")
    assert isinstance(config, PipelineConfig) and isinstance(config.transform, A.Compose)
    out = config(_input(name), generator=torch.Generator().manual_seed(1))
    assert out.dtype == torch.float32 and out.shape[0] == 4


def test_fashion_mnist_is_grayscale_without_vertical_flip():
    config = from_config(ROOT / "configs" / "fashion_mnist.yaml")
    assert not any(isinstance(t, A.RandomVerticalFlip) for t in config.transform.transforms)
    assert config.invariances == {"vertical_flip": False}
    assert config(_input("fashion_mnist")).shape == (4, 1, 28, 28)


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip_is_equal(name, tmp_path):
    path = ROOT / "configs" / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text())
    first = from_config(path)
    written = to_config(first)
    assert written == raw  # shipped files are written in the canonical form
    second = from_config(written)
    assert to_config(second) == written
    save_config(second, tmp_path / "again.yaml")
    assert yaml.safe_load((tmp_path / "again.yaml").read_text()) == raw
    # same params -> identical outputs; same seed -> identical outputs
    x = _input(name)
    a = first.transform(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(second.transform(x, params=first.transform.last_params), a)
    assert torch.equal(second.transform(x, generator=torch.Generator().manual_seed(3)), a)
    if first.mix is not None:
        assert type(second.mix) is type(first.mix)


def test_python_built_pipeline_round_trips():
    pipeline = A.Compose(
        [
            A.RandomResizedCrop(32, scale=(0.5, 1.0)),
            A.ColorJitter(0.4, 0.4, 0.4, 0.1),
            A.RandomChoice([A.RandomRotation(10), A.RandomHorizontalFlip(p=1.0)], p=(0.3, 0.7)),
            A.RandomOrder([A.RandomGamma(), A.RandomInvert()]),
        ]
    )
    config = to_config(pipeline)
    assert config["pipeline"][0] == {"RandomResizedCrop": {"size": 32, "scale": [0.5, 1.0]}}
    assert config["pipeline"][1] == {"ColorJitter": {"brightness": 0.4, "contrast": 0.4, "saturation": 0.4, "hue": 0.1}}
    rebuilt = from_config(config).transform
    x = _input("imagenet")
    assert torch.equal(
        rebuilt(x, generator=torch.Generator().manual_seed(5)), pipeline(x, generator=torch.Generator().manual_seed(5))
    )


def test_short_forms_are_normalised():
    config = from_config(
        {
            "pipeline": ["RandomHorizontalFlip", {"RandomVerticalFlip": None}],
            "mix": {"MixUp": {"alpha": 0.2, "out_dtype": "float32"}},
        }
    )
    assert to_config(config) == {
        "pipeline": [{"RandomHorizontalFlip": {}}, {"RandomVerticalFlip": {}}],
        "mix": {"MixUp": {"alpha": 0.2, "out_dtype": "float32"}},
    }
    assert config.mix.out_dtype == torch.float32


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {
                "pipeline": [
                    {"RandomResizedCrop": {"size": 224}},
                    {"RandomHorizontalFlip": {}},
                    {"ColorJitter": {"brigthness": 0.4}},
                ]
            },
            "pipeline[2].ColorJitter: unknown argument 'brigthness'; did you mean 'brightness'?",
        ),
        (
            {"pipeline": [{"RandomHorizontalFlp": {}}]},
            "pipeline[0]: unknown transform 'RandomHorizontalFlp'; did you mean 'RandomHorizontalFlip'?",
        ),
        (
            {"pipeline": [{"RandomApply": {"p": 0.5, "transforms": [{"GaussianBlur": {"kernel_sise": 5}}]}}]},
            "pipeline[0].RandomApply.transforms[0].GaussianBlur: unknown argument 'kernel_sise'; did you mean 'kernel_size'?",
        ),
        ({"pipline": []}, "unknown top-level key 'pipline'; did you mean 'pipeline'?"),
        ({"pipeline": ["Normalize"]}, "pipeline[0].Normalize: missing required argument 'mean'"),
        ({"pipeline": [{"RandomResizedCrop": {"size": "big"}}]}, "pipeline[0].RandomResizedCrop: size must be"),
        ({"pipeline": [{"RandomResizedCrop": 224}]}, "pipeline[0].RandomResizedCrop: arguments must be a mapping"),
        (
            {"pipeline": [{"RandomApply": {"transforms": {"GaussianBlur": {}}}}]},
            "pipeline[0].RandomApply.transforms: must be a non-empty list",
        ),
        ({"pipeline": [{"RandomCrop": {"size": 8}, "RandomHorizontalFlip": {}}]}, "pipeline[0]: a step must be"),
        ({"pipeline": {"RandomCrop": {"size": 8}}}, "pipeline: must be a non-empty list"),
        (
            {"pipeline": ["ToUint8"], "mix": {"MixUp": {"alpha": 1.0, "probb": 0.5}}},
            "mix.MixUp: unknown argument 'probb'; did you mean 'prob'?",
        ),
        (
            {"pipeline": ["ToUint8"], "mix": {"MixUpCutmix": {}}},
            "mix: unknown mix 'MixUpCutmix'; did you mean 'MixUpCutMix'?",
        ),
        ({"pipeline": ["ToUint8"], "targets": [1, 2]}, "targets: must be a mapping"),
        (
            {"pipeline": [{"RandAugment": {"magnitude": "nine"}}]},
            "pipeline[0].RandAugment: argument 'magnitude' must be an int, got str 'nine'",
        ),
        (
            {"pipeline": [{"GaussianNoise": {"clip": 1}}]},
            "pipeline[0].GaussianNoise: argument 'clip' must be true or false",
        ),
        (
            {"pipeline": [{"RandomHorizontalFlip": {"p": "high"}}]},
            "pipeline[0].RandomHorizontalFlip: argument 'p' must be a number, got str 'high'",
        ),
    ],
)
def test_helpful_errors(spec, message):
    with pytest.raises(ConfigError) as info:
        from_config(spec)
    assert message in str(info.value)


def test_safe_load_refuses_python_tags(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"pipeline: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ConfigError, match="Python tags are refused"):
        from_config(path)
    assert not marker.exists()


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        from_config(tmp_path / "nope.yaml")


def test_non_public_transform_cannot_be_written():
    class Custom(A.Transform):
        def __init__(self, k: int = 1) -> None:
            super().__init__()

    with pytest.raises(ConfigError, match="Custom is not a public augloader class"):
        to_config(A.Compose([Custom(3)]))


def test_invariances_and_targets_reach_compose():
    import inspect

    accepted = inspect.signature(A.Compose).parameters
    if "invariances" not in accepted or "targets" not in accepted:
        pytest.skip("Compose does not take invariances/targets in this checkout")
    spec = {
        "pipeline": [{"RandomHorizontalFlip": {}}],
        "invariances": {"vertical_flip": False},
        "targets": {"boxes_format": "xyxy"},
    }
    config = from_config(spec)
    assert config.transform.invariances == {"vertical_flip": False}
    assert config.targets == {"boxes_format": "xyxy"}
    assert to_config(config) == spec and to_config(config.transform) == spec
    with pytest.raises(ConfigError, match="RandomVerticalFlip"):
        from_config({"pipeline": ["RandomVerticalFlip"], "invariances": {"vertical_flip": False}})


def test_every_registered_transform_round_trips():
    from registry import EXEMPT, REGISTRY, build

    from augloader._init_args import init_args
    from augloader.config import NOT_IN_CONFIGS, PYTHON_ONLY_ARGS

    x = _input("imagenet")
    for name in [*REGISTRY, *EXEMPT]:
        t = build(name, 0.7)
        cls = type(t).__name__
        python_only = [k for k in PYTHON_ONLY_ARGS.get(cls, {}) if (init_args(t) or {}).get(k) is not None]
        if cls in NOT_IN_CONFIGS or python_only:  # a Python object in the arguments: refused, with the reason
            with pytest.raises(ConfigError, match="cannot be written to a config"):
                to_config(t)
            continue
        written = to_config(t)
        assert written == yaml.safe_load(yaml.safe_dump(written)), name  # plain YAML values only
        rebuilt = from_config(written).transform
        assert to_config(rebuilt) == written, name
        a = t(x, generator=torch.Generator().manual_seed(11))
        b = rebuilt(x, generator=torch.Generator().manual_seed(11))
        assert torch.equal(a, b), name


# ---- augloader.advanced's image-side transforms --------------------------------------------------------
ADVANCED_STEPS = [
    {"FourierAmplitudeMix": {"beta": 0.1, "alpha": [0.5, 1.0], "p": 1.0}},
    {"FourierAmplitudeMix": {}},
    {"RandomStyle": {"kernel_size": 1, "shift": 0.8, "scale": 0.3, "strength": [0.5, 1.0], "p": 1.0, "seed": 4}},
    {"RandomStyle": {}},
]


@pytest.mark.parametrize("step", ADVANCED_STEPS, ids=lambda s: f"{next(iter(s))}-{len(next(iter(s.values())))}")
def test_advanced_transforms_build_and_round_trip(step, tmp_path):
    from augloader.advanced import FourierAmplitudeMix, RandomStyle

    spec = {"pipeline": [{"RandomHorizontalFlip": {}}, step]}
    config = from_config(spec)
    built = config.transform.transforms[1]
    assert type(built).__name__ == next(iter(step)) and isinstance(built, (FourierAmplitudeMix, RandomStyle))
    assert to_config(config) == spec
    save_config(config, tmp_path / "advanced.yaml")
    assert yaml.safe_load((tmp_path / "advanced.yaml").read_text()) == spec
    again = from_config(tmp_path / "advanced.yaml")
    x = _input("imagenet")
    a = config(x, generator=torch.Generator().manual_seed(2))
    assert torch.equal(again(x, generator=torch.Generator().manual_seed(2)), a)
    assert to_config(built) == {"pipeline": [step]}


def test_python_built_advanced_transforms_write_back():
    from augloader.advanced import FourierAmplitudeMix, RandomStyle

    pipeline = A.Compose([FourierAmplitudeMix(0.05, 0.5), RandomStyle(3, seed=2)])
    assert to_config(pipeline) == {
        "pipeline": [
            {"FourierAmplitudeMix": {"beta": 0.05, "alpha": 0.5}},
            {"RandomStyle": {"kernel_size": 3, "seed": 2}},
        ]
    }
    rebuilt = from_config(to_config(pipeline)).transform
    x = _input("imagenet")
    assert torch.equal(
        rebuilt(x, generator=torch.Generator().manual_seed(6)), pipeline(x, generator=torch.Generator().manual_seed(6))
    )


def test_advanced_arguments_a_config_cannot_hold():
    from augloader.advanced import FourierAmplitudeMix, StyleNetworkAugment

    with pytest.raises(ConfigError, match=r"pipeline\[0\].FourierAmplitudeMix: argument 'style_bank' cannot be given"):
        from_config({"pipeline": [{"FourierAmplitudeMix": {"style_bank": [[[[0.5]]]]}}]})
    with pytest.raises(
        ConfigError, match=r"pipeline\[0\]: StyleNetworkAugment cannot be named in a config .*nn.Module"
    ):
        from_config({"pipeline": [{"StyleNetworkAugment": {}}]})
    with pytest.raises(ConfigError, match="did you mean 'RandomStyle'"):
        from_config({"pipeline": [{"RandomStyel": {}}]})
    with pytest.raises(ConfigError, match="argument 'style_bank' cannot be written"):
        to_config(FourierAmplitudeMix(style_bank=torch.rand(2, 3, 8, 8)))
    with pytest.raises(ConfigError, match="StyleNetworkAugment cannot be written"):
        to_config(StyleNetworkAugment(torch.nn.Identity()))
    with pytest.raises(ConfigError, match="beta"):
        from_config({"pipeline": [{"FourierAmplitudeMix": {"beta": 0.9}}]})


# ---- audio and text configs are written back too ---------------------------------------------------------
def test_shipped_audio_config_round_trips(tmp_path):
    from augloader.audio import AudioConfig

    raw = yaml.safe_load((ROOT / "configs" / "audio.yaml").read_text())
    first = from_config(ROOT / "configs" / "audio.yaml")
    written = to_config(first)
    assert written == {"kind": "audio", **raw} and next(iter(written)) == "kind"
    second = from_config(written)
    assert isinstance(second, AudioConfig) and second.collate == first.collate == raw["collate"]
    assert to_config(second) == written
    assert to_config(second.pipeline) == {"kind": "audio", "pipeline": raw["pipeline"]}
    save_config(second, tmp_path / "audio.yaml")
    assert yaml.safe_load((tmp_path / "audio.yaml").read_text()) == written
    assert to_config(from_config(tmp_path / "audio.yaml")) == written
    x = torch.randn(3, 1, 16000, generator=torch.Generator().manual_seed(0))
    a = first.pipeline(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(second.pipeline(x, generator=torch.Generator().manual_seed(4)), a)


def test_audio_config_write_back_details():
    import warnings

    from augloader.audio import AudioCompose, AudioGaussianNoise, RandomGain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        config = from_config(
            {
                "pipeline": ["Gain", {"AudioGaussianNoise": {"snr_db": [5, 10]}}],
                "collate": {"mode": "crop", "length": 8},
            }
        )
    assert isinstance(config.pipeline.transforms[0], RandomGain)
    # a deprecated name is written under its new name; short forms are normalised
    assert to_config(config) == {
        "kind": "audio",
        "pipeline": [{"RandomGain": {}}, {"AudioGaussianNoise": {"snr_db": [5, 10]}}],
        "collate": {"mode": "crop", "length": 8},
    }
    assert to_config(config.pipeline.transforms[1]) == {
        "kind": "audio",
        "pipeline": [{"AudioGaussianNoise": {"snr_db": [5, 10]}}],
    }
    # built in Python: the recorded arguments are written (only those given)
    assert to_config(AudioCompose([AudioGaussianNoise(), RandomGain(p=0.5)])) == {
        "kind": "audio",
        "pipeline": [{"AudioGaussianNoise": {}}, {"RandomGain": {"p": 0.5}}],
    }


def test_shipped_text_config_round_trips(tmp_path):
    from augloader.text import EDA, BackTranslation
    from augloader.text.mythes import DEFAULT_MYTHES_PATH

    if not Path(DEFAULT_MYTHES_PATH).exists():
        pytest.skip("Debian package 'mythes-en-us' not installed (make testdata)")
    raw = yaml.safe_load((ROOT / "configs" / "text.yaml").read_text())
    first = from_config(ROOT / "configs" / "text.yaml")
    written = to_config(first)
    assert written == {"kind": "text", **raw} and next(iter(written)) == "kind"
    assert written["text"]["back_translation"]["cache"].startswith("~")  # as written, not expanded
    second = from_config(written)
    assert isinstance(second["eda"], EDA) and isinstance(second["back_translation"], BackTranslation)
    assert to_config(second) == written
    save_config(second, tmp_path / "text.yaml")
    assert yaml.safe_load((tmp_path / "text.yaml").read_text()) == written
    assert to_config(second["eda"]) == {
        "kind": "text",
        "text": {"thesaurus": raw["text"]["thesaurus"], "eda": raw["text"]["eda"]},
    }
    import random

    sentence = "the quick brown fox does not jump over the lazy dog"
    assert first["eda"](sentence, rng=random.Random(1)) == second["eda"](sentence, rng=random.Random(1))


def test_text_config_write_back_errors(tmp_path):
    from augloader.text import BackTranslation, build_text_transforms

    built = build_text_transforms(
        {"back_translation": {"cache": str(tmp_path / "c.sqlite"), "p": 0.25, "on_miss": "keep"}}
    )
    assert to_config(built) == {
        "kind": "text",
        "text": {"back_translation": {"cache": str(tmp_path / "c.sqlite"), "p": 0.25, "on_miss": "keep"}},
    }
    # built in Python: its recorded arguments are written (only those given, the translator's too)
    again = BackTranslation(built["back_translation"].translator, pivot="fr", p=0.5)
    assert to_config({"back_translation": again}) == {
        "kind": "text",
        "text": {"back_translation": {"pivot": "fr", "p": 0.5}},
    }

    class Echo:
        name = "echo"

        def translate(self, texts, source, target):
            return list(texts)

    with pytest.raises(ConfigError, match="only an ApertiumTranslator .* got Echo"):
        to_config({"back_translation": BackTranslation(Echo())})
    with pytest.raises(ConfigError, match="argument 'rng' is a Python object"):
        to_config(BackTranslation(again.translator, rng=__import__("random").Random(0)))
    with pytest.raises(ConfigError, match="to_config takes"):
        to_config({"eda": 3})
    with pytest.raises(ConfigError, match="to_config takes"):
        to_config(object())
