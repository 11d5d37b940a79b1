"""Execution plans: runs of geometric transforms become one resampling, runs of pixel transforms one
float pass (convert once, apply the chain, convert back once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import torch
from torch import Tensor

from .._batch import Batch, BatchView, from_working, params_to, slice_params, to_working
from .._memory import new_batch, tune_malloc, working_batch
from ..ops import cpu as cpu_kernels
from ..ops import matrices
from ..ops._kernels import fusable
from ..ops.resize import RESIZE_INTERPOLATIONS, axis_aligned_boxes, resized_crop
from ..ops.warp import grid_matrix, resized_crop_fusable, warp, warp_integer
from ..targets.batch import Targets
from ..targets.options import TargetOptions, target_options
from ._args import check_fill
from ._types import Params, Shape

if TYPE_CHECKING:  # base.py imports this module (its forward runs the engine); annotations only here
    from .base import Transform


@dataclass
class GeometricStage:
    """Consecutive geometric transforms composed into one per-sample matrix, resampled once."""

    transforms: list[Transform]
    indices: list[int]
    interpolation: str = "bilinear"
    padding_mode: str = "constant"
    fill: Any = 0.0

    @property
    def integer(self) -> bool:
        return all(t.integer_exact for t in self.transforms)

    def describe(self) -> str:
        names = " -> ".join(type(t).__name__ for t in self.transforms)
        if self.integer:
            how = "one gather (exact)"
        elif all(t.axis_aligned for t in self.transforms) and self.interpolation in RESIZE_INTERPOLATIONS:
            how = f"crop, then one {self.interpolation} resize of the crop in the input dtype"
        else:
            how = f"one {self.interpolation} resample"
        return f"GeometricStage[{names}] ({how}, padding={self.padding_mode}{cpu_kernels.describe(self)})"


@dataclass
class PixelStage:
    """Consecutive pixel transforms run in one float pass."""

    transforms: list[Transform]
    indices: list[int]

    def describe(self) -> str:
        names = []
        for i, t in enumerate(self.transforms):
            folded = i > 0 and t.normalizes and self.transforms[i - 1].accepts_tail
            names.append(f"{type(t).__name__} (folded into the previous pass)" if folded else type(t).__name__)
        return f"PixelStage[{' -> '.join(names)}] (one float conversion{cpu_kernels.describe(self)})"


Stage = GeometricStage | PixelStage


def _needs_frame(previous: Sequence[Transform], t: Transform) -> bool:
    """Whether fusing ``t`` after ``previous`` needs clipping to its input frame (see ``ops.warp``)."""
    return t.may_sample_outside and not all(q.frame_preserving for q in previous)


def _compatible(stage: GeometricStage, t: Transform) -> bool:
    """Whether ``t`` can join ``stage`` without changing the step-by-step result."""
    if t.interpolation is not None and t.interpolation != stage.interpolation:
        return False
    if not t.may_sample_outside:
        return True
    mode = t.padding_mode or "constant"
    if not _needs_frame(stage.transforms, t):
        # Only flips came before: t reads the original frame, so it may set the stage's padding.
        owner = next((q for q in stage.transforms if q.may_sample_outside), None)
        return owner is None or (mode == stage.padding_mode and _same_fill(t.fill, stage.fill))
    # Frame clipping reproduces the chain only for constant padding with the same fill.
    return mode == "constant" and stage.padding_mode == "constant" and _same_fill(t.fill, stage.fill)


def _same_fill(a: Any, b: Any) -> bool:
    return torch.equal(
        torch.as_tensor(a if a is not None else 0.0, dtype=torch.float64),
        torch.as_tensor(b if b is not None else 0.0, dtype=torch.float64),
    )


def plan(transforms: Sequence[Transform]) -> list[Stage]:
    """Groups ``transforms`` into fused stages, keeping their order."""
    stages: list[Stage] = []
    normalized_by: str | None = None
    for i, t in enumerate(transforms):
        if t.kind == "pixel" and t.needs_unit_range and normalized_by is not None:
            raise ValueError(
                f"{type(t).__name__} expects values in [0, 1] but comes after {normalized_by}; "
                f"move {normalized_by} to the end of the pipeline"
            )
        if t.normalizes:
            normalized_by = type(t).__name__
        last = stages[-1] if stages else None
        if t.kind == "geometric":
            if isinstance(last, GeometricStage) and _compatible(last, t):
                if t.may_sample_outside and not _needs_frame(last.transforms, t):
                    last.padding_mode = t.padding_mode or "constant"
                    last.fill = 0.0 if t.fill is None else t.fill
                last.transforms.append(t)
                last.indices.append(i)
                continue
            stages.append(
                GeometricStage(
                    [t],
                    [i],
                    t.interpolation or "bilinear",
                    t.padding_mode or "constant",
                    0.0 if t.fill is None else t.fill,
                )
            )
        else:
            if isinstance(last, PixelStage):
                last.transforms.append(t)
                last.indices.append(i)
            else:
                stages.append(PixelStage([t], [i]))
    return stages


@dataclass
class _State:
    """The image as it flows through the stages."""

    image: Tensor
    working: bool  # float in the working form: values in [0, scale] (unless normalised)
    out_dtype: torch.dtype  # dtype delivered at the end
    source_dtype: torch.dtype  # the caller's dtype, the scale of fill values
    updates: dict[str, Any] = field(default_factory=dict)
    targets: Targets | None = None  # boxes, masks, keypoints in canonical form, moved by each geometric stage
    # uint8 input is cast to float without the 1/255: linear ops (warps, blur) run on [0, 255] and the
    # factor is folded into the next op that needs [0, 1], or cancels at the conversion back to uint8.
    scale: float = 1.0

    def __post_init__(self) -> None:
        # The caller's memory, never written. A compiled graph has no storage pointers (and needs no
        # in-place writes to save memory): there the engine treats no image as its own.
        compiling = torch.compiler.is_compiling()
        self.source_storage = None if compiling else self.image.untyped_storage().data_ptr()

    def owned(self) -> bool:
        """Whether the current image is the engine's own tensor (so ops may write into it)."""
        if self.source_storage is None:
            return False
        return self.image.untyped_storage().data_ptr() != self.source_storage

    def ensure_working(self) -> None:
        if not self.working:
            if self.image.dtype == torch.uint8:
                # Born where the batch goes next (shared memory in a DataLoader worker): ops after this
                # one mostly write in place, so the output needs no copy to cross to the main process.
                self.image = working_batch(tuple(self.image.shape), torch.float32, self.image.device).copy_(self.image)
                self.scale = 255.0
            else:
                self.image = to_working(self.image)
            self.working = True

    def ensure_unit(self) -> None:
        """Working form with values in [0, 1] (one in-place pass if a scale is pending)."""
        self.ensure_working()
        if self.scale != 1.0:
            self.image = self.image.mul_(1.0 / self.scale)  # the working tensor is always our own
            self.scale = 1.0

    def finish(self) -> Tensor:
        """The image in the dtype to deliver."""
        if not self.working:
            return self.image if self.image.dtype == self.out_dtype else self.image.to(self.out_dtype)
        if self.out_dtype == torch.uint8 and self.scale == 255.0:
            return self.image.round_().clamp_(0, 255).to(torch.uint8)
        if self.out_dtype != torch.uint8 and self.scale != 1.0:
            self.image = self.image.mul_(1.0 / self.scale)
        elif self.scale != 1.0:
            self.ensure_unit()
        return from_working(self.image, self.out_dtype)


