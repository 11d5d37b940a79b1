"""How per-sample policies run (RandAugment, TrivialAugmentWide, timm's RandAugment).

A policy's params hold, per sample and step, the index of the op it drew (``op``, -1 where the step
was skipped), and what its *space* needs to compute each op's argument (magnitude bins and signs for
torchvision's tables, levels and signs for timm's). Each op runs only on the samples that drew it
(gather, op, scatter); the samples fall in groups by what they drew:

- one geometric op: resampled once, in the image's own dtype;
- one photometric op: uint8 point ops in integer arithmetic (``ops.color_fast``), the others on a
  float copy of the subset;
- several ops: converted to float once, the geometric picks of all steps composed into one matrix
  and resampled once, then the photometric ops step by step, converted back once (the float values
  a whole-batch pass would give);
- nothing: untouched, not even converted.

The groups' results are concatenated and put back in batch order with one gather. Which samples
drew what is read from the host copy of ``op`` (see ``_subsets``): no step reads the device.
(torchvision applies the ops in the drawn order, resampling per geometric op; here the geometry
goes first, see ``policies``.)
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Protocol, Sequence

import torch
from torch import Tensor

from .._batch import BatchView, from_working, to_working
from .._const import const
from ..ops import color as C
from ..ops import color_fast as CF
from ..ops import matrices
from ..ops.sharpen import sharpen
from . import _subsets as S
from .base import Params, Transform
from .stages import execute, plan, prepare

GEOMETRIC_OPS = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
ENHANCE_OPS = ("Brightness", "Color", "Contrast", "Sharpness")


class Space(Protocol):
    """Computes the argument of op ``j`` (named ``name``) at ``step`` for every sample of ``params``."""

    def argument(self, j: int, name: str, params: Params, step: int, size: tuple[int, int]) -> Tensor: ...


def _linear(image: Tensor, matrix_offset: tuple[Tensor, Tensor]) -> Tensor:
    return C.color_affine(image, *matrix_offset)


def _color(image: Tensor, factor: Tensor) -> Tensor:
    return _linear(image, C.saturation_matrix(factor, 3)) if image.shape[1] == 3 else image


def _contrast(image: Tensor, factor: Tensor) -> Tensor:
    return _linear(image, C.contrast_matrix(factor, C.mean_gray(image).float(), image.shape[1]))


#: Photometric ops on a float ``(N, C, H, W)`` subset in ``[0, 1]`` with a ``(N,)`` argument each:
#: enhance factors (1 = unchanged), kept bits, a threshold or an addition on the ``[0, 1]`` scale.
#: (``ops.color_fast`` versions where they exist: equal to ``ops.color``'s, without ``torch.where``.)
PHOTOMETRIC_OPS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "Brightness": lambda x, f: _linear(x, C.brightness_matrix(f, x.shape[1])),
    "Color": _color,
    "Contrast": _contrast,
    "Sharpness": sharpen,
    "Posterize": CF.posterize,
    "Solarize": CF.solarize,
    "SolarizeAdd": CF.solarize_add,
    "AutoContrast": CF.autocontrast,
    "Equalize": CF.equalize,
    "Invert": lambda x, _: C.invert(x),
}

#: The same ops straight on uint8 samples, bit-exact to the float op plus rounding (``ops.color_fast``).
UINT8_OPS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "Posterize": CF.posterize_u8,
    "Solarize": CF.solarize_u8,
    "SolarizeAdd": CF.solarize_add_u8,
    "Equalize": CF.equalize_u8,
    "Invert": CF.invert_u8,
}


def _geometric_matrix(name: str, arg: Tensor, centre: Tensor) -> Tensor:
    """The matrix of one geometric op: shear as PIL's factor, shift in pixels, degrees counter-clockwise."""
    zeros = torch.zeros_like(arg)
    if name in ("ShearX", "ShearY"):
        m = matrices.identity(arg.shape[0], arg.device)
        # shear about the top-left corner: PIL's (1, f, 0, 0, 1, 0) reads x + f * y, so x' = x - f * y
        if name == "ShearX":
            m[:, 0, 1] = -arg
        else:
            m[:, 1, 0] = -arg
        return m
    if name == "TranslateX":
        return matrices.translation(arg, zeros)
    if name == "TranslateY":
        return matrices.translation(zeros, arg)
    return matrices.rotation(arg, centre)


