"""MixUp / CutMix: hand-computed values, lambda exactness, modes, targets, determinism, errors."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from augloader.losses import SoftTargetCrossEntropy
from augloader.mix import (
    CutMix,
    MixUp,
    MixUpCutMix,
    cutmix_boxes,
    mix_images,
    mix_labels,
    partner_index,
    partner_weight,
    soft_labels,
)


# ---- helpers ------------------------------------------------------------------------------------------
def make_params(lam, partner, cut=None, box=None, *, pairing="index", mixup=True, cutmix=True, shared=False):
    """A params dict with fixed values (what sample_params returns)."""
    lam = torch.as_tensor(lam, dtype=torch.float32)
    b = lam.shape[0]
    return {
        "lam": lam,
        "use_cutmix": torch.zeros(b, dtype=torch.bool) if cut is None else torch.as_tensor(cut, dtype=torch.bool),
        "box": torch.zeros(b, 4, dtype=torch.int64) if box is None else torch.as_tensor(box, dtype=torch.int64),
        "partner": torch.as_tensor(partner, dtype=torch.int64),
        "static": {"pairing": pairing, "shared": shared, "mixup": mixup, "cutmix": cutmix},
    }


def const_images(b, h=12, w=10, c=3, dtype=torch.float32, device="cpu"):
    """Sample i is filled with the value 10 * (i + 1) (distinct per sample, exact in uint8)."""
    values = 10.0 * torch.arange(1, b + 1, dtype=torch.float64)
    return values.view(b, 1, 1, 1).expand(b, c, h, w).to(dtype=dtype, device=device).contiguous(), values


def own_fraction(out, values, partner):
    """Per sample: share of output pixels coming from itself (CutMix) or blend weight (MixUp)."""
    o = out[:, 0].double().cpu().flatten(1)  # (B, H*W)
    own = values.view(-1, 1)
    other = values[partner.cpu()].view(-1, 1)
    same = own == other
    # a pixel p = l * own + (1 - l) * other  ->  l = (p - other) / (own - other)
    per_pixel = torch.where(
        same, torch.ones_like(o), (o - other) / torch.where(same, torch.ones_like(own), own - other)
    )
    return per_pixel.mean(1)


def reference_mix(x, params):
    """A per-sample loop (timm's ``_mix_elem`` logic) with the given params, for comparison."""
    out = x.clone()
    for i in range(x.shape[0]):
        j = int(params["partner"][i])
        if bool(params["use_cutmix"][i]):
            x0, y0, x1, y1 = (int(v) for v in params["box"][i])
            out[i, :, y0:y1, x0:x1] = x[j, :, y0:y1, x0:x1]
        else:
            lam = float(params["lam"][i])
            out[i] = x[i] * lam + x[j] * (1 - lam)
    return out


# ---- hand-computed expectations -----------------------------------------------------------------------
@pytest.mark.parametrize("smoothing, row0", [(0.0, [0.7, 0.0, 0.3, 0.0]), (0.1, [0.655, 0.025, 0.295, 0.025])])
def test_mixup_hand_computed(smoothing, row0):
    x, _ = const_images(2, 4, 4)  # values 10 and 20
    y = torch.tensor([0, 2])
    params = make_params([0.7, 0.7], [1, 0], pairing="half", cutmix=False)
    mixer = MixUp(1.0, num_classes=4, label_smoothing=smoothing)
    out, target = mixer((x, y), params=params)
    assert torch.allclose(out[0], torch.full_like(out[0], 0.7 * 10 + 0.3 * 20))
    assert torch.allclose(out[1], torch.full_like(out[1], 0.7 * 20 + 0.3 * 10))
    assert torch.allclose(target[0], torch.tensor(row0), atol=1e-6)
    assert torch.allclose(target[1], torch.tensor(row0[2:] + row0[:2]), atol=1e-6)  # classes swapped
    assert torch.allclose(target.sum(1), torch.ones(2))


def test_cutmix_hand_computed():
    x, _ = const_images(2, 4, 4, c=1)
    params = make_params([0.75, 0.75], [1, 0], cut=[True, True], box=[[1, 1, 3, 3]] * 2, pairing="half", mixup=False)
    out, target = CutMix(1.0, num_classes=3)((x, torch.tensor([0, 1])), params=params)
    expected0 = torch.full((4, 4), 10.0)
    expected0[1:3, 1:3] = 20.0
    assert torch.equal(out[0, 0], expected0)
    assert torch.equal(out[1, 0], 30.0 - expected0)
    assert torch.allclose(target, torch.tensor([[0.75, 0.25, 0.0], [0.25, 0.75, 0.0]]))


def test_lambda_one_is_identity():
    x = torch.rand(4, 3, 6, 6)
    y = torch.tensor([0, 1, 2, 1])
    params = make_params([1.0] * 4, [2, 3, 0, 1], pairing="half")
    out, target = MixUpCutMix(num_classes=3, label_smoothing=0.3)((x, y), params=params)
    assert torch.equal(out, x)
    assert torch.allclose(target, soft_labels(y, 3, 0.3))
    assert torch.allclose(target[0], torch.tensor([0.8, 0.1, 0.1]))


def test_soft_label_smoothing_values():
    t = soft_labels(torch.tensor([1]), 4, 0.2)
    assert torch.allclose(t, torch.tensor([[0.05, 0.85, 0.05, 0.05]]))
    one_hot = F.one_hot(torch.tensor([1]), 4).float()
    assert torch.allclose(soft_labels(one_hot, None, 0.2), t)  # one-hot rows smooth like class indices
    multi = soft_labels(torch.tensor([[1, 0, 1]]), 3, 0.2, multi_label=True)
    assert torch.allclose(multi, torch.tensor([[0.9, 0.1, 0.9]]))  # towards 0.5, as timm


def test_cutmix_box_sizes_follow_lambda():
    lam = torch.tensor([0.75, 0.0, 1.0, 0.36])
    g = torch.Generator().manual_seed(3)
    boxes = cutmix_boxes(lam, (40, 20), generator=g)
    side_h = (40 * torch.sqrt(1 - lam.double())).floor()
    side_w = (20 * torch.sqrt(1 - lam.double())).floor()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    assert (h <= side_h).all() and (w <= side_w).all()  # clipping only shrinks
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 20).all() and (boxes[:, 3] <= 40).all()
    assert h[1] >= 20 and w[1] >= 10 and h[2] == 0  # lam 0: an image-sized box around the centre; lam 1: empty
    mm = cutmix_boxes(torch.ones(500), (40, 20), minmax=(0.2, 0.5), generator=g)
    mh, mw = mm[:, 3] - mm[:, 1], mm[:, 2] - mm[:, 0]
    assert mh.min() >= 8 and mh.max() < 20 and mw.min() >= 4 and mw.max() < 10
    assert (mm[:, 2] <= 20).all() and (mm[:, 3] <= 40).all()  # minmax boxes lie inside the image


