"""Mixing images: every sample with its partner, MixUp blending and CutMix pasting in one pass.

The partner's per-pixel weight is separable, ``w[b, y, x] = wy[b, y] * wx[b, x]`` (MixUp: ``wy = 1 - lam``,
``wx = 1``; CutMix: the row and column indicators of the box), so a whole ``"elem"`` batch, with its mix of
MixUp and CutMix samples, is one ``torch.lerp(x, partner, w)``. ``lerp`` with a weight of exactly 0 or 1
returns exactly ``x`` or ``partner`` (finite values), so CutMix pixels stay bit-exact.

With the ``"half"`` pairing (i <-> i + B // 2) the partner of the first half is the second half and vice
versa, read through views rather than gathered into a copy; with timm's ``"flip"`` (i <-> B - 1 - i,
recognised from the CPU ``partner`` tensor) each CPU tile holds one pair, both samples read in place. On CPU the batch is processed in tiles of a
few MiB, pairs of partners together, so that each tile's weight and float copies are built and used
while they are in cache: the batch is read from memory once and written once, and no full-size float
intermediate exists (uint8 input). The tile loop runs over blocks of memory, ``B * sample_bytes /
tile_bytes`` of them; every sample gets the same computation whatever the tiling.

A contiguous float32 batch on CPU whose partners form pairs (``"half"``, ``"flip"``, ``mode="pair"``)
runs the numba kernel of :mod:`augloader.ops.cpu._mix` instead when numba is installed (the ``cpu`` extra) and the
CPU kernels are on (:func:`augloader.ops.cpu.cpu_kernels`): per pair one pass, CutMix samples copied,
MixUp samples blended by ``lerp``'s own formula, the same values bit for bit (finite pixels), about
1.3-1.45 copies of the batch instead of 1.65-1.95 (measured, 256 x 3 x 224 x 224, 1 and 2 threads).
"""

from __future__ import annotations

from typing import Callable, Iterator, Optional, Union

import numpy as np
import torch
from torch import Tensor

from ..transforms._types import Params

#: ``scratch(name, shape, dtype, device) -> Tensor``: a reusable buffer that never leaves the op.
Scratch = Callable[[str, tuple, torch.dtype, torch.device], Tensor]
#: Default CPU tile: this many bytes of float32 image data per thread (measured best on a 2 MiB-L2 Xeon).
TILE_BYTES_PER_THREAD = 5 << 18  # 1.25 MiB


def auto_tile_bytes() -> int:
    """The default tile size: :data:`TILE_BYTES_PER_THREAD` times torch's intra-op threads."""
    return TILE_BYTES_PER_THREAD * max(1, torch.get_num_threads())


def _empty(scratch: Optional[Scratch], name: str, shape: tuple, dtype: torch.dtype, device: torch.device) -> Tensor:
    if scratch is not None:
        return scratch(name, tuple(shape), dtype, device)
    return torch.empty(shape, dtype=dtype, device=device)


def _draws(params: Params) -> tuple[Tensor, Tensor, Tensor]:
    """``lam``, ``use_cutmix`` and ``box`` as ``(n, ...)``: n = B, or 1 when the batch shares one draw."""
    lam, cut, box = params["lam"], params["use_cutmix"], params["box"]
    if params["static"]["shared"] and lam.shape[0] > 1:
        # Self-paired samples hold neutral values; the shared draw is the smallest lambda (no host sync).
        j = torch.argmin(lam).view(1)
        lam, cut, box = lam.index_select(0, j), cut.index_select(0, j), box.index_select(0, j)
    return lam, cut, box


