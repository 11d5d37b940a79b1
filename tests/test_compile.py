"""augloader.compile and the fusable kernels: equal to eager, one graph, no recompile per batch size.

Graph tests use the ``eager`` backend or a compile counter (tracing only); inductor builds one small
graph (the ops chain of P1/P3) for the equality that matters. A pipeline that cannot compile would be
a strict xfail naming the line that breaks the graph (none left: P1, P3, the policies and
MixUpCutMix compile with fullgraph=True).
"""

from __future__ import annotations

import pickle
import warnings

import pytest
import torch
from pipelines import MEAN, STD, p1, p3
from torch import nn
from torch._dynamo.testing import CompileCounter

import augloader as A
from augloader.compile import CompiledPipeline
from augloader.ops import color as C
from augloader.ops import filters as Fi
from augloader.ops import resize as R
from augloader.ops import warp as W
from augloader.ops._kernels import fusable, fusable_kernels


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _inverse(b: int, generator: torch.Generator, projective: bool = False) -> torch.Tensor:
    """Random output -> input matrices: rotation/scale/shear around the identity plus a shift."""
    noise = torch.randn(b, 3, 3, generator=generator) * torch.tensor([[0.3, 0.3, 6.0], [0.3, 0.3, 6.0], [0, 0, 0]])
    m = torch.eye(3) + noise
    if projective:
        m[:, 2, :2] = 0.01 * torch.randn(b, 2, generator=generator)
    return m


def _boxes(b, h, w, ho, wo, generator):
    """Random integer crops with flips: boxes, flip flags and the matching output -> input matrices."""
    boxes, hf, vf, inv = [], [], [], torch.eye(3).repeat(b, 1, 1)
    for i in range(b):
        cw, ch = (int(torch.randint(1, n + 1, (1,), generator=generator)) for n in (w, h))
        left = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
        top = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
        fh, fv = (bool(torch.rand(1, generator=generator) < 0.5) for _ in range(2))
        boxes.append([left, top, left + cw, top + ch])
        hf.append(fh)
        vf.append(fv)
        inv[i, 0, 0], inv[i, 0, 2] = (-cw / wo, left + cw) if fh else (cw / wo, left)
        inv[i, 1, 1], inv[i, 1, 2] = (-ch / ho, top + ch) if fv else (ch / ho, top)
    return torch.tensor(boxes), torch.tensor(hf), torch.tensor(vf), inv


# ---- the fusable kernels equal the eager ones -------------------------------------------------------
def test_flag_is_scoped():
    assert not fusable()
    with fusable_kernels():
        assert fusable()
        with fusable_kernels(False):
            assert not fusable()
        assert fusable()
    assert not fusable()


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("projective", [False, True])
def test_gather_warp_equals_grid_sample(interpolation, padding, projective):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 20, 24, generator=g)
    inv = _inverse(4, g, projective)
    fill = [0.2, 0.5, 0.9] if padding == "constant" else 0.0
    frames = [(torch.eye(3).repeat(4, 1, 1) * 0.9, (18, 20))] if padding == "constant" else ()
    eager = W.warp(x, inv, (18, 26), interpolation, padding, fill, frames, projective)
    with fusable_kernels():
        fused = W.warp(x, inv, (18, 26), interpolation, padding, fill, frames, projective)
        from_uint8 = W.warp((x * 255).round().to(torch.uint8), inv, (18, 26), interpolation, padding, 0.0)
    torch.testing.assert_close(fused, eager, atol=1e-5, rtol=0)
    reference = W.warp((x * 255).round(), inv, (18, 26), interpolation, padding, 0.0)
    torch.testing.assert_close(from_uint8, reference, atol=1e-3, rtol=0)  # reads uint8 directly


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
@pytest.mark.parametrize("sizes", [(40, 48, 32, 32), (20, 24, 32, 30), (64, 64, 16, 16)])
@pytest.mark.parametrize("antialias", [True, False])
def test_resized_crop_fusable_equals_eager(dtype, sizes, antialias):
    h, w, ho, wo = sizes
    g = torch.Generator().manual_seed(h + wo)
    x = torch.rand(6, 3, h, w, generator=g)
    if dtype == torch.uint8:
        x = (x * 255).round().to(torch.uint8)
    boxes, hf, vf, inv = _boxes(6, h, w, ho, wo, g)
    eager = R.resized_crop(x, boxes, (ho, wo), "bilinear", antialias, hf, vf)
    fused = W.resized_crop_fusable(x, inv, (ho, wo), antialias)
    assert fused.dtype == eager.dtype and fused.shape == eager.shape
    atol = 1.0 if dtype == torch.uint8 else 1e-5  # uint8: torch rounds fixed-point weights
    torch.testing.assert_close(fused.float(), eager.float(), atol=atol, rtol=0)