class PolicyRunner:
    """Executes a policy's params: one warp for the geometric picks, then per-subset photometric ops.

    Args:
        ops: op names indexed by ``params["op"]`` (names of :data:`GEOMETRIC_OPS`,
            :data:`PHOTOMETRIC_OPS` or ``"Identity"``).
        space: computes each op's argument from the params.
        interpolation, fill: of the warp (fill on the ``[0, 1]`` scale).
    """

    def __init__(self, ops: Sequence[str], space: Space, interpolation: str, fill: Any) -> None:
        self.ops, self.space = tuple(ops), space
        self.interpolation, self.fill = interpolation, fill

    def matrix(self, params: Params, size: tuple[int, int]) -> Tensor:
        """Per-sample product of the geometric picks of all steps (identity for the other samples).

        Only the ops some sample drew are built (read from the host copy of ``op``).

        Shape:
            ``params["op"]: (B, steps)`` -> ``(B, 3, 3)``.
        """
        op = params["op"]
        b, steps = op.shape
        if torch.compiler.is_compiling():
            return self._matrix_every_op(params, size)
        host = S.host_choice(params, "op")
        total = None
        for k in range(steps):
            drawn = torch.bincount(host[:, k] + 1, minlength=len(self.ops) + 1)[1:].tolist()
            present = [j for j, name in enumerate(self.ops) if drawn[j] and name in GEOMETRIC_OPS]
            step = None
            for j in present:
                name = self.ops[j]
                arg = self.space.argument(j, name, params, k, size).to(torch.float32)
                m = _geometric_matrix(name, arg, const([size[1] / 2.0, size[0] / 2.0], op.device).expand(b, 2))
                if drawn[j] == b:
                    step = m  # every sample drew it
                else:
                    other = matrices.identity(b, op.device) if step is None else step
                    step = torch.where((op[:, k] == j).view(-1, 1, 1), m, other)
            if step is not None:
                total = step if total is None else step @ total
        return matrices.identity(b, op.device) if total is None else total

    def _matrix_every_op(self, params: Params, size: tuple[int, int]) -> Tensor:
        """:meth:`matrix` without reading which ops were drawn: every geometric op's matrix is built and
        selected per sample (fixed shapes, what a compiled graph needs)."""
        op = params["op"]
        b, steps = op.shape
        centre = const([size[1] / 2.0, size[0] / 2.0], op.device).expand(b, 2)
        total = matrices.identity(b, op.device)
        for k in range(steps):
            step = matrices.identity(b, op.device)
            for j, name in enumerate(self.ops):
                if name in GEOMETRIC_OPS:
                    arg = self.space.argument(j, name, params, k, size).to(torch.float32)
                    step = torch.where((op[:, k] == j).view(-1, 1, 1), _geometric_matrix(name, arg, centre), step)
            total = step @ total
        return total

    def run_whole_batch(self, image: Tensor, params: Params, warp: Transform) -> Tensor:
        """The policy with fixed shapes: every op on the whole batch, kept where a sample drew it.

        What a compiled graph runs (subsets have data-dependent sizes; inductor fuses the point ops
        instead). The float working form throughout: within one 8-bit level of :meth:`run` on uint8
        (which resamples and runs point ops in uint8 for single-op samples), equal on float input.

        Shape:
            ``(B, C, H, W)`` -> ``(B, C, H, W)``.
        """
        op = params["op"]
        size = tuple(image.shape[-2:])
        work = to_working(image)
        geometric = [j for j, name in enumerate(self.ops) if name in GEOMETRIC_OPS]
        if geometric:
            warped = _warp_runner(warp, torch.float32)(work, params)
            drew = torch.stack([op == j for j in geometric]).any(dim=0).any(dim=1)  # (B,): drew a geometric op
            work = torch.where(drew.view(-1, 1, 1, 1), warped, work)  # the others exactly as they were
        for k in range(op.shape[1]):
            for j, name in enumerate(self.ops):
                if name in PHOTOMETRIC_OPS:
                    picked = (op[:, k] == j).view(-1, 1, 1, 1)
                    work = torch.where(picked, self._photometric(j, k, work, params, None, size), work)
        return from_working(work, image.dtype)

    def prepare(self, params: Params, shape: tuple[int, int, int, int], warp: Transform) -> Params:
        """Adds the parameter-sized half of :meth:`run`, computed where the params live (the host):
        ``op_args (B, steps, n_ops)``, each photometric op's argument per sample and step (zero where
        no sample drew it), and ``warp_stage``, the geometric picks' prepared resampling stage
        (``stages.prepare``) when some sample drew a geometric op."""
        op = params["op"]
        b, steps = op.shape
        size = (shape[2], shape[3])
        if torch.compiler.is_compiling():  # no host read in a graph: every op counts as drawn
            drawn = set(range(len(self.ops)))
        else:
            drawn = set(S.host_choice(params, "op").flatten().tolist())
        args = torch.zeros(b, steps, len(self.ops), device=op.device)
        for j, name in enumerate(self.ops):
            if j in drawn and name in PHOTOMETRIC_OPS:
                for k in range(steps):
                    args[:, k, j] = self.space.argument(j, name, params, k, size).to(torch.float32)
        out = {**params, "op_args": args}
        if any(self.ops[j] in GEOMETRIC_OPS for j in drawn if j >= 0):
            out["warp_stage"] = prepare(plan([warp]), [params], shape)[0]
        return out

    def _kinds(self) -> Tensor:
        """0 for no op (skipped, Identity), 1 geometric, 2 photometric; indexed by ``op + 1``."""
        kinds = [0] + [1 if n in GEOMETRIC_OPS else 2 if n in PHOTOMETRIC_OPS else 0 for n in self.ops]
        return torch.tensor(kinds, dtype=torch.int64)

    def run(self, image: Tensor, params: Params, warp: Transform) -> Tensor:
        """The policy on ``image`` (any supported dtype, or float in ``[0, 1]``); same dtype out.

        Groups of samples as in the module docstring, each on its own subset.

        Shape:
            ``(B, C, H, W)`` -> ``(B, C, H, W)``.
        """
        if torch.compiler.is_compiling():
            return self.run_whole_batch(image, params, warp)
        op = S.host_choice(params, "op")  # (B, steps) on the host
        kind = self._kinds()[op + 1]  # (B, steps)
        count = (kind != 0).sum(dim=1)
        if not bool((count > 0).any()):
            return image  # nobody drew an op: not even a float round trip
        plan_ = _Plan(op, kind, count, len(self.ops), [n in PHOTOMETRIC_OPS for n in self.ops])
        dev = iter(S.to_device(plan_.host, image.device))  # one copy for every index of this call
        inverse = next(dev)
        parts = []  # each group's result in the image's dtype, in _Plan's group order
        size = tuple(image.shape[-2:])
        single_warp, float_warp = _warp_runner(warp, image.dtype), _warp_runner(warp, torch.float32)
        if plan_.single_geo.numel():  # one resampling, in the image's own dtype
            parts.append(single_warp(*_gather(image, params, next(dev), plan_.single_geo)))
        for k, j, members in plan_.single_photo:
            index = next(dev)
            whole = members.numel() == image.shape[0]
            sub = image if whole else image.index_select(0, index)
            parts.append(
                S.from_working_fast(self._photometric(j, k, sub, params, None if whole else index, size), image.dtype)
            )
        if plan_.multi.numel():
            index = next(dev)
            whole = plan_.multi.numel() == image.shape[0]
            p = params if whole else S.take(params, index, plan_.multi)
            work = S.working_subset(image, index, whole)  # (M, C, H, W) float, ours
            if plan_.multi_geo.numel():
                index = next(dev)
                if plan_.multi_geo.numel() == work.shape[0]:
                    work = float_warp(work, p)
                else:
                    work.index_copy_(
                        0, index, float_warp(work.index_select(0, index), S.take(p, index, plan_.multi_geo))
                    )
            for k, j, members in plan_.multi_photo:
                index = next(dev)
                if members.numel() == work.shape[0]:
                    work = self._photometric(j, k, work, p, None, size)
                else:
                    work.index_copy_(0, index, self._photometric(j, k, work.index_select(0, index), p, index, size))
            parts.append(S.from_working_fast(work, image.dtype))
        if plan_.untouched.numel():
            parts.append(image.index_select(0, next(dev)))
        return S.assemble(parts, inverse)

    def _photometric(
        self, j: int, k: int, image: Tensor, params: Params, index: Optional[Tensor], size: tuple[int, int]
    ) -> Tensor:
        """Op ``j`` of step ``k`` on ``image``, the samples ``index`` of ``params`` (None: all of them).

        uint8 point ops run straight on uint8, the others on the float working form.
        """
        name = self.ops[j]
        if "op_args" in params:  # prepared (see prepare)
            arg = params["op_args"][:, k, j]
        else:
            arg = self.space.argument(j, name, params, k, size)  # (B,) of params: cheaper than taking params
        arg = arg if index is None else arg.index_select(0, index)
        if image.dtype == torch.uint8 and name in UINT8_OPS:
            return UINT8_OPS[name](image, arg)
        return PHOTOMETRIC_OPS[name](to_working(image), arg)