def _rows_cols(box: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Row and column indicators of each box.

    Shape:
        ``box: (n, 4)`` -> ``(n, 1, H, 1)``, ``(n, 1, 1, W)`` bool.
    """
    h, w = size
    n = box.shape[0]
    ys = torch.arange(h, device=box.device).view(1, 1, h, 1)
    xs = torch.arange(w, device=box.device).view(1, 1, 1, w)
    x0, y0, x1, y1 = (box[:, i].view(n, 1, 1, 1) for i in range(4))
    return (ys >= y0) & (ys < y1), (xs >= x0) & (xs < x1)


class _Separable:
    """A per-pixel map ``wy[b, y] (op) wx[b, x]`` built for a range of samples at a time.

    Shape:
        ``wy: (n, 1, H or 1, 1)``, ``wx: (n, 1, 1, W)`` or None -> rows ``(k, 1, H, W)`` (``(1, ...)`` if shared).
    """

    def __init__(self, wy: Tensor, wx: Optional[Tensor], op: Callable[..., Tensor]) -> None:
        self.wy, self.wx, self.op = wy, wx, op
        self.whole = (wy if wx is None else op(wy, wx)) if wy.shape[0] == 1 else None  # shared: build once

    def rows(self, start: int, stop: int, buf: Optional[Tensor] = None) -> Tensor:
        if self.whole is not None:
            return self.whole
        if self.wx is None:
            return self.wy[start:stop]
        wy, wx = self.wy[start:stop], self.wx[start:stop]
        return self.op(wy, wx) if buf is None else self.op(wy, wx, out=buf[: stop - start])


def _partner_map(params: Params, size: tuple[int, int], dtype: torch.dtype) -> _Separable:
    """The partner's share of each pixel: float weights, or for uint8 a 0/255 bit mask (CutMix only)."""
    lam, cut, box = _draws(params)
    n = lam.shape[0]
    c = cut.view(n, 1, 1, 1)
    if dtype == torch.uint8:  # CutMix only: a 0/255 bit mask (the product is much faster in uint8 than bool)
        rows, cols = _rows_cols(box, size)
        return _Separable((rows & c).to(dtype).neg_(), cols.to(dtype).neg_(), torch.bitwise_and)
    blend = (1.0 - lam).to(dtype).view(n, 1, 1, 1)
    if not params["static"]["cutmix"]:
        return _Separable(blend, None, torch.mul)
    rows, cols = _rows_cols(box, size)
    wy = torch.where(c, rows.to(dtype), blend)  # (n, 1, H, 1)
    wx = torch.where(c, cols.to(dtype), torch.ones((), dtype=dtype, device=c.device))  # (n, 1, 1, W)
    return _Separable(wy, wx, torch.mul)


def partner_weight(params: Params, size: tuple[int, int], dtype: torch.dtype = torch.float32) -> Tensor:
    """Per-pixel weight of the partner: ``1 - lam`` for MixUp samples, the box indicator for CutMix.

    Shape:
        ``-> (n, 1, 1, 1)`` when no sample can use CutMix, else ``(n, 1, H, W)``; n = B (1 if shared).
    """
    return _partner_map(params, size, dtype).rows(0, params["lam"].shape[0])


def paste_mask(params: Params, size: tuple[int, int], dtype: torch.dtype = torch.bool) -> Tensor:
    """Where a sample's output pixel comes from its partner's CutMix box: True, or all-ones bits of an
    integer ``dtype`` (255 for uint8, -1 for signed types), else 0.

    Shape:
        ``-> (n, 1, H, W)``, n = B (or 1 for a shared draw).
    """
    if dtype == torch.bool:
        return paste_mask(params, size, torch.uint8).bool()
    _, cut, box = _draws(params)
    rows, cols = _rows_cols(box, size)
    bits = torch.bitwise_and((rows & cut.view(-1, 1, 1, 1)).to(torch.uint8), cols.to(torch.uint8))  # (n, 1, H, W) 0/1
    return bits.to(dtype).neg_() if dtype != torch.uint8 else bits.neg_()  # 1 -> all bits set (255 / -1)


# ---- whole-batch helpers (masks; any dtype) ------------------------------------------------------------
def lerp_partner(src: Tensor, weight: Tensor, params: Params, out: Tensor) -> Tensor:
    """``out = src + weight * (src[partner] - src)``, untiled.

    Shape:
        ``src, out: (B, C, H, W)`` float, ``weight`` broadcastable ``(B or 1, 1, H or 1, W or 1)``.
    """
    for own, other, dst in _jobs_untiled(src, params):
        torch.lerp(own, other, _rows(weight, dst), out=out[dst])
    return out


def select_partner(src: Tensor, bits: Tensor, params: Params, out: Tensor) -> Tensor:
    """``out = where(bits, src[partner], src)`` for integer / bool tensors, as ``src ^ ((src ^ partner) & bits)``
    (three vectorised bitwise passes beat ``torch.where`` on CPU by far), untiled.

    Shape:
        ``src, out: (B, C, H, W)``, ``bits`` broadcastable, all-ones where the partner's value is taken.
    """
    for own, other, dst in _jobs_untiled(src, params):
        o = out[dst]
        torch.bitwise_xor(own, other, out=o)
        o.bitwise_and_(_rows(bits, dst)).bitwise_xor_(own)
    return out


def _rows(t: Tensor, rows: slice) -> Tensor:
    return t if t.shape[0] == 1 else t[rows]


def _jobs_untiled(src: Tensor, params: Params) -> Iterator[tuple[Tensor, Tensor, slice]]:
    b = src.shape[0]
    if params["static"]["pairing"] == "half":
        k = b // 2
        yield src[:k], src[k : 2 * k], slice(0, k)
        yield src[k : 2 * k], src[:k], slice(k, 2 * k)
        yield src[2 * k :], src[2 * k :], slice(2 * k, b)  # an odd last sample is its own partner
    else:
        yield src, src.index_select(0, params["partner"]), slice(0, b)


# ---- images: tiled ------------------------------------------------------------------------------------------
Rows = Union[slice, Tensor]  # a block of samples, or partner indices to gather


def _is_flip(partner: Tensor) -> bool:
    """Whether ``partner`` is ``B - 1 - i`` (timm's pairing); a host check, for CPU params only."""
    b = partner.shape[0]
    return partner.device.type == "cpu" and bool(torch.equal(partner.long(), torch.arange(b - 1, -1, -1)))


def _tiles(
    b: int, params: Params, pairs: int, flip: bool = False
) -> Iterator[tuple[list[Rows], list[tuple[int, int, slice]]]]:
    """Blocks of work: the rows to read, and jobs ``(own source, partner source, output rows)``.

    ``"half"``: ``pairs`` partners i and i + B // 2 per tile (the odd sample out last, alone);
    ``flip`` (``partner`` is ``B - 1 - i``): one pair per tile, both read in place; otherwise
    ``2 * pairs`` samples per tile with their partners gathered.
    """
    if params["static"]["pairing"] == "half":
        k = b // 2
        for s in range(0, k, pairs):
            e = min(s + pairs, k)
            lo, hi = slice(s, e), slice(k + s, k + e)
            yield [lo, hi], [(0, 1, lo), (1, 0, hi)]
        if b % 2:
            last = slice(2 * k, b)
            yield [last], [(0, 0, last)]
        return
    if flip:  # i <-> B - 1 - i: a tile of one pair reads both partners in place, no gather
        for s in range(b // 2):
            lo, hi = slice(s, s + 1), slice(b - 1 - s, b - s)
            yield [lo, hi], [(0, 1, lo), (1, 0, hi)]
        if b % 2:
            mid = slice(b // 2, b // 2 + 1)
            yield [mid], [(0, 0, mid)]
        return
    partner = params["partner"]
    for s in range(0, b, 2 * pairs):
        rows = slice(s, min(s + 2 * pairs, b))
        yield [rows, partner[rows]], [(0, 1, rows)]


def _kernel():
    """The numba mix kernel module, or None: numba absent or the CPU kernels turned off."""
    from ..ops import cpu  # where every CPU kernel is chosen (AUGLOADER_CPU_KERNELS=0 turns them off)

    return cpu.mix_kernel()


def _pair_arrays(b: int, params: Params) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """The pairs of partners ``(first, second)``, when every sample's partner has it as its partner
    (``"half"``, ``"flip"``, ``mode="pair"``; a sample alone is paired with itself); else None.

    Shape:
        ``-> (P,), (P,)`` int64.
    """
    if params["static"]["pairing"] == "half":
        k = b // 2
        first = np.arange(k + b % 2, dtype=np.int64)
        second = first + k
        second[k:] = first[k:] = 2 * k  # an odd last sample is its own partner
        return first, second
    partner = params["partner"]
    if partner.device.type != "cpu":
        return None
    p = partner.long().numpy()
    idx = np.arange(b, dtype=np.int64)
    if p.min() < 0 or p.max() >= b or not np.array_equal(p[p], idx):
        return None  # e.g. an "elem" permutation: its cycles are not pairs
    first = idx[idx <= p]
    return first, p[first].copy()


def _kernel_mix(image: Tensor, params: Params, out: Tensor) -> bool:
    """Mixes a contiguous float32 CPU batch with the numba kernel; False where it does not apply."""
    b, _, h, w = image.shape
    if not (
        image.device.type == "cpu"
        and image.dtype == out.dtype == torch.float32
        and image.is_contiguous()
        and out.is_contiguous()
        and not image.requires_grad
        and not torch.compiler.is_compiling()
    ):
        return False
    kernel = _kernel()
    pairs = _pair_arrays(b, params) if kernel is not None else None
    if pairs is None:
        return False
    lam, cut, box = (t.cpu().expand(b, *t.shape[1:]) for t in _draws(params))  # n = 1 (shared) -> B rows
    weight = np.ascontiguousarray((1.0 - lam).to(torch.float32).numpy())  # the torch path's blend, same op
    box = box.clone()
    box[:, 0::2].clamp_(0, w)  # the torch path's indicators: rows/columns in [y0, y1) x [x0, x1) only
    box[:, 1::2].clamp_(0, h)
    kernel.mix_pairs(image, out, *pairs, weight, np.ascontiguousarray(cut.numpy()), box.contiguous().numpy())
    return True


def mix_images(
    image: Tensor,
    params: Params,
    out: Optional[Tensor] = None,
    out_dtype: Optional[torch.dtype] = None,
    scratch: Optional[Scratch] = None,
    tile_bytes: Optional[int] = None,
) -> Tensor:
    """Mixes every sample with its partner: MixUp blends, CutMix pastes the partner's box.

    Float images are blended in their own dtype. uint8 images stay uint8 by default: CutMix alone is
    bit-exact; MixUp is computed in float32 and rounded to the nearest integer (halves up). With
    ``out_dtype`` a float dtype, uint8 input is returned scaled to ``[0, 1]`` without rounding.

    Args:
        image: the batch; never modified.
        params: from :func:`~augloader.mix.sample_mix_params` (or a mixer's ``last_params``).
        out: optional output buffer (contiguous, not sharing memory with ``image``).
        out_dtype: uint8 input only: ``torch.uint8`` (default) or a float dtype.
        scratch: provider of reusable internal buffers.
        tile_bytes: process the batch in tiles of about this many bytes of float32 image data (CPU
            cache blocking); None: one tile. The numba kernel (float32 CPU pairs) needs no tiles.

    Shape:
        ``(B, C, H, W)`` -> ``(B, C, H, W)``.
    """
    b, c, h, w = image.shape
    static = params["static"]
    dtype = out_dtype or image.dtype
    if image.is_floating_point() and dtype != image.dtype:
        raise ValueError(f"out_dtype applies to uint8 images only; a {image.dtype} batch keeps its dtype")
    if out is None:
        out = torch.empty(image.shape, dtype=dtype, device=image.device)
    to_unit = image.dtype == torch.uint8 and dtype.is_floating_point  # uint8 -> float in [0, 1]
    if not (static["mixup"] or static["cutmix"]) or b == 0:
        return out.copy_(image).mul_(1.0 / 255.0) if to_unit else out.copy_(image)
    if image.is_floating_point():
        kind, work = "blend", image.dtype
    elif dtype == image.dtype and not static["mixup"]:
        kind, work = "select", image.dtype  # CutMix only on uint8: exact bit selection, no float at all
    else:
        kind, work = ("unit" if to_unit else "round"), torch.float32
    if kind == "blend" and _kernel_mix(image, params, out):
        return out
    weights = _partner_map(params, (h, w), work)
    sample_bytes = c * h * w * 4
    pairs = max(b // 2, 1)  # one tile
    if tile_bytes is not None:
        pairs = max(1, min(pairs, tile_bytes // (2 * sample_bytes)))
    rows = pairs if static["pairing"] == "half" else 2 * pairs  # the most rows one source or job holds
    dev = image.device
    wbuf = (
        _empty(scratch, "weight", (rows, 1, h, w), work, dev)
        if weights.whole is None and weights.wx is not None
        else None
    )
    convert = kind in ("unit", "round")
    fbufs = [_empty(scratch, f"tile{i}", (rows, c, h, w), torch.float32, dev) for i in range(2)] if convert else []
    rbuf = _empty(scratch, "result", (rows, c, h, w), torch.float32, dev) if kind == "round" else None
    ibuf = _empty(scratch, "result16", (rows, c, h, w), torch.int16, dev) if kind == "round" else None
    flip = static["pairing"] != "half" and _is_flip(params["partner"])
    gbuf = (
        _empty(scratch, "gather", (rows, c, h, w), image.dtype, dev)
        if static["pairing"] != "half" and not flip
        else None
    )

    for sources, jobs in _tiles(b, params, pairs, flip):
        loaded = []
        for i, block in enumerate(sources):
            if isinstance(block, Tensor):  # partner rows: gather them into the tile buffer
                src = torch.index_select(image, 0, block, out=gbuf[: block.shape[0]])
            else:
                src = image[block]
            if convert:
                f = fbufs[i][: src.shape[0]]
                f.copy_(src)  # (a mixed-dtype op would allocate a converted temporary first)
                src = f.mul_(1.0 / 255.0) if kind == "unit" else f.add_(0.5)  # +0.5: truncation below rounds
            loaded.append(src)
        for own_i, other_i, dst in jobs:
            own, other = loaded[own_i], loaded[other_i]
            wt = weights.rows(dst.start, dst.stop, wbuf)
            if kind == "select":
                o = out[dst]
                torch.bitwise_xor(own, other, out=o)
                o.bitwise_and_(wt).bitwise_xor_(own)
            elif kind == "round":
                n = own.shape[0]
                r = torch.lerp(own, other, wt, out=rbuf[:n])
                # float -> int truncates toward zero and the values lie in [0.5, 255.5]; going through
                # int16 is ~2x faster on CPU than float -> uint8 directly, and exact (0..255 fit both).
                out[dst].copy_(ibuf[:n].copy_(r))
            else:
                torch.lerp(own, other, wt, out=out[dst])
    return out
