"""Weights-free style augmentation: Fourier amplitude mixing, MixStyle, and a hook for a user style network.

No pretrained VGG is needed (or downloadable in CI):

- :class:`FourierAmplitudeMix` (a pixel :class:`~augloader.transforms.base.Transform`) blends the
  low-frequency amplitude spectrum of each image with another image's (a batch partner, or an image of
  an optional ``style_bank``) and keeps the image's own phase, so content stays and "style" (colour,
  illumination, texture statistics) moves. Yang & Soatto, "FDA: Fourier Domain Adaptation for Semantic
  Segmentation", CVPR 2020; Xu et al., "A Fourier-based Framework for Domain Generalization", CVPR 2021.
- :class:`MixStyle` (an ``nn.Module`` to put *inside* a network, between blocks) mixes per-channel
  feature means and standard deviations between samples while training; the identity in eval mode.
  Zhou et al., "Domain Generalization with MixStyle", ICLR 2021.
- :class:`StyleNetworkAugment` applies a user-supplied style network (any ``nn.Module`` mapping a
  float ``(B, C, H, W)`` batch in ``[0, 1]`` to the same shape) to the samples a per-sample ``p`` gate
  selects, blended with the input by a per-sample strength.

Cross-sample transforms: :class:`FourierAmplitudeMix` (without a ``style_bank``) reads other samples
of the batch, so the base contract's "a batch equals the same op one sample at a time" does not hold
for it; it says so with ``cross_sample = True``. Partners are stored as per-sample *offsets* (partner of
sample ``i`` = ``(i + offset_i) mod B``) rather than absolute indices, so the op stays well defined on
any slice of a batch. The engine does not split a pipeline holding a cross-sample transform into CPU
chunks: partners come from the whole batch. A batch of one is its own partner and is left unchanged.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import _random as R
from ..mix._params import beta as _beta
from ..transforms import _args
from ..transforms import _subsets as S
from ..transforms._types import Params, Shape
from ..transforms.base import Transform

__all__ = [
    "FourierAmplitudeMix",
    "MixStyle",
    "RandomStyle",
    "StyleNetworkAugment",
    "amplitude_mix",
    "low_frequency_mask",
]


# ---- pure ops -------------------------------------------------------------------------------------
def low_frequency_mask(size: tuple[int, int], beta: float, device: torch.device | str = "cpu") -> Tensor:
    """The centred low-frequency square of an unshifted ``fft2`` spectrum, as a bool ``(H, W)`` mask.

    The square holds the integer frequencies ``|ky| <= r`` and ``|kx| <= r`` with
    ``r = floor(beta * min(H, W))`` (FDA's window), capped below the Nyquist frequency so the mask is
    symmetric under ``k -> -k`` and a real image stays real. It is the same square that FDA cuts out of
    an ``fftshift``-ed spectrum around its centre, here taken directly on the unshifted one.
    """
    h, w = size
    r = int(beta * min(h, w))
    r = max(0, min(r, (h - 1) // 2, (w - 1) // 2))
    ky = torch.fft.fftfreq(h, d=1.0 / h, device=device).abs()  # (H,) signed integer frequencies, abs
    kx = torch.fft.fftfreq(w, d=1.0 / w, device=device).abs()  # (W,)
    return (ky <= r).view(h, 1) & (kx <= r).view(1, w)  # (H, W)


def amplitude_mix(image: Tensor, style_amplitude: Tensor, lam: Tensor, mask: Tensor, clamp: bool = True) -> Tensor:
    """Blends the amplitude spectrum of ``image`` with ``style_amplitude`` inside ``mask``, keeping the phase.

    ``A_out = (1 - lam) * A_image + lam * A_style`` on the frequencies of ``mask``, ``A_image`` elsewhere;
    the phase of ``image`` everywhere. ``lam = 1`` swaps the low-frequency amplitude (FDA),
    ``lam`` in ``(0, 1)`` interpolates it (Xu et al.'s amplitude mix).

    Shape:
        ``image (B, C, H, W)`` float; ``style_amplitude (B, C, H, W)`` (the ``abs`` of an unshifted
        ``fft2``); ``lam (B,)``; ``mask (H, W)`` bool; ``-> (B, C, H, W)`` in the image's dtype.
    """
    if image.numel() == 0:
        return image.clone()
    return _mix_spectrum(image, torch.fft.fft2(_fft_input(image)), style_amplitude, lam, mask, clamp)


def _fft_input(image: Tensor) -> Tensor:
    return image if image.dtype in (torch.float32, torch.float64) else image.float()  # no half FFT on CPU


def _mix_spectrum(
    image: Tensor, spec: Tensor, style_amplitude: Tensor, lam: Tensor, mask: Tensor, clamp: bool
) -> Tensor:
    """:func:`amplitude_mix` given ``spec``, the ``fft2`` of ``image`` ``(B, C, H, W)`` complex."""
    b = image.shape[0]
    amp, phase = spec.abs(), spec.angle()
    lam = lam.to(amp.dtype).view(b, 1, 1, 1)
    mixed = torch.lerp(amp, style_amplitude.to(amp.dtype), lam)  # (B, C, H, W)
    amp = torch.where(mask, mixed, amp)
    out = torch.fft.ifft2(torch.polar(amp, phase)).real  # (B, C, H, W)
    if clamp:
        out = out.clamp_(0.0, 1.0)
    return out.to(image.dtype)


def _partner_index(b: int, offset: Tensor) -> Tensor:
    """Partner of each sample of a batch (or chunk) of ``b``: ``(i + offset_i) mod b``, ``(B,)`` int64."""
    return (torch.arange(b, device=offset.device) + offset) % max(b, 1)


# ---- transforms -----------------------------------------------------------------------------------
class FourierAmplitudeMix(Transform):
    """Mixes each image's low-frequency Fourier amplitude with a partner's, keeping its own phase.

    Per sample: a blend weight ``lam ~ U(alpha)`` and a partner (another sample of the batch, or an
    image of ``style_bank``). The amplitude ``|FFT|`` of every channel is blended towards the
    partner's inside the centred low-frequency square of half-width ``floor(beta * min(H, W))``; the
    phase (which carries the content) and all higher frequencies are kept; the result is clamped to
    ``[0, 1]``. ``alpha=(1, 1)`` is FDA's amplitude swap (Yang & Soatto, CVPR 2020); a range is
    Xu et al.'s amplitude mix (CVPR 2021). Samples the ``p`` gate skips get ``lam = 0`` and come back
    bit-exact. Images (``image``) only; other targets pass through.

    Args:
        beta: size of the low-frequency window as a fraction of the shorter side, in ``(0, 0.5]``.
        alpha: ``(low, high)`` range of the per-sample blend weight, within ``[0, 1]``; a number ``a``
            means ``(0, a)``.
        p: probability of mixing a sample.
        style_bank: optional ``(N, C|1, H', W')`` images (float in ``[0, 1]`` or uint8) to take
            amplitudes from instead of the batch; resized to the batch's size (bilinear) when they differ.

    Cross-sample (``cross_sample = True`` without a bank): the output of a sample depends on its
    partner, so a batch does not equal the per-sample loop. See the module notes on chunks.
    """

    cross_sample: bool = True

    def __init__(
        self,
        beta: float = 0.1,
        alpha: float | Sequence[float] = (0.0, 1.0),
        p: float = 0.5,
        style_bank: Optional[Tensor] = None,
    ) -> None:
        super().__init__(p)
        self.beta = _args.number(beta, "beta", 0.0, 0.5, low_open=True)
        if _args.is_number(alpha):
            alpha = (0.0, alpha)
        self.alpha = _args.interval(alpha, "alpha", low_bound=0.0)
        if self.alpha[1] > 1.0:
            raise ValueError(f"alpha must lie within [0, 1], got {_args.show(alpha)}")
        if style_bank is not None:
            if not isinstance(style_bank, Tensor) or style_bank.dim() != 4 or style_bank.shape[0] == 0:
                raise ValueError("style_bank must be a non-empty (N, C, H, W) tensor of images")
            bank = style_bank.detach()
            if bank.is_floating_point() and not bool(torch.isfinite(bank).all()):
                raise ValueError("style_bank must hold finite values")
            bank = bank.float().div_(255.0) if bank.dtype == torch.uint8 else bank.float()
            self.register_buffer("style_bank", bank, persistent=False)
            self.cross_sample = False  # partners come from the bank, not the batch
        else:
            self.style_bank = None

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        lam = R.gate(R.uniform(b, *self.alpha, generator), on, 0.0)  # (B,)
        params = {"lam": lam}
        if self.style_bank is None:
            params["offset"] = R.randint(b, 1, max(b, 2), generator)  # (B,) partner = (i + offset) mod B
        else:
            params["bank_index"] = R.randint(b, 0, self.style_bank.shape[0], generator)  # (B,)
        return params

    def _bank_amplitude(self, index: Tensor, size: tuple[int, int], channels: int) -> Tensor:
        bank = self.style_bank.to(index.device)[index]  # (B, Cb, H', W')
        if tuple(bank.shape[-2:]) != size:
            bank = F.interpolate(bank, size=size, mode="bilinear", align_corners=False, antialias=True)
        if bank.shape[1] != channels:
            if bank.shape[1] != 1:
                raise ValueError(f"style_bank has {bank.shape[1]} channels, the batch {channels}")
            bank = bank.expand(-1, channels, -1, -1)
        return torch.fft.fft2(bank).abs()  # (B, C, H, W)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        b, c, h, w = image.shape
        if image.numel() == 0:  # (MKL's FFT rejects empty batches)
            return image
        lam = params["lam"]
        mask = low_frequency_mask((h, w), self.beta, image.device)
        spec = torch.fft.fft2(_fft_input(image))  # (B, C, H, W) complex
        if self.style_bank is not None:
            style_amp = self._bank_amplitude(params["bank_index"], (h, w), c)
        else:
            style_amp = spec.abs()[_partner_index(b, params["offset"])]  # (B, C, H, W)
        out = _mix_spectrum(image, spec, style_amp, lam, mask, clamp=True)
        # Skipped samples (lam = 0) come back bit-exact instead of FFT round-trip close.
        return torch.where((lam > 0).view(b, 1, 1, 1), out, image)

    def extra_repr(self) -> str:
        bank = f", style_bank={tuple(self.style_bank.shape)}" if self.style_bank is not None else ""
        return f"beta={self.beta}, alpha={self.alpha}, p={self.p}{bank}"


class StyleNetworkAugment(Transform):
    """Applies a user-supplied style network to the samples a per-sample ``p`` gate selects.

    ``out = (1 - s) * x + s * clamp(style_net(x), 0, 1)`` for selected samples, with a strength
    ``s ~ U(strength)`` per sample (``s = 1``: the network's output); others are returned unchanged.
    The network receives a float ``(n, C, H, W)`` batch in ``[0, 1]`` on the batch's device (move it
    there with ``.to(device)``; it is a submodule of this transform, so moving the transform moves it)
    and must return the same shape. It runs under ``torch.no_grad()`` and in whatever train/eval
    mode it is in. An AdaIN network with a fixed or random style, a CycleGAN generator, ... fit here.

    Args:
        style_net: the network.
        p: probability of styling a sample.
        strength: ``(low, high)`` range of the per-sample blend strength within ``[0, 1]``.
        run_all: False (default) runs the network only on the selected samples (boolean indexing:
            one host sync on an accelerator, no wasted network passes); True runs it on the whole batch
            and selects afterwards (no sync; worth it only for a cheap network).
    """

    def __init__(
        self, style_net: nn.Module, p: float = 0.5, strength: Sequence[float] = (1.0, 1.0), run_all: bool = False
    ) -> None:
        super().__init__(p)
        if not isinstance(style_net, nn.Module):
            raise TypeError(f"style_net must be an nn.Module, got {type(style_net).__name__}")
        self.style_net = style_net
        self.strength = _args.interval(strength, "strength", low_bound=0.0)
        if self.strength[1] > 1.0:
            raise ValueError(f"strength must lie within [0, 1], got {_args.show(strength)}")
        self.run_all = _args.flag(run_all, "run_all")

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        params = {"on": on, "strength": R.gate(R.uniform(b, *self.strength, generator), on, 0.0)}  # (B,), (B,)
        return S.add_host_copy(params, "on")  # which samples run the network, known without a device read

    def _styled(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            y = self.style_net(x)
        if not isinstance(y, Tensor) or y.shape != x.shape:
            got = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"style_net must return a tensor of the input's shape {tuple(x.shape)}, got {got}")
        return y.to(x.dtype).clamp(0.0, 1.0)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        b = image.shape[0]
        on = params["on"].to(torch.bool)
        s = params["strength"].to(image.dtype)
        if self.run_all:
            styled = torch.lerp(image, self._styled(image), s.view(b, 1, 1, 1))
            return torch.where(on.view(b, 1, 1, 1), styled, image)
        out = image.clone()
        members = S.host_choice(params, "on").to(torch.bool).nonzero().flatten()  # (n,) on the host
        if members.numel():
            (sel,) = S.to_device([members], image.device)  # one non-blocking copy, no device read
            x = image.index_select(0, sel)  # (n, C, H, W)
            out.index_copy_(0, sel, torch.lerp(x, self._styled(x), s.index_select(0, sel).view(-1, 1, 1, 1)))
        return out

    def extra_repr(self) -> str:
        return f"p={self.p}, strength={self.strength}, run_all={self.run_all}"


class RandomStyle(Transform):
    """Random AdaIN-style statistics through a random, seeded, exactly invertible conv encoder/decoder.

    The encoder is a ``k x k`` convolution with ``F = C * k * k`` output channels whose weights, as an
    ``F x (C k k)`` matrix, are a random orthogonal matrix drawn from ``seed`` (a random but fixed
    filter bank, no training, no download). Each sample's feature maps get new per-channel
    statistics, AdaIN-style (Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive
    Instance Normalization", ICCV 2017), drawn at random instead of taken from a style image::

        mu_t = mu + shift * sigma * z1,   sigma_t = sigma * exp(scale * z2),   z1, z2 ~ N(0, 1) per channel

    and the decoder, the encoder's transposed convolution divided by the number of patches covering
    each pixel, maps features back to pixels; without the statistics change it reconstructs the input
    exactly (up to float rounding). The effect is a random change of colour and local texture
    statistics, in the spirit of style randomisation (Jackson et al., "Style Augmentation: Data
    Augmentation via Style Randomization", CVPR Workshops 2019) without a pretrained network. The
    result is blended with the input by a per-sample ``strength`` and clamped to ``[0, 1]``; samples
    the ``p`` gate skips come back bit-exact.

    Args:
        kernel_size: odd encoder kernel size (1: a random colour basis only).
        shift: scale of the random mean shift, in feature standard deviations.
        scale: scale of the random log standard-deviation change, in ``[0, 10]``.
        strength: ``(low, high)`` range of the per-sample blend weight within ``[0, 1]``.
        p: probability of restyling a sample.
        seed: seed of the encoder's weights (the same seed, the same filter bank).
    """

    def __init__(
        self,
        kernel_size: int = 3,
        shift: float = 0.5,
        scale: float = 0.5,
        strength: Sequence[float] = (1.0, 1.0),
        p: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__(p)
        self.kernel_size = _args.kernel_size(_args.integer(kernel_size, "kernel_size"))[0]
        self.shift = _args.number(shift, "shift", low=0.0)
        self.scale = _args.number(scale, "scale", 0.0, 10.0)  # exp(scale * z) overflows float32 far beyond 10
        self.seed = _args.integer(seed, "seed")
        self.strength = _args.interval(strength, "strength", low_bound=0.0)
        if self.strength[1] > 1.0:
            raise ValueError(f"strength must lie within [0, 1], got {_args.show(strength)}")
        self._weights: dict = {}

    def encoder_weight(self, channels: int, device: torch.device, dtype: torch.dtype) -> Tensor:
        """The encoder's ``(F, C, k, k)`` weight, ``F = C k k``, orthogonal as an ``F x (C k k)`` matrix."""
        key = (channels, str(device), dtype)
        if key not in self._weights:
            k = self.kernel_size
            n = channels * k * k
            g = torch.Generator().manual_seed(self.seed)
            q, r = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
            q = q * torch.sign(torch.diagonal(r)).view(1, n)  # a uniformly random orthogonal matrix
            self._weights[key] = q.view(n, channels, k, k).to(device=device, dtype=dtype)
        return self._weights[key]

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, f = shape[0], shape[1] * self.kernel_size**2
        dev = generator.device if generator is not None else torch.device("cpu")
        on = R.bernoulli(b, self.p, generator)
        z = torch.randn(b, 2, f, generator=generator, device=dev)  # (B, 2, F): mean and log-std draws
        return {"z": R.gate(z, on, 0.0), "strength": R.gate(R.uniform(b, *self.strength, generator), on, 0.0)}

    def encode(self, image: Tensor) -> Tensor:
        """``(B, C, H, W) -> (B, C k k, H, W)`` features."""
        w = self.encoder_weight(image.shape[1], image.device, image.dtype)
        return F.conv2d(image, w, padding=self.kernel_size // 2)

    def decode(self, features: Tensor, channels: int) -> Tensor:
        """``(B, C k k, H, W) -> (B, C, H, W)``: the encoder's exact inverse (orthogonal weights)."""
        k, pad = self.kernel_size, self.kernel_size // 2
        w = self.encoder_weight(channels, features.device, features.dtype)
        out = F.conv_transpose2d(features, w, padding=pad)
        ones = torch.ones(1, 1, *features.shape[-2:], device=features.device, dtype=features.dtype)
        count = F.conv_transpose2d(
            ones, torch.ones(1, 1, k, k, device=features.device, dtype=features.dtype), padding=pad
        )
        return out / count  # (B, C, H, W); count = patches covering each pixel

    def apply(self, image: Tensor, params: Params) -> Tensor:
        b, c = image.shape[:2]
        if image.numel() == 0:
            return image
        x = _fft_input(image)
        feat = self.encode(x)  # (B, F, H, W)
        mu = feat.mean(dim=(2, 3), keepdim=True)  # (B, F, 1, 1)
        sig = (feat.var(dim=(2, 3), keepdim=True, unbiased=False) + 1e-6).sqrt()
        z = params["z"].to(x.dtype)
        mu_t = mu + self.shift * sig * z[:, 0].view(b, -1, 1, 1)
        sig_t = sig * torch.exp(self.scale * z[:, 1]).view(b, -1, 1, 1)
        styled = self.decode((feat - mu) / sig * sig_t + mu_t, c).clamp_(0.0, 1.0)
        s = params["strength"].to(x.dtype).view(b, 1, 1, 1)
        out = torch.lerp(x, styled, s).to(image.dtype)
        return torch.where((s > 0), out, image)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, shift={self.shift}, scale={self.scale}, "
            f"strength={self.strength}, p={self.p}, seed={self.seed}"
        )


# ---- a module for inside a network -----------------------------------------------------------------
class MixStyle(nn.Module):
    """MixStyle (Zhou et al., ICLR 2021): mixes per-channel feature statistics between samples.

    In training mode, with probability ``p`` (per batch as in the paper, or per sample with
    ``gate="sample"``), every feature map is normalised by its own per-channel mean and standard
    deviation (over the spatial dims, detached as in the paper) and re-scaled by a mix of its own and a
    partner's statistics with a weight ``lam ~ Beta(alpha, alpha)`` per sample::

        out = sigma_mix * (x - mu) / sigma + mu_mix,  mu_mix = lam * mu + (1 - lam) * mu[partner]

    ``mix="random"``: partners are a random permutation of the batch. ``mix="crossdomain"``: the batch
    holds two domains as halves and each sample takes a partner from the other half (odd batch: the last
    sample keeps its own statistics). In eval mode (or ``p = 0``) the input is returned as is.

    Args:
        p: probability of mixing.
        alpha: Beta concentration.
        eps: added to the variance (positive; float32 must not round it to 0).
        mix: ``"random"`` or ``"crossdomain"``.
        gate: ``"batch"`` (paper: one coin per batch) or ``"sample"`` (one per sample; skipped
            samples get ``lam = 1`` and keep their statistics).
        generator: default generator for draws; ``forward(x, generator=...)`` overrides it.

    Shape:
        ``(B, C, *spatial)`` with at least one spatial dim, e.g. ``(B, C, H, W)``; same shape out.
    """

    MIXES = ("random", "crossdomain")

    def __init__(
        self,
        p: float = 0.5,
        alpha: float = 0.1,
        eps: float = 1e-6,
        mix: str = "random",
        gate: str = "batch",
        generator: Optional[torch.Generator] = None,
    ) -> None:
        super().__init__()
        self.p = _args.probability(p)
        self.alpha = _args.number(alpha, "alpha", low=0.0, low_open=True)
        # 0 (or a value float32 rounds to 0) divides a constant feature map by 0
        self.eps = _args.number(eps, "eps", low=torch.finfo(torch.float32).tiny)
        self.mix = _args.choice(mix, "mix", self.MIXES)
        self.gate = _args.choice(gate, "gate", ("batch", "sample"))
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        self.generator = generator
        self.last_params: Optional[Params] = None

    def sample_params(self, batch_size: int, generator: Optional[torch.Generator] = None) -> Params:
        """``lam (B,)`` float32 (1 where a sample is not mixed) and ``partner (B,)`` int64, on the
        generator's device."""
        b = batch_size
        dev = generator.device if generator is not None else torch.device("cpu")
        if self.gate == "batch":
            on = (torch.rand(1, generator=generator, device=dev) < self.p).expand(b)
        else:
            on = R.bernoulli(b, self.p, generator)
        lam = R.gate(_beta(b, self.alpha, generator).float(), on, 1.0)  # (B,)
        if self.mix == "random":
            partner = torch.randperm(b, generator=generator, device=dev)
        else:
            h = b // 2
            partner = torch.arange(b, device=dev)
            partner[:h] = h + torch.randperm(h, generator=generator, device=dev)  # first half <- second
            partner[h : 2 * h] = torch.randperm(h, generator=generator, device=dev)  # second half <- first
        return {"lam": lam, "partner": partner}

    def forward(
        self, x: Tensor, generator: Optional[torch.Generator] = None, params: Optional[Params] = None
    ) -> Tensor:
        if not self.training or self.p == 0.0 or x.shape[0] == 0:
            return x
        if x.dim() < 3:
            raise ValueError(f"MixStyle needs (B, C, *spatial) features, got shape {tuple(x.shape)}")
        b = x.shape[0]
        if params is None:
            params = self.sample_params(b, generator if generator is not None else self.generator)
        self.last_params = params
        lam = params["lam"].to(device=x.device, dtype=x.dtype).view(b, *([1] * (x.dim() - 1)))  # (B, 1, ...)
        partner = params["partner"].to(x.device)
        dims = tuple(range(2, x.dim()))
        mu = x.mean(dim=dims, keepdim=True).detach()  # (B, C, 1, ...)
        sig = (x.var(dim=dims, keepdim=True) + self.eps).sqrt().detach()  # (B, C, 1, ...)
        x_normed = (x - mu) / sig
        mu_mix = torch.lerp(mu[partner], mu, lam)  # lam * mu + (1 - lam) * mu[partner]
        sig_mix = torch.lerp(sig[partner], sig, lam)
        return x_normed * sig_mix + mu_mix

    def extra_repr(self) -> str:
        return f"p={self.p}, alpha={self.alpha}, eps={self.eps}, mix={self.mix!r}, gate={self.gate!r}"