class _Plan:
    """Which samples run what, on the host: index tensors in the order ``PolicyRunner.run`` uses them.

    The samples fall in groups (one geometric op; one photometric op, per step and op; several
    ops; no op) whose results are concatenated and put back in batch order by ``host[0]``.
    """

    def __init__(self, op: Tensor, kind: Tensor, count: Tensor, n_ops: int, photometric: Sequence[bool]) -> None:
        b, steps = op.shape
        geo = (kind == 1).any(dim=1)
        single, multi = count == 1, count > 1
        self.single_geo = (single & geo).nonzero().flatten()
        self.multi = multi.nonzero().flatten()
        self.untouched = (count == 0).nonzero().flatten()
        pos = torch.full((b,), -1, dtype=torch.int64)
        pos[self.multi] = torch.arange(self.multi.numel())  # sample -> row of the multi-op subset
        self.multi_geo = pos[(multi & geo).nonzero().flatten()]
        self.single_photo, self.multi_photo = [], []  # (step, op, indices)
        for k in range(steps):
            real = kind[:, k] == 2
            for j, members in enumerate(S.groups(torch.where(real & single, op[:, k], -1), n_ops)):
                if members.numel() and photometric[j]:
                    self.single_photo.append((k, j, members))
            for j, members in enumerate(S.groups(torch.where(real & multi, op[:, k], -1), n_ops)):
                if members.numel() and photometric[j]:
                    self.multi_photo.append((k, j, pos[members]))
        singles = [self.single_geo] + [m for _, _, m in self.single_photo]
        groups = [g for g in (*singles, self.multi, self.untouched) if g.numel()]
        self.host = [S.inverse_order(groups, b)] + [g for g in singles if g.numel()]
        if self.multi.numel():
            self.host += [self.multi] + ([self.multi_geo] if self.multi_geo.numel() else [])
            self.host += [m for _, _, m in self.multi_photo]
        if self.untouched.numel():
            self.host.append(self.untouched)