def test_fusable_blur_and_colour_equal_eager():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(3, 3, 17, 21, generator=g)
    sigma = torch.rand(3, 2, generator=g) * 2 + 0.1
    m, o = torch.rand(3, 3, 3, generator=g), torch.rand(3, 3, generator=g) - 0.5
    eager = (Fi.gaussian_blur(x, (5, 3), sigma), C.color_affine(x, m, o))
    with fusable_kernels():
        fused = (Fi.gaussian_blur(x, (5, 3), sigma), C.color_affine(x, m, o))
    for a, b in zip(fused, eager):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_hue_has_no_out_writes_and_matches_reference():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(4, 3, 9, 11, generator=g)
    shift = torch.rand(4, generator=g) - 0.5
    reference = C._adjust_hue_autograd(x, shift)  # the plain formula
    torch.testing.assert_close(C.adjust_hue(x, shift), reference, atol=1e-5, rtol=0)


# ---- the ops of P1 and P3 compile into one graph, inductor equal to eager ---------------------------
def _ops_chain(image, inverse, crop_inverse, matrix, offset, shift, sigma):
    """P1's and P3's apply work with the ops alone: crop-resize-flip, colour, exact hue, Normalize; warp, blur."""
    out1 = W.resized_crop_fusable(image, crop_inverse, (24, 24)).to(torch.float32).mul_(1 / 255)
    out1 = C.adjust_hue(C.color_affine(out1, matrix, offset), shift)
    out1 = C.normalize(out1, torch.tensor(MEAN), torch.tensor(STD))
    out3 = W.warp(image.to(torch.float32).mul_(1 / 255), inverse, (28, 28), fill=0.0)
    out3 = Fi.gaussian_blur(out3, (5, 5), sigma)
    return out1, out3


def _chain_inputs(b, seed=0):
    g = torch.Generator().manual_seed(seed)
    image = torch.randint(0, 256, (b, 3, 32, 32), dtype=torch.uint8, generator=g)
    _, _, _, crop = _boxes(b, 32, 32, 24, 24, g)
    return (
        image,
        _inverse(b, g),
        crop,
        torch.eye(3) + 0.1 * torch.randn(b, 3, 3, generator=g),
        0.05 * torch.randn(b, 3, generator=g),
        torch.rand(b, generator=g) - 0.5,
        torch.rand(b, 2, generator=g) + 0.2,
    )


def test_ops_chain_one_graph_no_recompile_across_batch_sizes():
    counter = CompileCounter()
    compiled = torch.compile(_ops_chain, backend=counter, fullgraph=True)
    for b in (8, 7, 3):
        inputs = _chain_inputs(b, seed=b)
        for t in inputs:
            torch._dynamo.maybe_mark_dynamic(t, 0)
        with fusable_kernels():
            got = compiled(*inputs)
        want = _ops_chain(*inputs)
        for a, e in zip(got, want):
            torch.testing.assert_close(a, e, atol=1e-4, rtol=0)
    assert counter.frame_count == 1


def test_ops_chain_inductor_equals_eager():
    compiled = torch.compile(_ops_chain, fullgraph=True)
    inputs = _chain_inputs(4)
    with fusable_kernels():
        got = compiled(*inputs)
    want = _ops_chain(*inputs)  # eager kernels: grid_sample, bmm, conv
    for a, e in zip(got, want):
        torch.testing.assert_close(a, e, atol=1e-4, rtol=0)


