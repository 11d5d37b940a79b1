"""Every constructor argument of every public class is checked at construction (issue 16).

The classes come from the packages' ``__all__``, so a new public class cannot be forgotten:
:func:`test_every_public_class_has_an_entry` fails until it has a row in :data:`SPECS` (valid base
arguments and a runner) or in :data:`NOT_HERE` (with the reason). Each argument of each class is then
driven by hypothesis with bad values (NaN, inf, -inf, negatives, zero, bools, strings, None,
wrong-length sequences, sequences holding such values) and must give either

- a ``ValueError`` / ``TypeError`` raised at construction whose message names the argument, or
- a transform that runs on a small finite batch, leaves it untouched and returns finite values,

within a time bound per example (a hang fails, it does not stall the suite).
"""

from __future__ import annotations

import inspect
import math
import os
import re
import signal
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import augloader
import augloader.advanced
import augloader.audio
import augloader.mix
import augloader.targets
from augloader import advanced as AD
from augloader import audio as AU

PACKAGES = (augloader, augloader.audio, augloader.mix, augloader.advanced, augloader.targets)
SECONDS_PER_EXAMPLE = 5.0
#: Examples per argument; raise it for a deeper search (``AUGLOADER_FUZZ_EXAMPLES=500 pytest ...``).
EXAMPLES_PER_ARGUMENT = int(os.environ.get("AUGLOADER_FUZZ_EXAMPLES", "10"))


# ---- inputs and runners -----------------------------------------------------------------------------
def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _finite(out: Any, what: str) -> None:
    """Every floating tensor in ``out`` (a tensor, or a dict / tuple / list of them) is finite."""
    if isinstance(out, torch.Tensor):
        assert not out.is_floating_point() or bool(torch.isfinite(out).all()), f"{what}: non-finite output"
    elif isinstance(out, dict):
        for key, value in out.items():
            _finite(value, f"{what}[{key!r}]")
    elif isinstance(out, (tuple, list)):
        for i, value in enumerate(out):
            _finite(value, f"{what}[{i}]")


def _run_on(obj: Any, batch: Any, **kwargs: Any) -> None:
    """Runs ``obj(batch)``; the batch must come back untouched and the output finite."""
    before = [v.clone() for v in _tensors(batch)]
    out = obj(batch, **kwargs)
    for old, new in zip(before, _tensors(batch)):
        assert torch.equal(old, new), f"{type(obj).__name__} mutated its input"
    _finite(out, type(obj).__name__)


def _tensors(batch: Any) -> list[torch.Tensor]:
    if isinstance(batch, torch.Tensor):
        return [batch]
    values = batch.values() if isinstance(batch, dict) else batch
    return [v for v in values if isinstance(v, torch.Tensor)]


def image_batch() -> torch.Tensor:
    return torch.rand(2, 3, 32, 32, generator=_gen())  # (B, C, H, W) float in [0, 1]


def run_image(t: Any) -> None:
    _run_on(t, image_batch(), generator=_gen())


def run_targets(options: Any) -> None:
    """TargetOptions: a geometric pipeline moves boxes and a mask through them."""
    batch = {
        "image": image_batch(),
        "boxes": torch.tensor([[[2.0, 2.0, 20.0, 20.0]]] * 2),
        "mask": torch.zeros(2, 32, 32, dtype=torch.int64),
    }
    _run_on(augloader.Compose([augloader.RandomRotation(20)], targets=options), batch, generator=_gen())


def run_waveform(t: Any) -> None:
    _run_on(t, torch.randn(2, 1, 400, generator=_gen()) * 0.1, generator=_gen())  # (B, C, T)


def run_spectrogram(t: Any) -> None:
    _run_on(t, torch.rand(2, 1, 24, 30, generator=_gen()), generator=_gen())  # (B, C, F, N)


def run_mix(t: Any) -> None:
    _run_on(t, (image_batch().repeat(2, 1, 1, 1), torch.tensor([0, 1, 2, 3])), generator=_gen())


def run_loss(t: Any) -> None:
    logits = torch.randn(4, 5, generator=_gen())
    target = torch.softmax(torch.randn(4, 5, generator=_gen()), dim=1)
    _finite(t(logits, target), "SoftTargetCrossEntropy")


def run_mixstyle(t: Any) -> None:
    t.train()
    _run_on(t, torch.randn(4, 3, 8, 8, generator=_gen()), generator=_gen())


def run_adversarial(t: Any) -> None:
    _run_on(t, (image_batch(), torch.tensor([0, 1])), generator=_gen())


