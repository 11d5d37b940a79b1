"""``augloader.policies.from_timm``: timm's auto-augment strings as per-sample batched policies.

The references are timm's own objects (``rand_augment_transform``, ``LEVEL_TO_ARG``, ``AugmentOp``)
from the installed timm.
"""

from __future__ import annotations

import doctest
import math
import random

import numpy as np
import pytest
import torch
from photos import natural_batch
from PIL import Image

import augloader as A
from augloader import policies
from augloader.policies import from_timm
from augloader.transforms import timm_augment as TM

TA = pytest.importorskip("timm.data.auto_augment")


def _timm(config: str, hparams=None):
    return TA.rand_augment_transform(config, hparams)


@pytest.mark.parametrize(
    "config",
    [
        "rand-m9-mstd0.5-inc1",
        "rand-n2-m10",
        "rand-m9-mstd0.5",
        "rand-m7-n3-p0.8",
        "rand-m12-mmax15-mstd1",
        "rand-m9-tweights",
        "rand-mstd101-m6",
    ],
)
def test_each_string_builds_timms_ops_and_settings(config):
    ours, theirs = from_timm(config), _timm(config)
    assert isinstance(ours, TM.TimmRandAugment)
    assert list(ours.timm_ops) == [op.name for op in theirs.ops]
    assert ours.num_ops == theirs.num_layers
    first = theirs.ops[0]
    assert ours.magnitude == first.magnitude and ours.p == first.prob
    mstd = first.magnitude_std
    assert ours.magnitude_std == mstd or (math.isinf(mstd) and math.isinf(ours.magnitude_std))
    assert ours.magnitude_max == first.magnitude_max
    if theirs.choice_weights is None:
        assert ours.weights is None
    else:
        w = np.array(ours.weights)
        np.testing.assert_allclose(w / w.sum(), theirs.choice_weights)


def test_inc1_selects_the_increasing_set():
    assert from_timm("rand-m9-inc1").timm_ops == TM.RAND_INCREASING_TRANSFORMS
    assert from_timm("rand-m9-inc0").timm_ops == TM.RAND_TRANSFORMS == from_timm("rand-m9").timm_ops
    # increasing: strength grows with the magnitude (fewer kept bits, lower thresholds, larger |factor - 1|)
    t = from_timm("rand-inc1")
    levels = torch.tensor([[1.0], [5.0], [9.0]])
    params = {"level": levels, "sign": torch.ones(3, 1)}
    arg = {name: t._policy.space.argument(j, t.ops[j], params, 0, (32, 32)) for j, name in enumerate(t.timm_ops)}
    assert (arg["PosterizeIncreasing"].diff() <= 0).all() and arg["PosterizeIncreasing"][0] > arg[
        "PosterizeIncreasing"
    ][-1]
    assert (arg["SolarizeIncreasing"].diff() < 0).all()
    assert ((arg["ContrastIncreasing"] - 1).abs().diff() > 0).all()


def _timm_arg(name: str, level: float, negative: bool, hparams, monkeypatch) -> float:
    monkeypatch.setattr(TA.random, "random", lambda: 0.9 if negative else 0.1)  # timm: negate if random() > 0.5
    return TA.LEVEL_TO_ARG[name](level, hparams)[0]


@pytest.mark.parametrize("name", [n for n, (_, fn) in TM.TIMM_OPS.items() if fn is not None])
def test_magnitude_tables_match_timms_level_functions(name, monkeypatch):
    hparams = dict(TA._HPARAMS_DEFAULT, translate_pct=0.4)
    h, w = 48, 64
    t = TM.TimmRandAugment([name], translate_pct=0.4, translate_const=hparams["translate_const"])
    levels = [0.0, 1.0, 2.5, 3.0, 5.0, 7.0, 7.3, 9.0, 10.0, 13.0]
    for negative in (False, True):
        params = {
            "level": torch.tensor(levels).view(-1, 1),
            "sign": torch.full((len(levels), 1), -1.0 if negative else 1.0),
        }
        ours = t._policy.space.argument(0, t.ops[0], params, 0, (h, w))
        for i, level in enumerate(levels):
            ref = _timm_arg(name, level, negative, hparams, monkeypatch)
            got = float(ours[i])
            if name.startswith("Solarize") and name != "SolarizeAdd":
                got = round(got * 255.0 + 0.5)  # our threshold sits half a level below timm's
            elif name == "SolarizeAdd":
                got = round(got * 255.0)
            elif name in ("TranslateXRel", "TranslateYRel"):
                got = -got / (w if name == "TranslateXRel" else h)  # content shift in pixels -> timm's pct
            elif name in ("TranslateX", "TranslateY"):
                got = -got
            assert got == pytest.approx(ref, rel=1e-5, abs=1e-5), (name, level, negative, got, ref)


