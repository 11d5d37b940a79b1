"""ColorJitter (and a Normalize folded after it) as fused numba loops, one call per batch.

The eager op (``transforms.color.ColorJitter.apply``) makes about 30 passes over float planes for
the exact HSV hue; here a sample takes at most three: the input's channel means (only when contrast
needs them), then colour matrix + clamp + exact hue + the second colour matrix with Normalize's
affine and clamp in one loop, written as CHW float32. Only when a contrast step follows the hue
(it needs the hue result's means) does the second matrix take its own pass.

The arithmetic is the eager op's in float32 (means accumulated in float64); the hue is carried as
sixths of a turn times the chroma instead of divided by it. Results agree with the eager op to
about 1e-6 of the value range. Keep every constant in the loops float32 (``np.float32(2.0)``): a
Python float widens the loop to float64, which halves the vector lanes (the hue loop ran 1.7x
slower). Imported only when numba is installed (see ``augloader.ops.cpu``).
"""

from __future__ import annotations

import types

import numba
import numpy as np

# No nnan/ninf: NaN and inf flow through min/max and the clamps as in torch (float input).
_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}


def channel_means(x: np.ndarray) -> np.ndarray:
    """Mean of each channel of ``x (C, H, W)`` (any strides, uint8 or float32), as float64 ``(C,)``."""
    c, h, w = x.shape
    out = np.zeros(c, np.float64)
    for k in range(c):
        total = 0.0
        for i in range(h):
            row = np.float32(0.0)
            for j in range(w):
                row += np.float32(x[k, i, j])
            total += row
        out[k] = total / (h * w)
    return out


def affine(x: np.ndarray, m: np.ndarray, o: np.ndarray, lo: np.ndarray, hi: np.ndarray, out: np.ndarray) -> None:
    """``out[c] = clamp(sum_k m[c, k] x[k] + o[c], lo[c], hi[c])`` for ``x (C, H, W)``, ``C`` 1 or 3.

    Shape:
        ``x: (C, H, W)``, ``m: (C, C)``, ``o, lo, hi: (C,)`` -> ``out: (C, H, W)`` float32.
    """
    c, h, w = x.shape
    if c == 1:
        for i in range(h):
            for j in range(w):
                out[0, i, j] = min(max(m[0, 0] * np.float32(x[0, i, j]) + o[0], lo[0]), hi[0])
        return
    for i in range(h):
        for j in range(w):
            r = np.float32(x[0, i, j])
            g = np.float32(x[1, i, j])
            b = np.float32(x[2, i, j])
            for k in range(3):
                v = m[k, 0] * r + m[k, 1] * g + m[k, 2] * b + o[k]
                out[k, i, j] = min(max(v, lo[k]), hi[k])


def _six_shift(shift):
    """A hue shift in turns as sixths of a turn in ``[-3, 3]``: whole turns change nothing."""
    return (shift - np.floor(shift + np.float32(0.5))) * np.float32(6.0)


def hue_pixel(r0, g0, b0, m, o, clamp: bool, six_shift):
    """One pixel: colour matrix ``m, o`` (clamped to ``[0, 1]`` when ``clamp``), then the exact HSV hue
    rotation by ``six_shift / 6`` turns, ``six_shift`` in ``[-3, 3]`` (``ops.color.adjust_hue``'s HSV
    round trip, scaled by the chroma instead of divided by it). Returns ``(r, g, b)``.
    Inlined into the loops below, which then vectorise."""
    r = m[0, 0] * r0 + m[0, 1] * g0 + m[0, 2] * b0 + o[0]
    g = m[1, 0] * r0 + m[1, 1] * g0 + m[1, 2] * b0 + o[1]
    b = m[2, 0] * r0 + m[2, 1] * g0 + m[2, 2] * b0 + o[2]
    if clamp:
        r = min(max(r, np.float32(0.0)), np.float32(1.0))
        g = min(max(g, np.float32(0.0)), np.float32(1.0))
        b = min(max(b, np.float32(0.0)), np.float32(1.0))
    mx = max(r, max(g, b))
    mn = min(r, min(g, b))
    ch = mx - mn
    # hue numerator by which channel is the maximum (torchvision's tie order: red, then green);
    # float32 constants: a Python float would widen the rest of the loop to float64 (half the lanes)
    num = (g - b) if mx == r else ((b - r + np.float32(2.0) * ch) if mx == g else (r - g + np.float32(4.0) * ch))
    # The hue in sixths of a turn times the chroma (no division): num / ch is in [-1, 5], the shift
    # in [-3, 3] (see _six_shift), so one step of 6 ch either way wraps it into [0, 6 ch).
    hc = num + six_shift * ch
    six = np.float32(6.0) * ch
    hc = hc + six if hc < np.float32(0.0) else hc
    hc = hc - six if hc >= six else hc
    rr = mn + min(max(abs(hc - np.float32(3.0) * ch) - ch, np.float32(0.0)), ch)
    gg = mn + min(max(np.float32(2.0) * ch - abs(hc - np.float32(2.0) * ch), np.float32(0.0)), ch)
    bb = mn + min(max(np.float32(2.0) * ch - abs(hc - np.float32(4.0) * ch), np.float32(0.0)), ch)
    return rr, gg, bb