def stage_matrix(
    stage: GeometricStage, params: Sequence[Params], size: tuple[int, int], b: int, device: torch.device | str
) -> tuple[Tensor, Tensor, list, list, tuple[int, int]]:
    """A geometric stage's composed matrix for an input of ``size``.

    Returns:
        ``(total, inverse, frames, prefixes, out_size)``: input -> output ``(B, 3, 3)``, its inverse,
        the intermediate frames a chain would clip to as ``(output -> frame matrix, (H, W))``, the same
        frames as ``(input -> frame matrix, (H, W))`` (for targets), and the output ``(H, W)``.
    """
    total = matrices.identity(b, device)
    prefixes = []
    for k, (t, p) in enumerate(zip(stage.transforms, params)):
        if k > 0 and _needs_frame(stage.transforms[:k], t):
            prefixes.append((total, size))  # input -> frame k-1; frame coords of an output point = P @ inverse
        total = t.matrix(p, size).to(device) @ total
        size = t.output_size(size)
    inverse = matrices.invert(total)
    return total, inverse, [(p_prev @ inverse, fsize) for p_prev, fsize in prefixes], prefixes, size


def _stage_sizes(stage: GeometricStage, size: tuple[int, int]) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """The ``(H, W)`` of the frames :func:`stage_matrix` records, and the stage's output size (host only)."""
    frame_sizes = []
    for k, t in enumerate(stage.transforms):
        if k > 0 and _needs_frame(stage.transforms[:k], t):
            frame_sizes.append(size)
        size = t.output_size(size)
    return frame_sizes, size


