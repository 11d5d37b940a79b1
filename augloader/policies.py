"""Policies from timm's auto-augment strings: ``from_timm("rand-m9-mstd0.5-inc1")``.

The string grammar and defaults are timm's ``rand_augment_transform`` (timm 1.0,
``timm/data/auto_augment.py``); the result is an augloader transform that draws ops, levels and
signs per sample and runs on whole batches (:class:`~augloader.transforms.timm_augment.TimmRandAugment`).
``"ta_wide"`` (the name torchvision's reference scripts use) gives
:class:`~augloader.transforms.policies.TrivialAugmentWide`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping, Optional, Sequence

from .transforms.base import Transform
from .transforms.policies import TrivialAugmentWide
from .transforms.timm_augment import RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS, RAND_WEIGHTED_0, TimmRandAugment

__all__ = ["from_timm"]

#: hparams keys understood (timm's names); ``img_mean`` is the fill on the 0..255 scale.
HPARAMS = ("translate_const", "translate_pct", "img_mean", "interpolation", "magnitude_std", "magnitude_max")
_INTERPOLATIONS = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    0: "nearest",
    2: "bilinear",
    3: "bicubic",
}


def _interpolation(value: Any) -> str:
    """timm's interpolation: a name, or PIL's resampling constant (``Image.Resampling.BICUBIC``)."""
    key = value.lower() if isinstance(value, str) else int(value) if isinstance(value, int) else value
    if key not in _INTERPOLATIONS:
        raise ValueError(
            f"hparams['interpolation'] must be 'nearest', 'bilinear' or 'bicubic' (one interpolation for "
            f"the fused warp; timm's default picks bilinear or bicubic at random per op), got {value!r}"
        )
    return _INTERPOLATIONS[key]


def _fill(value: Any) -> float | list[float]:
    """timm's ``img_mean`` (0..255, a number or one per channel) on augloader's ``[0, 1]`` scale."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 255.0
    if isinstance(value, Sequence) and value and all(isinstance(v, (int, float)) for v in value):
        return [float(v) / 255.0 for v in value]
    raise ValueError(
        f"hparams['img_mean'] must be a number or one number per channel on the 0..255 scale, got {value!r}"
    )


def _parse_rand(tokens: Sequence[str]) -> dict[str, Any]:
    """The options of ``rand-...`` tokens (timm's keys); raises naming the first bad token."""
    out: dict[str, Any] = {}
    numeric = {"m": int, "n": int, "p": float, "mstd": float, "mmax": int, "inc": int}
    for token in tokens:
        if token.startswith("t"):
            out["t"] = token[1:]
            continue
        parts = re.split(r"(\d.*)", token)
        key, value = (parts[0], parts[1]) if len(parts) >= 2 else (token, "")
        if key == "w":
            raise ValueError(f"unknown RandAugment token {token!r}: timm removed the 'w' key; use 'tweights'")
        if key not in numeric or not value:
            raise ValueError(
                f"unknown RandAugment token {token!r}; expected m<int>, n<int>, p<float>, mstd<float>, "
                "mmax<int>, inc<0|1> or t<name> (timm's keys)"
            )
        try:
            out[key] = numeric[key](value)
        except ValueError:
            kind = "an integer" if numeric[key] is int else "a number"
            raise ValueError(f"bad value in RandAugment token {token!r}: {key} takes {kind}") from None
    return out


