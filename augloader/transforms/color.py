"""Photometric transforms: per-sample factors, one float pass, targets untouched."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from .. import _random as R
from .._const import const
from ..ops import color as C
from . import _args
from .base import Params, Shape, Tail, Transform


def _factor_range(value: float | Sequence[float], name: str, center: float = 1.0, bound=(0.0, float("inf"))):
    """torchvision's ColorJitter ranges: ``f`` means ``[max(0, center - f), center + f]``; finite, within ``bound``."""
    low, high = _args.symmetric_range(value, name, center=center)
    if _args.is_number(value):
        low = max(low, bound[0])
    if low < bound[0] or high > bound[1]:
        raise ValueError(f"{name} range ({low}, {high}) must lie within {bound}")
    return low, high


class ColorJitter(Transform):
    """Brightness, contrast, saturation and hue with factors and an op order drawn per sample.

    Like torchvision, the four ops run in a random order (here per sample). Brightness, contrast and
    saturation are linear, so each run of them between hue steps is one per-sample 3x3 colour
    matrix: one pass, clamped once at its end (torchvision clamps after every op; results differ only
    where an intermediate value left ``[0, 1]``).

    Hue: ``hue_mode="hsv"`` (default) is exact HSV arithmetic, torchvision's result, and costs about
    25 passes over a pixel plane. ``hue_mode="linear"`` rotates colours about the gray axis instead,
    which is linear, so the whole jitter becomes one colour matrix per sample: one pass, several times
    faster, and an approximation of the HSV hue (see ``ops.color.hue_rotation_matrix``).

    Args:
        brightness, contrast, saturation: ``f`` means factors in ``[max(0, 1 - f), 1 + f]``, or a range.
        hue: ``h`` in ``[0, 0.5]`` means shifts in ``[-h, h]`` turns, or a range.
        p: probability of jittering a sample.
        hue_mode: ``"hsv"`` (exact) or ``"linear"`` (fast approximation).
    """

    def __init__(
        self,
        brightness: float | Sequence[float] = 0.0,
        contrast: float | Sequence[float] = 0.0,
        saturation: float | Sequence[float] = 0.0,
        hue: float | Sequence[float] = 0.0,
        p: float = 1.0,
        hue_mode: str = "hsv",
    ) -> None:
        super().__init__(p)
        self.hue_mode = _args.choice(hue_mode, "hue_mode", ("hsv", "linear"))
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5))

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        order = torch.argsort(
            torch.rand(b, 4, generator=generator, device=generator.device if generator else "cpu"), dim=1
        )
        return {
            "brightness": R.gate(R.uniform(b, *self.brightness, generator), on, 1.0),
            "contrast": R.gate(R.uniform(b, *self.contrast, generator), on, 1.0),
            "saturation": R.gate(R.uniform(b, *self.saturation, generator), on, 1.0),
            "hue": R.gate(R.uniform(b, *self.hue, generator), on, 0.0),
            "order": order,  # (B, 4): op ids 0 brightness, 1 contrast, 2 saturation, 3 hue
        }

    def _uses(self, rng: tuple[float, float], neutral: float) -> bool:
        return rng != (neutral, neutral)

    accepts_tail = True

    def _segments(self, channels: int) -> tuple[str, ...]:
        """The colour-matrix segments :meth:`apply` runs: one for all four ops, or those before and after
        an exact hue step."""
        if self._uses(self.hue, 0.0) and channels == 3 and self.hue_mode == "hsv":
            return ("before_hue", "after_hue")
        return ("all",)

    def prepare(self, params: Params, shape: Shape) -> Params:
        """Each segment's colour matrix ``M (B, C, C)`` and mean map ``A (B, C, C)``: the segment maps a
        pixel ``x`` to ``M x + A mu``, ``mu`` its input's channel means (contrast blends with the mean
        luma, and the running mean is linear in ``mu``). Parameter-sized algebra only."""
        b, c = shape[0], shape[1]
        order = params["order"]
        dev = order.device
        segments = self._segments(c)
        if segments == ("all",):
            positions = {"all": torch.ones_like(order, dtype=torch.bool)}
        else:
            hue_pos = (order == 3).to(torch.int64).argmax(dim=1, keepdim=True)  # (B, 1)
            k = torch.arange(4, device=dev).view(1, 4)
            positions = {"before_hue": k < hue_pos, "after_hue": k > hue_pos}
        ident = torch.eye(c, device=dev).expand(b, c, c)
        mb, _ = C.brightness_matrix(params["brightness"].float(), c)
        ms, _ = C.saturation_matrix(params["saturation"].float(), c)
        f = params["contrast"].float().view(-1, 1, 1)
        mc = f * torch.eye(c, device=dev)
        # contrast adds (1 - f) * gray(mean) to every channel: K @ mean, K = (1 - f) 1 w^T
        to_gray = torch.ones(c, 1, device=dev) * C._weights(c, dev).view(1, -1)
        k_contrast = (1.0 - f) * to_gray
        use_linear_hue = self.hue_mode == "linear" and c == 3
        mh = C.hue_rotation_matrix(params["hue"]) if use_linear_hue else ident
        out = dict(params)
        for name, active in positions.items():
            # x -> m x + a_off mu, and the running channel mean -> a_mean mu. Contrast is the only step
            # with an offset and comes once per order, so the mean is read at most once per segment.
            m, a_off, a_mean = ident, torch.zeros_like(ident), ident
            for step in range(4):
                op = order[:, step]

                def sel(i: int) -> Tensor:
                    return (active[:, step] & (op == i)).view(b, 1, 1)

                step_m = torch.where(
                    sel(0), mb, torch.where(sel(1), mc, torch.where(sel(2), ms, torch.where(sel(3), mh, ident)))
                )
                k = torch.where(sel(1), k_contrast, torch.zeros_like(k_contrast))  # the step's offset per mean
                m = step_m @ m
                a_off = step_m @ a_off + k @ a_mean
                a_mean = step_m @ a_mean
            out[f"{name}_matrix"], out[f"{name}_mean_map"] = m.contiguous(), a_off.contiguous()
        return out

    def _segment(
        self, image: Tensor, params: Params, name: str, tail: Optional[Tail] = None, input_scale: float = 1.0
    ) -> Tensor:
        """One segment's colour matrix in one pass, clamped to ``[0, 1]`` and then mapped by the
        per-channel ``tail`` affine if given. The input holds values in ``[0, input_scale]``; the factor
        is folded into the matrix."""
        b, c = image.shape[:2]
        dev = image.device
        m = params[f"{name}_matrix"]
        if input_scale != 1.0:
            m = m * (1.0 / input_scale)
        if self._uses(self.contrast, 1.0):
            mu = image.mean(dim=(2, 3), dtype=torch.float32)  # (B, C) in [0, input_scale]
            o = torch.bmm(params[f"{name}_mean_map"], mu.unsqueeze(-1)).view(b, c)
            if input_scale != 1.0:
                o = o.mul_(1.0 / input_scale)
        else:
            o = torch.zeros((), device=dev).expand(b, c)
        if tail is None:
            return C.color_affine(image, m, o)
        scale, bias = const(tail[0], dev), const(tail[1], dev)
        out = C.color_affine(image, scale.view(1, c, 1) * m, torch.addcmul(bias, scale, o), clamp=False)
        # Clamp each channel to the image of [0, 1] under the tail (bounds: host constants of the Normalize).
        low = const([min(b_, s + b_) for s, b_ in zip(*tail)], dev).view(1, c, 1, 1)
        high = const([max(b_, s + b_) for s, b_ in zip(*tail)], dev).view(1, c, 1, 1)
        return out.clamp_(low, high)

    def apply(self, image: Tensor, params: Params, tail: Optional[Tail] = None, input_scale: float = 1.0) -> Tensor:
        """Runs the jitter. ``tail`` (per-channel scale, bias) is a following Normalize folded into the
        last pass; ``input_scale`` a value scale of the input folded into the first."""
        segments = self._segments(image.shape[1])
        if f"{segments[0]}_matrix" not in params:  # called directly, not through the engine
            params = self.prepare(params, tuple(image.shape))
        linear = any(self._uses(r, 1.0) for r in (self.brightness, self.contrast, self.saturation))
        linear = linear or (self.hue_mode == "linear" and self._uses(self.hue, 0.0) and image.shape[1] == 3)
        if segments == ("all",):
            if linear or tail is not None or input_scale != 1.0:
                return self._segment(image, params, "all", tail, input_scale)
            return image
        if linear or input_scale != 1.0:
            image = self._segment(image, params, "before_hue", input_scale=input_scale)
        image = C.adjust_hue(image, params["hue"])
        if linear or tail is not None:
            image = self._segment(image, params, "after_hue", tail)
        return image

    def extra_repr(self) -> str:
        parts = [f"{n}={getattr(self, n)}" for n in ("brightness", "contrast", "saturation", "hue")]
        return ", ".join(parts + [f"hue_mode={self.hue_mode!r}"] + ([f"p={self.p}"] if self.p != 1.0 else []))


