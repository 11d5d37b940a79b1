"""Style augmentation: Fourier amplitude mixing, MixStyle, the style-network hook. CPU, small models."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from augloader import Compose, RandomHorizontalFlip
from augloader.advanced.style import (
    FourierAmplitudeMix,
    MixStyle,
    RandomStyle,
    StyleNetworkAugment,
    amplitude_mix,
    low_frequency_mask,
)


@pytest.fixture
def images(images_u8) -> torch.Tensor:
    """Real photographs (astronaut, chelsea, coffee, rocket) as float (4, 3, 48, 64) in [0, 1]."""
    return images_u8.float() / 255.0


def _phase_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Absolute circular difference of two phase tensors, in [0, pi]."""
    d = (a - b).remainder(2 * math.pi)
    return torch.minimum(d, 2 * math.pi - d)


# ---- pure ops -------------------------------------------------------------------------------------
def test_low_frequency_mask_is_centred_symmetric_square():
    m = low_frequency_mask((48, 64), 0.1)
    r = int(0.1 * 48)  # 4
    assert m.sum() == (2 * r + 1) ** 2
    assert m[0, 0] and m[r, r] and m[-r, -r] and not m[r + 1, 0] and not m[0, r + 1]
    # the same square fftshift puts around the centre
    shifted = torch.fft.fftshift(m)
    assert shifted[24 - r : 24 + r + 1, 32 - r : 32 + r + 1].all() and shifted.sum() == m.sum()
    # symmetric under k -> -k, so a real image stays real
    assert torch.equal(m, torch.roll(m.flip(0, 1), (1, 1), (0, 1)))


def test_amplitude_mix_keeps_phase_and_moves_amplitude(images):
    src, style = images[:2], images[2:]
    lam = torch.tensor([0.3, 1.0])
    mask = low_frequency_mask(src.shape[-2:], 0.1)
    out = amplitude_mix(src, torch.fft.fft2(style).abs(), lam, mask, clamp=False)
    s_src, s_sty, s_out = torch.fft.fft2(src), torch.fft.fft2(style), torch.fft.fft2(out)
    strong = s_src.abs() > 1e-3
    low = mask & strong
    assert _phase_error(s_out.angle(), s_src.angle())[low].max() < 1e-3
    want = torch.lerp(s_src.abs(), s_sty.abs(), lam.view(2, 1, 1, 1))
    torch.testing.assert_close(s_out.abs()[mask.expand_as(want)], want[mask.expand_as(want)], rtol=1e-4, atol=1e-3)
    # high frequencies: amplitude and phase untouched, i.e. the spectrum is the source's
    high = ~mask
    torch.testing.assert_close(s_out[..., high], s_src[..., high], rtol=1e-4, atol=1e-3)


# ---- FourierAmplitudeMix --------------------------------------------------------------------------
def test_fourier_mix_keeps_source_phase_with_engine_clamp(images, generator):
    t = FourierAmplitudeMix(beta=0.1, alpha=(0.5, 0.5), p=1.0)
    out = t(images, generator=generator)
    params = t.last_params
    partner = (torch.arange(4) + params["offset"]) % 4
    assert not torch.equal(partner, torch.arange(4))
    mask = low_frequency_mask(images.shape[-2:], 0.1)
    s_src, s_out, s_par = torch.fft.fft2(images), torch.fft.fft2(out), torch.fft.fft2(images[partner])
    strong = mask & (s_src.abs() > 0.05 * s_src.abs().amax(dim=(-2, -1), keepdim=True))
    err = _phase_error(s_out.angle(), s_src.angle())[strong]
    assert err.median() < 0.02 and err.max() < 0.3  # the [0, 1] clamp moves phases a little
    # the low-frequency amplitude moved half-way to the partner's
    want = 0.5 * (s_src.abs() + s_par.abs())
    rel = ((s_out.abs() - want).abs() / want.clamp_min(1e-3))[strong]
    assert rel.median() < 0.02
    # and the output is a different image, still in [0, 1]
    assert (out - images).abs().mean() > 1e-3 and out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("kwargs", [{"alpha": (0.0, 0.0), "p": 1.0}, {"p": 0.0}])
