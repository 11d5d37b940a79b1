"""Composition: Compose (where fusion happens), RandomApply, RandomChoice, RandomOrder.

The random containers choose *per sample*. When every candidate is geometric they stay geometric:
the choice is made between matrices, so they fuse with their neighbours into one resampling.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import torch
from torch import Tensor, nn

from .. import _random as R
from .._batch import BatchView, to_working
from ..ops import matrices
from ..targets import boxes as Bx
from ..targets.options import TargetOptions, target_options
from . import _args
from . import _subsets as S
from . import invariances as Inv
from .base import Params, Shape, Transform
from .stages import Stage, execute, plan


def _check_transforms(transforms: Sequence[Transform], owner: str) -> list[Transform]:
    return _args.transform_list(transforms, owner, Transform, "an augloader Transform")


def _flatten(transforms: Sequence[Transform]) -> list[Transform]:
    out: list[Transform] = []
    for t in transforms:
        out.extend(_flatten(t.transforms) if isinstance(t, Compose) else [t])
    return out


def _next_shape(shape: Shape, t: Transform) -> Shape:
    return (shape[0], shape[1], *t.output_size((shape[2], shape[3])))


def _draw_all(
    transforms: Sequence[Transform],
    shape: Shape,
    generator: Optional[torch.Generator],
    chain: bool,
    targets: Optional[dict] = None,
) -> Params:
    """Params of every transform, keyed by position; ``chain`` feeds each the previous output shape.

    ``targets`` (boxes, see ``Transform.needs_targets``) reach the transforms that need them, moved
    through the matrices drawn before them when ``chain``.
    """
    params = {}
    last = max((i for i, t in enumerate(transforms) if t.needs_targets), default=-1)
    for i, t in enumerate(transforms):
        if t.needs_targets:
            params[str(i)] = t.sample_params(shape, generator, targets=targets)
        else:
            params[str(i)] = t.sample_params(shape, generator)
        if chain and targets is not None and i < last and t.kind == "geometric":
            out_size = t.output_size((shape[2], shape[3]))
            m = t.matrix(params[str(i)], (shape[2], shape[3]))
            moved, valid = Bx.move(
                targets["boxes"],
                targets["boxes_valid"],
                m.to(targets["boxes"].device),
                out_size,
                projective=t.projective,
            )
            targets = {"boxes": moved, "boxes_valid": valid}
        if chain:
            shape = _next_shape(shape, t)
    return params


class Compose(Transform):
    """Runs transforms in order, fusing runs of geometric ones into one resampling and runs of pixel
    ones into one float pass. ``print(pipeline)`` shows the fused stages.

    Params are a dict keyed by the position of each transform (``"0"``, ``"1"``, ...).

    Args:
        transforms: the pipeline, in order (nested Compose lists are flattened).
        invariances: what the labels allow, e.g. ``{"max_rotation": 30, "vertical_flip": False}``
            (also ``horizontal_flip``, ``max_shear``, ``perspective``). A transform that breaks one is
            rejected here, naming it; RandAugment/TrivialAugmentWide drop the offending ops instead.
        targets: how boxes, masks and keypoints of dict batches are read and filtered: a dict or
            :class:`augloader.targets.TargetOptions` (``boxes_format``, ``normalized``,
            ``min_visibility``, ``min_area``, ``box_mode``, ``mask_fill``, ``flip_pairs``).
    """

    def __init__(
        self,
        transforms: Sequence[Transform],
        invariances: Optional[Mapping[str, Any]] = None,
        targets: Optional[Mapping[str, Any] | TargetOptions] = None,
    ) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(_flatten(_check_transforms(transforms, "Compose")))
        self.invariances = Inv.check(list(self.transforms), invariances)
        self.target_options = target_options(targets)
        self._planned: tuple[tuple[int, ...], list[Stage]] = ((), [])
        _ = self.stages  # plan now: a bad order raises here

    # Derived from ``transforms``, so editing the list (append, insert, replace) never leaves a stale plan.
    @property
    def stages(self) -> list[Stage]:
        """The fused stages of the current ``transforms``, re-planned when the list changed."""
        key = tuple(id(t) for t in self.transforms)
        if key != self._planned[0]:
            if any(isinstance(t, Compose) for t in self.transforms):  # an appended Compose: flatten it
                self.transforms = nn.ModuleList(_flatten(_check_transforms(self.transforms, "Compose")))
                key = tuple(id(t) for t in self.transforms)
            if self.invariances:
                Inv.check(list(self.transforms), self.invariances)
            self._planned = (key, plan(list(self.transforms)))
        return self._planned[1]

    @property
    def randomized(self) -> bool:  # type: ignore[override]
        """Whether any transform of the pipeline draws random values."""
        return any(t.randomized for t in self.transforms)

    @property
    def needs_targets(self) -> bool:  # type: ignore[override]
        """Whether any transform of the pipeline draws from the batch's boxes."""
        return any(t.needs_targets for t in self.transforms)

    def sample_params(
        self, shape: Shape, generator: Optional[torch.Generator] = None, targets: Optional[dict] = None
    ) -> Params:
        _ = self.stages  # an edited list is flattened and checked before drawing (params follow positions)
        return _draw_all(self.transforms, shape, generator, chain=True, targets=targets)

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        for t in self.transforms:
            in_size = t.output_size(in_size)
        return in_size

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        for t in self.transforms:
            dtype = t.output_dtype(dtype)
        return dtype

    def _stages(self, params: Params) -> tuple[list, list[Params]]:
        return self.stages, [params[str(i)] for i in range(len(self.transforms))]

    def _run(self, view: BatchView, params: Params, prepared: Optional[list] = None):
        stages, param_list = self._stages(params)
        return execute(stages, view, param_list, self.target_options, prepared)

    def __repr__(self) -> str:
        lines = [f"  {i}: {t!r}" for i, t in enumerate(self.transforms)]
        stages = [f"  stage {i}: {s.describe()}" for i, s in enumerate(self.stages)]
        return "Compose(\n" + "\n".join(lines) + "\n fused:\n" + "\n".join(stages) + "\n)"


