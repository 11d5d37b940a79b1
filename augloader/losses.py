"""Losses for soft targets, as produced by :mod:`augloader.mix`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_REDUCTIONS = ("mean", "sum", "none")


class SoftTargetCrossEntropy(nn.Module):
    """Cross-entropy against soft targets: ``sum_k -target_k * log_softmax(logits)_k`` per sample.

    For mixed single-label targets (rows summing to 1). For multi-label targets use
    ``torch.nn.BCEWithLogitsLoss``, which takes soft targets as they are.

    Args:
        reduction: ``"mean"`` (over the batch), ``"sum"`` or ``"none"``.

    Shape:
        ``logits: (B, K)``, ``target: (B, K)`` -> scalar, or ``(B,)`` with ``reduction="none"``.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def forward(self, logits: Tensor, target: Tensor) -> Tensor:
        if not isinstance(logits, Tensor) or not isinstance(target, Tensor):
            raise TypeError("logits and target must be torch.Tensors")
        if logits.shape != target.shape or logits.dim() != 2:
            raise ValueError(
                f"logits and target must both have shape (B, K), got {tuple(logits.shape)} and {tuple(target.shape)}"
            )
        loss = torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1)  # (B,)
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
