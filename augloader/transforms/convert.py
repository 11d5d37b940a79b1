"""Conversions: dtype and value range. Deterministic; they accept uint8 directly (``native``)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from .._batch import Batch, BatchView, from_working, to_working
from ..ops import color as C
from .base import Params, Transform


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
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean_t.numel() != std_t.numel() or mean_t.numel() == 0:
            raise ValueError(f"mean and std must have the same, non-zero length, got {list(mean)} and {list(std)}")
        if (std_t <= 0).any():
            raise ValueError(f"std must be positive, got {list(std)}")
        self._mean, self._std = mean_t.tolist(), std_t.tolist()
        self.register_buffer("mean", mean_t, persistent=False)
        self.register_buffer("std", std_t, persistent=False)

    def apply(self, image: Tensor, params: Params, input_scale: float = 1.0) -> Tensor:
        """``input_scale``: the float image holds values in ``[0, input_scale]`` (folded into the pass)."""
        if image.shape[1] != self.mean.numel():
            raise ValueError(f"Normalize has {self.mean.numel()} channel statistics, the image has {image.shape[1]} channels")
        std = self.std.to(image.device) * input_scale
        return C.normalize(image, self.mean.to(image.device), std, bias_std=self.std.to(image.device))

    def channel_affine(self) -> tuple[Tensor, Tensor]:
        """``(scale, bias)`` with ``normalize(x) = x * scale + bias`` for ``x`` in ``[0, 1]``, on the CPU
        (host constants: reading them never waits for a device)."""
        mean, std = torch.tensor(self._mean), torch.tensor(self._std)
        return 1.0 / std, -mean / std

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.float32 if dtype == torch.uint8 else dtype

    def extra_repr(self) -> str:
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


class ToFloat(Transform):
    """uint8 ``[0, 255]`` -> float32 ``[0, 1]``; float input becomes float32."""

    native = True
    randomized = False

    def apply(self, image: Tensor, params: Params) -> Tensor:
        return to_working(image) if image.dtype == torch.uint8 else image.to(torch.float32)

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.float32


def _refuse_nan(image: Tensor, which: str) -> None:
    """Raises a ValueError if a float ``(B, C, H, W)`` image holds NaN; ``which`` formats the culprits."""
    if not image.is_floating_point() or image.numel() == 0:
        return
    nan = torch.isnan(image).reshape(image.shape[0], -1).any(dim=1)  # (B,)
    if bool(nan.any()):
        where = which.format(first=int(nan.nonzero()[0, 0]), count=int(nan.sum()), size=image.shape[0])
        raise ValueError(f"ToUint8: NaN values in {where}; uint8 cannot represent NaN (fix the source or the op that made them)")


class ToUint8(Transform):
    """float ``[0, 1]`` -> uint8 ``[0, 255]`` (rounded, saturated); uint8 passes through.

    ``inf`` saturates to 255 and ``-inf`` to 0. NaN has no uint8 value: a batch holding one raises a
    ValueError (one reduction and host read per call), naming the sample when ToUint8 runs on its own
    (inside a Compose, ``check_finite=True`` on the data layer names it).
    """

    native = True
    randomized = False

    def _run(self, view: BatchView, params: Params) -> Batch:
        _refuse_nan(view.image, "sample {first}")
        return super()._run(view, params)

    def apply(self, image: Tensor, params: Params) -> Tensor:
        if image.dtype == torch.uint8:
            return image
        _refuse_nan(image, "{count} of the {size} samples it was given")
        return from_working(image.float(), torch.uint8)

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        return torch.uint8