# ---- the wrapper --------------------------------------------------------------------------------------
class OpsPipeline(nn.Module):
    """A pipeline-shaped module over the ops (P3's apply work): sample_params, forward(params=), last_params."""

    def __init__(self) -> None:
        super().__init__()
        self.last_params = None

    def sample_params(self, shape, generator=None):
        b = shape[0]
        inverse = torch.eye(3).repeat(b, 1, 1)
        inverse[:, :2, 2] = torch.rand(b, 2, generator=generator) * 4 - 2
        return {"inverse": inverse, "sigma": torch.rand(b, 2, generator=generator) + 0.2}

    def forward(self, batch, params=None, generator=None):
        params = self.sample_params(tuple(batch.shape), generator) if params is None else params
        self.last_params = params
        out = W.warp(batch.to(torch.float32), params["inverse"], tuple(batch.shape[-2:]))
        return Fi.gaussian_blur(out, (3, 3), params["sigma"])


def test_wrapper_dynamic_batch_replay_and_generator():
    pipeline = OpsPipeline()
    counter = CompileCounter()
    compiled = A.compile(pipeline, backend=counter)
    assert isinstance(compiled, CompiledPipeline) and isinstance(compiled, nn.Module)
    for b in (64, 63, 5):
        x = torch.randint(0, 256, (b, 3, 16, 16), dtype=torch.uint8)
        got = compiled(x, generator=torch.Generator().manual_seed(b))
        want = pipeline(x, generator=torch.Generator().manual_seed(b))  # same stream, drawn eagerly
        torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
        replay = compiled(x, params=pipeline.last_params)
        torch.testing.assert_close(replay, got, atol=0, rtol=0)
        assert compiled.last_params is pipeline.last_params
    assert counter.frame_count == 1  # 64, then 63 and 5: no recompile
    assert compiled.fallback_reason is None


def test_wrapper_static_batch_recompiles():
    counter = CompileCounter()
    compiled = A.compile(OpsPipeline(), backend=counter, dynamic_batch=False)
    for b in (4, 3):
        compiled(torch.rand(b, 3, 8, 8))
    assert counter.frame_count == 2


def test_warmup_compiles_and_keeps_last_params():
    counter = CompileCounter()
    pipeline = OpsPipeline()
    compiled = A.compile(pipeline, backend=counter, warmup_shape=(4, 3, 16, 16))
    assert counter.frame_count == 1 and pipeline.last_params is None
    compiled(torch.randint(0, 256, (9, 3, 16, 16), dtype=torch.uint8))
    assert counter.frame_count == 1
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        compiled.warmup((3, 16, 16))
    with pytest.raises(ValueError, match="num_threads"):
        compiled.warmup((4, 3, 16, 16), num_threads=0)


def test_warmup_for_one_thread_workers():
    counter = CompileCounter()
    compiled = A.compile(OpsPipeline(), backend=counter).warmup((4, 3, 16, 16), num_threads=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what a DataLoader worker runs with: the graph is guarded on it
    try:
        compiled(torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8))
    finally:
        torch.set_num_threads(threads)
    assert counter.frame_count == 1 and torch.get_num_threads() == threads


def _failing_backend(gm, example_inputs):
    raise RuntimeError("no C++ compiler (simulated)")


