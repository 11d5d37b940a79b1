"""``augloader._host_math``: parameter-sized CPU math through numpy (no torch thread pool), else torch."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from augloader import _host_math

FUNCS = ["exp", "log", "sin", "cos", "tan"]


class _Ops(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.names.append(func.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_match_torch(name, dtype):
    x = torch.rand(64, 5, dtype=dtype) * 2 + 0.1
    out = getattr(_host_math, name)(x)
    ref = getattr(torch, name)(x)
    assert out.dtype == dtype and out.shape == ref.shape and out.is_contiguous()
    tol = (1e-6, 1e-7) if dtype == torch.float32 else (1e-14, 1e-15)  # the last bit may differ
    assert torch.allclose(out, ref, rtol=tol[0], atol=tol[1])


@pytest.mark.parametrize("shape", [(), (0,), (3, 4)])
def test_shapes_strides_and_specials(shape):
    x = torch.full(shape, 0.5)
    assert _host_math.exp(x).shape == x.shape
    strided = torch.rand(6, 8)[:, ::2]
    assert torch.allclose(_host_math.sin(strided), torch.sin(strided))
    specials = torch.tensor([0.0, -1.0, float("inf"), float("nan")])
    assert torch.equal(_host_math.log(specials).isnan(), torch.log(specials).isnan())
    assert _host_math.log(specials)[0] == float("-inf") and _host_math.exp(specials)[2] == float("inf")


def test_small_cpu_tensors_skip_torchs_op_and_the_rest_use_it():
    small = torch.rand(64, 5)
    with _Ops() as ops:
        _host_math.exp(small)
    assert "exp.default" not in ops.names
    large = torch.rand(_host_math.SMALL + 1)
    with _Ops() as ops:
        _host_math.exp(large)
    assert "exp.default" in ops.names
    meta = torch.empty(4, device="meta")
    assert _host_math.cos(meta).device.type == "meta"


def test_autograd_keeps_torchs_op():
    x = torch.rand(5, requires_grad=True)
    _host_math.sin(x).sum().backward()
    assert torch.allclose(x.grad, torch.cos(x.detach()))