def affine_hue(
    x: np.ndarray, m: np.ndarray, o: np.ndarray, clamp: bool, shift: np.float32, out: np.ndarray
) -> np.ndarray:
    """Colour matrix (clamped to ``[0, 1]`` when ``clamp``), then the exact HSV hue rotation by ``shift``
    turns (:func:`hue_pixel`), written to ``out``. Returns the channel means of the result.

    Shape:
        ``x: (3, H, W)``, ``m: (3, 3)``, ``o: (3,)`` -> ``out: (3, H, W)`` float32, means ``(3,)`` float64.
    """
    _, h, w = x.shape
    sums = np.zeros(3, np.float64)
    six_shift = _six_shift(shift)
    row = np.empty((3, w), np.float32)  # the row as float planes: the loop below then vectorises for any layout
    for i in range(h):
        for k in range(3):
            for j in range(w):
                row[k, j] = np.float32(x[k, i, j])
        s0 = np.float32(0.0)
        s1 = np.float32(0.0)
        s2 = np.float32(0.0)
        for j in range(w):
            rr, gg, bb = hue_pixel(row[0, j], row[1, j], row[2, j], m, o, clamp, six_shift)
            out[0, i, j] = rr
            out[1, i, j] = gg
            out[2, i, j] = bb
            s0 += rr
            s1 += gg
            s2 += bb
        sums[0] += s0
        sums[1] += s1
        sums[2] += s2
    return sums / (h * w)


def affine_hue_affine(
    x: np.ndarray,
    m: np.ndarray,
    o: np.ndarray,
    clamp: bool,
    shift: np.float32,
    m2: np.ndarray,
    o2: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    out: np.ndarray,
) -> None:
    """:func:`affine_hue` followed, in the same loop, by :func:`affine` with ``m2, o2, lo, hi`` (a second
    segment that needs no means); no means are summed.

    Shape:
        ``x: (3, H, W)``, ``m, m2: (3, 3)``, ``o, o2, lo, hi: (3,)`` -> ``out: (3, H, W)`` float32.
    """
    _, h, w = x.shape
    six_shift = _six_shift(shift)
    row = np.empty((3, w), np.float32)
    for i in range(h):
        for k in range(3):
            for j in range(w):
                row[k, j] = np.float32(x[k, i, j])
        for j in range(w):
            rr, gg, bb = hue_pixel(row[0, j], row[1, j], row[2, j], m, o, clamp, six_shift)
            out[0, i, j] = min(max(m2[0, 0] * rr + m2[0, 1] * gg + m2[0, 2] * bb + o2[0], lo[0]), hi[0])
            out[1, i, j] = min(max(m2[1, 0] * rr + m2[1, 1] * gg + m2[1, 2] * bb + o2[1], lo[1]), hi[1])
            out[2, i, j] = min(max(m2[2, 0] * rr + m2[2, 1] * gg + m2[2, 2] * bb + o2[2], lo[2]), hi[2])