# ---- lambda exactness on the actual output -----------------------------------------------------------------
@pytest.mark.parametrize("mode", ["batch", "pair", "elem"])
@pytest.mark.parametrize("pairing", ["half", "flip", "permute"])
@pytest.mark.parametrize("b", [1, 2, 7, 16])
def test_lambda_equals_own_pixel_fraction(mode, pairing, b):
    x, values = const_images(b, 23, 17)
    mixer = MixUpCutMix(0.5, 1.0, 0.5, 0.9, mode, num_classes=5, pairing=pairing)
    g = torch.Generator().manual_seed(b * 31 + len(mode))
    out, _ = mixer((x, torch.zeros(b, dtype=torch.long)), generator=g)
    p = mixer.last_params
    assert torch.allclose(own_fraction(out, values, p["partner"]).float(), p["lam"], atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(
    b=st.integers(1, 9),
    h=st.integers(1, 19),
    w=st.integers(1, 19),
    seed=st.integers(0, 2**31 - 1),
    mode=st.sampled_from(["batch", "pair", "elem"]),
    pairing=st.sampled_from(["half", "flip", "permute"]),
    minmax=st.sampled_from([None, (0.2, 0.8)]),
    smoothing=st.sampled_from([0.0, 0.1]),
)
def test_property_lambda_exact_and_rows_sum_to_one(b, h, w, seed, mode, pairing, minmax, smoothing):
    x, values = const_images(b, h, w, c=2)
    y = torch.randint(0, 4, (b,), generator=torch.Generator().manual_seed(seed))
    mixer = MixUpCutMix(1.0, 1.0, 0.5, 1.0, mode, smoothing, 4, cutmix_minmax=minmax, pairing=pairing)
    out, target = mixer((x, y), generator=torch.Generator().manual_seed(seed))
    p = mixer.last_params
    assert torch.allclose(own_fraction(out, values, p["partner"]).float(), p["lam"], atol=1e-5)
    assert torch.allclose(target.sum(1), torch.ones(b), atol=1e-5)
    assert ((p["lam"] >= 0) & (p["lam"] <= 1)).all()


def test_uncorrected_lambda_keeps_the_drawn_value():
    x, values = const_images(64, 16, 16)
    kw = dict(mixup_alpha=0.0, cutmix_alpha=1.0, mode="elem", num_classes=2)
    corrected, raw = MixUpCutMix(**kw), MixUpCutMix(**kw, correct_lam=False)
    y = torch.zeros(64, dtype=torch.long)
    out_c, _ = corrected((x, y), generator=torch.Generator().manual_seed(5))
    out_r, _ = raw((x, y), generator=torch.Generator().manual_seed(5))
    assert torch.equal(out_c, out_r)  # same boxes
    pc, pr = corrected.last_params, raw.last_params
    assert torch.allclose(own_fraction(out_r, values, pr["partner"]).float(), pc["lam"], atol=1e-5)
    assert not torch.allclose(pc["lam"], pr["lam"])  # clipped boxes: drawn lambda != pixel share


# ---- modes, pairing, randomness -----------------------------------------------------------------------------
def test_elem_mode_draws_per_sample():
    mixer = MixUpCutMix(1.0, 1.0, mode="elem", num_classes=10)
    x = torch.rand(32, 3, 20, 20)
    out, _ = mixer((x, torch.randint(0, 10, (32,))), generator=torch.Generator().manual_seed(0))
    p = mixer.last_params
    cut = p["use_cutmix"]
    assert 0 < int(cut.sum()) < 32  # both ops in one batch
    assert p["lam"].unique().numel() > 16
    assert p["box"][cut].unique(dim=0).shape[0] > 4  # boxes differ across samples
    assert torch.allclose(out, reference_mix(x, p), atol=1e-6)  # the vectorised pass equals a per-sample loop


def test_pair_and_batch_modes_share_draws():
    x = torch.rand(10, 3, 16, 16)
    y = torch.zeros(10, dtype=torch.long)
    for pairing in ("half", "flip", "permute"):
        pair = MixUpCutMix(1.0, 1.0, mode="pair", num_classes=2, pairing=pairing)
        pair((x, y), generator=torch.Generator().manual_seed(1))
        p = pair.last_params
        partner = p["partner"]
        assert torch.equal(partner[partner], torch.arange(10))  # an involution
        assert torch.equal(p["lam"], p["lam"][partner]) and torch.equal(p["box"], p["box"][partner])
    batch = MixUpCutMix(1.0, 1.0, mode="batch", num_classes=2, pairing="flip")
    batch((x[:9], y[:9]), generator=torch.Generator().manual_seed(2))
    p = batch.last_params
    mixed = p["partner"] != torch.arange(9)
    assert p["lam"][mixed].unique().numel() == 1 and p["lam"][4] == 1.0  # the middle sample pairs with itself


def test_partner_index():
    assert partner_index(5, "half", "elem").tolist() == [2, 3, 0, 1, 4]
    assert partner_index(5, "flip", "elem").tolist() == [4, 3, 2, 1, 0]
    perm = partner_index(8, "permute", "elem", torch.Generator().manual_seed(0))
    assert sorted(perm.tolist()) == list(range(8))


def test_determinism_and_replay():
    x = torch.rand(12, 3, 16, 16)
    y = torch.randint(0, 5, (12,))
    mixer = MixUpCutMix(mode="elem", num_classes=5, pairing="permute")
    a = mixer((x, y), generator=torch.Generator().manual_seed(7))
    pa = mixer.last_params
    b = mixer((x, y), generator=torch.Generator().manual_seed(7))
    c = mixer((x, y), generator=torch.Generator().manual_seed(8))
    replay = mixer((x, y), params=pa)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(a[0], replay[0]) and torch.equal(a[1], replay[1])
    assert not torch.equal(a[0], c[0])


def test_mixers_follow_the_shared_protocol_and_write_back():
    import augloader
    from augloader._init_args import init_args
    from augloader._protocol import ReplayMixin
    from augloader.config import PipelineConfig, from_config, to_config

    mixers = [
        MixUpCutMix(0.4, 1.0, mode="pair", num_classes=5, pairing="flip", out_dtype=torch.float32),
        MixUp(0.3, num_classes=5, label_smoothing=0.1, mode="elem"),
        CutMix(1.0, num_classes=5, minmax=(0.2, 0.6)),
    ]
    assert init_args(mixers[1]) == {"alpha": 0.3, "num_classes": 5, "label_smoothing": 0.1, "mode": "elem"}
    x = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    y = torch.randint(0, 5, (8,))
    for mixer in mixers:
        assert isinstance(mixer, ReplayMixin)
        config = PipelineConfig(augloader.Compose([augloader.RandomHorizontalFlip()]), mix=mixer)
        written = to_config(config)
        rebuilt = from_config(written)
        assert to_config(rebuilt) == written and type(rebuilt.mix) is type(mixer)
        out = mixer((x, y), generator=torch.Generator().manual_seed(3))
        again = rebuilt.mix((x, y), generator=torch.Generator().manual_seed(3))
        replay = mixer((x, y), params=mixer.last_params)
        for a, b in ((out, again), (out, replay)):
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert to_config(PipelineConfig(augloader.Compose([augloader.RandomHorizontalFlip()]), mix=mixers[0]))["mix"] == {
        "MixUpCutMix": {
            "mixup_alpha": 0.4,
            "cutmix_alpha": 1.0,
            "mode": "pair",
            "num_classes": 5,
            "pairing": "flip",
            "out_dtype": "float32",
        }
    }
    with pytest.raises(TypeError, match="params must be a dict"):
        mixers[0]((x.float(), y), params=[0.5])


def test_draw_statistics():
    mixer = MixUpCutMix(0.4, 1.0, switch_prob=0.3, prob=0.8, mode="elem", num_classes=2)
    p = mixer.sample_params(40000, (32, 32), torch.Generator().manual_seed(0))
    mixed = p["lam"] < 1
    assert abs(mixed.float().mean().item() - 0.8) < 0.02
    assert abs(p["use_cutmix"].float().mean().item() - 0.8 * 0.3) < 0.02
    lam_mix = p["lam"][mixed & ~p["use_cutmix"]].double()
    assert abs(lam_mix.mean().item() - 0.5) < 0.02
    assert abs(lam_mix.var().item() - 1 / (4 * (2 * 0.4 + 1))) < 0.01  # Beta(a, a) variance


def test_input_never_mutated():
    x = torch.rand(6, 3, 8, 8)
    x8 = (x * 255).to(torch.uint8)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    mask = torch.randint(0, 3, (6, 8, 8))
    boxes = torch.rand(6, 2, 4) * 4 + torch.tensor([0, 0, 4, 4])
    batch = {"image": x8, "label": y, "mask": mask, "boxes": boxes}
    saved = {k: v.clone() for k, v in batch.items()}
    for mixer in (MixUpCutMix(mode="elem", num_classes=3), MixUpCutMix(mode="elem", num_classes=3, pairing="flip")):
        mixer((x.clone(), y), generator=torch.Generator().manual_seed(0))
        xc = x.clone()
        mixer((xc, y))
        assert torch.equal(xc, x)
    CutMix(1.0, 3, mode="elem")(batch, generator=torch.Generator().manual_seed(1))
    MixUp(1.0, 3)({"image": x8, "label": y, "boxes": boxes})
    for k, v in saved.items():
        assert torch.equal(batch[k], v), k


# ---- dtypes ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pairing, b", [("half", 8), ("half", 7), ("flip", 8), ("permute", 5)])
def test_uint8_cutmix_exact_and_mixup_rounded(pairing, b):
    x = torch.randint(0, 256, (b, 3, 15, 13), dtype=torch.uint8)
    y = torch.zeros(b, dtype=torch.long)
    cut = CutMix(1.0, 2, mode="elem", pairing=pairing)
    out8, _ = cut((x, y), generator=torch.Generator().manual_seed(0))
    assert out8.dtype == torch.uint8
    assert torch.equal(out8, reference_mix(x, cut.last_params))  # bit-exact copies
    mix = MixUpCutMix(mode="elem", num_classes=2, pairing=pairing)
    out8, _ = mix((x, y), generator=torch.Generator().manual_seed(0))
    exact = reference_mix(x.double(), mix.last_params)
    assert out8.dtype == torch.uint8
    assert (out8.double() - exact).abs().max() <= 0.5 + 1e-4  # rounded to nearest
    as_float = MixUpCutMix(mode="elem", num_classes=2, out_dtype=torch.float32, pairing=pairing)
    outf, _ = as_float((x, y), params=mix.last_params)
    assert outf.dtype == torch.float32 and torch.allclose(outf, exact.float() / 255, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_float_dtypes_kept(dtype):
    x = torch.rand(4, 3, 8, 8).to(dtype)
    mixer = MixUpCutMix(mode="elem", num_classes=2)
    out, _ = mixer((x, torch.zeros(4, dtype=torch.long)), generator=torch.Generator().manual_seed(0))
    assert out.dtype == dtype
    assert torch.allclose(out.double(), reference_mix(x.double(), mixer.last_params), atol=1e-2)


def test_out_buffer():
    x = torch.rand(6, 3, 8, 8)
    y = torch.zeros(6, dtype=torch.long)
    mixer = MixUpCutMix(mode="elem", num_classes=2)
    buf = torch.empty_like(x)
    out, _ = mixer((x, y), generator=torch.Generator().manual_seed(0), out=buf)
    assert out is buf and torch.allclose(out, reference_mix(x, mixer.last_params), atol=1e-6)
    with pytest.raises(ValueError, match="share memory"):
        mixer((x, y), out=x)
    with pytest.raises(ValueError, match="contiguous"):
        mixer((x, y), out=torch.empty(6, 3, 8, 8, dtype=torch.float64))


# ---- labels -------------------------------------------------------------------------------------------------
def test_label_formats_agree():
    y = torch.tensor([3, 0, 1, 2, 2])
    x = torch.rand(5, 3, 8, 8)
    mixer = MixUpCutMix(mode="elem", num_classes=4, label_smoothing=0.1)
    _, t_int = mixer((x, y), generator=torch.Generator().manual_seed(0))
    _, t_hot = mixer((x, F.one_hot(y, 4).float()), params=mixer.last_params)
    assert torch.allclose(t_int, t_hot, atol=1e-6)
    soft = torch.softmax(torch.randn(5, 4), 1)
    _, t_soft = mixer((x, soft), params=mixer.last_params)
    assert torch.allclose(t_soft.sum(1), torch.ones(5), atol=1e-6)


def test_multi_label():
    y = torch.tensor([[1, 0, 1], [0, 1, 0]])
    x = torch.rand(2, 3, 4, 4)
    params = make_params([0.7, 0.7], [1, 0], pairing="half", cutmix=False)
    mixer = MixUp(1.0, num_classes=3, label_smoothing=0.2, multi_label=True)
    _, target = mixer((x, y), params=params)
    a, b = torch.tensor([0.9, 0.1, 0.9]), torch.tensor([0.1, 0.9, 0.1])
    assert torch.allclose(target, torch.stack([0.7 * a + 0.3 * b, 0.7 * b + 0.3 * a]), atol=1e-6)
    loss = torch.nn.BCEWithLogitsLoss()(torch.zeros(2, 3), target)
    assert torch.isfinite(loss)


def test_timm_label_parity():
    timm_mixup = pytest.importorskip("timm.data.mixup")
    y = torch.randint(0, 7, (8,))
    lam = torch.rand(8)
    flip = torch.arange(7, -1, -1)
    ours = mix_labels(soft_labels(y, 7, 0.1), lam, flip)
    theirs = timm_mixup.mixup_target(y, 7, lam.view(-1, 1), 0.1)
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_soft_target_cross_entropy():
    logits = torch.randn(5, 4)
    target = torch.softmax(torch.randn(5, 4), 1)
    loss = SoftTargetCrossEntropy()
    assert torch.allclose(loss(logits, target), F.cross_entropy(logits, target))
    hard = F.one_hot(torch.tensor([0, 1, 2, 3, 0]), 4).float()
    assert torch.allclose(loss(logits, hard), F.cross_entropy(logits, torch.tensor([0, 1, 2, 3, 0])))
    assert loss.__class__(reduction="none")(logits, target).shape == (5,)
    with pytest.raises(ValueError, match="shape"):
        loss(logits, target[:, :3])


# ---- segmentation and detection targets --------------------------------------------------------------------
@pytest.mark.parametrize(
    "mask_shape, dtype", [((9, 12, 10), torch.int64), ((9, 2, 12, 10), torch.float32), ((9, 12, 10), torch.bool)]
)
def test_cutmix_pastes_masks(mask_shape, dtype):
    x, values = const_images(9, 12, 10)
    mask = (torch.arange(9).view(9, *[1] * (len(mask_shape) - 1)) + torch.zeros(mask_shape)).to(dtype)
    mixer = CutMix(1.0, 3, mode="elem", pairing="permute")
    out = mixer(
        {"image": x, "label": torch.zeros(9, dtype=torch.long), "mask": mask},
        generator=torch.Generator().manual_seed(4),
    )
    p = mixer.last_params
    src = torch.where(
        out["image"][:, 0] == values.view(-1, 1, 1).float(), torch.arange(9).view(-1, 1, 1), p["partner"].view(-1, 1, 1)
    )
    expected = src.view(9, *[1] * (len(mask_shape) - 3), 12, 10).expand(mask_shape).to(dtype)
    assert out["mask"].dtype == dtype and torch.equal(out["mask"], expected)


def test_mixup_refuses_masks():
    batch = {"image": torch.rand(2, 3, 4, 4), "label": torch.tensor([0, 1]), "mask": torch.zeros(2, 4, 4)}
    for mixer in (MixUp(1.0, 2), MixUpCutMix(num_classes=2)):
        with pytest.raises(ValueError, match="MixUp cannot blend segmentation masks"):
            mixer(batch)


def test_detection_boxes_cutmix_and_mixup():
    x = torch.rand(2, 3, 10, 10)
    nan = float("nan")
    boxes = torch.tensor(
        [
            [[0, 0, 4, 10], [4, 0, 10, 10], [nan, nan, nan, nan]],  # sample 0 (third slot is padding)
            [[5, 5, 9, 9], [0, 0, 2, 2], [5, 0, 10, 2]],  # sample 1
        ]
    )
    valid = torch.tensor([[True, True, False], [True, True, True]])
    labels = torch.tensor([[1, 2, -1], [3, 4, 5]])
    # sample 0: CutMix with the left 6 columns from sample 1; sample 1: MixUp with lam 0.6.
    params = make_params([0.4, 0.6], [1, 0], cut=[True, False], box=[[0, 0, 6, 10], [0, 0, 0, 0]], pairing="half")
    mixer = MixUpCutMix(num_classes=2, min_visibility=0.25)
    out = mixer({"image": x, "boxes": boxes, "boxes_valid": valid, "box_labels": labels}, params=params)
    assert out["boxes"].shape == (2, 6, 4)
    exp_valid = torch.tensor([[False, True, False, True, True, False], [True, True, True, True, True, False]])
    assert torch.equal(out["boxes_valid"], exp_valid)
    # own [0,0,4,10] is fully covered (dropped); [4,0,10,10] keeps 2/3 and is trimmed to the visible part
    assert torch.equal(out["boxes"][0, 1], torch.tensor([6.0, 0, 10, 10]))
    # partner boxes clipped to the region: [5,5,9,9] -> [5,5,6,9] (1/4 visible: kept), [0,0,2,2] whole,
    # [5,0,10,2] -> 1/5 visible: dropped
    assert torch.equal(out["boxes"][0, 3:5], torch.tensor([[5.0, 5, 6, 9], [0, 0, 2, 2]]))
    assert torch.equal(out["boxes"][0, 5], torch.zeros(4))
    assert torch.equal(out["boxes"][1, :3], boxes[1]) and torch.equal(out["boxes"][1, 3:5], boxes[0, :2])
    assert torch.allclose(out["box_weights"], torch.tensor([[0, 1, 0, 1, 1, 0], [0.6, 0.6, 0.6, 0.4, 0.4, 0]]))
    assert torch.equal(out["box_labels"], torch.tensor([[1, 2, -1, 3, 4, 5], [3, 4, 5, 1, 2, -1]]))
    assert torch.isfinite(out["boxes"]).all()


def test_detection_without_labels_or_valid():
    g = torch.Generator().manual_seed(0)
    boxes = torch.tensor([[[1.0, 1, 5, 5]], [[2.0, 2, 8, 8]], [[0.0, 0, 3, 3]]])
    out = MixUp(1.0)({"image": torch.rand(3, 3, 10, 10), "boxes": boxes, "id": "keep"}, generator=g)
    assert out["id"] == "keep" and "label" not in out
    assert out["boxes_valid"][:, 0].all() and not out["boxes_valid"][2, 1]  # the odd sample out has no partner boxes


# ---- switches ---------------------------------------------------------------------------------------------------
def test_enabled_switch_and_epoch_schedule():
    x = torch.rand(4, 3, 8, 8)
    y = torch.tensor([0, 1, 2, 3])
    mixer = MixUpCutMix(num_classes=4, label_smoothing=0.1, off_epoch=10)
    mixer.set_epoch(9)
    assert mixer.enabled
    mixer.set_epoch(10)
    assert not mixer.enabled
    out, target = mixer((x, y), generator=torch.Generator().manual_seed(0))
    assert out is x and torch.allclose(target, soft_labels(y, 4, 0.1))
    assert torch.equal(mixer.last_params["lam"], torch.ones(4))
    mixer.enabled = True
    out, _ = mixer((x, y), generator=torch.Generator().manual_seed(0))
    assert not torch.equal(out, x)


def test_prob_zero_is_identity():
    x = torch.rand(6, 3, 8, 8)
    out, _ = MixUpCutMix(prob=0.0, mode="elem", num_classes=2)((x, torch.zeros(6, dtype=torch.long)))
    assert torch.equal(out, x)


def test_pickle_and_deepcopy_after_use():
    mixer = MixUpCutMix(mode="elem", num_classes=2)
    mixer(((torch.rand(4, 3, 8, 8) * 255).to(torch.uint8), torch.zeros(4, dtype=torch.long)))
    assert mixer._scratch  # CPU scratch kept between calls
    clone = pickle.loads(pickle.dumps(mixer))
    assert clone._scratch == {} and copy.deepcopy(mixer)._scratch == {}


def test_empty_batch():
    out, target = MixUpCutMix(mode="elem", num_classes=3)((torch.rand(0, 3, 8, 8), torch.zeros(0, dtype=torch.long)))
    assert out.shape == (0, 3, 8, 8) and target.shape == (0, 3)


# ---- errors -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mixup_alpha=0.0, cutmix_alpha=0.0), "nothing to mix"),
        (dict(mixup_alpha=-1.0), "mixup_alpha"),
        (dict(mode="pairs"), "mode"),
        (dict(pairing="roll"), "pairing"),
        (dict(prob=1.5), "prob"),
        (dict(label_smoothing=1.0), "label_smoothing"),
        (dict(num_classes=0), "num_classes"),
        (dict(cutmix_minmax=(0.8, 0.2)), "minmax"),
        (dict(out_dtype=torch.int32), "out_dtype"),
        (dict(tile_bytes=0), "tile_bytes"),
        (dict(min_visibility=2.0), "min_visibility"),
    ],
)
def test_bad_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixUpCutMix(**kwargs)


