"""Vector gathers for the warp's bilinear rows (``_warp``), written as an LLVM intrinsic.

The warp's inner loop reads four taps per pixel and channel at computed offsets. LLVM's cost model
leaves such gathers scalar, and that loop was most of P3's time. :func:`bilinear_rows3` emits
``llvm.masked.gather`` for 16 pixels at a time instead (AVX-512 or AVX2 gathers; LLVM itself lowers it
to scalar loads on CPUs without them), with the same multiplies and adds as the scalar loop, so the
values are the same. Measured on the 2-core Xeon (AVX-512): the whole P3 warp + blur kernel 0.48-0.54
-> 0.38-0.41 ms per image, bit for bit the scalar loop's output.

Written against numba's public ``intrinsic`` API and llvmlite's IR builder. At import a probe compiles
it and compares it with the scalar loop; if that fails (another numba, another LLVM), ``AVAILABLE`` is
False and :func:`bilinear_rows3` is a function that leaves every pixel to the scalar loop.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._ir import vector_loop

#: Pixels per vector step.
LANES = 16


@intrinsic
def _bilinear_rows3_simd(typingctx, p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n):
    """``r_c[j] = w0[j] p_c[o0[j]] + w1[j] p_c[o1[j]] + w2[j] p_c[o2[j]] + w3[j] p_c[o3[j]]`` for the
    first ``n // 16 * 16`` pixels; returns that count. Every array is 1-D and contiguous: ``p_c`` float32
    planes, ``o_t`` uint32 offsets, ``w_t`` float32 weights, ``r_c`` float32 output rows."""
    sig = types.intp(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n)

    def codegen(context, builder, signature, args):
        f32, i32, i64, i1 = ir.FloatType(), ir.IntType(32), ir.IntType(64), ir.IntType(1)
        vf, vi32, vi64 = ir.VectorType(f32, LANES), ir.VectorType(i32, LANES), ir.VectorType(i64, LANES)
        vptr = ir.VectorType(f32.as_pointer(), LANES)
        arrays = zip(signature.args[:14], args[:14])
        data = [context.make_array(ty)(context, builder, val).data for ty, val in arrays]
        planes, offsets, weights, rows = data[0:3], data[3:7], data[7:11], data[11:14]
        name = "llvm.masked.gather.v16f32.v16p0f32"
        gather = builder.module.globals.get(name) or ir.Function(
            builder.module, ir.FunctionType(vf, [vptr, i32, ir.VectorType(i1, LANES), vf]), name
        )
        mask = ir.Constant(ir.VectorType(i1, LANES), [1] * LANES)
        undef = ir.Constant(vf, ir.Undefined)
        four = ir.Constant(vi64, [4] * LANES)
        bases = []  # each plane's address in every lane
        for plane in planes:
            one = builder.insert_element(
                ir.Constant(vi64, ir.Undefined), builder.ptrtoint(plane, i64), ir.Constant(i32, 0)
            )
            bases.append(builder.shuffle_vector(one, ir.Constant(vi64, ir.Undefined), ir.Constant(vi32, [0] * LANES)))

        def body(j) -> None:
            byte_offsets, tap_weights = [], []
            for t in range(4):
                at = builder.bitcast(builder.gep(offsets[t], [j]), vi32.as_pointer())
                byte_offsets.append(builder.mul(builder.zext(builder.load(at, align=4), vi64), four))
                wt = builder.bitcast(builder.gep(weights[t], [j]), vf.as_pointer())
                tap_weights.append(builder.load(wt, align=4))
            for c in range(3):
                acc = None
                for t in range(4):
                    lanes = builder.inttoptr(builder.add(bases[c], byte_offsets[t]), vptr)
                    value = builder.call(gather, [lanes, ir.Constant(i32, 4), mask, undef])
                    term = builder.fmul(tap_weights[t], value, flags=("fast",))
                    acc = term if acc is None else builder.fadd(acc, term, flags=("fast",))
                builder.store(acc, builder.bitcast(builder.gep(rows[c], [j]), vf.as_pointer()), align=4)

        return vector_loop(builder, args[14], LANES, body, "gather")

    return sig, codegen


@numba.njit(cache=True)
def _with_simd(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n):
    return _bilinear_rows3_simd(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n)


@numba.njit(cache=True)
def _without_simd(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n):
    return 0


def _probe() -> bool:
    """Whether the intrinsic compiles and gives the scalar loop's values here."""
    rng = np.random.default_rng(0)
    n, size = 37, 500
    planes = [rng.random(size, dtype=np.float32) for _ in range(3)]
    offsets = [rng.integers(0, size, n).astype(np.uint32) for _ in range(4)]
    weights = [rng.random(n, dtype=np.float32) for _ in range(4)]
    rows = [np.zeros(n, np.float32) for _ in range(3)]
    try:
        done = _with_simd(*planes, *offsets, *weights, *rows, n)
    except Exception:  # noqa: BLE001 - any failure to compile or run means: not on this numba/LLVM
        return False
    expect = [sum(w[:done] * p[o[:done]] for o, w in zip(offsets, weights)) for p in planes]
    return done == n // LANES * LANES and all(np.allclose(r[:done], e, rtol=1e-6) for r, e in zip(rows, expect))


AVAILABLE = _probe()
#: ``bilinear_rows3(p0, p1, p2, o0, o1, o2, o3, w0, w1, w2, w3, r0, r1, r2, n)``: the vector part of a row
#: (returns how many pixels it did, a multiple of 16), or 0 where the intrinsic is not available.
bilinear_rows3 = _with_simd if AVAILABLE else _without_simd