def _run_sub(t: Transform, image: Tensor, params: Params) -> Tensor:
    """Runs one transform on a float working batch and returns the float result."""
    return execute(plan([t]), BatchView(image, False, None), [params])


def _run_list(
    transforms: Sequence[Transform], image: Tensor, index: Tensor, host_index: Tensor, params: Sequence[Params]
) -> Tensor:
    """Runs ``transforms`` in order on the samples ``index`` of ``image``; a float working result.

    ``params`` are the transforms' params for the whole batch; each is taken along with the samples.
    """
    whole = host_index.numel() == image.shape[0]
    out = to_working(image if whole else image.index_select(0, index))  # _run_sub never writes to its input
    for t, p in zip(transforms, params):
        out = _run_sub(t, out, p if whole else S.take(p, index, host_index))
    return out


def _inherit_flags(container: Transform, geometric: bool) -> None:
    """Gives a random container the engine flags of the transforms it holds."""
    ts = list(container.transforms)
    container.needs_unit_range = any(t.needs_unit_range for t in ts)
    # Pixel paths take the raw batch and convert only the samples they run on (see ``_subsets``).
    container.native = not geometric
    if geometric:
        container.may_sample_outside = any(t.may_sample_outside for t in ts)
        container.projective = any(t.projective for t in ts)
        container.integer_exact = all(t.integer_exact for t in ts)
        container.interpolation = next((t.interpolation for t in ts if t.interpolation), None)
        owner = next((t for t in ts if t.may_sample_outside), None)
        container.padding_mode = owner.padding_mode if owner is not None else None
        container.fill = owner.fill if owner is not None else None


class RandomApply(Transform):
    """Applies ``transforms`` (in order) to each sample with probability ``p``.

    Geometric-only lists stay geometric (skipped samples get the identity matrix). Otherwise the list
    runs on the samples that drew it only (gathered, converted to float, scattered back); the others
    keep their values untouched. The list must keep the image size.
    """

    whole_batch = True  # each op runs on the samples that drew it

    def __init__(self, transforms: Sequence[Transform], p: float = 0.5) -> None:
        super().__init__(p)
        self.transforms = nn.ModuleList(_check_transforms(transforms, "RandomApply"))
        geometric = all(t.kind == "geometric" for t in self.transforms)
        self.kind = "geometric" if geometric else "pixel"
        _inherit_flags(self, geometric)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        params = _draw_all(self.transforms, shape, generator, chain=True)
        params["on"] = R.bernoulli(shape[0], self.p, generator)
        return params if self.kind == "geometric" else S.add_host_copy(params, "on")

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        out = in_size
        for t in self.transforms:
            out = t.output_size(out)
        if out != in_size:
            raise ValueError(f"RandomApply needs transforms that keep the image size; {in_size} becomes {out}")
        return out

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        on = params["on"]
        total = matrices.identity(on.shape[0], on.device)
        size = in_size
        for i, t in enumerate(self.transforms):
            total = t.matrix(params[str(i)], size).to(on.device) @ total
            size = t.output_size(size)
        return torch.where(on.view(-1, 1, 1), total, matrices.identity(on.shape[0], on.device))

    def apply(self, image: Tensor, params: Params) -> Tensor:
        self.output_size(tuple(image.shape[-2:]))
        on = S.host_choice(params, "on")
        members, off = on.nonzero().flatten(), (~on).nonzero().flatten()
        if members.numel() == 0:
            return image
        groups = [g for g in (members, off) if g.numel()]
        inverse, index, *rest = S.to_device([S.inverse_order(groups, image.shape[0]), *groups], image.device)
        out = _run_list(self.transforms, image, index, members, [params[str(i)] for i in range(len(self.transforms))])
        parts = [S.from_working_fast(out, image.dtype)] + [image.index_select(0, r) for r in rest]
        return S.assemble(parts, inverse)