def test_preset_arguments():
    with pytest.raises(ValueError, match="alpha > 0"):
        MixUp(0.0)
    with pytest.raises(TypeError, match="MixUpCutMix"):
        CutMix(1.0, cutmix_alpha=2.0)
    assert CutMix(0.0, minmax=(0.2, 0.8)).cutmix_minmax == (0.2, 0.8)


def test_bad_batches():
    x = torch.rand(4, 3, 8, 8)
    mixer = MixUpCutMix(num_classes=3)
    cases = [
        (x, TypeError, "bare image tensor"),
        ((x, torch.tensor([0, 1, 2, 3])), ValueError, r"\[0, 3\)"),
        ((x, torch.tensor([0, 1])), ValueError, "B = 4"),
        ((x, torch.rand(4)), TypeError, "integer"),
        ((x, torch.rand(4, 5)), ValueError, "num_classes = 3"),
        ((x[0], torch.tensor([0])), ValueError, r"\(B, C, H, W\)"),
        ((x.int(), torch.zeros(4, dtype=torch.long)), TypeError, "dtype"),
        ({"label": torch.zeros(4)}, KeyError, "image"),
        ({"image": x, "keypoints": torch.zeros(4, 1, 2)}, ValueError, "keypoints"),
        ({"image": x, "boxes": torch.zeros(4, 2)}, ValueError, r"\(B, N, 4\)"),
        ({"image": x, "boxes": torch.zeros(4, 2, 4, dtype=torch.long)}, TypeError, "float"),
        (
            {"image": x, "boxes": torch.zeros(4, 2, 4), "boxes_valid": torch.ones(4, 3, dtype=torch.bool)},
            ValueError,
            "boxes_valid",
        ),
        ({"image": x, "mask": torch.zeros(4, 7, 8)}, ValueError, "mask"),
    ]
    for batch, err, match in cases:
        with pytest.raises(err, match=match):
            mixer(batch)
    with pytest.raises(ValueError, match="multi_label"):
        MixUpCutMix(num_classes=3, multi_label=True)((x, torch.tensor([0, 1, 2, 0])))
    with pytest.raises(ValueError, match="num_classes is needed"):
        MixUpCutMix()((x, torch.tensor([0, 1, 2, 0])))
    good = mixer((x, torch.tensor([0, 1, 2, 0])))
    assert good[1].shape == (4, 3)
    with pytest.raises(ValueError, match="expected"):
        mixer((x[:2], torch.tensor([0, 1])), params=mixer.last_params)  # params of a batch of 4


