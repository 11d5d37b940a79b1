"""Geometric transforms: each is a per-sample 3x3 matrix, fused with its neighbours inside Compose."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from .. import _random as R
from .._const import const
from ..ops import matrices
from ..targets import safety
from . import _args
from .base import Params, Shape, Transform


class _SafeDraw:
    """Crop-with-care sampling shared by RandomResizedCrop, RandomCrop and RandomAffine (a helper, not a base).

    With ``bbox_safe`` set and boxes in the batch, each sample draws ``safe_tries`` candidates in one
    vectorised call and keeps its first safe one, else the transform's widest safe choice (``_widest``).
    """

    @staticmethod
    def setup(t: Transform, bbox_safe: Any, min_visibility: float, safe_tries: int) -> None:
        t.bbox_safe, t.min_visibility, t.safe_tries = safety.check_bbox_safe(bbox_safe, min_visibility, safe_tries)
        t.needs_targets = t.bbox_safe is not None

    @staticmethod
    def sample(t: Transform, shape: Shape, generator: Optional[torch.Generator], targets: Optional[dict]) -> Params:
        if t.bbox_safe is None or targets is None:
            return t._draw(shape, generator)
        b, c, h, w = shape
        n = t.safe_tries
        candidates = t._draw((b * n, c, h, w), generator)  # (B * n, ...), sample-major
        return safety.choose(
            candidates,
            t._widest(shape, targets),
            n,
            lambda p: t.matrix(p, (h, w)),
            t.output_size((h, w)),
            targets,
            t.bbox_safe,
            t.min_visibility,
        )


def _center(center: Any) -> Optional[tuple[float, float]]:
    """A rotation centre: None (the image centre) or ``(x, y)`` finite pixel coordinates."""
    return None if center is None else tuple(_args.numbers_seq(center, "center", 2))  # type: ignore[return-value]


def _centre(
    b: int, size: tuple[int, int], center: Optional[Sequence[float]], device: torch.device | str = "cpu"
) -> Tensor:
    h, w = size
    c = (w / 2.0, h / 2.0) if center is None else (float(center[0]), float(center[1]))
    return const(c, device).expand(b, 2)


class RandomHorizontalFlip(Transform):
    """Mirrors each sample left-right with probability ``p``."""

    kind = "geometric"
    integer_exact = True
    frame_preserving = True
    axis_aligned = True

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return {"flip": R.bernoulli(shape[0], self.p, generator)}

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.horizontal_flip(params["flip"], in_size[1])


class RandomVerticalFlip(Transform):
    """Mirrors each sample top-bottom with probability ``p``."""

    kind = "geometric"
    integer_exact = True
    frame_preserving = True
    axis_aligned = True

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return {"flip": R.bernoulli(shape[0], self.p, generator)}

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.vertical_flip(params["flip"], in_size[0])


class RandomAffine(Transform):
    """Rotation, translation, scale and shear, drawn per sample (torchvision's ``RandomAffine``).

    Args:
        degrees: angle range in degrees (a number ``d`` means ``(-d, d)``).
        translate: maximal absolute fractions ``(a, b)``: ``tx`` in ``(-a W, a W)``, ``ty`` in ``(-b H, b H)``.
        scale: ``(low, high)`` scale factor range.
        shear: x-shear range (number or pair) or ``(x_low, x_high, y_low, y_high)``, degrees.
        interpolation: ``"bilinear"`` (default; torchvision defaults to nearest) or ``"nearest"``.
        fill: value outside the image, in the input's value scale (0-255 for uint8).
        center: rotation centre in pixels ``(x, y)``; the image centre by default.
        p: probability of transforming a sample (others get the identity).
        bbox_safe, min_visibility, safe_tries: warp with care (see ``RandomResizedCrop``); the
            fallback is the identity.
    """

    kind = "geometric"
    may_sample_outside = True

    def __init__(
        self,
        degrees: float | Sequence[float] = 0.0,
        translate: Optional[Sequence[float]] = None,
        scale: Optional[Sequence[float]] = None,
        shear: Optional[float | Sequence[float]] = None,
        interpolation: str = "bilinear",
        fill: float | Sequence[float] = 0.0,
        center: Optional[Sequence[float]] = None,
        p: float = 1.0,
        bbox_safe: Optional[str | float] = None,
        min_visibility: float = 1.0,
        safe_tries: int = 10,
    ) -> None:
        super().__init__(p)
        _SafeDraw.setup(self, bbox_safe, min_visibility, safe_tries)
        self.degrees = _args.symmetric_range(degrees, "degrees")
        if translate is not None:
            tx, ty = _args.numbers_seq(translate, "translate", 2)
            if not (0.0 <= tx <= 1.0 and 0.0 <= ty <= 1.0):
                raise ValueError(f"translate must be a pair of fractions in [0, 1], got {_args.show(translate)}")
            translate = (tx, ty)
        self.translate = translate
        self.scale = _args.interval(scale, "scale", low_bound=1e-6) if scale is not None else (1.0, 1.0)
        self.shear = self._parse_shear(shear)
        self.interpolation = _args.interpolation(interpolation)
        self.padding_mode = "constant"
        self.fill = _args.fill_value(fill)
        self.center = _center(center)

    @staticmethod
    def _parse_shear(shear: Any) -> tuple[float, float, float, float]:
        if shear is None:
            return (0.0, 0.0, 0.0, 0.0)
        if isinstance(shear, Sequence) and not isinstance(shear, str) and len(shear) == 4:
            return (*_args.interval(shear[:2], "shear[0:2]"), *_args.interval(shear[2:], "shear[2:4]"))
        return (*_args.symmetric_range(shear, "shear"), 0.0, 0.0)

    def sample_params(
        self, shape: Shape, generator: Optional[torch.Generator] = None, targets: Optional[dict] = None
    ) -> Params:
        return _SafeDraw.sample(self, shape, generator, targets)

    def _widest(self, shape: Shape, targets: dict) -> Params:
        b = shape[0]
        return {
            "angle": torch.zeros(b),
            "translate": torch.zeros(b, 2),
            "scale": torch.ones(b),
            "shear": torch.zeros(b, 2),
        }

    def _draw(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, _, h, w = shape
        on = R.bernoulli(b, self.p, generator)
        angle = R.gate(R.uniform(b, *self.degrees, generator), on, 0.0)
        if self.translate is not None:
            tx = torch.round(R.uniform(b, -self.translate[0] * w, self.translate[0] * w, generator))
            ty = torch.round(R.uniform(b, -self.translate[1] * h, self.translate[1] * h, generator))
            translate = R.gate(torch.stack([tx, ty], dim=1), on, 0.0)
        else:
            translate = torch.zeros(b, 2)
        scale = R.gate(R.uniform(b, *self.scale, generator), on, 1.0)
        shear = torch.stack(
            [
                R.uniform(b, self.shear[0], self.shear[1], generator),
                R.uniform(b, self.shear[2], self.shear[3], generator),
            ],
            dim=1,
        )
        return {"angle": angle, "translate": translate, "scale": scale, "shear": R.gate(shear, on, 0.0)}

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        b = params["angle"].shape[0]
        centre = _centre(b, in_size, self.center, params["angle"].device)
        return matrices.affine(params["angle"], params["translate"], params["scale"], params["shear"], centre)


class RandomRotation(Transform):
    """Rotation by an angle drawn per sample, counter-clockwise for positive angles (torchvision's).

    Args:
        degrees: angle range (``d`` means ``(-d, d)``).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        expand: enlarge the output to hold the whole image for every angle in the range (one size for
            the batch, since a batch has one size), the image centred.
        center: rotation centre ``(x, y)`` in pixels (not with ``expand``).
        fill: value outside the image.
        p: probability of rotating a sample.
    """

    kind = "geometric"
    may_sample_outside = True

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: str = "bilinear",
        expand: bool = False,
        center: Optional[Sequence[float]] = None,
        fill: float | Sequence[float] = 0.0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        self.degrees = _args.symmetric_range(degrees, "degrees")
        self.interpolation = _args.interpolation(interpolation)
        self.expand = _args.flag(expand, "expand")
        self.center = _center(center)
        if self.expand and self.center is not None:
            raise ValueError("RandomRotation: center cannot be combined with expand=True")
        self.padding_mode = "constant"
        self.fill = _args.fill_value(fill)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        return {"angle": R.gate(R.uniform(b, *self.degrees, generator), on, 0.0)}

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        if not self.expand:
            return in_size
        h, w = in_size
        angles = torch.linspace(self.degrees[0], self.degrees[1], 721).deg2rad()
        # Bounding size of the turned rectangle, maximised over the angle range (1/4 degree steps plus ends).
        bw = (w * angles.cos().abs() + h * angles.sin().abs()).max().item()
        bh = (w * angles.sin().abs() + h * angles.cos().abs()).max().item()

        # torchvision's (PIL's) rule: the box of that size about the image centre, its ends rounded
        # outwards to whole pixels. The margin is then the same on both sides, so the image stays on
        # the pixel grid (a plain ceil can make it odd: a half-pixel shift that blurs every sample).
        def snap(extent: float, size: int) -> int:
            return int(math.ceil(size / 2.0 + extent / 2.0 - 1e-4) - math.floor(size / 2.0 - extent / 2.0 + 1e-4))

        return snap(bh, h), snap(bw, w)

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        angle = params["angle"]
        b = angle.shape[0]
        m = matrices.rotation(angle, _centre(b, in_size, self.center, angle.device))
        if self.expand:
            (h, w), (oh, ow) = in_size, self.output_size(in_size)
            shift = const([(ow - w) / 2.0, (oh - h) / 2.0], angle.device).expand(b, 2)
            m = matrices.translation(shift[:, 0], shift[:, 1]) @ m
        return m


class RandomPerspective(Transform):
    """Perspective distortion with per-sample corner displacements (torchvision's ``RandomPerspective``).

    Args:
        distortion_scale: how far corners may move, as a fraction of half the image size, in [0, 1].
        p: probability of distorting a sample.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill: value outside the image.
    """

    kind = "geometric"
    may_sample_outside = True
    projective = True

    def __init__(
        self,
        distortion_scale: float = 0.5,
        p: float = 0.5,
        interpolation: str = "bilinear",
        fill: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__(p)
        self.distortion_scale = _args.number(distortion_scale, "distortion_scale", 0.0, 1.0)
        self.interpolation = _args.interpolation(interpolation)
        self.padding_mode = "constant"
        self.fill = _args.fill_value(fill)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, _, h, w = shape
        on = R.bernoulli(b, self.p, generator)
        dx = int(self.distortion_scale * (w // 2)) + 1
        dy = int(self.distortion_scale * (h // 2)) + 1
        start = torch.tensor([[0.0, 0.0], [w - 1.0, 0.0], [w - 1.0, h - 1.0], [0.0, h - 1.0]]).expand(b, 4, 2)
        # torchvision's corner ranges: each corner moves inwards by an integer in [0, distortion * half size].
        x_in = R.randint(b * 4, 0, dx, generator).view(b, 4).float()
        y_in = R.randint(b * 4, 0, dy, generator).view(b, 4).float()
        sign_x = torch.tensor([1.0, -1.0, -1.0, 1.0])
        sign_y = torch.tensor([1.0, 1.0, -1.0, -1.0])
        end = start + torch.stack([x_in * sign_x, y_in * sign_y], dim=-1)
        end = torch.where(on.view(b, 1, 1), end, start)
        return {"startpoints": start.clone(), "endpoints": end}

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        if min(in_size) < 2:  # the four corners are collinear: no homography (torchvision raises too)
            raise ValueError(
                f"RandomPerspective needs images at least 2 pixels high and wide, got (H, W) = {tuple(in_size)}"
            )
        return matrices.homography(params["startpoints"], params["endpoints"])


class RandomCrop(Transform):
    """A crop at a per-sample random position, with optional padding (torchvision's ``RandomCrop``).

    Args:
        size: output ``(h, w)`` or an int for a square.
        padding: pad first: int, ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
        pad_if_needed: pad when the (padded) image is smaller than ``size``.
        fill: value for constant padding, in the input's value scale.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.
        bbox_safe, min_visibility, safe_tries: crop with care (see ``RandomResizedCrop``); the
            fallback is the crop centred on the union of the sample's boxes.
    """

    kind = "geometric"
    integer_exact = True
    axis_aligned = True

    def __init__(
        self,
        size: int | Sequence[int],
        padding: Optional[int | Sequence[int]] = None,
        pad_if_needed: bool = False,
        fill: float | Sequence[float] = 0.0,
        padding_mode: str = "constant",
        bbox_safe: Optional[str | float] = None,
        min_visibility: float = 1.0,
        safe_tries: int = 10,
    ) -> None:
        super().__init__()
        _SafeDraw.setup(self, bbox_safe, min_visibility, safe_tries)
        self.size = _args.pair(size, "size")
        self.padding = _args.padding(padding) if padding is not None else (0, 0, 0, 0)
        self.pad_if_needed = _args.flag(pad_if_needed, "pad_if_needed")
        self.fill = _args.fill_value(fill)
        self.padding_mode = _args.padding_mode(padding_mode)
        self.may_sample_outside = any(self.padding) or self.pad_if_needed

    def _padded(self, in_size: tuple[int, int]) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.padding
        h, w = in_size
        th, tw = self.size
        if self.pad_if_needed:
            if h + top + bottom < th:
                diff = th - (h + top + bottom)
                top, bottom = top + diff, bottom + diff
            if w + left + right < tw:
                diff = tw - (w + left + right)
                left, right = left + diff, right + diff
        if h + top + bottom < th or w + left + right < tw:
            raise ValueError(
                f"RandomCrop size {self.size} is larger than the padded image ({h + top + bottom}, {w + left + right}); "
                "use pad_if_needed=True or a smaller size"
            )
        return left, top, right, bottom

    def sample_params(
        self, shape: Shape, generator: Optional[torch.Generator] = None, targets: Optional[dict] = None
    ) -> Params:
        return _SafeDraw.sample(self, shape, generator, targets)

    def _widest(self, shape: Shape, targets: dict) -> Params:
        """The crop centred on the union of each sample's boxes (the image centre without boxes).

        Computed on the boxes' device with Python scalars for the constants: boxes on a GPU are never
        read back to the host (the result stays there, like the candidates ``safety.choose`` picks from).
        """
        _, _, h, w = shape
        left, top, right, bottom = self._padded((h, w))
        th, tw = self.size
        boxes, valid = targets["boxes"], targets["boxes_valid"]  # (B, N, 4), (B, N)
        inf = float("inf")
        keep = valid.unsqueeze(-1)
        lo = torch.where(keep, boxes[..., :2], inf).amin(1) if boxes.shape[1] else boxes.new_zeros(boxes.shape[0], 2)
        hi = torch.where(keep, boxes[..., 2:], -inf).amax(1) if boxes.shape[1] else lo  # (B, 2)
        mid = (lo + hi) / 2
        has_boxes = valid.any(1)  # (B,)
        cx = torch.where(has_boxes, mid[:, 0], w / 2.0)
        cy = torch.where(has_boxes, mid[:, 1], h / 2.0)
        x = torch.round(cx - tw / 2.0).clamp(-left, w + right - tw)
        y = torch.round(cy - th / 2.0).clamp(-top, h + bottom - th)
        return {"top": y.to(torch.int64), "left": x.to(torch.int64)}

    def _draw(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, _, h, w = shape
        left, top, right, bottom = self._padded((h, w))
        th, tw = self.size
        i = R.randint(b, 0, h + top + bottom - th + 1, generator)
        j = R.randint(b, 0, w + left + right - tw + 1, generator)
        return {"top": i - top, "left": j - left}  # crop origin in unpadded input coordinates

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        return self.size

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.translation(-params["left"].float(), -params["top"].float())


class CenterCrop(Transform):
    """The central ``size`` crop (padded with ``fill`` when the image is smaller), like torchvision."""

    kind = "geometric"
    integer_exact = True
    randomized = False
    may_sample_outside = True
    padding_mode = "constant"
    axis_aligned = True

    def __init__(self, size: int | Sequence[int], fill: float | Sequence[float] = 0.0) -> None:
        super().__init__()
        self.size = _args.pair(size, "size")
        self.fill = _args.fill_value(fill)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, _, h, w = shape
        th, tw = self.size
        top = int(round((h - th) / 2.0)) if h >= th else -((th - h) // 2)
        left = int(round((w - tw) / 2.0)) if w >= tw else -((tw - w) // 2)
        return {"top": torch.full((b,), top), "left": torch.full((b,), left)}

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        return self.size

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.translation(-params["left"].float(), -params["top"].float())


class Pad(Transform):
    """Pads every side by a fixed number of pixels (torchvision's ``Pad``)."""

    kind = "geometric"
    integer_exact = True
    randomized = False
    may_sample_outside = True

    def __init__(
        self, padding: int | Sequence[int], fill: float | Sequence[float] = 0.0, padding_mode: str = "constant"
    ) -> None:
        super().__init__()
        self.padding = _args.padding(padding)
        self.fill = _args.fill_value(fill)
        self.padding_mode = _args.padding_mode(padding_mode)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        return {"shift": torch.tensor([float(self.padding[0]), float(self.padding[1])]).expand(shape[0], 2).clone()}

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        left, top, right, bottom = self.padding
        return in_size[0] + top + bottom, in_size[1] + left + right

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.translation(params["shift"][:, 0], params["shift"][:, 1])


def resize_output_size(
    in_size: tuple[int, int], size: int | tuple[int, int], max_size: Optional[int]
) -> tuple[int, int]:
    """torchvision's rule: an int resizes the shorter edge keeping the aspect ratio; a pair is exact."""
    if isinstance(size, tuple):
        return size
    h, w = in_size
    short, long = (h, w) if h <= w else (w, h)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if h <= w else (new_long, new_short)


class Resize(Transform):
    """Resizes to ``size`` (an int resizes the shorter edge, torchvision's rule).

    With ``antialias=True`` (the default, as torchvision v2) downscaling low-passes first. A stage of
    resizes, crops and flips runs as crop-then-resize in the input's dtype (``augloader.ops.resize``);
    fused with a rotation, shear or perspective it is one warp, which does not antialias (as kornia).
    """

    kind = "geometric"
    randomized = False
    axis_aligned = True

    def __init__(
        self,
        size: int | Sequence[int],
        interpolation: str = "bilinear",
        max_size: Optional[int] = None,
        antialias: bool = True,
    ) -> None:
        super().__init__()
        if isinstance(size, Sequence) and not isinstance(size, str) and len(size) == 1:
            size = size[0]  # torchvision: a one-item sequence is the shorter edge
        if _args.is_int(size):
            self.size: int | tuple[int, int] = _args.integer(size, "size", low=1)
        else:
            self.size = _args.pair(size, "size")
            if max_size is not None:
                raise ValueError("max_size is only allowed when size is an int (the shorter edge)")
        if max_size is not None:
            max_size = _args.integer(max_size, "max_size", low=1)
            if max_size <= self.size:
                raise ValueError(f"max_size ({max_size}) must be greater than size ({self.size}), the shorter edge")
        self.max_size = max_size
        self.interpolation = _args.interpolation(interpolation)
        self.antialias = _args.flag(antialias, "antialias")

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        return resize_output_size(in_size, self.size, self.max_size)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        (h, w), (oh, ow) = shape[2:], self.output_size(tuple(shape[2:]))
        return {"scale": torch.tensor([ow / w, oh / h]).expand(shape[0], 2).clone()}  # (B, 2): sx, sy

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return matrices.scaling(params["scale"][:, 0], params["scale"][:, 1])


class RandomResizedCrop(Transform):
    """A crop of random area and aspect ratio per sample, resized to ``size`` in the same resampling.

    Sampling follows torchvision (10 tries of area in ``scale`` and log-uniform ``ratio``, then the
    central crop), vectorised over the batch.

    Args:
        size: output ``(h, w)`` or an int for a square.
        scale: range of the crop area as a fraction of the image.
        ratio: range of the crop aspect ratio (log-uniform).
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        tries: torchvision's draws per sample before its central fallback.
        bbox_safe: crop with care: ``"all"`` keeps every box at ``min_visibility``, ``"any"`` at least
            one, a float ``f`` at least that fraction of the boxes; ``None`` (default) draws freely.
            Takes effect on dict batches with ``boxes``.
        min_visibility: the visible share a box needs under ``bbox_safe`` (default 1: whole boxes).
        safe_tries: candidate crops per sample under ``bbox_safe``, drawn in one vectorised call; a
            sample with no safe candidate gets the widest safe crop, the whole image.
        antialias: low-pass when the crop is larger than ``size`` (torchvision v2's default). The crop
            is cut first and only the crop is resized, in the input's dtype; fused with a rotation,
            shear or perspective the stage is one warp instead, which does not antialias.
    """

    kind = "geometric"
    axis_aligned = True

    def __init__(
        self,
        size: int | Sequence[int],
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
        interpolation: str = "bilinear",
        tries: int = 10,
        bbox_safe: Optional[str | float] = None,
        min_visibility: float = 1.0,
        safe_tries: int = 10,
        antialias: bool = True,
    ) -> None:
        super().__init__()
        _SafeDraw.setup(self, bbox_safe, min_visibility, safe_tries)
        self.antialias = _args.flag(antialias, "antialias")
        self.size = _args.pair(size, "size")
        self.scale = _args.interval(scale, "scale", low_bound=0.0)
        if self.scale[1] <= 0:
            raise ValueError(f"scale must have high > 0 (the crop's share of the image area), got {_args.show(scale)}")
        self.ratio = _args.interval(ratio, "ratio", low_bound=1e-6)
        self.interpolation = _args.interpolation(interpolation)
        self.tries = _args.integer(tries, "tries", low=1)

    def sample_params(
        self, shape: Shape, generator: Optional[torch.Generator] = None, targets: Optional[dict] = None
    ) -> Params:
        return _SafeDraw.sample(self, shape, generator, targets)

    def _widest(self, shape: Shape, targets: dict) -> Params:
        b, _, h, w = shape
        return {"box": torch.tensor([0.0, 0.0, float(w), float(h)]).expand(b, 4).clone()}

    def _draw(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        """torchvision's rule per sample: ``tries`` (area, log-ratio) draws, the first that fits, else the
        central crop clamped to the ratio range. One uniform draw of ``(B, 2 tries + 2)``; the rule runs
        on the host in plain Python (a few floats per sample: far cheaper than ~25 tiny tensor ops)."""
        b, _, h, w = shape
        n = self.tries
        u = R.uniform(b, 0.0, 1.0, generator, (2 * n + 2,)).tolist()  # (B, 2n + 2): areas, log-ratios, position
        area = float(h * w)
        s0, s1 = self.scale[0] * area, self.scale[1] * area
        r0, r1 = math.log(self.ratio[0]), math.log(self.ratio[1])
        fw, fh = self._fallback(h, w)
        boxes = []
        for row in u:
            for k in range(n):
                aspect = math.exp(r0 + (r1 - r0) * row[n + k])
                target = s0 + (s1 - s0) * row[k]
                cw, ch = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
                if 0 < cw <= w and 0 < ch <= h:
                    top, left = math.floor(row[2 * n] * (h - ch + 1)), math.floor(row[2 * n + 1] * (w - cw + 1))
                    break
            else:
                cw, ch, top, left = fw, fh, (h - fh) // 2, (w - fw) // 2
            boxes.append((float(left), float(top), float(cw), float(ch)))
        box = torch.tensor(boxes, dtype=torch.float32).reshape(b, 4)
        return {"box": box}  # (B, 4): x, y, w, h in input pixels

    def _fallback(self, h: int, w: int) -> tuple[int, int]:
        """torchvision's fallback: the central crop clamped to the ratio range, as ``(w, h)`` (at least one
        pixel a side: an extreme ratio would otherwise round a side to 0 and divide by it)."""
        in_ratio = w / h
        if in_ratio < self.ratio[0]:
            return w, max(1, int(round(w / self.ratio[0])))
        if in_ratio > self.ratio[1]:
            return max(1, int(round(h * self.ratio[1]))), h
        return w, h

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        return self.size

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        box = params["box"].float()
        oh, ow = self.size
        sx, sy = ow / box[:, 2], oh / box[:, 3]
        return matrices.scaling(sx, sy) @ matrices.translation(-box[:, 0], -box[:, 1])