def _offsets(x, a, reads, scale, inv_scale, i):
    """Sample ``i``'s offset ``scale * (a[i] @ channel means) * inv_scale`` (float32), zero when it reads
    no means (no contrast step)."""
    c = a.shape[1]
    o = np.zeros(c, np.float32)
    if reads[i]:
        mu = channel_means(x[i])
        for k in range(c):
            v = 0.0
            for q in range(c):
                v += a[i, k, q] * mu[q]
            o[k] = scale[k] * np.float32(v) * inv_scale
    return o


def batch_affine(x, m, a, reads, scale, inv_scale, bias, lo, hi, out) -> None:
    """One segment for the whole batch: ``out[i] = clamp(m[i] x[i] + o_i + bias, lo, hi)``, with ``o_i``
    from sample ``i``'s channel means when ``reads[i]`` (:func:`_offsets`). One call per batch, so no
    per-sample Python.

    Shape:
        ``x: (B, C, H, W)``, ``m, a: (B, C, C)``, ``reads: (B,)``, ``scale, bias, lo, hi: (C,)`` ->
        ``out: (B, C, H, W)`` float32.
    """
    for i in range(x.shape[0]):
        affine(x[i], m[i], _offsets(x, a, reads, scale, inv_scale, i) + bias, lo, hi, out[i])


def batch_hue(x, m1, a1, reads1, inv_scale, before, shift, m2, a2, reads2, after, scale, bias, lo, hi, tmp, out):
    """The exact-hue jitter for the whole batch: per sample the first segment (``m1``, means read when
    ``reads1``) and the hue in :func:`affine_hue`, then the second segment (``m2``), in the same loop
    unless it reads the hue result's means (``reads2``: a contrast step after the hue), which takes a
    second pass over ``tmp``.

    Shape:
        ``x: (B, 3, H, W)``, ``m1, a1, m2, a2: (B, 3, 3)``, ``reads1, reads2, shift: (B,)``, ``scale,
        bias, lo, hi: (3,)``, ``tmp: (3, H, W)`` float32 -> ``out: (B, 3, H, W)`` float32.
    """
    one = np.ones(3, np.float32)
    o2 = bias
    for i in range(x.shape[0]):
        o1 = _offsets(x, a1, reads1, one, inv_scale, i)
        if reads2[i]:
            means = affine_hue(x[i], m1[i], o1, before, shift[i], tmp)
            o = np.empty(3, np.float32)
            for k in range(3):
                v = a2[i, k, 0] * means[0] + a2[i, k, 1] * means[1] + a2[i, k, 2] * means[2]
                o[k] = scale[k] * np.float32(v) + bias[k]
            affine(tmp, m2[i], o, lo, hi, out[i])
        elif after:  # a second segment without a contrast step needs no means: it runs in the hue loop
            affine_hue_affine(x[i], m1[i], o1, before, shift[i], m2[i], o2, lo, hi, out[i])
        else:
            affine_hue(x[i], m1[i], o1, before, shift[i], out[i])


def _compiled(fns, suffix: str, fastmath) -> dict:
    """``fns`` compiled under their own names (numba's on-disk cache keys by name, not by flags), each
    calling the others' copies of this flavour (later functions may call earlier ones)."""
    out: dict = {}
    for fn in fns:
        name = f"{fn.__name__}_{suffix}"
        copy = types.FunctionType(fn.__code__, {**fn.__globals__, **out}, name)
        copy.__qualname__ = name
        inline = "always" if fn is hue_pixel else "never"  # inlined in numba's IR: its loops vectorise
        out[fn.__name__] = numba.njit(cache=True, fastmath=fastmath, boundscheck=False, inline=inline)(copy)
    return out


_KERNELS = (
    channel_means,
    affine,
    _six_shift,
    hue_pixel,
    affine_hue,
    affine_hue_affine,
    _offsets,
    batch_affine,
    batch_hue,
)
#: The kernels for float input (NaN and inf propagate as in torch) and for uint8 input, which holds
#: neither, so full fastmath applies (about 20% faster: min/max and clamps without NaN handling).
STRICT = _compiled(_KERNELS, "strict", _FLAGS)
FAST = _compiled(_KERNELS, "fast", True)