# ---- devices --------------------------------------------------------------------------------------------------------
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_cpu_matches_cuda(dtype):
    x = (torch.rand(10, 3, 16, 16) * 255).to(dtype)
    y = torch.randint(0, 4, (10,))
    mask = torch.randint(0, 4, (10, 16, 16))
    boxes = torch.rand(10, 3, 2).repeat(1, 1, 2) * 8 + torch.tensor([0, 0, 4, 4])
    for mixer, batch in (
        (MixUpCutMix(mode="elem", num_classes=4, pairing="permute"), {"image": x, "label": y, "boxes": boxes}),
        (CutMix(1.0, 4, mode="elem"), {"image": x, "label": y, "mask": mask}),
    ):
        cpu = mixer(batch, generator=torch.Generator().manual_seed(0))
        gpu = mixer({k: v.cuda() for k, v in batch.items()}, generator=torch.Generator().manual_seed(0))
        for key, value in cpu.items():
            assert torch.allclose(
                value.double(), gpu[key].cpu().double(), atol=1.0 if dtype == torch.uint8 else 1e-5
            ), key


def test_functional_mix_images_matches_module():
    x = torch.rand(5, 3, 9, 9)
    mixer = MixUpCutMix(mode="elem", num_classes=2)
    out, _ = mixer((x, torch.zeros(5, dtype=torch.long)), generator=torch.Generator().manual_seed(0))
    assert torch.equal(mix_images(x, mixer.last_params), out)