def from_timm(
    config_str: str,
    hparams: Optional[Mapping[str, Any]] = None,
    img_size: Optional[int | Sequence[int]] = None,
    transforms: Optional[Sequence[str] | Mapping[str, float]] = None,
) -> Transform:
    """The augloader transform for a timm auto-augment string (per-sample, batched).

    ``"rand-<tokens>"`` with timm's tokens, in any order: ``m`` magnitude on the 0..10 scale (default
    10), ``n`` ops per sample (2), ``p`` probability that each op applies (0.5), ``mstd`` std of the
    Gaussian noise on the magnitude per op application (above 100: uniform in ``[0, m]``), ``mmax``
    upper clip of the magnitude (10), ``inc1`` the "increasing" op set (strength grows with the
    magnitude), ``tweights`` timm's weighted op choice (without replacement). ``"ta_wide"``:
    TrivialAugmentWide. Unknown strings or tokens raise ``ValueError`` naming them.

    Args:
        config_str: e.g. ``"rand-m9-mstd0.5-inc1"``, ``"rand-n2-m10"``, ``"ta_wide"``.
        hparams: timm's hparams: ``translate_pct`` (0.45), ``translate_const`` (250, or 45% of
            ``img_size``), ``img_mean`` (fill, 0..255, default 128), ``interpolation`` (bilinear),
            ``magnitude_std`` and ``magnitude_max`` (these two win over the string, as in timm).
        img_size: sets ``translate_const`` to 45% of the smaller side, as timm's ``create_transform``.
        transforms: timm op names (or a name -> weight dict) instead of the string's set.

    Shape:
        the returned transform maps ``(B, C, H, W)`` uint8 or float to the same shape and dtype.

    Example:
        >>> import torch
        >>> t = from_timm("rand-m9-mstd0.5-inc1")
        >>> t(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), generator=torch.Generator().manual_seed(0)).shape
        torch.Size([4, 3, 32, 32])
    """
    if not isinstance(config_str, str):
        raise TypeError(f"config_str must be a string like 'rand-m9-mstd0.5', got {type(config_str).__name__}")
    hp = dict(hparams or {})
    unknown = sorted(set(hp) - set(HPARAMS))
    if unknown:
        raise ValueError(f"unknown hparams {unknown}; understood: {list(HPARAMS)}")
    fill = _fill(hp["img_mean"]) if "img_mean" in hp else None
    interpolation = _interpolation(hp["interpolation"]) if "interpolation" in hp else None
    if config_str == "ta_wide":
        return TrivialAugmentWide(interpolation=interpolation or "bilinear", fill=0.0 if fill is None else fill)
    name, *tokens = config_str.split("-")
    if name != "rand":
        raise ValueError(
            f"unknown auto-augment policy {name!r} in {config_str!r}; supported: 'rand-...' (RandAugment) and 'ta_wide'"
        )
    opts = _parse_rand(tokens)
    if transforms is None and "t" in opts:
        if opts["t"] != "weights":
            raise ValueError(
                f"unknown RandAugment token 't{opts['t']}': only 'tweights' is supported "
                "(timm's '3a' sets need its GaussianBlur and Desaturate ops)"
            )
        transforms = RAND_WEIGHTED_0
    if transforms is None:
        transforms = RAND_INCREASING_TRANSFORMS if opts.get("inc", 0) else RAND_TRANSFORMS
    weights = None
    if isinstance(transforms, Mapping):
        transforms, weights = tuple(transforms), tuple(transforms.values())
    mstd = opts.get("mstd", 0.0)
    mstd = hp.get("magnitude_std", math.inf if mstd > 100 else mstd)  # hparams win over the string (timm)
    translate_const = hp.get("translate_const", int(min(_pair(img_size)) * 0.45) if img_size is not None else 250)
    return TimmRandAugment(
        ops=tuple(transforms),
        num_ops=opts.get("n", 2),
        magnitude=opts.get("m", 10),
        magnitude_std=mstd,
        magnitude_max=hp.get("magnitude_max", opts.get("mmax")),
        p=opts.get("p", 0.5),
        weights=weights,
        translate_pct=hp.get("translate_pct", 0.45),
        translate_const=translate_const,
        interpolation=interpolation or "bilinear",
        fill=128.0 / 255.0 if fill is None else fill,
    )


def _pair(size: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(size, int) and not isinstance(size, bool):
        return (size,)
    if isinstance(size, Sequence) and size and all(isinstance(v, int) for v in size):
        return tuple(size)
    raise ValueError(f"img_size must be an int or a (height, width) pair, got {size!r}")