def _params_device(params: Any) -> torch.device:
    """The device of the first tensor in (nested) params; the CPU when they hold none."""
    if isinstance(params, Tensor):
        return params.device
    values = params.values() if isinstance(params, dict) else params if isinstance(params, (list, tuple)) else ()
    for v in values:
        dev = _params_device(v)
        if dev.type != "cpu":
            return dev
    return torch.device("cpu")


def prepare(stages: Sequence[Stage], params: Sequence[Params], shape: Shape) -> list[Any]:
    """The parameter-sized half of a call, done where the params live (the host, when freshly drawn).

    Per stage: a geometric stage's composed matrix, its inverse, its resampling grid's matrix and its
    frames (``{"total", "inverse", "grid", "frames", "prefixes"}``, each ``(B, 3, 3)``); a pixel
    stage's params per transform as :meth:`Transform.prepare` completes them (colour matrices, blur
    kernels). Everything is a
    ``(B, ...)`` tensor, so the result moves to the batch's device with the params in one copy and
    slices per sample like them; executing it then runs only pixel work on the device.
    """
    b, c, h, w = shape
    size = (h, w)
    out: list[Any] = []
    for stage in stages:
        stage_params = [params[i] for i in stage.indices]
        if isinstance(stage, GeometricStage):
            in_size = size
            total, inverse, frames, prefixes, size = stage_matrix(
                stage, stage_params, size, b, _params_device(stage_params)
            )
            out.append(
                {
                    "total": total,
                    "inverse": inverse,
                    # the resampling grid's (B, 3, 3) (ops.warp); integer stages gather without a grid
                    "grid": None if stage.integer else grid_matrix(inverse, in_size),
                    "frames": [m for m, _ in frames],
                    "prefixes": [m for m, _ in prefixes],
                }
            )
        else:
            done = []
            for t, p in zip(stage.transforms, stage_params):
                done.append(t.prepare(p, (b, c, *size)))
                size = t.output_size(size)
            out.append(done)
    return out


