"""Blur, sharpening, noise and erasing: pixel transforms with per-sample parameters."""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import Tensor

from .. import _random as R
from .._const import const
from ..ops import erase as E
from ..ops import filters as Fi
from ..ops import noise as N
from . import _args
from .base import Params, Shape, Transform


def _seed(b: int, generator: Optional[torch.Generator]) -> Tensor:
    """One 31-bit seed per sample for per-pixel noise (see ``ops.noise``)."""
    dev = generator.device if generator is not None else "cpu"
    return torch.randint(0, 2**31 - 1, (b,), generator=generator, device=dev)


class GaussianBlur(Transform):
    """Separable Gaussian blur with ``sigma`` drawn per sample (torchvision's ``GaussianBlur``).

    Args:
        kernel_size: odd int or ``(kx, ky)``.
        sigma: a fixed sigma or a ``(low, high)`` range drawn uniformly per sample.
        p: probability of blurring a sample (others get a delta kernel).
    """

    linear_in_value = True

    def __init__(
        self, kernel_size: int | Sequence[int], sigma: float | Sequence[float] = (0.1, 2.0), p: float = 1.0
    ) -> None:
        super().__init__(p)
        self.kernel_size = _args.kernel_size(kernel_size)  # (kx, ky)
        self.sigma = _args.value_range(sigma, "sigma", low_bound=1e-6)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        sigma = R.uniform(b, *self.sigma, generator)
        # A tiny sigma makes the kernel a delta: the neutral value for skipped samples.
        return {"sigma": R.gate(sigma, on, 1e-3).unsqueeze(1).expand(b, 2).contiguous()}

    def prepare(self, params: Params, shape: Shape) -> Params:
        """Adds each sample's kernels, repeated over the channels: ``kernel_x (B, C, kx)``, ``kernel_y (B, C, ky)``."""
        kx, ky = Fi.channel_kernels(self.kernel_size, params["sigma"], shape[1])
        return {**params, "kernel_x": kx, "kernel_y": ky}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        h, w = image.shape[-2:]
        if h <= self.kernel_size[1] // 2 or w <= self.kernel_size[0] // 2:
            raise ValueError(f"GaussianBlur kernel {self.kernel_size} is too large for an image of size {(h, w)}")
        kernels = (params["kernel_x"], params["kernel_y"]) if "kernel_x" in params else None
        if kernels is not None and kernels[0].shape[1] != image.shape[1]:
            kernels = None  # prepared for another channel count (params replayed on another batch)
        return Fi.gaussian_blur(image, self.kernel_size, params["sigma"], kernels)


class RandomSharpness(Transform):
    """Sharpens (factor > 1) or softens (factor < 1) per sample (torchvision's ``RandomAdjustSharpness``)."""

    def __init__(self, sharpness_factor: float | Sequence[float] = 2.0, p: float = 0.5) -> None:
        super().__init__(p)
        self.sharpness = _args.value_range(sharpness_factor, "sharpness_factor")

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"factor": R.gate(R.uniform(b, *self.sharpness, generator), on, 1.0)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return Fi.sharpen(image, params["factor"])


class GaussianNoise(Transform):
    """Adds Gaussian noise with ``sigma`` (fixed or a range, fraction of the value range) per sample."""

    def __init__(self, sigma: float | Sequence[float] = 0.1, clip: bool = True, p: float = 1.0) -> None:
        super().__init__(p)
        self.sigma = _args.value_range(sigma, "sigma")
        self.clip = _args.flag(clip, "clip")

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"sigma": R.gate(R.uniform(b, *self.sigma, generator), on, 0.0), "seed": _seed(b, generator)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return N.gaussian_noise(image, params["sigma"], params["seed"], self.clip)


class SaltAndPepperNoise(Transform):
    """Sets a share ``amount`` of pixels to white (salt) or black (pepper) per sample."""

    def __init__(self, amount: float | Sequence[float] = (0.01, 0.05), salt_ratio: float = 0.5, p: float = 1.0) -> None:
        super().__init__(p)
        self.amount = _args.value_range(amount, "amount", 0.0, 1.0)
        self.salt_ratio = _args.number(salt_ratio, "salt_ratio", 0.0, 1.0)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"amount": R.gate(R.uniform(b, *self.amount, generator), on, 0.0), "seed": _seed(b, generator)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return N.salt_and_pepper(image, params["amount"], params["seed"], self.salt_ratio)


class RandomErasing(Transform):
    """Erases a random rectangle per sample (torchvision's ``RandomErasing``, vectorised tries).

    Args:
        p: probability of erasing a sample.
        scale: range of the erased area as a fraction of the image.
        ratio: range of the rectangle's aspect ratio (log-uniform).
        value: a number, one per channel (in ``[0, 1]``, the working scale), or ``"random"`` for noise.

    It may follow Normalize (as in timm's recipe); ``value`` is then in normalised units.
    """

    needs_unit_range = False
    writes_in_place = True

    def __init__(
        self,
        p: float = 0.5,
        scale: Sequence[float] = (0.02, 0.33),
        ratio: Sequence[float] = (0.3, 3.3),
        value: float | Sequence[float] | str = 0.0,
        tries: int = 10,
    ) -> None:
        super().__init__(p)
        self.scale = _args.interval(scale, "scale", low_bound=0.0, high_bound=1.0)
        self.ratio = _args.interval(ratio, "ratio", low_bound=1e-6)
        if isinstance(value, str):
            if value != "random":
                raise ValueError(f"value must be a number, a sequence of numbers or 'random', got {_args.show(value)}")
            self.value = None
        else:
            self.value = _args.fill_value(value, "value")
        self.tries = _args.integer(tries, "tries", low=1)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, _, h, w = shape
        n = self.tries
        on = R.bernoulli(b, self.p, generator)
        area = R.uniform(b, *self.scale, generator, (n,)) * (h * w)
        aspect = R.uniform(b, math.log(self.ratio[0]), math.log(self.ratio[1]), generator, (n,)).exp_()
        eh = torch.round(torch.sqrt(area * aspect))
        ew = torch.round(torch.sqrt(area / aspect))
        ok = (eh < h) & (ew < w) & (eh > 0) & (ew > 0)
        first = ok.float().argmax(dim=1, keepdim=True)
        found = ok.any(dim=1) & on  # torchvision leaves the image as is when no try fits
        eh = torch.where(found, eh.gather(1, first).squeeze(1), torch.tensor(0.0))
        ew = torch.where(found, ew.gather(1, first).squeeze(1), torch.tensor(0.0))
        u = R.uniform(b, 0.0, 1.0, generator, (2,))
        top = torch.floor(u[:, 0] * (h - eh + 1))
        left = torch.floor(u[:, 1] * (w - ew + 1))
        return {"box": torch.stack([left, top, ew, eh], dim=1), "seed": _seed(b, generator)}

    def apply(self, image: Tensor, params: Params, inplace: bool = False) -> Tensor:
        _args.check_fill(self.value, image.shape[1], "RandomErasing", "value")
        value = None if self.value is None else const(self.value, image.device, image.dtype)
        return E.erase(image, params["box"], value, params["seed"], inplace=inplace)