def _warp_runner(warp: Transform, dtype: torch.dtype) -> Callable[[Tensor, Params], Tensor]:
    """Runs the policy's warp stage on a batch of ``dtype``: uint8 directly (its fill scaled to 0..255,
    the scale the stage reads fills on), float in ``[0, 1]`` as it is."""
    stages = plan([warp])
    if dtype == torch.uint8:
        fill = stages[0].fill
        stages[0].fill = [255.0 * v for v in fill] if isinstance(fill, (list, tuple)) else 255.0 * fill
    return lambda x, q: execute(stages, BatchView(x, False, None), [q], prepared=_warp_prepared(q))


def _warp_prepared(params: Params) -> Optional[list]:
    """The warp stage :meth:`PolicyRunner.prepare` computed, for the samples these params hold."""
    stage = params.get("warp_stage")
    return None if stage is None else [stage]


def _gather(image: Tensor, params: Params, index: Tensor, host_index: Tensor) -> tuple[Tensor, Params]:
    """The samples ``index`` of ``image`` and their params (no copy when that is every sample)."""
    if host_index.numel() == image.shape[0]:
        return image, params
    return image.index_select(0, index), S.take(params, index, host_index)


class PolicyWarp(Transform):
    """The geometric half of a policy as a transform, so the stage engine resamples it (and moves targets)."""

    kind = "geometric"
    may_sample_outside = True

    def __init__(self, policy: PolicyRunner) -> None:
        super().__init__()
        self.policy = policy
        self.interpolation = policy.interpolation
        self.padding_mode = "constant"
        self.fill = policy.fill

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        return self.policy.matrix(params, in_size)
