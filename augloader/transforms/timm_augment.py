"""timm's RandAugment (``timm.data.auto_augment``), with ops, levels and signs drawn per sample.

timm runs a Python loop per PIL image: per step it picks an op, gates it with probability ``p``,
draws the level (``m``, plus Gaussian noise ``mstd`` per application, clipped to ``[0, mmax]``)
and a random sign. Here each of those is a ``(B, num_ops)`` tensor drawn at once, and the policy
engine runs each op on the samples that drew it (``policy_engine``): geometric picks first, in one
resampling, with one interpolation (timm picks bilinear or bicubic at random per op unless
``hparams["interpolation"]`` fixes it).

Level -> argument tables follow timm's ``*_level_to_arg`` functions, in float32 with timm's order
of operations (which gives timm's integers at integer levels).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional, Sequence

import torch
from torch import Tensor

from . import _args
from . import _subsets as S
from . import invariances as Inv
from .base import Params, Shape, Transform
from .policy_engine import PolicyRunner, PolicyWarp

LEVEL_DENOM = 10.0

#: timm's ``_RAND_TRANSFORMS`` and ``_RAND_INCREASING_TRANSFORMS`` (``-inc1``), in timm's order.
RAND_TRANSFORMS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Rotate",
    "Posterize",
    "Solarize",
    "SolarizeAdd",
    "Color",
    "Contrast",
    "Brightness",
    "Sharpness",
    "ShearX",
    "ShearY",
    "TranslateXRel",
    "TranslateYRel",
)
RAND_INCREASING_TRANSFORMS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Rotate",
    "PosterizeIncreasing",
    "SolarizeIncreasing",
    "SolarizeAdd",
    "ColorIncreasing",
    "ContrastIncreasing",
    "BrightnessIncreasing",
    "SharpnessIncreasing",
    "ShearX",
    "ShearY",
    "TranslateXRel",
    "TranslateYRel",
)
#: timm's ``_RAND_WEIGHTED_0`` (``-tweights``): choice weights, ops drawn without replacement.
RAND_WEIGHTED_0 = {
    "Rotate": 3,
    "ShearX": 2,
    "ShearY": 2,
    "TranslateXRel": 1,
    "TranslateYRel": 1,
    "ColorIncreasing": 0.25,
    "SharpnessIncreasing": 0.25,
    "AutoContrast": 0.25,
    "SolarizeIncreasing": 0.05,
    "SolarizeAdd": 0.05,
    "ContrastIncreasing": 0.05,
    "BrightnessIncreasing": 0.05,
    "Equalize": 0.05,
    "PosterizeIncreasing": 0.05,
    "Invert": 0.05,
}

Level = Callable[[Tensor, Tensor, "TimmSpace", tuple[int, int]], Tensor]


def _frac(level: Tensor) -> Tensor:
    return level / LEVEL_DENOM


def _solarize_threshold(level: Tensor) -> Tensor:
    return torch.floor(_frac(level) * 256.0).clamp(max=256.0)  # 0..256 on the 8-bit scale


def _unit_threshold(thresh: Tensor) -> Tensor:
    # inverts levels >= thresh: halfway below it, so every 8-bit level compares exactly
    return (thresh - 0.5) / 255.0


def _translate(
    level: Tensor, sign: Tensor, space: "TimmSpace", size: tuple[int, int], axis: int, relative: bool
) -> Tensor:
    if relative:  # timm: pct = level / 10 * translate_pct, signed; pixels = pct * side
        pixels = _frac(level) * space.translate_pct * sign * (size[1] if axis == 0 else size[0])
    else:
        pixels = _frac(level) * space.translate_const * sign
    return -pixels  # PIL's (1, 0, t, ...) reads x + t: the content moves by -t


def _enhance(level: Tensor, sign: Tensor, *_: Any) -> Tensor:
    return _frac(level) * 1.8 + 0.1


def _enhance_increasing(level: Tensor, sign: Tensor, *_: Any) -> Tensor:
    return (1.0 + _frac(level) * 0.9 * sign).clamp(min=0.1)


#: timm op name -> (the op that runs it, its level -> argument function). Arguments: degrees
#: (counter-clockwise), shear factors, content shifts in pixels, enhance factors, kept bits,
#: thresholds and additions on the [0, 1] scale.
TIMM_OPS: dict[str, tuple[str, Optional[Level]]] = {
    "AutoContrast": ("AutoContrast", None),
    "Equalize": ("Equalize", None),
    "Invert": ("Invert", None),
    "Rotate": ("Rotate", lambda lv, s, *_: _frac(lv) * 30.0 * s),
    "Posterize": ("Posterize", lambda lv, s, *_: torch.floor(_frac(lv) * 4.0)),
    "PosterizeIncreasing": ("Posterize", lambda lv, s, *_: 4.0 - torch.floor(_frac(lv) * 4.0)),
    "PosterizeOriginal": ("Posterize", lambda lv, s, *_: torch.floor(_frac(lv) * 4.0) + 4.0),
    "Solarize": ("Solarize", lambda lv, s, *_: _unit_threshold(_solarize_threshold(lv))),
    "SolarizeIncreasing": ("Solarize", lambda lv, s, *_: _unit_threshold(256.0 - _solarize_threshold(lv))),
    "SolarizeAdd": ("SolarizeAdd", lambda lv, s, *_: torch.floor(_frac(lv) * 110.0).clamp(max=128.0) / 255.0),
    "Color": ("Color", _enhance),
    "ColorIncreasing": ("Color", _enhance_increasing),
    "Contrast": ("Contrast", _enhance),
    "ContrastIncreasing": ("Contrast", _enhance_increasing),
    "Brightness": ("Brightness", _enhance),
    "BrightnessIncreasing": ("Brightness", _enhance_increasing),
    "Sharpness": ("Sharpness", _enhance),
    "SharpnessIncreasing": ("Sharpness", _enhance_increasing),
    "ShearX": ("ShearX", lambda lv, s, *_: _frac(lv) * 0.3 * s),
    "ShearY": ("ShearY", lambda lv, s, *_: _frac(lv) * 0.3 * s),
    "TranslateX": ("TranslateX", lambda lv, s, sp, size: _translate(lv, s, sp, size, 0, False)),
    "TranslateY": ("TranslateY", lambda lv, s, sp, size: _translate(lv, s, sp, size, 1, False)),
    "TranslateXRel": ("TranslateX", lambda lv, s, sp, size: _translate(lv, s, sp, size, 0, True)),
    "TranslateYRel": ("TranslateY", lambda lv, s, sp, size: _translate(lv, s, sp, size, 1, True)),
}


class TimmSpace:
    """Op arguments from timm's level functions: a level and a sign per sample and step."""

    def __init__(self, names: Sequence[str], translate_pct: float, translate_const: float) -> None:
        self.names = tuple(names)
        self.translate_pct, self.translate_const = float(translate_pct), float(translate_const)

    def argument(self, j: int, name: str, params: Params, step: int, size: tuple[int, int]) -> Tensor:
        """Argument of op ``j`` (timm name ``self.names[j]``) at ``step`` per sample."""
        level = params["level"][:, step]
        fn = TIMM_OPS[self.names[j]][1]
        return torch.zeros_like(level) if fn is None else fn(level, params["sign"][:, step], self, size)


