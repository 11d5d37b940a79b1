"""Soft targets: class indices, soft / one-hot rows or multi-hot rows -> smoothed ``(B, K)``, then mixed.

Label smoothing follows timm: single-label targets get ``off = s / K`` and ``on = 1 - s + off`` (a soft
row ``y`` becomes ``y * (1 - s) + s / K``, which is the same for one-hot rows); multi-label targets are
smoothed towards 0.5 (``y * (1 - s) + s / 2``), as timm's ``multi_label`` mode does.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor


def check_labels(labels: Tensor, batch_size: int, num_classes: Optional[int], multi_label: bool) -> int:
    """Validates ``labels`` for a batch of ``batch_size`` and returns the number of classes K.

    Shape:
        ``(B,)`` integer classes or ``(B, K)`` rows (soft, one-hot or multi-hot).
    """
    if not isinstance(labels, Tensor):
        raise TypeError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
    if labels.dim() not in (1, 2) or labels.shape[0] != batch_size:
        raise ValueError(
            f"labels must have shape (B,) of class indices or (B, K) with B = {batch_size} (the image batch), "
            f"got shape {tuple(labels.shape)}"
        )
    if labels.dim() == 1:
        if multi_label:
            raise ValueError("multi_label=True needs multi-hot labels of shape (B, K), got class indices of shape (B,)")
        if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
            raise TypeError(f"class-index labels of shape (B,) must be an integer tensor, got dtype {labels.dtype}")
        if num_classes is None:
            raise ValueError("num_classes is needed to turn class indices of shape (B,) into (B, K) targets")
        # Range check only where it costs no device sync (eager, on the CPU); elsewhere scatter_ asserts.
        if labels.device.type == "cpu" and labels.numel() and not torch.compiler.is_compiling():
            low, high = (int(v) for v in torch.aminmax(labels))
            if low < 0 or high >= num_classes:
                raise ValueError(
                    f"class indices must lie in [0, {num_classes}) (num_classes={num_classes}), got values in [{low}, {high}]"
                )
        return num_classes
    if labels.is_complex():
        raise TypeError(f"labels of shape (B, K) must be real, bool or integer, got dtype {labels.dtype}")
    k = labels.shape[1]
    if num_classes is not None and k != num_classes:
        raise ValueError(f"labels have K = {k} columns but num_classes = {num_classes}")
    if k == 0:
        raise ValueError("labels of shape (B, K) need K >= 1 classes")
    if labels.device.type == "cpu" and labels.numel():  # checked where it costs no device sync
        check_label_rows(labels, multi_label)
    return k


def check_label_rows(labels: Tensor, multi_label: bool) -> None:
    """Raises a ValueError naming the first sample whose ``(K,)`` label row is not a valid target.

    Every row must be finite and non-negative; single-label rows (soft or one-hot) must sum to 1,
    multi-hot rows must lie in ``[0, 1]``.

    Shape:
        ``labels: (B, K)``.
    """
    rows = labels.to(torch.float64)  # (B, K)
    tol = 1e-2 if labels.dtype in (torch.float16, torch.bfloat16) else 1e-3
    problems = (
        (~torch.isfinite(rows).all(dim=1), "holds NaN or inf"),
        ((rows < 0).any(dim=1), "has negative values"),
        (
            (rows > 1 + tol).any(dim=1) if multi_label else (rows.sum(dim=1) - 1).abs() > tol,
            "has values above 1" if multi_label else "does not sum to 1",
        ),
    )
    for bad, what in problems:
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            hint = (
                f" (sums to {float(rows[i].sum()):.6g}; multi-hot rows need multi_label=True)"
                if what.startswith("does")
                else ""
            )
            raise ValueError(
                f"label row of sample {i} {what}{hint}: soft labels (B, K) must be finite, non-negative "
                f"and {'at most 1' if multi_label else 'sum to 1'} ({int(bad.sum())} such rows)"
            )


def soft_labels(
    labels: Tensor,
    num_classes: Optional[int] = None,
    smoothing: float = 0.0,
    multi_label: bool = False,
) -> Tensor:
    """Turns labels into smoothed soft targets.

    Args:
        labels: class indices ``(B,)``, or ``(B, K)`` soft / one-hot rows (single-label) or multi-hot rows.
        num_classes: K; required for class indices, checked against ``(B, K)`` labels otherwise.
        smoothing: label smoothing ``s`` in ``[0, 1)``.
        multi_label: ``(B, K)`` rows are independent binary targets (smoothed towards 0.5).

    Returns:
        float targets, float32 unless ``labels`` are float64.

    Shape:
        ``(B,)`` or ``(B, K)`` -> ``(B, K)``.
    """
    k = check_labels(labels, labels.shape[0] if labels.dim() else 0, num_classes, multi_label)
    dtype = torch.float64 if labels.dtype == torch.float64 else torch.float32
    if labels.dim() == 1:
        off = smoothing / k
        on = 1.0 - smoothing + off
        target = torch.full((labels.shape[0], k), off, dtype=dtype, device=labels.device)
        return target.scatter_(1, labels.long().view(-1, 1), on)  # (B, K)
    target = labels.to(dtype)
    if smoothing == 0.0:
        return target if target is not labels else target.clone()
    centre = 0.5 if multi_label else 1.0 / k
    return target.mul(1.0 - smoothing).add_(smoothing * centre)


def mixed_targets(
    labels: Tensor,
    lam: Tensor,
    partner: Tensor,
    num_classes: Optional[int] = None,
    smoothing: float = 0.0,
    multi_label: bool = False,
) -> Tensor:
    """:func:`soft_labels` then :func:`mix_labels`; class indices take a shortcut (two scatters).

    Shape:
        ``labels: (B,)`` or ``(B, K)``, ``lam: (B,)``, ``partner: (B,)`` -> ``(B, K)``.
    """
    if labels.dim() != 1:
        return mix_labels(soft_labels(labels, num_classes, smoothing, multi_label), lam, partner)
    k = check_labels(labels, labels.shape[0], num_classes, multi_label)
    off = smoothing / k
    on = 1.0 - smoothing + off
    lam = lam.to(device=labels.device, dtype=torch.float32)
    idx = labels.long()
    target = torch.full((labels.shape[0], k), off, dtype=torch.float32, device=labels.device)  # (B, K)
    target.scatter_add_(1, idx.view(-1, 1), ((on - off) * lam).view(-1, 1))
    target.scatter_add_(
        1, idx.index_select(0, partner.to(labels.device)).view(-1, 1), ((on - off) * (1.0 - lam)).view(-1, 1)
    )
    return target


def mix_labels(targets: Tensor, lam: Tensor, partner: Tensor) -> Tensor:
    """``lam * targets + (1 - lam) * targets[partner]``, one lambda per sample.

    Shape:
        ``targets: (B, K)``, ``lam: (B,)``, ``partner: (B,)`` -> ``(B, K)``.
    """
    lam = lam.to(device=targets.device, dtype=targets.dtype).view(-1, 1)  # (B, 1)
    other = targets.index_select(0, partner.to(targets.device))  # (B, K)
    return torch.lerp(other, targets, lam)