def test_fourier_mix_identity(images_u8, images, generator, kwargs):
    t = FourierAmplitudeMix(**kwargs)
    assert torch.equal(t(images_u8, generator=generator), images_u8)
    assert torch.equal(t(images, generator=generator), images)


def test_fourier_mix_dtypes_structure_replay_and_seed(images_u8):
    t = FourierAmplitudeMix(p=1.0)
    out = t(images_u8, generator=torch.Generator().manual_seed(0))
    assert out.dtype == torch.uint8 and out.shape == images_u8.shape
    assert not torch.equal(out, images_u8)
    assert torch.equal(t(images_u8, params=t.last_params), out)  # replay
    assert torch.equal(t(images_u8, generator=torch.Generator().manual_seed(0)), out)  # same seed
    assert not torch.equal(t(images_u8, generator=torch.Generator().manual_seed(1)), out)
    for dtype in (torch.float32, torch.float64):
        y = t(images_u8.to(dtype) / 255, generator=torch.Generator().manual_seed(0))
        assert y.dtype == dtype and y.shape == images_u8.shape
    batch = {"image": images_u8, "label": torch.arange(4), "mask": torch.zeros(4, 1, 48, 64, dtype=torch.uint8)}
    res = t(batch, generator=torch.Generator().manual_seed(0))
    assert torch.equal(res["image"], out) and res["label"] is batch["label"] and res["mask"] is batch["mask"]
    single = t(images_u8[0], generator=torch.Generator().manual_seed(0))
    assert torch.equal(single, images_u8[0])  # a batch of one is its own partner
    assert t(images_u8[:0]).shape == (0, 3, 48, 64)


def test_fourier_mix_input_not_mutated_and_chunk_safe(images):
    before = images.clone()
    t = FourierAmplitudeMix(p=1.0)
    params = t.sample_params(tuple(images.shape), torch.Generator().manual_seed(3))
    t.apply(images, params)
    assert torch.equal(images, before)
    # a chunk of the batch with its slice of the params: partners are taken inside the chunk
    part = {k: v[:2] for k, v in params.items()}
    out = t.apply(images[:2], part)
    assert out.shape == (2, 3, 48, 64) and torch.isfinite(out).all()


def test_fourier_mix_inside_compose(images_u8):
    pipe = Compose([RandomHorizontalFlip(p=0.5), FourierAmplitudeMix(p=1.0)])
    g = torch.Generator().manual_seed(0)
    out = pipe(images_u8, generator=g)
    assert out.dtype == torch.uint8 and out.shape == images_u8.shape
    assert torch.equal(pipe(images_u8, params=pipe.last_params), out)


def test_fourier_mix_style_bank(images):
    bank = images[3:4]  # one style image (the rocket), float
    t = FourierAmplitudeMix(beta=0.1, alpha=(1.0, 1.0), p=1.0, style_bank=bank)
    assert not t.cross_sample
    out = t(images[:1], generator=torch.Generator().manual_seed(0))  # a batch of one still gets a style
    assert not torch.equal(out, images[:1])
    mask = low_frequency_mask(images.shape[-2:], 0.1)
    bank_amp = torch.fft.fft2(bank).abs()
    one = torch.ones(1)
    # the transform is the pure op with the bank image's amplitude, clamped to [0, 1]
    torch.testing.assert_close(out, amplitude_mix(images[:1], bank_amp, one, mask), rtol=1e-5, atol=1e-5)
    # before the clamp, alpha=1 is FDA's swap: the low-frequency amplitude is the bank image's
    raw = torch.fft.fft2(amplitude_mix(images[:1], bank_amp, one, mask, clamp=False)).abs()
    torch.testing.assert_close(raw[..., mask], bank_amp[..., mask], rtol=1e-4, atol=1e-3)
    # uint8 bank of another size and one channel: converted and resized
    small = (bank.mean(1, keepdim=True)[..., ::2, ::2] * 255).round().to(torch.uint8)
    t2 = FourierAmplitudeMix(p=1.0, style_bank=small)
    assert t2(images).shape == images.shape


