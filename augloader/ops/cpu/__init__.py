"""CPU kernels for the engine's stages: the one place where they are chosen.

The eager torch ops stay the reference (and run on every other device, under ``augloader.compile``
and with autograd). On the CPU, a stage runs a kernel here instead when one applies:

========================================  ===================================================
stage                                     kernel (numba, one call per batch or per sample)
========================================  ===================================================
crops, resizes, flips (bilinear)          two separable passes over each crop, torch's taps
affine warps (bilinear, nearest)          per-row taps, gathers straight from the input; a
                                          ``GaussianBlur`` stage right after runs in the same
                                          pass (and the final rounding to uint8 with it)
``GaussianBlur``                          separable blur with the sample's kernels
``ColorJitter`` (+ folded ``Normalize``)  fused loops: colour matrices and exact hue, 2-3 passes
MixUp / CutMix (float32, paired)          each pair of partners in one pass
========================================  ===================================================

Other stages (perspective, bicubic, warps with intermediate frames, policies) keep the torch ops.
numba comes with ``pip install 'augloader[cpu]'``; without it every stage runs the torch ops and one
warning says so. :func:`cpu_kernels` turns the kernels off (``enabled=False``), e.g. to compare with
the reference; ``AUGLOADER_CPU_KERNELS=0`` does so for a whole process.

Values: the kernels compute what the eager ops compute. The uint8 crop-resize uses torch's integer
weights and rounding (bit for bit); the blur and colour kernels work in float32 like the eager ops
(agreeing to about 1e-6 of the value range), read uint8 as it is and round nothing before the end;
the warp computes its source coordinates in float32 like ``grid_sample``'s grid (values within 0.05
of a uint8 level; nearest picks the other neighbour only at half-pixel ties).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import warnings
from typing import Any, Sequence

import torch
from torch import Tensor

from .._kernels import KernelSwitch, fusable

__all__ = [
    "available",
    "covers",
    "cpu_kernels",
    "describe",
    "enabled",
    "mix_kernel",
    "run_geometric",
    "run_pixel",
    "run_warp",
]

_ENABLED = KernelSwitch(os.environ.get("AUGLOADER_CPU_KERNELS", "1") not in ("0", "false", "False", ""))
_modules: dict[str, Any] = {}
_warned = False


def enabled() -> bool:
    """Whether stages may run the CPU kernels (the default; see :func:`cpu_kernels`)."""
    return _ENABLED.on


def cpu_kernels(enabled: bool = True) -> contextlib.AbstractContextManager[None]:
    """Within the block, CPU stages use these kernels (``True``) or only the eager torch ops (``False``).

    Not thread-safe: the setting is process-wide while the block runs.
    """
    return _ENABLED.scoped(enabled)


def available() -> dict[str, bool]:
    """Which optional libraries the kernels found: ``{"numba": ...}``."""
    return {"numba": _installed("numba")}


@functools.lru_cache(maxsize=None)
def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _module(name: str):
    """The kernel module that needs ``name`` (``"numba"``), or None if it is absent.

    Warns once per process, the first time a stage could have used a missing library.
    """
    global _warned
    if name not in _modules:
        mod = None
        if _installed(name):
            from . import _color_numba as mod
        _modules[name] = mod
    mod = _modules[name]
    if mod is None and not _warned:
        _warned = True
        warnings.warn(
            f"augloader: {name} is not installed, so CPU stages run the slower torch ops "
            "(pip install 'augloader[cpu]' for the CPU kernels)",
            stacklevel=4,
        )
    return mod


def _active(image: Tensor) -> bool:
    return (
        _ENABLED.on
        and image.device.type == "cpu"
        and image.dtype in (torch.uint8, torch.float32)
        and not fusable()
        and not (image.requires_grad and torch.is_grad_enabled())
        and image.numel() > 0
    )


# ---- what each stage runs -------------------------------------------------------------------------
def _geometric_kernel(stage) -> str | None:
    """The CPU kernel a geometric stage can use, from its transforms alone (``None``: eager)."""
    if stage.integer:
        return None  # flips, crops and pads: the eager exact gather is already one copy
    if all(t.axis_aligned for t in stage.transforms) and stage.interpolation == "bilinear":
        return "resize"  # the eager ops run when a sample's box is not whole pixels of the input
    if stage.interpolation in ("bilinear", "nearest") and not any(t.projective for t in stage.transforms):
        from ...transforms.stages import _needs_frame

        ts = stage.transforms
        if not any(k > 0 and _needs_frame(ts[:k], t) for k, t in enumerate(ts)):
            return "warp"
    return None  # perspective, bicubic and warps clipped to intermediate frames keep grid_sample


def _pixel_kernels(stage, channels: int | None = None) -> list[tuple[str, int]] | None:
    """``(kernel, transforms consumed)`` for each step of a pixel stage, or None if a step has none."""
    from ...transforms.color import ColorJitter
    from ...transforms.convert import Normalize
    from ...transforms.filters import GaussianBlur

    steps, ts, k = [], stage.transforms, 0
    while k < len(ts):
        t = ts[k]
        if type(t) is GaussianBlur:
            steps.append(("blur", 1))
        elif type(t) is ColorJitter:
            nxt = ts[k + 1] if k + 1 < len(ts) else None
            fold = type(nxt) is Normalize and (channels is None or channels == nxt.mean.numel())
            steps.append(("jitter", 2 if fold else 1))
        else:
            return None
        k += steps[-1][1]
    return steps


_NAMES = {
    "resize": "numba crop-resize",
    "warp": "numba affine warp",
    "blur": "numba separable blur",
    "jitter": "numba fused colour loop",
}
_NEEDS = {"resize": "numba", "warp": "numba", "blur": "numba", "jitter": "numba"}  # the library each kernel needs


def covers(stages: Sequence, image: Tensor) -> bool:
    """Whether every stage has a CPU kernel for ``image``: the engine then runs the batch whole. (Its
    chunks keep the eager ops' temporaries in cache; the kernels make none, so chunks would only add
    a copy of every output into the batch.)"""
    return bool(stages) and _active(image) and all(describe(s) for s in stages)


def describe(stage) -> str:
    """What a stage runs on the CPU, for its ``describe()``: ``""`` when only eager torch ops."""
    from ...transforms.stages import GeometricStage

    if isinstance(stage, GeometricStage):
        kernel = _geometric_kernel(stage)
        names = [] if kernel is None else [kernel]
    else:
        names = [k for k, _ in _pixel_kernels(stage) or []]
    names = [n for n in dict.fromkeys(names) if _installed(_NEEDS[n])]
    if not names or not _ENABLED.on:
        return ""
    return "; CPU: " + ", ".join(_NAMES[n] for n in names)


# ---- running a stage --------------------------------------------------------------------------------
def run_geometric(stage, state, total: Tensor, frames: Sequence, size: tuple[int, int]) -> bool:
    """Runs a geometric stage's pixels with a CPU kernel; False when the eager ops must (targets are
    moved by the caller either way).

    ``state`` is the engine's ``_State``, ``total`` the stage's ``(B, 3, 3)`` input -> output matrices,
    ``frames`` its intermediate frames (each sample's box must lie inside them), ``size`` the output
    ``(H, W)``.
    """
    image = state.image
    if not _active(image) or total.device.type != "cpu" or _geometric_kernel(stage) != "resize":
        return False
    if _module("numba") is not None:
        from ..resize import axis_aligned_boxes
        from ._resize import resized_crop

        found = axis_aligned_boxes(total, size, tuple(image.shape[-2:]), frames)
        if found is not None:
            boxes, hflip, vflip = found
            antialias = any(t.antialias for t in stage.transforms)
            state.image = resized_crop(image, boxes.tolist(), size, antialias, hflip.tolist(), vflip.tolist())
            return True
    return False


def run_warp(stage, state, inverse: Tensor, size: tuple[int, int], padding_mode: str, following=None) -> int:
    """Runs an affine warp stage with the CPU kernel, and the pixel stage that follows it in the same pass
    when that stage is a ``GaussianBlur`` alone (the P3 pattern).

    ``state`` is the engine's ``_State`` (its targets are moved by the caller), ``inverse`` the stage's
    ``(B, 3, 3)`` output -> input matrices (no intermediate frames: the caller checks), ``size`` the
    output ``(H, W)``, ``padding_mode`` the engine's choice for the stage (``"edge"`` when it never
    samples outside), ``following`` the next stage as ``(stage, its prepared params, is last)``.

    Returns:
        0: nothing ran (the eager ops must); 1: the warp ran; 2: the warp and ``following`` ran.
    """
    image = state.image
    if not _active(image) or inverse.device.type != "cpu" or _geometric_kernel(stage) != "warp":
        return 0
    if _module("numba") is None:
        return 0
    from ._warp import warp

    scale = state.scale if state.working else (255.0 if image.dtype == torch.uint8 else 1.0)
    source_max = 255.0 if state.source_dtype == torch.uint8 else 1.0
    fill = stage.fill if isinstance(stage.fill, (list, tuple)) else [stage.fill]
    fill = [float(v) * scale / source_max for v in fill]
    blur, last = _fusable_blur(following, image)
    last = last if blur is not None else following is None  # whether this pass writes the pipeline's output
    kernels, blur_t = None, None
    if blur is not None:
        blur_t, p = blur
        kernels = _blur_kernels(blur_t, p, (image.shape[0], image.shape[1], *size))
    out_dtype = blur_t.output_dtype(state.out_dtype) if blur_t is not None else state.out_dtype
    to_uint8 = last and out_dtype == torch.uint8 and scale == 255.0
    factor = 1.0 / scale if last and out_dtype != torch.uint8 else 1.0  # the finish's 1/255, folded in
    state.image = warp(image, inverse, size, stage.interpolation, padding_mode, fill, kernels, factor, to_uint8)
    state.out_dtype = out_dtype
    if to_uint8:  # rounded and cast in the last pass: nothing is left for the engine's finish
        state.working, state.scale = False, 1.0
    else:
        state.working, state.scale = True, scale * factor
    return 2 if blur is not None else 1


def _blur_kernels(t, p: dict, shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """A ``GaussianBlur``'s ``(B, C, k)`` kernels for an image of ``shape``: the prepared ones when they
    fit its channels, else prepared here."""
    kx = p.get("kernel_x")
    if kx is None or kx.shape[1] != shape[1]:
        p = t.prepare(p, shape)
    return p["kernel_x"], p["kernel_y"]


def _fusable_blur(following, image: Tensor):
    """``((GaussianBlur, its params), is last)`` when the next stage is a lone blur the warp can run."""
    from ...transforms.filters import GaussianBlur

    if following is None:
        return None, False
    stage, params, last = following
    ts = getattr(stage, "transforms", None)
    if not ts or len(ts) != 1 or type(ts[0]) is not GaussianBlur or not _blur_fits(ts[0], image):
        return None, False
    return (ts[0], params[0]), last


def run_pixel(stage, state, params: Sequence[dict], last: bool = False) -> bool:
    """Runs a pixel stage with CPU kernels; False (nothing done) when a step has none. ``last``: this is
    the pipeline's last stage (a blur that ends it rounds to uint8 in its own pass)."""
    image = state.image
    if not _active(image):
        return False
    steps = _pixel_kernels(stage, image.shape[1])
    if steps is None:
        return False
    need = {_NEEDS[k] for k, _ in steps}
    if any(_module(n) is None for n in need):
        return False
    if any(k == "blur" and not _blur_fits(t, image) for (k, _), t in zip(steps, _firsts(stage, steps))):
        return False  # the eager op raises its error
    from ._jitter import jitter

    i = 0
    for kernel, n in steps:
        t, p = stage.transforms[i], params[i]
        if kernel == "blur":
            kx, ky = _blur_kernels(t, p, tuple(state.image.shape))
            from ._blur import blur

            if not state.working:  # uint8 is filtered into float without the 1/255 (``_State.ensure_working``)
                state.scale = 255.0 if state.image.dtype == torch.uint8 else 1.0
            state.out_dtype = t.output_dtype(state.out_dtype)
            to_uint8 = last and i + n == len(stage.transforms) and state.out_dtype == torch.uint8
            if to_uint8 and state.scale == 255.0:  # the engine's finish, in the blur's last pass
                state.image = blur(state.image, kx, ky, to_uint8=True)
                state.working, state.scale = False, 1.0
            else:
                state.image = blur(state.image, kx, ky)
                state.working = True
        else:
            tail = stage.transforms[i + 1] if n == 2 else None
            if not state.working:
                state.scale = 255.0 if state.image.dtype == torch.uint8 else 1.0
            state.image = jitter(t, state.image, p, tail, state.scale)
            state.working, state.scale = True, 1.0
            state.out_dtype = t.output_dtype(state.out_dtype)
            if tail is not None:
                state.out_dtype = tail.output_dtype(state.out_dtype)
        i += n
    return True


def mix_kernel():
    """The numba MixUp/CutMix kernel module (``_mix``: float32 CPU batches whose partners form pairs),
    or None when numba is absent or the kernels are off (``augloader.mix`` then runs its torch path)."""
    if not (_ENABLED.on and _installed("numba")):
        return None
    from . import _mix

    return _mix


def _firsts(stage, steps: list[tuple[str, int]]) -> list:
    out, i = [], 0
    for _, n in steps:
        out.append(stage.transforms[i])
        i += n
    return out


def _blur_fits(t, image: Tensor) -> bool:
    h, w = image.shape[-2:]
    return h > t.kernel_size[1] // 2 and w > t.kernel_size[0] // 2
