"""``ColorJitter.apply`` (with a folded Normalize) through the fused numba loops, one call per batch.

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
    x = image.numpy()
    out = new_batch((b, c, h, w), torch.float32)  # usually the result: huge pages, or shared memory in a worker
    dst = out.numpy()
    inv_scale = np.float32(1.0 / input_scale)

    def host(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A segment's matrices ``(B, C, C)`` and which samples read the image means (a contrast step)."""
        m = params[f"{name}_matrix"].detach().to("cpu", torch.float32).numpy()
        a = params[f"{name}_mean_map"].detach().to("cpu", torch.float64).numpy()
        return m, np.ascontiguousarray(a), (a != 0).any(axis=(1, 2)) & contrast

    # Parameter-sized work for the whole batch here, then one kernel call runs every sample.
    if segments == ("all",):
        m, a, reads = host("all")
        m = np.ascontiguousarray(scale[None, :, None] * m * inv_scale, dtype=np.float32)
        kernels["batch_affine"](x, m, a, reads, scale, inv_scale, bias, lo, hi, dst)
        return out
    before = linear or input_scale != 1.0
    after = linear or tail is not None
    m1, a1, reads1 = host("before_hue")
    m2, a2, reads2 = host("after_hue")
    eye = np.eye(3, dtype=np.float32)
    m1 = m1 * inv_scale if before else np.broadcast_to(eye, (b, 3, 3))
    m2 = scale[None, :, None] * m2 if after else np.broadcast_to(eye, (b, 3, 3))
    m1, m2 = (np.ascontiguousarray(v, dtype=np.float32) for v in (m1, m2))
    reads1, reads2 = reads1 & before, reads2 & after
    shift = np.ascontiguousarray(params["hue"].detach().to("cpu", torch.float32).numpy())
    tmp = np.empty((3, h, w) if reads2.any() else (3, 1, 1), np.float32)  # a contrast step after the hue
    kernels["batch_hue"](
        x, m1, a1, reads1, inv_scale, before, shift, m2, a2, reads2, after, scale, bias, lo, hi, tmp, dst
    )
    return out
