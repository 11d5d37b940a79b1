"""``ColorJitter.apply`` (with a folded Normalize) sample by sample through the fused numba loops.

The per-sample colour matrices and mean maps come from ``ColorJitter.prepare`` (the host half of a
call); only the means of the image (for contrast) are read here, inside the loops.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..._memory import new_batch
from . import _color_numba as K


def _tail_arrays(tail, c: int) -> tuple[np.ndarray, ...]:
    """Normalize's per-channel ``scale, bias`` and the clamp bounds (the image of ``[0, 1]``)."""
    if tail is None:
        one, zero = np.ones(c, np.float32), np.zeros(c, np.float32)
        return one, zero, zero, one
    scale, bias = (np.asarray(v, np.float32) for v in tail.channel_affine())
    return scale, bias, np.minimum(bias, scale + bias), np.maximum(bias, scale + bias)


def jitter(t, image: Tensor, params: dict, tail=None, input_scale: float = 1.0) -> Tensor:
    """``t.apply(image.float(), params, tail=tail's affine, input_scale)`` for ``t`` a ColorJitter.

    Args:
        t: the ColorJitter.
        image: uint8 or float32 values in ``[0, input_scale]``, any layout.
        params: its params (prepared or not).
        tail: a Normalize folded into the last pass, or None.
        input_scale: the value scale of ``image`` (255 for uint8 cast without the 1/255).

    Shape:
        ``(B, C, H, W)`` -> float32 ``(B, C, H, W)`` contiguous.
    """
    b, c, h, w = image.shape
    segments = t._segments(c)
    if f"{segments[0]}_matrix" not in params:
        params = t.prepare(params, tuple(image.shape))
    linear = any(t._uses(r, 1.0) for r in (t.brightness, t.contrast, t.saturation))
    linear = linear or (t.hue_mode == "linear" and t._uses(t.hue, 0.0) and c == 3)
    contrast = t._uses(t.contrast, 1.0)
    if segments == ("all",) and not (linear or tail is not None or input_scale != 1.0):
        return image  # nothing to do, as the eager op
    scale, bias, lo, hi = _tail_arrays(tail, c)
    kernels = K.FAST if image.dtype == torch.uint8 else K.STRICT  # uint8 holds no NaN or inf
    channel_means, affine, affine_hue = kernels["channel_means"], kernels["affine"], kernels["affine_hue"]
    x = image.numpy()
    out = new_batch((b, c, h, w), torch.float32)  # usually the result: huge pages, or shared memory in a worker
    dst = out.numpy()
    inv_scale = np.float32(1.0 / input_scale)

    def host(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A segment's matrices ``(B, C, C)`` and which samples read the image means (a contrast step)."""
        m = params[f"{name}_matrix"].detach().to("cpu", torch.float32).numpy()
        a = params[f"{name}_mean_map"].detach().to("cpu", torch.float64).numpy()
        return m, a, (a != 0).any(axis=(1, 2)) & contrast

    # Parameter-sized work for the whole batch here; the loop below only calls the kernels.
    if segments == ("all",):
        m, a, reads = host("all")
        m = scale[None, :, None] * m * inv_scale
        for i in range(b):
            o = (
                scale * (a[i] @ channel_means(x[i])).astype(np.float32) * inv_scale
                if reads[i]
                else np.zeros(c, np.float32)
            )
            affine(x[i], m[i], o + bias, lo, hi, dst[i])
        return out
    before = linear or input_scale != 1.0
    after = linear or tail is not None
    m1, a1, reads1 = host("before_hue")
    m2, a2, reads2 = host("after_hue")
    eye, zero = np.eye(3, dtype=np.float32), np.zeros(3, np.float32)
    m1 = m1 * inv_scale if before else np.broadcast_to(eye, (b, 3, 3))
    m2 = scale[None, :, None] * m2 if after else np.broadcast_to(eye, (b, 3, 3))
    reads1, reads2 = reads1 & before, reads2 & after
    o2 = bias if after else zero
    shift = params["hue"].detach().to("cpu", torch.float32).numpy()
    tmp = np.empty((3, h, w), np.float32) if reads2.any() else None
    for i in range(b):
        o1 = (a1[i] @ channel_means(x[i])).astype(np.float32) * inv_scale if reads1[i] else zero
        # a second segment without a contrast step needs no means: it runs in the hue loop
        fused = not reads2[i]
        means = affine_hue(
            x[i], m1[i], o1, before, shift[i], after and fused, m2[i], o2, lo, hi, dst[i] if fused else tmp
        )
        if not fused:
            affine(tmp, m2[i], scale * (a2[i] @ means).astype(np.float32) + bias, lo, hi, dst[i])
    return out