@pytest.mark.parametrize("pairing", ["half", "flip", "permute"])
@pytest.mark.parametrize("b", [7, 8])
def test_tiling_does_not_change_the_result(pairing, b):
    x = torch.rand(b, 3, 11, 9)
    x8 = (x * 255).to(torch.uint8)
    y = torch.zeros(b, dtype=torch.long)
    for mode in ("elem", "batch"):
        for kwargs in (dict(), dict(mixup_alpha=0.0), dict(cutmix_alpha=0.0)):
            for image, out_dtype in ((x, None), (x8, None), (x8, torch.float32)):
                one = MixUpCutMix(
                    mode=mode, num_classes=2, pairing=pairing, out_dtype=out_dtype, tile_bytes=None, **kwargs
                )
                tiled = MixUpCutMix(
                    mode=mode, num_classes=2, pairing=pairing, out_dtype=out_dtype, tile_bytes=1, **kwargs
                )
                a, _ = one((image, y), generator=torch.Generator().manual_seed(b))
                t, _ = tiled((image, y), params=one.last_params)
                assert torch.equal(a, t), (mode, kwargs, image.dtype, out_dtype)
                ref = reference_mix(image.double(), one.last_params) / (255 if out_dtype else 1)
                assert (a.double() - ref).abs().max() <= (0.5 + 1e-4 if a.dtype == torch.uint8 else 1e-5)


