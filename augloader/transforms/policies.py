"""RandAugment and TrivialAugmentWide with ops, signs and magnitudes chosen *per sample*.

torchvision draws one op sequence per call and kornia one per batch; here every sample draws its
own, and each op runs only on the samples that drew it (``policy_engine``): the cost of a batch
follows what its samples drew, and samples that drew Identity are not touched. Geometric picks
(shear, translate, rotate) of all steps compose into one matrix per sample, resampled once, before
the photometric steps. (torchvision applies the ops in the drawn order, resampling once per
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

from . import _args
from . import _subsets as S
from . import invariances as Inv
from .base import Params, Shape, Transform
from .policy_engine import ENHANCE_OPS, GEOMETRIC_OPS, PolicyRunner, PolicyWarp

ALL_OPS = (
    "Identity",
    *GEOMETRIC_OPS,
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
)


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
    return ALL_OPS if ops is None else _args.op_names(ops, ALL_OPS)


@dataclass(frozen=True)
class BinnedSpace:
    """Op arguments from torchvision's tables: a magnitude bin per sample, a sign per sample and step."""

    space: OpSpace
    n_bins: int

    def argument(self, j: int, name: str, params: Params, step: int, size: tuple[int, int]) -> Tensor:
        """Argument of op ``name`` at ``step`` per sample (see ``policy_engine.PHOTOMETRIC_OPS``)."""
        m = self.space.magnitudes(name, params["bin"], self.n_bins, size)
        if m.dim() == 2:
            m = m[:, step]
        if name in SIGNED:
            m = m * params["sign"][:, step]
        if name in ("TranslateX", "TranslateY"):
            return torch.trunc(m)  # torchvision shifts by whole pixels
        return 1.0 + m if name in ENHANCE_OPS else m


def _draw(
    ops: tuple[str, ...], num_steps: int, shape: Shape, generator: Optional[torch.Generator], bins: Tensor
) -> Params:
    b = shape[0]
    dev = generator.device if generator is not None else "cpu"
    op = torch.randint(0, len(ops), (b, num_steps), generator=generator, device=dev)
    sign = torch.where(torch.rand(b, num_steps, generator=generator, device=dev) < 0.5, -1.0, 1.0)
    return S.add_host_copy({"op": op, "sign": sign, "bin": bins}, "op")


def _restrict(t: Transform, invariances: Optional[Mapping[str, Any]], max_rotate: float, max_shear_tan: float) -> None:
    """Drops the ops of policy ``t`` that break ``invariances`` (in place)."""
    inv = Inv.parse(invariances)
    if inv:
        t.ops = Inv.allowed_policy_ops(t.ops, inv, max_rotate, max_shear_tan)
        t._policy.ops = t.ops


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

    Params: ``op (B, num_ops)`` op indices, ``sign (B, num_ops)``, ``bin (B,)``, and ``op_host``, a host
    copy of ``op`` (delete it if you edit ``op`` by hand).

    Shape:
        ``(B, C, H, W)`` (uint8 or float) -> same shape and dtype.
    """

    whole_batch = True  # each op runs on the samples that drew it

    native = True  # converts only the samples that drew an op to float, and back

    def __init__(
        self,
        num_ops: int = 2,
        magnitude: int = 9,
        num_magnitude_bins: int = 31,
        ops: Optional[Sequence[str]] = None,
        interpolation: str = "bilinear",
        fill: float = 0.0,
        invariances: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__()
        num_ops = _args.integer(num_ops, "num_ops", low=1)
        num_magnitude_bins = _args.integer(num_magnitude_bins, "num_magnitude_bins", low=2)
        magnitude = _args.integer(magnitude, "magnitude", low=0)  # 2.5 is refused, not truncated
        if magnitude >= num_magnitude_bins:
            raise ValueError(
                f"magnitude must be in [0, num_magnitude_bins) = [0, {num_magnitude_bins}), got {magnitude}"
            )
        self.num_ops, self.magnitude, self.num_magnitude_bins = num_ops, magnitude, num_magnitude_bins
        self.ops = _check_ops(ops)
        self._policy = PolicyRunner(
            self.ops,
            BinnedSpace(RANDAUGMENT_SPACE, self.num_magnitude_bins),
            _args.interpolation(interpolation),
            _args.fill_value(fill),
        )
        self._warp = PolicyWarp(self._policy)
        self.restrict_ops(invariances)

    def restrict_ops(self, invariances: Optional[Mapping[str, Any]]) -> None:
        """Drops the ops that could break ``invariances`` (``Compose(invariances=...)`` calls this)."""
        top = self.magnitude / max(self.num_magnitude_bins - 1, 1)  # this magnitude's share of the tables
        _restrict(self, invariances, RANDAUGMENT_SPACE.rotate * top, RANDAUGMENT_SPACE.shear * top)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        bins = torch.full((shape[0],), self.magnitude, dtype=torch.int64)
        return _draw(self.ops, self.num_ops, shape, generator, bins)

    def prepare(self, params: Params, shape: Shape) -> Params:
        return self._policy.prepare(params, shape, self._warp)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return self._policy.run(image, params, self._warp)

    def extra_repr(self) -> str:
        return f"num_ops={self.num_ops}, magnitude={self.magnitude}, ops={list(self.ops)}"


class TrivialAugmentWide(Transform):
    """TrivialAugment (Müller and Hutter, 2021), wide magnitudes: one op at a random magnitude per sample.

    Arguments and params as :class:`RandAugment` (one step, a bin drawn per sample).

    Shape:
        ``(B, C, H, W)`` (uint8 or float) -> same shape and dtype.
    """

    native = True
    whole_batch = True  # each op runs on the samples that drew it

    def __init__(
        self,
        num_magnitude_bins: int = 31,
        ops: Optional[Sequence[str]] = None,
        interpolation: str = "bilinear",
        fill: float = 0.0,
        invariances: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__()
        self.num_magnitude_bins = _args.integer(num_magnitude_bins, "num_magnitude_bins", low=2)
        self.ops = _check_ops(ops)
        self._policy = PolicyRunner(
            self.ops,
            BinnedSpace(TRIVIALAUGMENT_WIDE_SPACE, self.num_magnitude_bins),
            _args.interpolation(interpolation),
            _args.fill_value(fill),
        )
        self._warp = PolicyWarp(self._policy)
        self.restrict_ops(invariances)

    def restrict_ops(self, invariances: Optional[Mapping[str, Any]]) -> None:
        """Drops the ops that could break ``invariances`` (``Compose(invariances=...)`` calls this)."""
        _restrict(self, invariances, TRIVIALAUGMENT_WIDE_SPACE.rotate, TRIVIALAUGMENT_WIDE_SPACE.shear)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        dev = generator.device if generator is not None else "cpu"
        bins = torch.randint(0, self.num_magnitude_bins, (shape[0],), generator=generator, device=dev)
        return _draw(self.ops, 1, shape, generator, bins)

    def prepare(self, params: Params, shape: Shape) -> Params:
        return self._policy.prepare(params, shape, self._warp)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return self._policy.run(image, params, self._warp)

    def extra_repr(self) -> str:
        return f"num_magnitude_bins={self.num_magnitude_bins}, ops={list(self.ops)}"
