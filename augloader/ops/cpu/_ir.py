"""LLVM IR shared by the numba intrinsics of the CPU kernels (``_simd``, ``_stream``)."""

from __future__ import annotations

from typing import Callable

from llvmlite import ir


def vector_loop(builder: ir.IRBuilder, count: ir.Value, lanes: int, body: Callable[[ir.Value], None], name: str):
    """Emits ``for j in range(0, count // lanes * lanes, lanes): body(j)`` (``lanes`` a power of two).

    Returns the ``i64`` value ``count // lanes * lanes``, the elements the loop covered.
    """
    i64 = ir.IntType(64)
    if count.type.width < 64:
        count = builder.sext(count, i64)
    vector_count = builder.and_(count, ir.Constant(i64, ~(lanes - 1)))
    entry = builder.block
    head = builder.append_basic_block(f"{name}.head")
    loop = builder.append_basic_block(f"{name}.body")
    done = builder.append_basic_block(f"{name}.done")
    builder.branch(head)
    builder.position_at_end(head)
    j = builder.phi(i64)
    j.add_incoming(ir.Constant(i64, 0), entry)
    builder.cbranch(builder.icmp_signed("<", j, vector_count), loop, done)
    builder.position_at_end(loop)
    body(j)
    j.add_incoming(builder.add(j, ir.Constant(i64, lanes)), builder.block)
    builder.branch(head)
    builder.position_at_end(done)
    return vector_count