def _collate_with_mix(samples):
    mixer = MixUpCutMix(mode="elem", num_classes=3, label_smoothing=0.1)
    images = torch.stack([s[0] for s in samples])
    labels = torch.tensor([s[1] for s in samples])
    return mixer((images, labels), generator=torch.Generator().manual_seed(len(samples)))


def test_collate_stage_in_a_dataloader_worker():
    data = [((torch.arange(3 * 8 * 8) % 251).view(3, 8, 8).to(torch.uint8) + i, i % 3) for i in range(5)]
    loader = torch.utils.data.DataLoader(data, batch_size=5, num_workers=1, collate_fn=_collate_with_mix)
    images, targets = next(iter(loader))
    expected_images, expected_targets = _collate_with_mix(data)
    assert images.dtype == torch.uint8 and torch.equal(images, expected_images)
    assert torch.allclose(targets, expected_targets)


def test_partner_weight_layouts():
    p = make_params([0.7, 0.25], [1, 0], cut=[False, True], box=[[0, 0, 0, 0], [1, 0, 3, 2]], pairing="half")
    w = partner_weight(p, (2, 4))
    expected = torch.tensor([[[0.3] * 4, [0.3] * 4], [[0, 1, 1, 0], [0, 1, 1, 0]]]).unsqueeze(1)
    assert w.shape == (2, 1, 2, 4) and torch.allclose(w, expected)
    mixup_only = make_params([0.7, 0.6], [1, 0], pairing="half", cutmix=False)
    assert partner_weight(mixup_only, (2, 4)).shape == (2, 1, 1, 1)  # no per-pixel weight needed