def test_mstd_varies_the_magnitude_per_sample_and_stays_clipped():
    n = 4000
    t = from_timm("rand-m9-mstd0.5")
    level = t.sample_params((n, 3, 8, 8), torch.Generator().manual_seed(0))["level"]
    assert level.shape == (n, 2) and level.unique().numel() > 1000  # per sample and per step
    assert float(level.min()) >= 0.0 and float(level.max()) == 10.0  # clipped at timm's default top
    assert abs(float(level[level < 10].mean()) - 9.0) < 0.05
    assert abs(float((level == 10).float().mean()) - 0.0228) < 0.01  # P(N(9, 0.5) > 10)
    wide = from_timm("rand-m9-mstd3-mmax12").sample_params((n, 3, 8, 8), torch.Generator().manual_seed(1))["level"]
    assert float(wide.max()) == 12.0 and float(wide.min()) >= 0.0 and float((wide > 10).float().mean()) > 0.1
    uniform = from_timm("rand-m6-mstd101").sample_params((n, 3, 8, 8), torch.Generator().manual_seed(2))["level"]
    assert float(uniform.min()) >= 0.0 and float(uniform.max()) <= 6.0 and abs(float(uniform.mean()) - 3.0) < 0.1
    fixed = from_timm("rand-m15").sample_params((8, 3, 8, 8))["level"]
    assert torch.equal(fixed, torch.full((8, 2), 10.0))  # m above 10 without mmax: clipped to 10, as timm


def test_mstd_noise_changes_the_applied_strength():
    x = natural_batch(1, 32, 40).expand(64, -1, -1, -1).contiguous()
    t = TM.TimmRandAugment(["Brightness"], num_ops=1, magnitude=5, magnitude_std=2.0, p=1.0)
    y = t(x, generator=torch.Generator().manual_seed(3))
    means = y.float().mean(dim=(1, 2, 3))
    assert means.unique().numel() > 40  # one brightness per sample
    factors = t.last_params["level"][:, 0] / 10 * 1.8 + 0.1
    assert torch.corrcoef(torch.stack([means, factors]))[0, 1] > 0.95


def test_p_gates_each_op():
    n = 4000
    params = from_timm("rand-m9-p0.3").sample_params((n, 3, 8, 8), torch.Generator().manual_seed(4))
    assert abs(float((params["op"] >= 0).float().mean()) - 0.3) < 0.03
    assert bool((from_timm("rand-m9-p1").sample_params((n, 3, 8, 8))["op"] >= 0).all())
    x = natural_batch(6, 32, 40)
    assert torch.equal(from_timm("rand-m9-p0")(x, generator=torch.Generator().manual_seed(5)), x)
    t = from_timm("rand-m9")  # default p: 0.5, as timm's rand
    t(x, generator=torch.Generator().manual_seed(6))
    skipped = t.last_params["op"] < 0
    assert torch.equal(t(x, params=t.last_params)[skipped.all(dim=1)], x[skipped.all(dim=1)])


def test_weights_draw_without_replacement_in_proportion():
    t = from_timm("rand-m9-n3-p1-tweights")
    op = t.sample_params((6000, 3, 8, 8), torch.Generator().manual_seed(7))["op"]
    assert all(len(set(row)) == 3 for row in op[:500].tolist())  # timm: np.random.choice(replace=False)
    first = torch.bincount(op[:, 0], minlength=len(t.ops)).float() / op.shape[0]
    w = torch.tensor(t.weights) / sum(t.weights)
    assert torch.allclose(first, w, atol=0.02)  # the first pick follows the weights


def _timm_op_on(img: torch.Tensor, name: str, magnitude: float, negative: bool, monkeypatch) -> torch.Tensor:
    hparams = dict(translate_const=100, img_mean=(128, 128, 128), interpolation=Image.Resampling.NEAREST)
    op = TA.AugmentOp(name, prob=1.0, magnitude=magnitude, hparams=hparams)
    monkeypatch.setattr(TA.random, "random", lambda: 0.9 if negative else 0.1)
    out = op(Image.fromarray(img.permute(1, 2, 0).numpy()))
    monkeypatch.undo()
    return torch.from_numpy(np.array(out)).permute(2, 0, 1)


GOLDEN = [  # op, magnitudes, (largest difference, share of values that may differ)
    ("Posterize", (3, 7, 10), (0, 0.0)),
    ("PosterizeIncreasing", (3, 7), (0, 0.0)),  # timm's PIL posterize refuses 0 bits (m=10)
    ("Solarize", (3, 7, 10), (0, 0.0)),
    ("SolarizeIncreasing", (3, 7, 10), (0, 0.0)),
    ("SolarizeAdd", (3, 7, 10), (0, 0.0)),
    ("Invert", (5,), (0, 0.0)),
    ("Equalize", (5,), (0, 0.0)),
    ("AutoContrast", (5,), (1, 1.0)),  # PIL truncates its LUT, augloader rounds
    ("ShearX", (3, 10), (0, 0.0)),
    ("ShearY", (3, 10), (0, 0.0)),
    ("TranslateXRel", (3, 10), (0, 0.0)),
    ("TranslateYRel", (3, 10), (0, 0.0)),
    ("Rotate", (3, 7, 10), (255, 0.002)),  # nearest: a pixel centre exactly between two resolves differently
]


