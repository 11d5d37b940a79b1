"""Conversions: dtype and value range. Deterministic; they accept uint8 directly (``native``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import Tensor

from .._batch import Batch, BatchView, from_working, to_working
from .._const import const
from ..ops import color as C
from . import _args
from .base import Params, Transform


def _channel_stats(value: Any, name: str) -> list[float]:
    """Per-channel statistics: a number, a sequence of finite numbers, or a tensor / array of them."""
    if hasattr(value, "tolist") and not _args.is_number(value):  # a tensor or an array
        value = value.tolist()
        value = value if isinstance(value, list) else [value]
    if _args.is_number(value):
        value = [value]
    return _args.numbers_seq(value, name)


class Normalize(Transform):
    """``(x - mean) / std`` per channel on values in ``[0, 1]``; uint8 input is scaled in the same pass.

    Output is float32 for uint8 input, else the input's float dtype.
    """

    native = True
    randomized = False
    needs_unit_range = False
    normalizes = True

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        mean_l, std_l = _channel_stats(mean, "mean"), _channel_stats(std, "std")
        if len(mean_l) != len(std_l):
            raise ValueError(
                f"mean and std must have the same, non-zero length, got {_args.show(mean_l)} and {_args.show(std_l)}"
            )
        mean_t = torch.tensor(mean_l, dtype=torch.float32)
        std_t = torch.tensor(std_l, dtype=torch.float32)
        if (std_t <= 0).any():  # also a positive std too small for float32 (it rounds to 0)
            raise ValueError(f"std must be positive, got {_args.show(std_l)}")
        self._mean, self._std = mean_t.tolist(), std_t.tolist()
        # normalize(x) = x * scale + bias on [0, 1], as host numbers (float32 arithmetic) for folding
        self._scale, self._bias = tuple((1.0 / std_t).tolist()), tuple((-mean_t / std_t).tolist())
        self.register_buffer("mean", mean_t, persistent=False)
        self.register_buffer("std", std_t, persistent=False)

    def apply(self, image: Tensor, params: Params, input_scale: float = 1.0) -> Tensor:
        """``input_scale``: the float image holds values in ``[0, input_scale]`` (folded into the pass)."""
        if image.shape[1] != self.mean.numel():
            raise ValueError(
                f"Normalize has {self.mean.numel()} channel statistics, the image has {image.shape[1]} channels"
            )
        dev = image.device  # host constants, cached per device: no copy per call
        std = const([s * input_scale for s in self._std], dev)
        return C.normalize(image, const(self._mean, dev), std, bias_std=const(self._std, dev))

    def channel_affine(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(scale, bias)`` per channel with ``normalize(x) = x * scale + bias`` for ``x`` in ``[0, 1]``:
        host numbers, so folding them into another pass never reads a device."""
        return self._scale, self._bias

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.float32 if dtype == torch.uint8 else dtype

    def extra_repr(self) -> str:
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


class ToFloat(Transform):
    """uint8 ``[0, 255]`` -> float32 ``[0, 1]``; float input becomes float32.

    A conversion always applies: it takes no ``p`` (a pipeline whose dtype depended on a coin flip
    could not be batched), so ``ToFloat(p=0)`` is a ``TypeError`` rather than an ignored argument.
    """

    native = True
    randomized = False

    def __init__(self) -> None:
        super().__init__()

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return to_working(image) if image.dtype == torch.uint8 else image.to(torch.float32)

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.float32


def _refuse_nan(image: Tensor, which: str) -> None:
    """Raises a ValueError if a float ``(B, C, H, W)`` CPU image holds NaN; ``which`` formats the culprits.

    Only on the CPU, where reading the answer costs nothing: on an accelerator it would be a host sync
    per call (``check_finite=True`` on the data layer names such samples instead).
    """
    if not image.is_floating_point() or image.numel() == 0 or image.device.type != "cpu":
        return
    nan = torch.isnan(image).reshape(image.shape[0], -1).any(dim=1)  # (B,)
    if bool(nan.any()):
        where = which.format(first=int(nan.nonzero()[0, 0]), count=int(nan.sum()), size=image.shape[0])
        raise ValueError(
            f"ToUint8: NaN values in {where}; uint8 cannot represent NaN (fix the source or the op that made them)"
        )


class ToUint8(Transform):
    """float ``[0, 1]`` -> uint8 ``[0, 255]`` (rounded, saturated); uint8 passes through.

    ``inf`` saturates to 255 and ``-inf`` to 0. NaN has no uint8 value: on the CPU a batch holding one
    raises a ValueError (one reduction per call), naming the sample when ToUint8 runs on its own (inside
    a Compose, ``check_finite=True`` on the data layer names it). On an accelerator the check would
    cost a host sync per call, so it is left to ``check_finite=True`` there, and NaN becomes 0.
    """

    native = True
    randomized = False

    def __init__(self) -> None:
        super().__init__()  # no p: like ToFloat, a conversion always applies

    def _run(self, view: BatchView, params: Params, prepared: Optional[list] = None) -> Batch:
        _refuse_nan(view.image, "sample {first}")
        return super()._run(view, params, prepared)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        if image.dtype == torch.uint8:
            return image
        _refuse_nan(image, "{count} of the {size} samples it was given")
        image = image.float()
        if image.device.type != "cpu":
            image = torch.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)  # not checked on a device (no sync)
        return from_working(image, torch.uint8)

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.uint8
