"""Per-sample 3x3 matrices in continuous pixel coordinates.

Convention: pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``; its centre is ``(j + 0.5, i + 0.5)``.
A matrix maps a point of the *input* image to the point of the *output* image (the direction boxes and
keypoints move). Resampling uses the inverse. All matrices are ``(B, 3, 3)`` float32 tensors.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import _host_math


def identity(batch_size: int, device: torch.device | str = "cpu") -> Tensor:
    """Identity matrices.

    Shape:
        ``(B, 3, 3)``.
    """
    return torch.eye(3, device=device).expand(batch_size, 3, 3).clone()


def translation(tx: Tensor, ty: Tensor) -> Tensor:
    """Translation by ``(tx, ty)`` pixels per sample.

    Shape:
        ``tx, ty: (B,)`` -> ``(B, 3, 3)``.
    """
    m = identity(tx.shape[0], tx.device)
    m[:, 0, 2] = tx
    m[:, 1, 2] = ty
    return m


def scaling(sx: Tensor, sy: Tensor) -> Tensor:
    """Scaling about the origin per sample.

    Shape:
        ``sx, sy: (B,)`` -> ``(B, 3, 3)``.
    """
    m = identity(sx.shape[0], sx.device)
    m[:, 0, 0] = sx
    m[:, 1, 1] = sy
    return m


def horizontal_flip(flip: Tensor, width: int) -> Tensor:
    """``x -> width - x`` where ``flip`` is True, identity elsewhere.

    Shape:
        ``flip: (B,)`` bool -> ``(B, 3, 3)``.
    """
    f = flip.to(torch.float32)
    m = identity(flip.shape[0], flip.device)
    m[:, 0, 0] = 1.0 - 2.0 * f
    m[:, 0, 2] = f * width
    return m


def vertical_flip(flip: Tensor, height: int) -> Tensor:
    """``y -> height - y`` where ``flip`` is True, identity elsewhere.

    Shape:
        ``flip: (B,)`` bool -> ``(B, 3, 3)``.
    """
    f = flip.to(torch.float32)
    m = identity(flip.shape[0], flip.device)
    m[:, 1, 1] = 1.0 - 2.0 * f
    m[:, 1, 2] = f * height
    return m


def affine(
    angle: Tensor,
    translate: Tensor,
    scale: Tensor,
    shear: Tensor,
    center: Tensor,
) -> Tensor:
    """torchvision's affine: ``T(center + translate) @ RSS(angle, scale, shear) @ T(-center)``.

    ``angle`` and ``shear`` are in degrees with torchvision's ``F.affine`` signs (positive angle turns
    the content clockwise on screen; ``F.rotate(angle)`` equals ``F.affine(-angle)``).

    Shape:
        ``angle, scale: (B,)``; ``translate, shear, center: (B, 2)`` -> ``(B, 3, 3)``.
    """
    rot = torch.deg2rad(angle)
    sx = torch.deg2rad(shear[:, 0])
    sy = torch.deg2rad(shear[:, 1])
    cos_sy = _host_math.cos(sy)
    a = _host_math.cos(rot - sy) / cos_sy
    b = -_host_math.cos(rot - sy) * _host_math.tan(sx) / cos_sy - _host_math.sin(rot)
    c = _host_math.sin(rot - sy) / cos_sy
    d = -_host_math.sin(rot - sy) * _host_math.tan(sx) / cos_sy + _host_math.cos(rot)
    m = identity(angle.shape[0], angle.device)
    m[:, 0, 0] = a * scale
    m[:, 0, 1] = b * scale
    m[:, 1, 0] = c * scale
    m[:, 1, 1] = d * scale
    # x' = RSS (x - center) + center + translate
    cx, cy = center[:, 0], center[:, 1]
    m[:, 0, 2] = cx + translate[:, 0] - (m[:, 0, 0] * cx + m[:, 0, 1] * cy)
    m[:, 1, 2] = cy + translate[:, 1] - (m[:, 1, 0] * cx + m[:, 1, 1] * cy)
    return m


def rotation(angle: Tensor, center: Tensor) -> Tensor:
    """Counter-clockwise rotation on screen by ``angle`` degrees about ``center`` (torchvision's ``F.rotate``).

    Shape:
        ``angle: (B,)``, ``center: (B, 2)`` -> ``(B, 3, 3)``.
    """
    zeros2 = torch.zeros(angle.shape[0], 2, device=angle.device)
    return affine(-angle, zeros2, torch.ones_like(angle), zeros2, center)


def homography(src: Tensor, dst: Tensor) -> Tensor:
    """The projective map taking the four points ``src`` to ``dst`` per sample.

    Shape:
        ``src, dst: (B, 4, 2)`` -> ``(B, 3, 3)``.
    """
    b = src.shape[0]
    x, y = src[..., 0].double(), src[..., 1].double()
    u, v = dst[..., 0].double(), dst[..., 1].double()
    zeros, ones = torch.zeros_like(x), torch.ones_like(x)
    # Two rows per point of the 8x8 system A h = rhs, h = (h00, h01, h02, h10, h11, h12, h20, h21).
    rows_u = torch.stack([x, y, ones, zeros, zeros, zeros, -x * u, -y * u], dim=-1)  # (B, 4, 8)
    rows_v = torch.stack([zeros, zeros, zeros, x, y, ones, -x * v, -y * v], dim=-1)  # (B, 4, 8)
    a = torch.cat([rows_u, rows_v], dim=1)  # (B, 8, 8)
    rhs = torch.cat([u, v], dim=1).unsqueeze(-1)  # (B, 8, 1)
    h, _ = torch.linalg.solve_ex(a, rhs)  # no host sync: the info tensor is not checked
    h = torch.cat([h.squeeze(-1), torch.ones(b, 1, dtype=h.dtype, device=h.device)], dim=1)
    return h.view(b, 3, 3).to(torch.float32)


def invert(m: Tensor) -> Tensor:
    """Inverse of each 3x3 matrix from cross products of its rows (no LAPACK call, no host sync).

    Shape:
        ``(B, 3, 3)`` -> ``(B, 3, 3)``.
    """
    a = m.double()
    r0, r1, r2 = a[:, 0], a[:, 1], a[:, 2]  # (B, 3) rows
    c0, c1, c2 = torch.linalg.cross(r1, r2), torch.linalg.cross(r2, r0), torch.linalg.cross(r0, r1)
    det = (r0 * c0).sum(dim=1)  # (B,)
    # The inverse's columns are the cofactor rows c0, c1, c2 divided by the determinant.
    return (torch.stack([c0, c1, c2], dim=2) / det.view(-1, 1, 1)).to(m.dtype)