def _run_geometric(
    stage: GeometricStage, state: _State, prepared: dict[str, Any], container, following: Any = None
) -> bool:
    """Runs a geometric stage; True when a CPU kernel also ran ``following`` (the next stage, as
    ``(pixel stage, its prepared params, whether it is the last stage)``) in the same pass."""
    image = state.image
    frame_sizes, size = _stage_sizes(stage, tuple(image.shape[-2:]))
    total, inverse = prepared["total"], prepared["inverse"]
    frames = list(zip(prepared["frames"], frame_sizes))
    prefixes = list(zip(prepared["prefixes"], frame_sizes))
    projective = any(t.projective for t in stage.transforms)
    if state.targets is not None:
        # Same matrix for every target; masks take nearest through the same inverse (the exact gather
        # on integer stages), padded like the image but with the mask fill.
        mask_padding = stage.padding_mode if any(t.may_sample_outside for t in stage.transforms) else "edge"
        state.targets.move(total, inverse, size, mask_padding, frames, stage.integer, projective, prefixes)
    fill = stage.fill
    check_fill(fill, image.shape[1], "/".join(type(t).__name__ for t in stage.transforms))
    if cpu_kernels.run_geometric(stage, state, total, frames, size):
        return False
    if _run_resized_crop(stage, state, total, frames, size):
        return False
    # A stage that never maps outside its input (resize, resized crop) still has bilinear weights
    # reaching half a pixel past the edge when it upsamples: repeat the edge pixel there, as
    # F.interpolate and torchvision's resize do, instead of blending in zeros.
    padding_mode = stage.padding_mode if any(t.may_sample_outside for t in stage.transforms) else "edge"
    if not stage.integer and not frames and not projective:
        ran = cpu_kernels.run_warp(stage, state, inverse, size, padding_mode, following)
        if ran:
            return ran == 2
    if stage.integer:
        if state.working and state.source_dtype == torch.uint8 and state.scale == 1.0:
            fill = _scale_fill(fill, 1.0 / 255.0)
        state.image = warp_integer(
            image,
            inverse,
            size,
            stage.padding_mode,
            fill,
            frames,
            may_sample_outside=any(t.may_sample_outside for t in stage.transforms),
        )
        return False
    state.ensure_working()  # warps are linear: a pending scale passes through, fills follow it
    source_max = 255.0 if state.source_dtype == torch.uint8 else 1.0
    if state.scale != source_max:
        fill = _scale_fill(fill, state.scale / source_max)
    state.image = warp(
        state.image,
        inverse,
        size,
        stage.interpolation,
        padding_mode,
        fill,
        frames,
        projective=projective,
        matrix=prepared.get("grid"),
    )
    return False


def _run_resized_crop(stage: GeometricStage, state: _State, total: Tensor, frames: list, size: tuple[int, int]) -> bool:
    """Runs an axis-aligned stage as crop-then-resize in the image's own dtype (``ops.resize``).

    Used when every sample's output is an integer box of its input: on the CPU for any stage of crops,
    resizes and flips; on other devices only for deterministic stages (Resize, CenterCrop), whose box
    is known on the host without reading the device. Returns False when the generic warp must run.
    """
    if not stage.transforms or not all(t.axis_aligned for t in stage.transforms):
        return False
    if stage.interpolation not in RESIZE_INTERPOLATIONS and not stage.integer:
        return False
    image = state.image
    in_size = tuple(image.shape[-2:])
    if fusable():  # compiled: the boxes' taps are computed from the matrix in the graph (no host read)
        if frames or stage.interpolation != "bilinear" or stage.integer:
            return False
        antialias = any(t.antialias for t in stage.transforms)
        state.image = resized_crop_fusable(image, matrices.invert(total), size, antialias)
        return True
    if image.device.type != "cpu":
        if any(t.randomized for t in stage.transforms):
            return False
        total, frames = _host_total(stage, image.shape[0], image.shape[1], in_size)
    plan_ = axis_aligned_boxes(total, size, in_size, frames)
    if plan_ is None:
        return False
    boxes, hflip, vflip = plan_
    antialias = any(t.antialias for t in stage.transforms)
    interpolation = "bilinear" if stage.integer else stage.interpolation  # integer stages never resize
    state.image = resized_crop(image, boxes, size, interpolation, antialias, hflip, vflip)
    return True


def _host_total(stage: GeometricStage, b: int, c: int, size: tuple[int, int]) -> tuple[Tensor, list]:
    """A deterministic stage's matrix and frames computed on the host from the shapes alone."""
    params, shape = [], size
    for t in stage.transforms:
        params.append(t.sample_params((b, c, *shape)))
        shape = t.output_size(shape)
    total, _, frames, _, _ = stage_matrix(stage, params, size, b, "cpu")
    return total, frames


