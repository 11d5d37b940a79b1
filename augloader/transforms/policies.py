"""RandAugment and TrivialAugmentWide with ops, signs and magnitudes chosen *per sample*.

torchvision draws one op sequence per call and kornia one per batch; here every sample draws its
own. Geometric picks (shear, translate, rotate) of all steps compose into one matrix per sample and
are resampled once, before the photometric steps; each photometric step runs every op with neutral
parameters for the samples that did not pick it. So a policy costs one warp plus a few float passes
whatever the batch holds. (torchvision applies the ops in the drawn order, resampling once per
geometric op. A sample with at most one geometric op equals torchvision's result with that op moved
to the front; that differs from the drawn order where a colour op does not commute with resampling:
at the fill, for image statistics (contrast, autocontrast, equalize) and for nonlinear or spatial
ops (posterize, solarize, sharpness). Two geometric ops are resampled once here, twice there.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import torch
from torch import Tensor

from .._batch import BatchView
from .._const import const
from ..ops import color as C
from ..ops import filters as Fi
from ..ops import matrices
from . import _args
from . import invariances as Inv
from .base import Params, Shape, Transform
from .stages import execute, plan

GEOMETRIC_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
ALL_OPS = ("Identity", *GEOMETRIC_OPS, "Brightness", "Color", "Contrast", "Sharpness", "Posterize", "Solarize",
           "AutoContrast", "Equalize")


@dataclass(frozen=True)
class OpSpace:
    """Magnitude tables of a policy (torchvision's), as functions of the bin count and image size."""

    shear: float  # max shear, as tan(angle)
    translate: Optional[float]  # max translation in pixels, or None for 150/331 of the image size
    rotate: float  # max degrees
    enhance: float  # max |factor - 1| for brightness, color, contrast, sharpness
    posterize_drop: float  # bits removed at the top bin

    def magnitudes(self, name: str, bins: Tensor, n_bins: int, size: tuple[int, int]) -> Tensor:
        """Magnitude of op ``name`` at integer bin indices ``bins`` (any shape)."""
        t = bins.to(torch.float32) / max(n_bins - 1, 1)
        if name in ("ShearX", "ShearY"):
            return t * self.shear
        if name in ("TranslateX", "TranslateY"):
            extent = size[1] if name == "TranslateX" else size[0]
            top = self.translate if self.translate is not None else 150.0 / 331.0 * extent
            return t * top
        if name == "Rotate":
            return t * self.rotate
        if name in ("Brightness", "Color", "Contrast", "Sharpness"):
            return t * self.enhance
        if name == "Posterize":
            return 8.0 - torch.round(t * self.posterize_drop)
        if name == "Solarize":
            return 1.0 - t
        return torch.zeros_like(t)


RANDAUGMENT_SPACE = OpSpace(shear=0.3, translate=None, rotate=30.0, enhance=0.9, posterize_drop=4.0)
TRIVIALAUGMENT_WIDE_SPACE = OpSpace(shear=0.99, translate=32.0, rotate=135.0, enhance=0.99, posterize_drop=6.0)
SIGNED = {"ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness", "Color", "Contrast", "Sharpness"}


def _check_ops(ops: Optional[Sequence[str]]) -> tuple[str, ...]:
    if ops is None:
        return ALL_OPS
    ops = tuple(ops)
    unknown = [o for o in ops if o not in ALL_OPS]
    if unknown or not ops:
        raise ValueError(f"unknown policy ops {unknown}; choose from {ALL_OPS}")
    return ops


def _any(mask: Tensor) -> bool:
    """Whether any sample needs an op: exact on CPU (free), assumed True elsewhere (no device sync)."""
    return bool(mask.any()) if mask.device.type == "cpu" else True


def _draw(ops: tuple[str, ...], num_steps: int, shape: Shape, generator: Optional[torch.Generator],
          bins: Tensor) -> Params:
    b = shape[0]
    dev = generator.device if generator is not None else "cpu"
    op = torch.randint(0, len(ops), (b, num_steps), generator=generator, device=dev)
    sign = torch.where(torch.rand(b, num_steps, generator=generator, device=dev) < 0.5, -1.0, 1.0)
    return {"op": op, "sign": sign, "bin": bins}


class _Policy:
    """The shared execution of a per-sample policy (a mixin-free helper object, not a base class)."""

    def __init__(self, ops: tuple[str, ...], space: OpSpace, n_bins: int, interpolation: str, fill) -> None:
        self.ops, self.space, self.n_bins = ops, space, n_bins
        self.interpolation, self.fill = interpolation, fill

    def mags(self, name: str, params: Params, size: tuple[int, int], step: int) -> Tensor:
        m = self.space.magnitudes(name, params["bin"], self.n_bins, size)
        if m.dim() == 2:
            m = m[:, step]
        return m * params["sign"][:, step] if name in SIGNED else m

    def picked(self, params: Params, name: str, step: int) -> Tensor:
        if name not in self.ops:
            return torch.zeros_like(params["op"][:, step], dtype=torch.bool)
        return params["op"][:, step] == self.ops.index(name)

    def matrix(self, params: Params, size: tuple[int, int]) -> Tensor:
        b, steps = params["op"].shape
        dev = params["op"].device
        total = matrices.identity(b, dev)
        h, w = size
        zeros = torch.zeros(b, device=dev)
        centre = const([w / 2.0, h / 2.0], dev).expand(b, 2)
        for k in range(steps):
            step = matrices.identity(b, dev)
            for name in GEOMETRIC_OPS:
                on = self.picked(params, name, k)
                mag = torch.where(on, self.mags(name, params, size, k), zeros)
                if name == "ShearX":
                    m = matrices.identity(b, dev)
                    m[:, 0, 1] = -mag  # torchvision: shear about the top-left corner, x' = x - tan * y
                elif name == "ShearY":
                    m = matrices.identity(b, dev)
                    m[:, 1, 0] = -mag
                elif name == "TranslateX":
                    m = matrices.translation(torch.trunc(mag), zeros)
                elif name == "TranslateY":
                    m = matrices.translation(zeros, torch.trunc(mag))
                else:
                    m = matrices.rotation(mag, centre)
                step = torch.where(on.view(-1, 1, 1), m, step)
            total = step @ total
        return total

    def photometric(self, image: Tensor, params: Params) -> Tensor:
        steps = params["op"].shape[1]
        size = tuple(image.shape[-2:])
        c = image.shape[1]
        for k in range(steps):
            lin = {n: self.picked(params, n, k) for n in ("Brightness", "Color", "Contrast")}
            if _any(lin["Brightness"] | lin["Color"] | lin["Contrast"]):
                f = {n: torch.where(on, 1.0 + self.mags(n, params, size, k), torch.ones_like(on, dtype=torch.float32))
                     for n, on in lin.items()}
                m_b, _ = C.brightness_matrix(f["Brightness"], c)
                m_s, _ = C.saturation_matrix(f["Color"], c) if c == 3 else C.brightness_matrix(torch.ones_like(f["Color"]), c)
                m_c, o_c = C.contrast_matrix(f["Contrast"], C.mean_gray(image).float(), c)
                # At most one of them is not the identity per sample, so their product is that one.
                image = C.color_affine(image, m_b @ m_s @ m_c, o_c)
            on = self.picked(params, "Sharpness", k)
            if _any(on):
                image = Fi.sharpen(image, torch.where(on, 1.0 + self.mags("Sharpness", params, size, k), torch.ones_like(on, dtype=torch.float32)))
            on = self.picked(params, "Posterize", k)
            if _any(on):
                image = C.posterize(image, torch.where(on, self.mags("Posterize", params, size, k), torch.full_like(on, 8.0, dtype=torch.float32)))
            on = self.picked(params, "Solarize", k)
            if _any(on):
                image = C.solarize(image, torch.where(on, self.mags("Solarize", params, size, k), torch.full_like(on, 2.0, dtype=torch.float32)))
            on = self.picked(params, "AutoContrast", k)
            if _any(on):
                image = C.autocontrast(image, on)
            on = self.picked(params, "Equalize", k)
            if _any(on):
                image = C.equalize(image, on)
        return image


class _Warp(Transform):
    """The geometric half of a policy as a transform, so the stage engine resamples it."""

    kind = "geometric"
    may_sample_outside = True

    def __init__(self, policy: _Policy) -> None:
        super().__init__()
        self.policy = policy
        self.interpolation = policy.interpolation
        self.padding_mode = "constant"
        self.fill = policy.fill

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return self.policy.matrix(params, in_size)


def _restrict(t: Transform, invariances: Optional[Mapping[str, Any]], max_rotate: float, max_shear_tan: float) -> None:
    """Drops the ops of policy ``t`` that break ``invariances`` (in place)."""
    inv = Inv.parse(invariances)
    if inv:
        t.ops = Inv.allowed_policy_ops(t.ops, inv, max_rotate, max_shear_tan)
        t._policy.ops = t.ops


def _run_policy(policy: _Policy, warp: _Warp, image: Tensor, params: Params) -> Tensor:
    geometric = any(o in GEOMETRIC_OPS for o in policy.ops)
    if geometric:
        image = execute(plan([warp]), BatchView(image, False, None), [params])
    return policy.photometric(image, params)


class RandAugment(Transform):
    """RandAugment (Cubuk et al., 2020): ``num_ops`` ops at one ``magnitude``, drawn per sample.

    Args:
        num_ops: ops applied to each sample.
        magnitude: bin index in ``[0, num_magnitude_bins)``.
        num_magnitude_bins: resolution of the magnitude tables (torchvision's tables).
        ops: the op names to draw from (default: torchvision's 14); drop ops your labels forbid.
        interpolation: ``"bilinear"`` (torchvision defaults to nearest) or ``"nearest"``.
        fill: value outside the image after geometric ops, on the working ``[0, 1]`` scale.
        invariances: what the labels allow (see ``Compose``); ops that could break them are dropped.
    """

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 ops: Optional[Sequence[str]] = None, interpolation: str = "bilinear", fill: float = 0.0,
                 invariances: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        if not isinstance(num_ops, int) or num_ops < 1:
            raise ValueError(f"num_ops must be a positive int, got {num_ops!r}")
        if not 0 <= magnitude < num_magnitude_bins:
            raise ValueError(f"magnitude must be in [0, {num_magnitude_bins}), got {magnitude!r}")
        self.num_ops, self.magnitude, self.num_magnitude_bins = num_ops, int(magnitude), int(num_magnitude_bins)
        self.ops = _check_ops(ops)
        self._policy = _Policy(self.ops, RANDAUGMENT_SPACE, self.num_magnitude_bins,
                               _args.interpolation(interpolation), _args.fill_value(fill))
        self._warp = _Warp(self._policy)
        self.restrict_ops(invariances)

    def restrict_ops(self, invariances: Optional[Mapping[str, Any]]) -> None:
        """Drops the ops that could break ``invariances`` (``Compose(invariances=...)`` calls this)."""
        top = self.magnitude / max(self.num_magnitude_bins - 1, 1)  # this magnitude's share of the tables
        _restrict(self, invariances, RANDAUGMENT_SPACE.rotate * top, RANDAUGMENT_SPACE.shear * top)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        bins = torch.full((shape[0],), self.magnitude, dtype=torch.int64)
        return _draw(self.ops, self.num_ops, shape, generator, bins)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return _run_policy(self._policy, self._warp, image, params)

    def extra_repr(self) -> str:
        return f"num_ops={self.num_ops}, magnitude={self.magnitude}, ops={list(self.ops)}"


class TrivialAugmentWide(Transform):
    """TrivialAugment (Müller and Hutter, 2021), wide magnitudes: one op at a random magnitude per sample."""

    def __init__(self, num_magnitude_bins: int = 31, ops: Optional[Sequence[str]] = None,
                 interpolation: str = "bilinear", fill: float = 0.0,
                 invariances: Optional[Mapping[str, Any]] = None) -> None:
        super().__init__()
        if num_magnitude_bins < 2:
            raise ValueError(f"num_magnitude_bins must be >= 2, got {num_magnitude_bins}")
        self.num_magnitude_bins = int(num_magnitude_bins)
        self.ops = _check_ops(ops)
        self._policy = _Policy(self.ops, TRIVIALAUGMENT_WIDE_SPACE, self.num_magnitude_bins,
                               _args.interpolation(interpolation), _args.fill_value(fill))
        self._warp = _Warp(self._policy)
        self.restrict_ops(invariances)

    def restrict_ops(self, invariances: Optional[Mapping[str, Any]]) -> None:
        """Drops the ops that could break ``invariances`` (``Compose(invariances=...)`` calls this)."""
        _restrict(self, invariances, TRIVIALAUGMENT_WIDE_SPACE.rotate, TRIVIALAUGMENT_WIDE_SPACE.shear)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        dev = generator.device if generator is not None else "cpu"
        bins = torch.randint(0, self.num_magnitude_bins, (shape[0],), generator=generator, device=dev)
        return _draw(self.ops, 1, shape, generator, bins)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return _run_policy(self._policy, self._warp, image, params)

    def extra_repr(self) -> str:
        return f"num_magnitude_bins={self.num_magnitude_bins}, ops={list(self.ops)}"
