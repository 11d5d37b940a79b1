"""Keypoints: moved by the same matrix, marked invisible outside the image, left/right swapped on flips.

Keypoints use the same continuous pixel coordinates as boxes and matrices: the top-left pixel spans
``[0, 1) x [0, 1)`` and its centre is ``(0.5, 0.5)``. torchvision uses these for resize, crop, affine
and perspective but pixel-index coordinates for flips (``x -> W - 1 - x``); here a flip is
``x -> W - x``, consistent with every other transform (1 pixel from torchvision's flip).
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from .._batch import params_to


def mirrored(matrix: Tensor) -> Tensor:
    """Whether each matrix mirrors the plane (negative determinant of its linear part).

    Shape:
        ``(B, 3, 3)`` -> ``(B,)`` bool.
    """
    # The Jacobian of x -> M x (projective included) has determinant det(M) / w**3, and w > 0 on the
    # image, so the sign of det(M) tells a mirror for every matrix kind.
    m = matrix.double()
    det = (
        m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
        - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
        + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0])
    )
    return det < 0


def swap_index(flip_pairs: Sequence[Sequence[int]], k: int, device: torch.device) -> Tensor:
    """A permutation of ``k`` keypoints exchanging every ``(i, j)`` pair, on ``device``.

    Built on the host from the pairs alone and moved in one non-blocking copy (pinned on CUDA).

    Shape:
        ``(K,)`` int64.
    """
    perm = list(range(k))
    for i, j in flip_pairs:
        if i >= k or j >= k:
            raise ValueError(f"flip_pairs entry ({i}, {j}) is out of range for {k} keypoints")
        perm[i], perm[j] = j, i
    return params_to(torch.tensor(perm, dtype=torch.int64), torch.device(device))


def move(
    points: Tensor,
    visible: Tensor,
    matrix: Tensor,
    size: tuple[int, int],
    flip_pairs: Optional[Sequence[Sequence[int]]] = None,
    prefixes: Sequence[tuple[Tensor, tuple[int, int]]] = (),
) -> tuple[Tensor, Tensor]:
    """Moves keypoints; those leaving the image become invisible (kept in place, not removed).

    On samples whose matrix mirrors the image (a horizontal or vertical flip, alone or composed),
    ``flip_pairs`` swaps the named keypoints with their coordinates and visibility. ``prefixes``:
    the matrices to the intermediate frames of a fused chain and their sizes; a point outside one of
    them is invisible too (the chain cut it away).

    Shape:
        ``points: (B, K, 2)`` float, ``visible: (B, K)`` bool, ``matrix: (B, 3, 3)`` ->
        ``(B, K, 2)``, ``(B, K)``.
    """
    m = matrix.to(torch.float64)
    p = points.to(torch.float64)
    xy = p @ m[:, :2, :2].transpose(1, 2) + m[:, None, :2, 2]
    den = p @ m[:, 2:, :2].transpose(1, 2) + m[:, None, 2:, 2]
    xy = xy / den
    h, w = size
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) & (xy[..., 1] < h) & (den[..., 0] > 0)
    out = xy.to(points.dtype)
    for prefix, (fh, fw) in prefixes:
        q = prefix.to(device=p.device, dtype=torch.float64)
        fxy = (p @ q[:, :2, :2].transpose(1, 2) + q[:, None, :2, 2]) / (
            p @ q[:, 2:, :2].transpose(1, 2) + q[:, None, 2:, 2]
        )
        inside &= (fxy[..., 0] >= 0) & (fxy[..., 0] < fw) & (fxy[..., 1] >= 0) & (fxy[..., 1] < fh)
    vis = visible & inside
    if flip_pairs:
        perm = swap_index(flip_pairs, points.shape[1], points.device)
        flip = mirrored(matrix).view(-1, 1)  # (B, 1)
        out = torch.where(flip.unsqueeze(-1), out[:, perm], out)
        vis = torch.where(flip, vis[:, perm], vis)
    return out, vis