class RandomChoice(Transform):
    """Applies one of ``transforms`` per sample, chosen with probabilities ``p`` (uniform by default).

    All candidates geometric: one fused matrix per sample. Otherwise each candidate runs on the
    samples that chose it (gather, run, scatter); candidates must agree on the output size.
    """

    whole_batch = True  # each op runs on the samples that drew it

    def __init__(self, transforms: Sequence[Transform], p: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(_check_transforms(transforms, "RandomChoice"))
        n = len(self.transforms)
        if p is not None and (_args.is_number(p) or not hasattr(p, "__len__") or len(p) != n):
            raise ValueError(
                f"RandomChoice: p must have {n} non-negative weights with a positive sum, got {_args.show(p)}"
            )
        weights = torch.ones(n) if p is None else torch.tensor(_args.numbers_seq(p, "p"), dtype=torch.float64)
        if weights.numel() != n or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                f"RandomChoice: p must have {n} non-negative weights with a positive sum, got {_args.show(p)}"
            )
        self.weights = (weights / weights.sum()).tolist()
        geometric = all(t.kind == "geometric" for t in self.transforms)
        self.kind = "geometric" if geometric else "pixel"
        _inherit_flags(self, geometric)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        params = _draw_all(self.transforms, shape, generator, chain=False)
        dev = generator.device if generator is not None else "cpu"
        cumulative = torch.tensor(self.weights, device=dev).cumsum(0)
        u = torch.rand(shape[0], generator=generator, device=dev) * cumulative[-1]
        params["choice"] = torch.searchsorted(cumulative, u, right=True).clamp_(max=len(self.weights) - 1)
        return params if self.kind == "geometric" else S.add_host_copy(params, "choice")

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        sizes = {t.output_size(in_size) for t in self.transforms}
        if len(sizes) > 1:
            raise ValueError(f"RandomChoice candidates give different output sizes {sorted(sizes)} for input {in_size}")
        return sizes.pop()

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        choice = params["choice"]
        out = matrices.identity(choice.shape[0], choice.device)
        for i, t in enumerate(self.transforms):
            out = torch.where((choice == i).view(-1, 1, 1), t.matrix(params[str(i)], in_size).to(choice.device), out)
        return out

    def apply(self, image: Tensor, params: Params) -> Tensor:
        self.output_size(tuple(image.shape[-2:]))
        groups = S.groups(S.host_choice(params, "choice"), len(self.transforms))
        present = [i for i, members in enumerate(groups) if members.numel()]
        if not present:
            return image
        inverse, *indices = S.to_device(
            [S.inverse_order([groups[i] for i in present], image.shape[0])] + [groups[i] for i in present], image.device
        )
        parts = [
            S.from_working_fast(_run_list([self.transforms[i]], image, index, groups[i], [params[str(i)]]), image.dtype)
            for i, index in zip(present, indices)
        ]
        return S.assemble(parts, inverse)


class RandomOrder(Transform):
    """Applies every transform, in an order drawn per sample.

    Geometric-only lists compose their matrices in each sample's order (one resampling). Otherwise,
    at each position each transform runs on the samples whose order names it there.
    """

    def __init__(self, transforms: Sequence[Transform]) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(_check_transforms(transforms, "RandomOrder"))
        geometric = all(t.kind == "geometric" for t in self.transforms)
        self.kind = "geometric" if geometric else "pixel"
        _inherit_flags(self, geometric)

    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        params = _draw_all(self.transforms, shape, generator, chain=False)
        dev = generator.device if generator is not None else "cpu"
        params["order"] = torch.argsort(
            torch.rand(shape[0], len(self.transforms), generator=generator, device=dev), dim=1
        )
        return params if self.kind == "geometric" else S.add_host_copy(params, "order")

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        for t in self.transforms:
            if t.output_size(in_size) != in_size:
                raise ValueError(
                    f"RandomOrder needs transforms that keep the image size; {type(t).__name__} changes {in_size}"
                )
        return in_size

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        order = params["order"]
        b = order.shape[0]
        mats = [
            t.matrix(params[str(i)], in_size).to(order.device).expand(b, 3, 3) for i, t in enumerate(self.transforms)
        ]
        total = matrices.identity(b, order.device)
        for k in range(len(mats)):
            step = matrices.identity(b, order.device)
            for i, m in enumerate(mats):
                step = torch.where((order[:, k] == i).view(-1, 1, 1), m, step)
            total = step @ total
        return total

    def apply(self, image: Tensor, params: Params) -> Tensor:
        self.output_size(tuple(image.shape[-2:]))
        if image.shape[0] == 0:
            return image
        order = S.host_choice(params, "order")  # (B, n)
        n = len(self.transforms)
        steps = [[(i, m) for i, m in enumerate(S.groups(order[:, k], n)) if m.numel()] for k in range(n)]
        host = []
        for step in steps:  # per position: the permutation back to batch order, then each group
            host += [S.inverse_order([m for _, m in step], image.shape[0])] + [m for _, m in step]
        dev = iter(S.to_device(host, image.device))  # one copy
        work = to_working(image)
        for step in steps:
            inverse = next(dev)
            parts = [_run_list([self.transforms[i]], work, next(dev), members, [params[str(i)]]) for i, members in step]
            work = S.assemble(parts, inverse)
        return S.from_working_fast(work, image.dtype)