# ---- the one Beta sampler ------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.2, 0.4, 1.0, 2.0, 8.0])
def test_beta_draws_match_the_beta_mean_and_variance(alpha):
    from augloader.mix._params import beta

    lam = beta(20000, alpha, torch.Generator().manual_seed(7))
    assert lam.dtype == torch.float64 and lam.shape == (20000,)
    assert bool(((lam >= 0) & (lam <= 1)).all())
    var = 1.0 / (4 * (2 * alpha + 1))  # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
    assert abs(float(lam.mean()) - 0.5) < 5 * (var / 20000) ** 0.5
    assert abs(float(lam.var()) / var - 1) < 0.05


def test_beta_same_generator_same_draws_and_no_private_torch_api():
    import inspect

    import augloader.audio.mix as audio_mix
    import augloader.mix._params as params

    a = params.beta(1000, 0.4, torch.Generator().manual_seed(3))
    b = params.beta(1000, 0.4, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, params.beta(1000, 0.4, torch.Generator().manual_seed(4)))
    # audio MixUp draws from the same sampler
    torch.testing.assert_close(audio_mix.sample_beta(1000, 0.4, torch.Generator().manual_seed(3)), a.float())
    for module in (params, audio_mix):
        assert "torch._" not in inspect.getsource(module)


# ---- timm's flip pairing read in place; fresh outputs with large blocks from the heap --------------------
@pytest.mark.parametrize("b", [7, 8])
@pytest.mark.parametrize("mode", ["elem", "pair", "batch"])
def test_flip_pairs_read_in_place_equal_the_gathered_partners(monkeypatch, b, mode):
    """With ``partner = B - 1 - i`` a CPU tile holds one pair, both read in place; bit-exact with gathering."""
    import augloader.mix._images as images

    x = torch.rand(b, 3, 11, 9)
    x8 = (x * 255).to(torch.uint8)
    for kwargs in (dict(), dict(mixup_alpha=0.0), dict(cutmix_alpha=0.0)):
        mixer = MixUpCutMix(mode=mode, num_classes=2, pairing="flip", **kwargs)
        params = mixer.sample_params(b, (11, 9), torch.Generator().manual_seed(b))
        assert images._is_flip(params["partner"])
        weight = partner_weight(params, (11, 9))
        assert torch.equal(mix_images(x, params, tile_bytes=1), torch.lerp(x, x[params["partner"]], weight))
        for image, out_dtype in ((x, None), (x8, None), (x8, torch.float32)):
            in_place = [mix_images(image, params, out_dtype=out_dtype, tile_bytes=t) for t in (1, None)]
            with monkeypatch.context() as m:
                m.setattr(images, "_is_flip", lambda partner: False)  # the generic path: partners gathered
                gathered = mix_images(image, params, out_dtype=out_dtype, tile_bytes=1)
            assert torch.equal(in_place[0], gathered) and torch.equal(in_place[1], gathered), (kwargs, image.dtype)
    assert not images._is_flip(partner_index(b, "half", mode))