def run_synthetic_mix(t: Any) -> None:
    images = torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8, generator=_gen())
    _run_on(t, (images, torch.tensor([0, 1, 2, 0])), generator=_gen())


def run_synthetic_dataset(ds: Any) -> None:
    for i in range(len(ds)):
        _finite(ds[i], "SyntheticDataset")


def run_vae(vae: Any) -> None:
    _finite(vae.sample(torch.tensor([0, 0]), _gen()).float(), "ConditionalVAE.sample")


def construct_only(_: Any) -> None:
    """Base classes: nothing to run (they implement no op)."""


def fake_generator(labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 256, (labels.numel(), 1, 8, 8), dtype=torch.uint8, generator=generator)


REAL = [(torch.full((1, 8, 8), i, dtype=torch.uint8), i % 3) for i in range(6)]  # a tiny map-style dataset
TINY_MODEL = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 3))


# ---- the table ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """How to build a class validly (``base``) and check a built instance (``run``)."""

    base: dict = field(default_factory=dict)
    run: Callable[[Any], None] = run_image


A = augloader
SPECS: dict[str, Spec] = {
    # image transforms
    "Transform": Spec(run=construct_only),
    "RandomHorizontalFlip": Spec(),
    "RandomVerticalFlip": Spec(),
    "RandomAffine": Spec({"degrees": 20, "translate": (0.1, 0.1), "scale": (0.8, 1.2), "shear": 5, "center": (8, 8)}),
    "RandomRotation": Spec({"degrees": 30}),
    "RandomPerspective": Spec(),
    "RandomCrop": Spec({"size": 24, "padding": 2}),
    "CenterCrop": Spec({"size": 24}),
    "Pad": Spec({"padding": 2}),
    "Resize": Spec({"size": 16, "max_size": 24}),
    "RandomResizedCrop": Spec({"size": 16}),
    "ColorJitter": Spec({"brightness": 0.3, "contrast": 0.3, "saturation": 0.3, "hue": 0.1}),
    "RandomGrayscale": Spec(),
    "RandomAutocontrast": Spec(),
    "RandomEqualize": Spec(),
    "RandomInvert": Spec(),
    "RandomGamma": Spec(),
    "RandomSolarize": Spec({"threshold": 0.5}),
    "RandomPosterize": Spec({"bits": 4}),
    "GaussianBlur": Spec({"kernel_size": 3}),
    "GaussianNoise": Spec(),
    "SaltAndPepperNoise": Spec(),
    "RandomSharpness": Spec(),
    "RandomErasing": Spec({"p": 1.0}),
    "Normalize": Spec({"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}),
    "ToFloat": Spec(),
    "ToUint8": Spec(),
    "RandAugment": Spec(),
    "TrivialAugmentWide": Spec(),
    "TimmRandAugment": Spec(),
    "Compose": Spec({"transforms": [A.RandomHorizontalFlip(), A.ColorJitter(0.2)]}),
    "RandomApply": Spec({"transforms": [A.RandomInvert(1.0)]}),
    "RandomChoice": Spec({"transforms": [A.RandomInvert(1.0), A.RandomGamma()], "p": [0.5, 0.5]}),
    "RandomOrder": Spec({"transforms": [A.RandomInvert(), A.RandomGamma()]}),
    "TargetOptions": Spec(run=run_targets),
    # mixing
    "MixUpCutMix": Spec({"num_classes": 5}, run_mix),
    "MixUp": Spec({"num_classes": 5}, run_mix),
    "CutMix": Spec({"num_classes": 5}, run_mix),
    "SoftTargetCrossEntropy": Spec(run=run_loss),
    # audio
    "AudioTransform": Spec(run=construct_only),
    "RandomGain": Spec(run=run_waveform),
    "AudioGaussianNoise": Spec(run=run_waveform),
    "RandomBackgroundNoise": Spec({"sounds": torch.randn(2, 300, generator=_gen())}, run_waveform),
    "RandomTimeShift": Spec(run=run_waveform),
    "RandomSpeed": Spec(run=run_waveform),
    "RandomTimeStretch": Spec({"n_fft": 64}, run_waveform),
    "RandomPitchShift": Spec({"n_fft": 64}, run_waveform),
    "Spectrogram": Spec({"n_fft": 64}, run_waveform),
    "MelSpectrogram": Spec({"sample_rate": 8000, "n_fft": 64, "n_mels": 8}, run_waveform),
    "RandomFrequencyMasking": Spec({"max_width": 4}, run_spectrogram),
    "RandomTimeMasking": Spec({"max_width": 4}, run_spectrogram),
    "AudioMixUp": Spec(run=run_waveform),
    "AudioCompose": Spec({"transforms": [AU.RandomGain(), AU.RandomTimeShift()]}, run_waveform),
    # advanced
    "AdversarialAugment": Spec({"model": TINY_MODEL, "steps": 2}, run_adversarial),
    "SyntheticMix": Spec({"generator_fn": fake_generator, "num_classes": 3}, run_synthetic_mix),
    "SyntheticDataset": Spec(
        {"real_dataset": REAL, "generator_fn": fake_generator, "num_classes": 3}, run_synthetic_dataset
    ),
    "ConditionalVAE": Spec({"num_classes": 3, "image_shape": (1, 8, 8), "latent_dim": 2, "width": 2}, run_vae),
    "FourierAmplitudeMix": Spec({"p": 1.0}),
    "RandomStyle": Spec({"p": 1.0}),
    "MixStyle": Spec({"p": 1.0}, run_mixstyle),
    "StyleNetworkAugment": Spec({"style_net": nn.Identity(), "p": 1.0}),
}

#: Public classes this module does not drive, and why.
NOT_HERE: dict[str, str] = {
    "AugmentedDataset": "data layer: its arguments are checked by the data-path tests (issue 16, data part)",
    "BatchAugment": "data layer: as AugmentedDataset",
    "ClassBalancedAugment": "data layer: as AugmentedDataset",
    "DeviceAugmenter": "data layer: as AugmentedDataset",
    "PipelineConfig": "a result of from_config (tests/test_config.py), not built from user arguments",
    "AudioConfig": "a result of load_audio_config, not built from user arguments",
    "AudioView": "the parsed form of a batch (AudioView.parse validates the batch), not a user-facing constructor",
    "Targets": "the parsed targets of a batch (the batch parser validates them), not a user-facing constructor",
}


#: Values a constructor cannot judge alone, so a clear error when the data arrives is the right answer:
#: ``(class or "*", argument) -> pattern of the error message``.
CALL_TIME: dict[tuple[str, str], str] = {
    ("*", "fill"): r"fill has \d+ values but the image has \d+ channels",  # channels are known per call
    ("RandomErasing", "value"): r"value has \d+ values but the image has \d+ channels",
    ("MixUpCutMix", "num_classes"): r"num_classes",  # the batch's labels need (more) classes
    ("MixUp", "num_classes"): r"num_classes",
    ("CutMix", "num_classes"): r"num_classes",
    ("MixUpCutMix", "multi_label"): r"multi_label=True needs multi-hot labels",  # the batch has class indices
    ("TargetOptions", "normalized"): r"for normalized boxes",  # the batch's boxes are in pixels
    ("SyntheticDataset", "real_dataset"): r"real_dataset samples must be",  # samples are read lazily
}


def _call_time_ok(name: str, arg: str, err: Exception) -> bool:
    pattern = CALL_TIME.get((name, arg)) or CALL_TIME.get(("*", arg))
    return isinstance(err, (ValueError, TypeError)) and pattern is not None and re.search(pattern, str(err)) is not None


def public_classes() -> dict[str, type]:
    """Every class in the public packages' ``__all__`` (exceptions aside)."""
    found: dict[str, type] = {}
    for package in PACKAGES:
        for name in package.__all__:
            obj = getattr(package, name)
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                found[name] = obj
    return found


CLASSES = public_classes()


def arguments(cls: type) -> list[str]:
    """The named constructor arguments of ``cls`` (``*args`` / ``**kwargs`` aside)."""
    params = inspect.signature(cls).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


CASES = [(name, arg) for name in sorted(SPECS) if name in CLASSES for arg in arguments(CLASSES[name])]


def test_every_public_class_has_an_entry():
    missing = sorted(set(CLASSES) - set(SPECS) - set(NOT_HERE))
    assert not missing, f"public classes without a row in SPECS (or NOT_HERE, with the reason): {missing}"
    stale = sorted((set(SPECS) | set(NOT_HERE)) - set(CLASSES))
    assert not stale, f"rows for classes that are no longer public: {stale}"


def test_every_spec_builds_and_runs():
    for name, spec in SPECS.items():
        with time_limit(SECONDS_PER_EXAMPLE):
            spec.run(CLASSES[name](**spec.base))


# ---- bad values -----------------------------------------------------------------------------------
SPECIAL = [math.nan, math.inf, -math.inf, -1, -0.5, 0, 0.0, 1e6, -1e6, 1e30, True, False, "1", "x", None]
scalars = st.sampled_from(SPECIAL) | st.floats(-10, 10) | st.integers(-3, 8)


def bad_values(default: Any) -> st.SearchStrategy:
    """Bad or edge values for an argument whose valid base value is ``default``."""
    options = [scalars, st.lists(scalars, max_size=5), st.lists(scalars, max_size=5).map(tuple)]
    if isinstance(default, (list, tuple)) and default and all(isinstance(v, (int, float)) for v in default):
        # one element of a valid sequence replaced: NaN inside a pair, a bool inside a fill, ...
        n = len(default)
        options.append(
            st.tuples(st.integers(0, n - 1), scalars).map(
                lambda iv: type(default)(iv[1] if i == iv[0] else v for i, v in enumerate(default))
            )
        )
    return st.one_of(options)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raises TimeoutError in the block after ``seconds`` (a hang fails instead of stalling the suite)."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _default(cls: type, arg: str, base: dict) -> Any:
    if arg in base:
        return base[arg]
    default = inspect.signature(cls).parameters[arg].default
    return None if default is inspect.Parameter.empty else default


def check_argument(name: str, arg: str, value: Any) -> None:
    """Builds ``name`` with ``arg=value``: a clear error at construction, or a sane transform."""
    cls, spec = CLASSES[name], SPECS[name]
    kwargs = {**spec.base, arg: value}
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            obj = cls(**kwargs)
        except (ValueError, TypeError) as err:
            assert re.search(rf"\b{re.escape(arg)}\b", str(err)), (
                f"{name}({arg}={value!r}) raised {type(err).__name__} without naming {arg!r}: {err}"
            )
            return
        try:
            spec.run(obj)  # accepted: it must then work on finite input and give finite output
        except (ValueError, TypeError) as err:
            if not _call_time_ok(name, arg, err):
                raise


@pytest.mark.parametrize("name, arg", CASES, ids=[f"{n}.{a}" for n, a in CASES])
def test_bad_argument_values(name: str, arg: str) -> None:
    strategy = bad_values(_default(CLASSES[name], arg, SPECS[name].base))

    @settings(max_examples=EXAMPLES_PER_ARGUMENT, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def check(value: Any) -> None:
        check_argument(name, arg, value)

    check()


# ---- the cases the issue names --------------------------------------------------------------------
NAN, INF = math.nan, math.inf
REFUSED = [
    (lambda: A.RandomAffine(degrees=NAN), "degrees"),
    (lambda: A.RandomRotation(INF), "degrees"),
    (lambda: A.RandomAffine(0, scale=(0.9, NAN)), "scale"),
    (lambda: A.RandomAffine(0, shear=(-INF, 3)), "shear"),
    (lambda: A.RandomAffine(0, fill=NAN), "fill"),
    (lambda: A.RandomAffine(0, fill=[0, NAN, 0]), "fill"),
    (lambda: A.RandomAffine(0, center=(NAN, 3)), "center"),
    (lambda: A.Pad(2, fill=[]), "fill"),
    (lambda: A.ColorJitter(brightness=NAN), "brightness"),
    (lambda: A.ColorJitter(contrast=(0.5, INF)), "contrast"),
    (lambda: A.ColorJitter(hue=(NAN, 0.1)), "hue"),
    (lambda: A.GaussianBlur(3, sigma=NAN), "sigma"),
    (lambda: A.GaussianBlur(kernel_size=-3), "kernel_size"),
    (lambda: A.GaussianBlur(kernel_size=(3, 4)), "kernel_size"),
    (lambda: A.GaussianNoise(sigma=INF), "sigma"),
    (lambda: A.RandomGamma(gamma=(NAN, 1.0)), "gamma"),
    (lambda: A.RandomGamma(gain=-1), "gain"),
    (lambda: A.RandomGamma(gain=NAN), "gain"),
    (lambda: A.Normalize([0.5, NAN, 0.5], [0.2] * 3), "mean"),
    (lambda: A.Normalize([0.5] * 3, [0.2, INF, 0.2]), "std"),
    (lambda: A.Resize(16, max_size=8), "max_size"),
    (lambda: A.Resize(16, max_size=16), "max_size"),
    (lambda: A.Resize(16, max_size=-1), "max_size"),
    (lambda: A.RandAugment(magnitude=2.5), "magnitude"),
    (lambda: A.RandAugment(num_ops=True), "num_ops"),
    (lambda: A.RandomPosterize(bits=True), "bits"),
    (lambda: A.RandomSolarize(threshold=NAN), "threshold"),
    (lambda: A.RandomResizedCrop(16, tries=0), "tries"),
    (lambda: A.RandomErasing(tries=0), "tries"),
    (lambda: A.RandomErasing(scale=(0.1, 2.0)), "scale"),
    (lambda: A.RandomCrop(8, pad_if_needed="no"), "pad_if_needed"),
    (lambda: A.RandomChoice([A.RandomInvert(), A.RandomGamma()], p=[NAN, 1.0]), "p"),
    (lambda: A.Compose([A.RandomInvert()], invariances={"max_rotation": NAN}), "max_rotation"),
    (lambda: A.TargetOptions(mask_fill="ignore"), "mask_fill"),
    (lambda: A.TargetOptions(min_area=NAN), "min_area"),
    (lambda: A.ToFloat(p=0), "p"),
    (lambda: A.ToUint8(p=0.5), "p"),
    (lambda: A.MixUp(1.0, correct_lam="no"), "correct_lam"),
    (lambda: AU.RandomGain(gain_db=NAN), "gain_db"),
    (lambda: AU.RandomGain(gain_db=(-6, INF)), "gain_db"),
    (lambda: AU.AudioGaussianNoise(snr_db=(NAN, 10)), "snr_db"),
    (lambda: AU.RandomTimeShift(shift=INF), "shift"),
    (lambda: AU.RandomSpeed(factor=(0.9, NAN)), "factor"),
    (lambda: AU.RandomTimeStretch(rate=(-1.0, 1.0)), "rate"),
    (lambda: AU.RandomPitchShift(semitones=NAN), "semitones"),
    (lambda: AU.RandomFrequencyMasking(4, mask_value=NAN), "mask_value"),
    (lambda: AU.MelSpectrogram(f_min=NAN), "f_min"),
    (lambda: AU.Spectrogram(power=True), "power"),
    (lambda: AU.AudioMixUp(alpha=INF), "alpha"),
    (lambda: AD.MixStyle(eps=-1.0), "eps"),
    (lambda: AD.RandomStyle(shift=NAN), "shift"),
    (lambda: AD.AdversarialAugment(TINY_MODEL, eps="0.1"), "eps"),
]


@pytest.mark.parametrize("build, arg", REFUSED, ids=[a for _, a in REFUSED])
def test_named_cases_are_refused_at_construction(build: Callable[[], Any], arg: str) -> None:
    with pytest.raises((ValueError, TypeError), match=rf"\b{re.escape(arg)}\b"):
        build()


def test_compose_of_a_single_transform_says_to_wrap_it():
    with pytest.raises(TypeError, match=r"Compose takes a list of transforms; got a RandomCrop, wrap it in a list"):
        A.Compose(A.RandomCrop(8))
    with pytest.raises(TypeError, match="AudioCompose takes a list"):
        AU.AudioCompose(AU.RandomGain())


def test_fill_of_the_wrong_length_is_named_at_call_time():
    x = image_batch()  # 3 channels: a fill of 2 values cannot be matched to them
    for t in (
        A.RandomAffine(10, fill=[0.1, 0.2]),
        A.Pad(2, fill=[0.1, 0.2]),
        A.RandAugment(ops=["Rotate"], fill=[0.1, 0.2]),
    ):
        with pytest.raises(ValueError, match="fill has 2 values but the image has 3 channels"):
            t(x)
    with pytest.raises(ValueError, match="value has 2 values"):
        A.RandomErasing(p=1.0, value=[0.1, 0.2])(x)


def test_valid_edge_values_are_kept():
    assert A.Resize(16, max_size=17).max_size == 17
    assert A.Resize([16]).size == 16  # torchvision: a one-item sequence is the shorter edge
    assert A.Normalize(0.5, 0.25).mean.tolist() == [0.5]
    assert A.RandomGamma(gain=0.5).gain == 0.5
    assert A.Compose([A.RandomInvert()], invariances={"max_rotation": math.inf}).invariances == {
        "max_rotation": math.inf
    }
    assert A.TimmRandAugment(magnitude_std=math.inf).magnitude_std == math.inf  # timm: uniform levels
    assert A.TargetOptions(mask_fill=255).mask_fill == 255


def test_messages_never_build_an_unbounded_repr():
    huge = list(range(10**6))
    with pytest.raises(ValueError) as info:
        A.RandomAffine(degrees=huge)
    assert len(str(info.value)) < 300