class RandomGrayscale(Transform):
    """Converts a sample to grayscale with probability ``p`` (channels kept)."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return _toggle(shape, self.p, generator)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        if image.shape[1] == 1:
            return image
        m, o = C.grayscale_matrix(params["on"], image.shape[1])
        return C.color_affine(image, m, o)


class RandomGamma(Transform):
    """``gain * x ** gamma`` with ``gamma`` drawn per sample from ``gamma`` (a range)."""

    def __init__(self, gamma: Sequence[float] = (0.8, 1.25), gain: float = 1.0, p: float = 0.5) -> None:
        super().__init__(p)
        self.gamma = _args.interval(gamma, "gamma", low_bound=1e-6)
        self.gain = _args.number(gain, "gain", low=0.0, low_open=True)  # 0 or below: a black image

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        gamma = (
            R.log_uniform(b, *self.gamma, generator)
            if self.gamma[0] != self.gamma[1]
            else torch.full((b,), self.gamma[0])
        )
        return {"gamma": R.gate(gamma, on, 1.0), "gain": R.gate(torch.full((b,), self.gain), on, 1.0)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.adjust_gamma(image, params["gamma"], params["gain"])


def _unit_threshold(threshold: float) -> float:
    threshold = _args.number(threshold, "threshold")
    if not 0.0 <= threshold <= 255.0:
        raise ValueError(f"threshold must be in [0, 1] (fraction) or in (1, 255] (uint8 scale), got {threshold}")
    return threshold / 255.0 if threshold > 1.0 else threshold


class RandomSolarize(Transform):
    """Inverts pixels at or above ``threshold`` with probability ``p``.

    ``threshold`` is a fraction in ``[0, 1]`` or, when above 1, a value on the uint8 scale (torchvision
    takes the image's own scale: 128 for uint8 equals 128/255 here).
    """

    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.threshold = _unit_threshold(threshold)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"threshold": R.gate(torch.full((b,), self.threshold), on, 2.0)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.solarize(image, params["threshold"])


class RandomPosterize(Transform):
    """Keeps the top ``bits`` bits of every 8-bit value with probability ``p``."""

    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p)
        self.bits = _args.integer(bits, "bits", 0, 8)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"bits": R.gate(torch.full((b,), float(self.bits)), on, 8.0)}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.posterize(image, params["bits"])


def _toggle(shape: Shape, p: float, generator: Optional[torch.Generator]) -> Params:
    """Params of transforms that are simply on or off per sample."""
    return {"on": R.bernoulli(shape[0], p, generator)}


class RandomAutocontrast(Transform):
    """Stretches each channel to the full range with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return _toggle(shape, self.p, generator)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.autocontrast(image, params["on"])


class RandomEqualize(Transform):
    """Histogram-equalises each channel (8-bit levels) with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return _toggle(shape, self.p, generator)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.equalize(image, params["on"])


class RandomInvert(Transform):
    """``1 - x`` with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return _toggle(shape, self.p, generator)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return C.invert(image, params["on"])