@pytest.mark.parametrize("name, magnitudes, tol", GOLDEN)
def test_single_op_matches_timms_pil_op(name, magnitudes, tol, monkeypatch):
    x = natural_batch(2, 48, 64)
    t = TM.TimmRandAugment([name], num_ops=1, p=1.0, interpolation="nearest", translate_const=100)
    for m in magnitudes:
        for negative in (False, True):
            t.magnitude = float(m)
            params = t.sample_params(tuple(x.shape))
            params["sign"][:] = -1.0 if negative else 1.0
            ours = t(x, params=params)
            for i in range(x.shape[0]):
                ref = _timm_op_on(x[i], name, m, negative, monkeypatch)
                diff = (ours[i].int() - ref.int()).abs()
                share = float((diff > 0).float().mean())
                assert int(diff.max()) <= tol[0] and share <= tol[1], (name, m, negative, int(diff.max()), share)


def test_hparams_and_img_size():
    t = from_timm("rand-m9", hparams={"translate_pct": 0.3, "img_mean": (124, 116, 104), "interpolation": "bicubic"})
    assert t._policy.space.translate_pct == 0.3
    assert t._policy.fill == pytest.approx([124 / 255, 116 / 255, 104 / 255])
    assert t._policy.interpolation == "bicubic"
    assert from_timm("rand-m9", img_size=224)._policy.space.translate_const == int(224 * 0.45)
    assert from_timm("rand-m9", img_size=(160, 224))._policy.space.translate_const == int(160 * 0.45)
    assert from_timm("rand-m9")._policy.space.translate_const == 250  # timm's default hparams
    t = from_timm("rand-m9-mstd0.5-mmax12", hparams={"magnitude_std": 1.0, "magnitude_max": 20})
    assert t.magnitude_std == 1.0 and t.magnitude_max == 20  # hparams win (timm's setdefault)
    t = from_timm("rand-m9", transforms={"Rotate": 1.0, "Invert": 3.0})
    assert t.timm_ops == ("Rotate", "Invert") and t.weights == (1.0, 3.0)


def test_ta_wide_is_trivialaugment_wide():
    t = from_timm("ta_wide")
    assert isinstance(t, A.TrivialAugmentWide)
    assert from_timm("ta_wide", hparams={"interpolation": "nearest"})._policy.interpolation == "nearest"


@pytest.mark.parametrize(
    "config, token",
    [
        ("rand-m9-foo", "'foo'"),
        ("rand-x3", "'x3'"),
        ("rand-m9.5", "'m9.5'"),
        ("rand-mstd", "'mstd'"),
        ("rand-w0", "tweights"),
        ("rand-t3a", "'t3a'"),
        ("augmix-m5", "'augmix'"),
        ("original-mstd0.5", "'original'"),
        ("rand-m9-inc", "'inc'"),
        ("", "''"),
    ],
)
def test_unknown_strings_and_tokens_raise_naming_them(config, token):
    with pytest.raises(ValueError, match=token):
        from_timm(config)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="hparams"):
        from_timm("rand-m9", hparams={"translate_cosnt": 100})
    with pytest.raises(ValueError, match="interpolation"):
        from_timm("rand-m9", hparams={"interpolation": "random"})
    with pytest.raises(ValueError, match="Twirl"):
        TM.TimmRandAugment(["Rotate", "Twirl"])
    with pytest.raises(ValueError, match="num_ops"):
        from_timm("rand-n4-tweights", transforms={"Rotate": 1.0, "Invert": 1.0})
    with pytest.raises(TypeError, match="config_str"):
        from_timm(9)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_runs_on_batches_keeps_dtype_and_replays(dtype):
    x = natural_batch(12, 32, 40, dtype)
    t = from_timm("rand-m9-mstd0.5-inc1")
    y = t(x, generator=torch.Generator().manual_seed(8))
    assert y.shape == x.shape and y.dtype == dtype and not torch.equal(y, x)
    assert torch.equal(t(x, params=t.last_params), y)
    meta = torch.empty(5, 3, 32, 40, dtype=dtype, device="meta")
    assert t(meta, generator=torch.Generator().manual_seed(9)).device.type == "meta"


def test_invariances_drop_large_rotations_and_shears():
    t = A.Compose([from_timm("rand-m9")], invariances={"max_rotation": 10, "max_shear": 5})
    policy = t.transforms[0]
    assert "Rotate" not in policy.timm_ops and "ShearX" not in policy.timm_ops
    assert policy._policy.space.names == policy.timm_ops and len(policy.ops) == len(policy.timm_ops)


def test_docstring_example_runs():
    assert doctest.testmod(policies, raise_on_error=False).failed == 0


def test_random_module_left_alone():
    state = random.getstate()
    from_timm("rand-m9")(natural_batch(2, 16, 16), generator=torch.Generator().manual_seed(10))
    assert random.getstate() == state  # draws come from torch generators, not Python's global RNG