def test_fallback_warns_once_and_returns_eager_results():
    pipeline = OpsPipeline()
    compiled = A.compile(pipeline, backend=_failing_backend)
    x = torch.rand(4, 3, 16, 16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = compiled(x, generator=torch.Generator().manual_seed(0))
        second = compiled(x, generator=torch.Generator().manual_seed(1))
    ours = [w for w in caught if "augloader.compile" in str(w.message)]
    assert len(ours) == 1 and "no C++ compiler" in str(ours[0].message) and "eager" in str(ours[0].message)
    assert compiled.fallback_reason is not None
    torch.testing.assert_close(second, pipeline(x, params=compiled.last_params))
    torch.testing.assert_close(first, pipeline(x, generator=torch.Generator().manual_seed(0)))


def test_user_errors_raise_not_fall_back():
    compiled = A.compile(A.Compose([A.RandomHorizontalFlip()]), backend="eager")
    with pytest.raises((ValueError, TypeError)):
        compiled(torch.rand(3, 3, 3, 3).to(torch.int32))
    with pytest.raises(TypeError, match="augloader pipeline"):
        A.compile(lambda x: x)


def test_pickles_for_workers():
    compiled = A.compile(OpsPipeline(), backend="eager", warmup_shape=(2, 3, 8, 8))
    clone = pickle.loads(pickle.dumps(compiled))
    assert clone._compiled is None  # the worker compiles again (inductor reads its disk cache)
    x = torch.rand(3, 3, 8, 8)
    torch.testing.assert_close(
        clone(x, params=compiled.sample_params((3, 3, 8, 8))), clone.pipeline(x, params=clone.last_params)
    )


# ---- real pipelines: fullgraph where the engine allows it -------------------------------------------
def _fullgraph_equal(pipeline, x, atol):
    params = pipeline.sample_params(tuple(x.shape), torch.Generator().manual_seed(0))
    compiled = torch.compile(lambda image, p: pipeline(image, params=p), backend="eager", fullgraph=True)
    with fusable_kernels():
        got = compiled(x, params)
    torch.testing.assert_close(got.float(), pipeline(x, params=params).float(), atol=atol, rtol=0)


def test_p1_fullgraph_equals_eager():
    _fullgraph_equal(p1(24), torch.rand(4, 3, 32, 32), atol=1e-4)


def test_p3_fullgraph_equals_eager():
    _fullgraph_equal(p3(), torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8), atol=1.0)


@pytest.mark.parametrize("key", ["P1", "P3"])
def test_wrapper_pipelines_no_recompile_64_then_63(key):
    pipeline = p1(24) if key == "P1" else p3()
    counter = CompileCounter()
    compiled = A.compile(pipeline, backend=counter)
    for b in (64, 63):
        x = torch.rand(b, 3, 32, 32, generator=torch.Generator().manual_seed(b))
        got = compiled(x, generator=torch.Generator().manual_seed(b))
        torch.testing.assert_close(got, pipeline(x, params=compiled.last_params), atol=1e-4, rtol=0)
    assert compiled.fallback_reason is None and counter.frame_count == 1


@pytest.mark.parametrize("policy", ["RandAugment", "TrivialAugmentWide"])
def test_policies_fullgraph(policy):
    _fullgraph_equal(getattr(A, policy)(), torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8), atol=1.0)


def _mix_apply_fullgraph(mix):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 16, 16, generator=g)
    params = mix.sample_params(8, (16, 16), g)
    compiled = torch.compile(lambda image, p: mix.apply(image, p), backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, params), mix.apply(x, params), atol=1e-6, rtol=0)


def test_mixupcutmix_untiled_apply_fullgraph():
    _mix_apply_fullgraph(A.MixUpCutMix(num_classes=10, tile_bytes=None))


def test_mixupcutmix_tiled_apply_fullgraph():
    _mix_apply_fullgraph(A.MixUpCutMix(num_classes=10))


def test_wrapper_runs_mix():
    mix = A.MixUpCutMix(num_classes=10)
    compiled = A.compile(mix, backend="eager")
    batch = {"image": torch.rand(6, 3, 8, 8), "label": torch.randint(0, 10, (6,))}
    out = compiled(batch, generator=torch.Generator().manual_seed(0))
    assert compiled.fallback_reason is None
    want = mix(batch, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(out["image"], want["image"])
    torch.testing.assert_close(out["label"], want["label"])


def test_mixupcutmix_forward_with_labels_fullgraph():
    mix = A.MixUpCutMix(num_classes=10, label_smoothing=0.1)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(8, 3, 16, 16, generator=g), torch.randint(0, 10, (8,), generator=g)
    params = mix.sample_params(8, (16, 16), g)
    compiled = torch.compile(lambda image, labels, p: mix((image, labels), params=p), backend="eager", fullgraph=True)
    got, want = compiled(x, y, params), mix((x, y), params=params)
    torch.testing.assert_close(got[0], want[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(got[1], want[1], atol=1e-6, rtol=0)