_FRESH_OUTPUTS = """
import json
import torch
from augloader import tune_memory
from augloader.mix import MixUpCutMix

applied = tune_memory(large_blocks=True)
torch.manual_seed(0)
x, y = torch.rand(16, 3, 256, 256), torch.randint(0, 10, (16,))  # 12.6 MB: large enough for a block of its own
mix = MixUpCutMix(mode="elem", num_classes=10)
held, seen, reused, ok = [], set(), 0, True
buf = torch.empty_like(x)
for i in range(12):
    out, _ = mix((x, y), generator=torch.Generator().manual_seed(i))
    ref = mix((x, y), params=mix.last_params, out=buf)[0]
    ok &= torch.equal(out, ref)  # values as with a caller's buffer
    reused += out.data_ptr() in seen
    seen.add(out.data_ptr())
    span = (out.data_ptr(), out.data_ptr() + out.numel() * out.element_size())
    ok &= all(span[1] <= s or span[0] >= e for s, e, _, _ in held)  # no overlap with a held output
    if i % 3 == 0:  # the caller keeps every third output, with a copy of its values
        held.append((*span, out, out.clone()))
    del out
ok &= all(torch.equal(t, c) for _, _, t, c in held)  # held outputs never overwritten
print(json.dumps({"applied": applied, "ok": bool(ok), "reused": reused}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tuning is Linux-only")
def test_fresh_outputs_with_large_blocks_never_alias_held_ones():
    """Under ``tune_memory(large_blocks=True)`` (in a subprocess: the setting is process-wide) freed
    outputs are reused, and an output the caller still holds is never handed out again."""
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", _FRESH_OUTPUTS],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"applied": True, "ok": True, "reused": result["reused"]}
    assert result["reused"] >= 2  # the dropped outputs' memory did come back


# ---- the numba kernel (float32 on CPU) ------------------------------------------------------------------
def _torch_path(image, params, **kwargs):
    from augloader.ops.cpu import cpu_kernels

    with cpu_kernels(False):
        return mix_images(image, params, **kwargs)


@pytest.mark.parametrize("threads", [1, 2])
def test_kernel_equals_the_torch_path_bit_for_bit(threads):
    pytest.importorskip("numba")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for b, hw in ((1, (5, 3)), (7, (11, 9)), (8, (17, 33)), (9, (32, 32)), (6, (45, 70))):  # last: long runs
            x = torch.randn(b, 3, *hw) * 100  # signs and magnitudes: the lerp's two formulas both used
            for mode in ("elem", "pair", "batch"):
                for pairing in ("half", "flip", "permute"):
                    for kwargs in (dict(), dict(mixup_alpha=0.0), dict(cutmix_alpha=0.0), dict(prob=0.5)):
                        mixer = MixUpCutMix(mode=mode, num_classes=2, pairing=pairing, **kwargs)
                        params = mixer.sample_params(b, hw, torch.Generator().manual_seed(b))
                        fast = mix_images(x, params, tile_bytes=1)
                        assert torch.equal(fast, _torch_path(x, params, tile_bytes=1)), (b, mode, pairing, kwargs)
    finally:
        torch.set_num_threads(previous)


def test_kernel_runs_for_pairs_and_keeps_boxes_in_the_image(monkeypatch):
    pytest.importorskip("numba")
    from augloader.ops.cpu import _mix as _kernel

    calls = []
    run = _kernel.mix_pairs
    monkeypatch.setattr(_kernel, "mix_pairs", lambda *a: calls.append(a[2:4]) or run(*a))
    x = torch.rand(6, 3, 8, 10)
    # hand-made params: out-of-range boxes mean "clipped to the image", as the torch path's indicators do
    box = [[-3, -2, 4, 20], [2, 1, 30, 5], [0, 0, 0, 0], [5, 5, 3, 2], [0, 0, 10, 8], [1, 1, 2, 2]]
    params = make_params([0.3, 0.6, 0.9, 0.5, 0.2, 0.7], [3, 4, 5, 0, 1, 2], cut=[1, 1, 0, 1, 1, 0], box=box)
    assert torch.equal(mix_images(x, params), _torch_path(x, params))
    assert len(calls) == 1 and calls[0][0].tolist() == [0, 1, 2] and calls[0][1].tolist() == [3, 4, 5]
    cycle = make_params([0.5] * 6, [1, 2, 0, 4, 5, 3])  # an "elem" permutation: no pairs, the torch path
    assert torch.equal(mix_images(x, cycle), _torch_path(x, cycle)) and len(calls) == 1
    assert torch.equal(mix_images(x.double(), params), _torch_path(x.double(), params)) and len(calls) == 1


def test_kernel_copies_non_finite_pixels_of_cutmix_samples():
    pytest.importorskip("numba")
    x = torch.rand(2, 1, 4, 4)
    x[0, 0, 0, 0], x[1, 0, 3, 3] = float("inf"), float("nan")
    params = make_params([0.75, 0.75], [1, 0], cut=[1, 1], box=[[2, 2, 4, 4], [0, 0, 2, 2]], mixup=False)
    out, ref = mix_images(x, params), reference_mix(x, params)
    assert torch.equal(out.isnan(), ref.isnan()) and torch.equal(out.nan_to_num(0.0), ref.nan_to_num(0.0))
    # the NaN pixel where it was and where sample 0 pastes it; inf kept (lerp's inf * 0 would be NaN)
    assert out[0, 0, 0, 0] == float("inf") and out.isnan().nonzero().tolist() == [[0, 0, 3, 3], [1, 0, 3, 3]]


def test_without_numba_the_torch_path_runs(monkeypatch):
    from augloader.ops import cpu

    monkeypatch.setattr(cpu, "available", lambda: {"numba": False})
    x = torch.rand(4, 3, 8, 8)
    params = MixUpCutMix(mode="elem", num_classes=2).sample_params(4, (8, 8), torch.Generator().manual_seed(0))
    assert torch.equal(mix_images(x, params), _torch_path(x, params))


def test_kernel_from_two_threads_at_once():
    pytest.importorskip("numba")
    from concurrent.futures import ThreadPoolExecutor

    x = torch.rand(16, 3, 32, 32)
    mixer = MixUpCutMix(mode="elem", num_classes=2)
    params = [mixer.sample_params(16, (32, 32), torch.Generator().manual_seed(i)) for i in range(8)]
    expected = [_torch_path(x, p) for p in params]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: mix_images(x, p), params * 4))
    assert all(torch.equal(r, expected[i % 8]) for i, r in enumerate(results))


def _two_threads(_):
    torch.set_num_threads(2)  # the kernel's threads in a worker forked after the parent ran them


def _collate_float_mix(samples):
    images = torch.stack([s[0] for s in samples])
    params = MixUpCutMix(mode="elem", num_classes=2).sample_params(len(samples), (16, 16), torch.Generator())
    return images, mix_images(images, params), params


def test_kernel_in_a_forked_worker_after_the_parent_used_it():
    pytest.importorskip("numba")
    mix_images(torch.rand(4, 3, 16, 16), make_params([0.5] * 4, [2, 3, 0, 1], pairing="half"))  # parent's pool
    data = [(torch.rand(3, 16, 16), 0) for _ in range(8)]
    loader = torch.utils.data.DataLoader(
        data, batch_size=8, num_workers=1, collate_fn=_collate_float_mix, worker_init_fn=_two_threads, timeout=120
    )
    images, mixed, params = next(iter(loader))
    assert torch.equal(mixed, _torch_path(images, params))  # (torch's own threads stay out of the worker)