def _number(value: Any, name: str, low: float = 0.0) -> float:
    return _args.number(value, name, low=low)


class TimmRandAugment(Transform):
    """timm's RandAugment (``rand-...`` strings, see :func:`augloader.policies.from_timm`), per sample.

    Args:
        ops: timm op names (default timm's ``_RAND_TRANSFORMS``; see :data:`TIMM_OPS`).
        num_ops: steps per sample (timm's ``n``).
        magnitude: level on timm's 0..10 scale (``m``).
        magnitude_std: std of the Gaussian noise added to the level per sample and step (``mstd``);
            ``inf`` draws the level uniformly in ``[0, magnitude]``.
        magnitude_max: upper clip of the level (``mmax``; None or 0: 10).
        p: probability that a step applies its op (timm's per-op ``prob``, 0.5 for ``rand``).
        weights: op choice weights; with weights a sample's ops are drawn without replacement (timm).
        translate_pct: TranslateXRel/YRel shift at level 10, as a share of the image side.
        translate_const: TranslateX/Y shift at level 10, in pixels.
        interpolation: of the one warp of the geometric ops.
        fill: outside the image after geometric ops, ``[0, 1]`` scale (timm: its ``img_mean``, 128/255).
        invariances: what the labels allow (see ``Compose``); ops that could break them are dropped.

    Params: ``op (B, num_ops)`` (-1 where the ``p`` gate skipped the step), ``level``, ``sign``,
    and ``op_host``, a host copy of ``op``.

    Shape:
        ``(B, C, H, W)`` (uint8 or float) -> same shape and dtype.
    """

    native = True
    whole_batch = True  # each op runs on the samples that drew it

    def __init__(
        self,
        ops: Sequence[str] = RAND_TRANSFORMS,
        num_ops: int = 2,
        magnitude: float = 10.0,
        magnitude_std: float = 0.0,
        magnitude_max: Optional[float] = None,
        p: float = 0.5,
        weights: Optional[Sequence[float]] = None,
        translate_pct: float = 0.45,
        translate_const: float = 250.0,
        interpolation: str = "bilinear",
        fill: float | Sequence[float] = 128.0 / 255.0,
        invariances: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(p)
        self.num_ops = _args.integer(num_ops, "num_ops", low=1)
        self.magnitude = _number(magnitude, "magnitude")
        # inf is timm's documented "uniform in [0, magnitude]"; NaN and -inf are refused.
        self.magnitude_std = math.inf if magnitude_std == math.inf else _number(magnitude_std, "magnitude_std")
        self.magnitude_max = None if magnitude_max is None else _number(magnitude_max, "magnitude_max")
        self.timm_ops = _args.op_names(ops, sorted(TIMM_OPS), "timm ops")
        self.weights = None if weights is None else self._check_weights(weights)
        self.ops = tuple(TIMM_OPS[o][0] for o in self.timm_ops)
        space = TimmSpace(
            self.timm_ops, _number(translate_pct, "translate_pct"), _number(translate_const, "translate_const")
        )
        self._policy = PolicyRunner(self.ops, space, _args.interpolation(interpolation), _args.fill_value(fill))
        self._warp = PolicyWarp(self._policy)
        self.restrict_ops(invariances)

    def _check_weights(self, weights: Sequence[float]) -> tuple[float, ...]:
        w = tuple(_args.numbers_seq(weights, "weights"))
        if len(w) != len(self.timm_ops) or any(not v >= 0 for v in w) or sum(w) <= 0:
            raise ValueError(
                f"weights must be {len(self.timm_ops)} non-negative numbers with a positive sum, got {_args.show(weights)}"
            )
        if sum(v > 0 for v in w) < self.num_ops:
            raise ValueError(
                f"weights: ops are drawn without replacement, so num_ops={self.num_ops} needs as many "
                f"ops of positive weight, got {sum(v > 0 for v in w)}"
            )
        return w

    @property
    def upper(self) -> float:
        """The level's upper clip (timm: ``magnitude_max or 10``)."""
        return self.magnitude_max or LEVEL_DENOM

    def restrict_ops(self, invariances: Optional[Mapping[str, Any]]) -> None:
        """Drops the ops that could break ``invariances`` (``Compose(invariances=...)`` calls this)."""
        inv = Inv.parse(invariances)
        if not inv:
            return
        top = (self.upper if self.magnitude_std > 0 else min(self.magnitude, self.upper)) / LEVEL_DENOM
        allowed = set(Inv.allowed_policy_ops(self.ops, inv, 30.0 * top, 0.3 * top))
        keep = [i for i, o in enumerate(self.ops) if o in allowed]
        self.timm_ops = tuple(self.timm_ops[i] for i in keep)
        self.ops = self._policy.ops = tuple(self.ops[i] for i in keep)
        self._policy.space.names = self.timm_ops
        if self.weights is not None:
            self.weights = self._check_weights([self.weights[i] for i in keep])

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        b, n = shape[0], self.num_ops
        dev = generator.device if generator is not None else torch.device("cpu")
        if self.weights is None:  # timm: np.random.choice with replacement
            op = torch.randint(0, len(self.ops), (b, n), generator=generator, device=dev)
        elif b == 0:
            op = torch.zeros(0, n, dtype=torch.int64, device=dev)
        else:  # timm: weighted, without replacement
            w = torch.tensor(self.weights, dtype=torch.float32, device=dev).expand(b, -1)
            op = torch.multinomial(w, n, replacement=False, generator=generator)
        applied = torch.rand(b, n, generator=generator, device=dev) < self.p
        level = torch.full((b, n), self.magnitude, device=dev)
        if math.isinf(self.magnitude_std):
            level = torch.rand(b, n, generator=generator, device=dev) * self.magnitude
        elif self.magnitude_std > 0:
            level = level + self.magnitude_std * torch.randn(b, n, generator=generator, device=dev)
        level = level.clamp(0.0, self.upper)
        sign = torch.where(torch.rand(b, n, generator=generator, device=dev) < 0.5, -1.0, 1.0)
        params = {"op": torch.where(applied, op, torch.full_like(op, -1)), "level": level, "sign": sign}
        return S.add_host_copy(params, "op")

    def prepare(self, params: Params, shape: Shape) -> Params:
        return self._policy.prepare(params, shape, self._warp)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return self._policy.run(image, params, self._warp)

    def extra_repr(self) -> str:
        std = f", magnitude_std={self.magnitude_std}" if self.magnitude_std else ""
        top = f", magnitude_max={self.magnitude_max}" if self.magnitude_max is not None else ""
        return (
            f"num_ops={self.num_ops}, magnitude={self.magnitude}{std}{top}, p={self.p}, "
            f"ops={list(self.timm_ops)}" + (f", weights={list(self.weights)}" if self.weights else "")
        )