@pytest.mark.parametrize(
    "kwargs",
    [
        {"beta": 0.0},
        {"beta": 0.7},
        {"alpha": (0.2, 1.5)},
        {"alpha": (0.8, 0.2)},
        {"p": 2.0},
        {"style_bank": torch.rand(3, 8, 8)},
    ],
)
def test_fourier_mix_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        FourierAmplitudeMix(**kwargs)


# ---- MixStyle -------------------------------------------------------------------------------------
def _features(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    scale = torch.rand(8, 6, 1, 1, generator=g) * 3 + 0.5
    shift = torch.randn(8, 6, 1, 1, generator=g) * 2
    return torch.randn(8, 6, 7, 7, generator=g) * scale + shift


def test_mixstyle_identity_in_eval_mode():
    m = MixStyle(p=1.0).eval()
    x = _features()
    assert m(x) is x
    net = nn.Sequential(nn.Conv2d(3, 6, 3), MixStyle(p=1.0), nn.Conv2d(6, 2, 3)).eval()
    plain = nn.Sequential(net[0], nn.Identity(), net[2])
    img = torch.rand(2, 3, 12, 12)
    assert torch.equal(net(img), plain(img))
    assert MixStyle(p=0.0).train()(x) is x


def test_mixstyle_mixes_statistics_in_training():
    m = MixStyle(p=1.0, alpha=0.1).train()
    x = _features()
    y = m(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.dtype == x.dtype
    lam, partner = m.last_params["lam"].view(8, 1), m.last_params["partner"]
    mu, sig = x.mean(dim=(2, 3)), (x.var(dim=(2, 3)) + 1e-6).sqrt()
    torch.testing.assert_close(y.mean(dim=(2, 3)), lam * mu + (1 - lam) * mu[partner], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(y.std(dim=(2, 3)), lam * sig + (1 - lam) * sig[partner], rtol=1e-3, atol=1e-3)
    assert (y.mean(dim=(2, 3)) - mu).abs().max() > 0.1  # the statistics moved
    # same generator, same output; params replay
    assert torch.equal(m(x, generator=torch.Generator().manual_seed(0)), y)
    assert torch.equal(m(x, params=m.last_params), y)
    assert torch.equal(MixStyle(p=1.0, generator=torch.Generator().manual_seed(0)).train()(x), y)


def test_mixstyle_gradients_flow_with_detached_statistics():
    m = MixStyle(p=1.0).train()
    x = _features().requires_grad_(True)
    y = m(x, generator=torch.Generator().manual_seed(0))
    (y**2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    # the statistics are detached: d out / d x = sigma_mix / sigma elementwise
    x2 = _features().requires_grad_(True)
    m(x2, params=m.last_params).sum().backward()
    lam, partner = m.last_params["lam"].view(8, 1), m.last_params["partner"]
    sig = (x2.detach().var(dim=(2, 3)) + 1e-6).sqrt()
    ratio = (lam * sig + (1 - lam) * sig[partner]) / sig
    torch.testing.assert_close(x2.grad, ratio.view(8, 6, 1, 1).expand_as(x2), rtol=1e-4, atol=1e-5)


def test_mixstyle_crossdomain_and_per_sample_gate():
    m = MixStyle(p=1.0, mix="crossdomain").train()
    m(_features(), generator=torch.Generator().manual_seed(0))
    partner = m.last_params["partner"]
    assert (partner[:4] >= 4).all() and (partner[4:] < 4).all()
    odd = m.sample_params(5, torch.Generator().manual_seed(0))["partner"]
    assert odd[4] == 4 and (odd[:2] >= 2).all() and (odd[2:4] < 2).all()
    g = MixStyle(p=0.5, gate="sample").train()
    x = _features()
    y = g(x, generator=torch.Generator().manual_seed(2))
    off = g.last_params["lam"] == 1.0
    assert off.any() and (~off).any()
    torch.testing.assert_close(y[off], x[off], rtol=1e-5, atol=1e-5)  # unmixed samples keep their statistics
    # works on 1D features and an empty batch
    assert m(torch.randn(4, 3, 10)).shape == (4, 3, 10)
    assert m(torch.randn(0, 3, 4, 4)).shape == (0, 3, 4, 4)


@pytest.mark.parametrize("kwargs", [{"p": -0.1}, {"alpha": 0.0}, {"mix": "half"}, {"gate": "pixel"}])
def test_mixstyle_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        MixStyle(**kwargs)


# ---- StyleNetworkAugment --------------------------------------------------------------------------
class _Invert(nn.Module):
    """A stand-in style network that records the batch sizes it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.shape[0])
        return 1.0 - x


@pytest.mark.parametrize("run_all", [False, True])
def test_style_network_only_on_selected_samples(images, run_all):
    net = _Invert()
    t = StyleNetworkAugment(net, p=0.5, run_all=run_all)
    out = t(images, generator=torch.Generator().manual_seed(5))
    on = t.last_params["on"]
    assert on.any() and (~on).any()
    assert torch.equal(out[~on], images[~on])
    torch.testing.assert_close(out[on], 1.0 - images[on])
    assert net.seen == ([4] if run_all else [int(on.sum())])


def test_style_network_strength_dtype_and_errors(images_u8, images):
    t = StyleNetworkAugment(_Invert(), p=1.0, strength=(0.25, 0.25))
    out = t(images, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, 0.75 * images + 0.25 * (1 - images))
    y = t(images_u8, generator=torch.Generator().manual_seed(0))
    assert y.dtype == torch.uint8 and y.shape == images_u8.shape
    assert torch.equal(StyleNetworkAugment(_Invert(), p=0.0)(images_u8), images_u8)
    # a small randomly initialised conv net with a trainable parameter: no gradient is recorded
    conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1), nn.Sigmoid())
    z = StyleNetworkAugment(conv, p=1.0)(images)
    assert z.shape == images.shape and not z.requires_grad and 0 <= z.min() and z.max() <= 1
    with pytest.raises(ValueError, match="shape"):
        StyleNetworkAugment(nn.Conv2d(3, 4, 1), p=1.0)(images)
    with pytest.raises(TypeError):
        StyleNetworkAugment(lambda x: x)
    with pytest.raises(ValueError):
        StyleNetworkAugment(_Invert(), strength=(0.5, 2.0))


# ---- RandomStyle ----------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 3, 5])
def test_random_style_decoder_inverts_encoder(images, k):
    t = RandomStyle(kernel_size=k)
    x = images.double()
    feat = t.encode(x)
    assert feat.shape == (4, 3 * k * k, 48, 64)
    torch.testing.assert_close(t.decode(feat, 3), x, rtol=0, atol=1e-12)
    w = t.encoder_weight(3, torch.device("cpu"), torch.float64).view(3 * k * k, -1)
    torch.testing.assert_close(w @ w.T, torch.eye(3 * k * k, dtype=torch.float64))
    # the same seed, the same filter bank; another seed, another
    assert torch.equal(
        RandomStyle(kernel_size=k).encoder_weight(3, x.device, x.dtype), t.encoder_weight(3, x.device, x.dtype)
    )
    assert not torch.equal(
        RandomStyle(kernel_size=k, seed=1).encoder_weight(3, x.device, x.dtype), t.encoder_weight(3, x.device, x.dtype)
    )


def test_random_style_changes_statistics_keeps_structure(images_u8, images):
    t = RandomStyle(p=1.0)
    out = t(images, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == images.dtype and 0 <= out.min() and out.max() <= 1
    feat_in, feat_out = t.encode(images), t.encode(out)
    assert (feat_in.std(dim=(2, 3)) - feat_out.std(dim=(2, 3))).abs().max() > 0.01  # new statistics
    # content stays: each output channel correlates with the input's
    a, b = images.flatten(2), out.flatten(2)
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    corr = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    assert corr.median() > 0.5
    y = t(images_u8, generator=torch.Generator().manual_seed(0))
    assert y.dtype == torch.uint8 and torch.equal(t(images_u8, params=t.last_params), y)
    assert torch.equal(t(images_u8, generator=torch.Generator().manual_seed(0)), y)
    assert (y.float() / 255 - out).abs().max() < 0.01  # uint8 path equals the float path up to rounding
    # a batch equals the per-sample loop (not cross-sample)
    per_sample = torch.cat(
        [t.apply(images[i : i + 1], {k: v[i : i + 1] for k, v in t.last_params.items()}) for i in range(4)]
    )
    torch.testing.assert_close(t.apply(images, t.last_params), per_sample)


@pytest.mark.parametrize("kwargs", [{"p": 0.0}, {"strength": (0.0, 0.0), "p": 1.0}])
def test_random_style_identity(images_u8, kwargs):
    assert torch.equal(RandomStyle(**kwargs)(images_u8, generator=torch.Generator().manual_seed(0)), images_u8)


@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 0}, {"shift": -1.0}, {"strength": (0.5, 1.5)}])
def test_random_style_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        RandomStyle(**kwargs)


# ---- devices --------------------------------------------------------------------------------------
def test_style_transforms_match_cpu_on_device(images_u8, device):
    """Same seed, same output on every device (parameters are drawn on the generator's device)."""
    x = images_u8.to(device)
    bank = images_u8[1:3].float() / 255
    for t in (
        FourierAmplitudeMix(p=1.0),
        FourierAmplitudeMix(p=1.0, style_bank=bank),
        RandomStyle(p=1.0),
        StyleNetworkAugment(nn.Conv2d(3, 3, 1), p=0.5),
    ):
        ref = t(images_u8, generator=torch.Generator().manual_seed(0))
        got = t.to(device)(x, generator=torch.Generator().manual_seed(0))
        assert got.device.type == device.type and got.dtype == torch.uint8
        assert (got.cpu().int() - ref.int()).abs().max() <= 1
    m = MixStyle(p=1.0).train()
    f = _features()
    ref = m(f, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(
        m(f.to(device), generator=torch.Generator().manual_seed(0)).cpu(), ref, rtol=1e-4, atol=1e-4
    )


def test_fourier_mix_pairs_across_the_whole_batch_even_when_large():
    """A CPU batch big enough to be chunked still draws partners from the whole batch."""
    import augloader as A
    from augloader.transforms import stages

    x = torch.rand(24, 3, 64, 64)
    pipeline = A.Compose([FourierAmplitudeMix(beta=0.2, alpha=(1.0, 1.0), p=1.0)])
    saved = stages.CPU_CHUNK_BYTES
    stages.CPU_CHUNK_BYTES = 3 * 64 * 64 * 4 * 4  # other pipelines would run in 6 chunks of 4 samples
    try:
        y = pipeline(x, generator=torch.Generator().manual_seed(0))
        chunked_other = A.Compose([A.RandomInvert(1.0)])(x)  # (the chunked path still works)
    finally:
        stages.CPU_CHUNK_BYTES = saved
    whole = pipeline.transforms[0](x, params=pipeline.last_params["0"])  # one call, no chunking
    assert torch.allclose(y, whole, atol=1e-6)
    assert torch.allclose(chunked_other, 1 - x)