def _scale_fill(fill: Any, factor: float) -> Any:
    if isinstance(fill, (list, tuple)):
        return [float(v) * factor for v in fill]
    return float(fill) * factor


def _policy_warp(t: Transform) -> Transform | None:
    """The geometric half of a RandAugment-style policy (its ops' matrices), if it has geometric ops."""
    policy = t._policy
    if policy is None or not any(o in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate") for o in policy.ops):
        return None
    return t._warp


def _hidden_geometry(t: Transform) -> bool:
    """Whether a pixel-kind container (a mixed RandomApply/Choice/Order) moves pixels that the engine
    cannot follow; policies can be followed (:func:`_policy_warp`)."""
    if t._policy is not None:
        return False
    return any(s.kind == "geometric" or _hidden_geometry(s) for s in t.sub_transforms())


def _run_pixel(stage: PixelStage, state: _State, params: Sequence[Params], last: bool = False) -> None:
    if state.targets is not None:
        for t in stage.transforms:
            if _hidden_geometry(t):
                raise NotImplementedError(
                    f"{type(t).__name__} mixes geometric and pixel ops, so it cannot move the boxes/mask/keypoints "
                    "of this batch; use geometric-only containers, or a policy without geometric ops "
                    "(ops=[...] or invariances=...)"
                )
    if cpu_kernels.run_pixel(stage, state, params, last):
        return
    skip_next = False
    for k, (t, p) in enumerate(zip(stage.transforms, params)):
        if skip_next:
            skip_next = False
            continue
        if state.targets is not None:
            size = tuple(state.image.shape[-2:])
            if (warp_part := _policy_warp(t)) is not None:
                # a policy warps first, in one resampling: the targets take the same per-sample matrix
                m = warp_part.matrix(p, size).to(state.image.device)
                state.targets.move(m, matrices.invert(m), size, "constant", (), False, False)
        nxt = stage.transforms[k + 1] if k + 1 < len(stage.transforms) else None
        if t.accepts_tail and nxt is not None and nxt.normalizes and state.image.shape[1] == nxt.mean.numel():
            # Fold the Normalize that follows (and a pending scale) into this transform's passes.
            state.ensure_working()
            state.image = t.apply(state.image, p, tail=nxt.channel_affine(), input_scale=state.scale)
            state.scale = 1.0
            state.out_dtype = nxt.output_dtype(t.output_dtype(state.out_dtype))
            skip_next = True
            continue
        if t.accepts_tail:  # takes a pending scale too
            state.ensure_working()
            state.image = t.apply(state.image, p, input_scale=state.scale)
            state.scale = 1.0
        elif t.linear_in_value:
            state.ensure_working()
            state.image = t.apply(state.image, p)
        elif t.native:
            if t.normalizes and state.working:
                state.image = t.apply(state.image, p, input_scale=state.scale)
                state.scale = 1.0
            else:
                if state.working:
                    state.ensure_unit()
                state.image = t.apply(state.image, p)
            state.working = state.image.is_floating_point()
        elif t.writes_in_place:
            state.ensure_unit()
            state.image = t.apply(state.image, p, inplace=state.owned())
        else:
            state.ensure_unit()
            state.image = t.apply(state.image, p)
        state.out_dtype = t.output_dtype(state.out_dtype)


#: Working bytes per sample-chunk on CPU: big enough to amortise Python overhead, small enough that
#: temporaries stay in cache and below glibc's mmap threshold (see ``augloader._memory``).
CPU_CHUNK_BYTES = 8 * 1024 * 1024


def _execute_chunk(
    stages: Sequence[Stage], image: Tensor, prepared: Sequence[Any], container, targets: Targets | None = None
) -> _State:
    dtype = image.dtype
    state = _State(image, working=False, out_dtype=dtype, source_dtype=dtype, targets=targets)
    k, n = 0, len(stages)
    while k < n:
        stage, stage_prepared, last = stages[k], prepared[k], k == n - 1
        if isinstance(stage, GeometricStage):
            following = (stages[k + 1], prepared[k + 1], k + 1 == n - 1) if k + 1 < n else None
            k += 2 if _run_geometric(stage, state, stage_prepared, container, following) else 1
        else:
            _run_pixel(stage, state, stage_prepared, last)
            k += 1
    state.image = state.finish()
    return state


def parse_targets(view: BatchView, options: TargetOptions | None = None) -> Targets | None:
    """The batch's spatial targets in canonical form (``None`` for a bare tensor or no targets)."""
    if view.container is None:
        return None
    return Targets.parse(view.container, view.image, target_options(options), view.unbatched)


def box_targets(view: BatchView, options: TargetOptions | None = None) -> dict[str, Tensor] | None:
    """The batch's boxes for parameter draws that need them: xyxy pixels ``(B, N, 4)`` and ``(B, N)`` valid."""
    if view.container is None or view.container.get("boxes") is None:
        return None
    t = Targets.parse(
        {"boxes": view.container["boxes"], "boxes_valid": view.container.get("boxes_valid")},
        view.image,
        target_options(options),
        view.unbatched,
    )
    return {"boxes": t.boxes, "boxes_valid": t.valid}


def execute(
    stages: Sequence[Stage],
    view: BatchView,
    params: Sequence[Params],
    options: TargetOptions | None = None,
    prepared: Sequence[Any] | None = None,
) -> Batch:
    """Runs ``stages`` over the batch; ``params`` holds one dict per transform, in pipeline order.

    ``prepared`` is :func:`prepare`'s result for these params, already on the batch's device (one copy
    with the params, see ``Transform.forward``); without it the preparation runs here, where the params
    live, and moves to the batch's device in one copy.

    On CPU the batch runs in chunks of samples (every op is per sample, so the result is the same):
    the temporaries of a chunk stay in cache and are reused by the allocator instead of page-faulting.
    Spatial targets (boxes, masks, keypoints; ``options`` says how to read and filter them) are
    sliced per chunk, moved by every geometric stage and concatenated again.
    """
    tune_malloc()
    image = view.image
    if prepared is None:
        prepared = params_to(prepare(stages, params, tuple(image.shape)), image.device)
    moves = any(
        isinstance(s, GeometricStage) or any(_hidden_geometry(t) or _policy_warp(t) is not None for t in s.transforms)
        for s in stages
    )
    targets = parse_targets(view, options) if moves else None  # pixel-only pipelines leave targets alone
    b = image.shape[0]
    per_sample = max(math.prod(image.shape[1:]), 1) * 4
    chunk = max(1, CPU_CHUNK_BYTES // per_sample)
    # Transforms that pair samples across the batch (cross_sample) must see the whole batch; policies
    # (whole_batch) gather the samples of each op, which pays a fixed cost per call, so they see it too.
    cross = any(t.cross_sample or t.whole_batch for st in stages for t in st.transforms)
    # A compiled graph takes the whole batch (a chunk loop would pin the batch size into the graph).
    whole = cross or torch.compiler.is_compiling() or cpu_kernels.covers(stages, image)
    if image.device.type != "cpu" or b <= chunk or whole:
        state = _execute_chunk(stages, image, prepared, view.container, targets)
        out = state.image
        moved = [state.targets] if targets is not None else []
    else:
        out = None
        moved = []
        for start in range(0, b, chunk):
            part = slice(start, min(start + chunk, b))
            state = _execute_chunk(
                stages,
                image[part],
                slice_params(prepared, part),
                view.container,
                targets.slice(part) if targets is not None else None,
            )
            if out is None:
                out = new_batch((b, *state.image.shape[1:]), state.image.dtype)
            out[part] = state.image
            if targets is not None:
                moved.append(state.targets)
    if out is view.image:
        out = out.clone()  # never hand back the caller's tensor: outputs may be written to
    updates = dict(state.updates)
    if moved:
        updates.update(Targets.cat(moved).export())
    return view.rebuild(out, **updates)
