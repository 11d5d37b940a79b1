"""The one base class: draw per-sample parameters, then apply a pure batched op.

Subclasses implement :meth:`Transform.sample_params` and either :meth:`Transform.apply` (pixel
transforms) or :meth:`Transform.matrix` plus :meth:`Transform.output_size` (geometric transforms).
:meth:`Transform.forward` is final: it parses the batch, draws once, routes the image and the targets
through the execution stages and returns the structure it received.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional

import torch
from torch import Tensor, nn

from .._batch import Batch, BatchView, params_to
from .._protocol import ReplayMixin
from . import _args
from ._types import Drawn, Params, Shape, Tail
from .stages import box_targets, execute, plan, prepare  # the engine; it imports this module for annotations only

__all__ = ["Drawn", "Params", "Shape", "Tail", "Transform", "check_probability"]


def check_probability(p: float, name: str = "p") -> float:
    """Returns ``p`` as a float, or raises (naming ``name``) if it is not a probability in ``[0, 1]``."""
    return _args.probability(p, name)


class Transform(ReplayMixin, nn.Module):
    """Base of every augloader transform.

    Class attributes describe how the engine may run and fuse a transform:

    - ``kind``: ``"geometric"`` (moves pixels: a per-sample 3x3 matrix) or ``"pixel"`` (changes values).
    - ``native``: a pixel transform whose :meth:`apply` takes the raw dtype (uint8 too); others get
      float images in ``[0, 1]``.
    - ``randomized``: False for deterministic transforms (Resize, CenterCrop, Normalize, ...).
    - ``integer_exact``: a geometric transform that only flips, crops or pads by whole pixels.
    - ``may_sample_outside``: a geometric transform that can read outside its input frame.
    - ``projective``: a geometric transform whose matrix is not affine.
    - ``frame_preserving``: maps its input frame onto itself exactly (flips).
    - ``needs_unit_range``: a pixel transform that assumes values in ``[0, 1]`` (not after Normalize).
    - ``accepts_tail``: :meth:`apply` takes ``tail=(scale, bias)``, a following Normalize to fold in,
      and ``input_scale``, a factor its input carries (uint8 values cast to float without the 1/255).
    - ``linear_in_value``: a pixel transform that commutes with scaling the values (a blur); it may
      receive values in ``[0, 255]``.
    - ``normalizes``: a per-channel affine (Normalize) exposing ``channel_affine()``.
    - ``axis_aligned``: a geometric transform whose matrix only scales and shifts each axis (crops,
      resizes, flips); a stage of them runs as crop-then-resize on the CPU (``ops.resize``).
    - ``antialias``: an axis-aligned transform that low-passes when it downscales (on that path).
    - ``whole_batch``: runs best on the whole batch (it gathers the samples each op applies to); the
      CPU engine then does not split the batch into cache-sized chunks.
    - ``cross_sample``: pairs samples across the batch, so it must see the whole batch.
    - ``writes_in_place``: :meth:`apply` takes ``inplace=True``, which the engine passes when the
      working image is its own (never the caller's tensor), to write into it instead of a copy.
    - ``needs_targets``: :meth:`sample_params` takes ``targets=`` (the batch's boxes as
      ``{"boxes": (B, N, 4) xyxy pixels, "boxes_valid": (B, N)}``, or None), e.g. for safe crops.

    Attributes the engine reads on the transforms that set them (declared here, not defaulted: a
    class-level value would hide a submodule that ``nn.Module`` keeps in ``_modules``):

    - ``_policy``: a RandAugment-style policy's op runner (``PolicyRunner``); None on other transforms.
    - ``_warp``: the policy's geometric half (a Transform whose matrix is each sample's warp); set
      together with ``_policy``.
    - ``transforms``: a container's transforms (Compose, RandomApply, RandomChoice, RandomOrder),
      read through :meth:`sub_transforms`.

    Shape:
        a tensor ``(C, H, W)`` or ``(B, C, H, W)``, or a dict with an ``image`` of that shape.
    """

    kind: ClassVar[str] = "pixel"
    native: ClassVar[bool] = False
    randomized: ClassVar[bool] = True
    integer_exact: ClassVar[bool] = False
    may_sample_outside: ClassVar[bool] = False
    projective: ClassVar[bool] = False
    frame_preserving: ClassVar[bool] = False
    needs_unit_range: ClassVar[bool] = True
    accepts_tail: ClassVar[bool] = False
    linear_in_value: ClassVar[bool] = False
    normalizes: ClassVar[bool] = False
    axis_aligned: ClassVar[bool] = False
    antialias: bool = False
    whole_batch: ClassVar[bool] = False
    cross_sample: bool = False
    writes_in_place: ClassVar[bool] = False
    needs_targets: bool = False
    _policy: Any = None
    _warp: Optional[Transform]
    transforms: nn.ModuleList

    # Geometric resampling options; None means "no opinion" (the stage takes another transform's).
    interpolation: Optional[str] = None
    padding_mode: Optional[str] = None
    fill: Any = None

    def __init__(self, p: float = 1.0) -> None:
        super().__init__()
        self.p = check_probability(p)
        self.last_params: Optional[Params] = None

    # ---- what subclasses implement -------------------------------------------------------------
    def sample_params(self, shape: Shape, generator: Optional[torch.Generator] = None) -> Params:
        """Draws every random value for a batch of ``shape``, each a ``(B, ...)`` tensor."""
        return {}

    def apply(self, image: Tensor, params: Params) -> Tensor:
        """Pixel transforms: the deterministic op on a float ``(B, C, H, W)`` batch in ``[0, 1]``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement apply()")

    def matrix(self, params: Params, in_size: tuple[int, int]) -> Tensor:
        """Geometric transforms: ``(B, 3, 3)`` maps from input to output continuous pixel coordinates."""
        raise NotImplementedError(f"{type(self).__name__} does not implement matrix()")

    def output_size(self, in_size: tuple[int, int]) -> tuple[int, int]:
        """Output ``(H, W)`` for an input of ``in_size``."""
        return in_size

    def output_dtype(self, dtype: torch.dtype) -> torch.dtype:
        """Dtype delivered for an input of ``dtype`` (only conversions change it)."""
        return dtype

    def prepare(self, params: Params, shape: Shape) -> Params:
        """Pixel transforms: completes ``params`` with the parameter-sized algebra of :meth:`apply`.

        Runs where the params live (the host, when freshly drawn) before they move to the batch's
        device, so that :meth:`apply` finds per-sample matrices or kernels ready and only touches pixels.
        Returns ``params`` itself or a new dict holding them plus ``(B, ...)`` tensors; ``shape`` is the
        input ``(B, C, H, W)`` of this transform. The default has nothing to prepare.
        """
        return params

    def sub_transforms(self) -> list[Transform]:
        """The transforms a container runs inside itself (its ``transforms``); empty for a leaf."""
        return list(getattr(self, "transforms", ()))

    # ---- the engine ------------------------------------------------------------------------------
    def forward(
        self,
        batch: Batch,
        params: Optional[Params | Drawn] = None,
        generator: Optional[torch.Generator] = None,
    ) -> Batch:
        """Draws parameters once (or replays ``params``) and transforms every target of ``batch``.

        The drawn parameters are kept in ``self.last_params``; passing them back replays the call.
        ``params`` may also be a :meth:`draw` result made earlier (e.g. in a background thread).
        """
        view = BatchView.parse(batch)
        shape = tuple(view.image.shape)
        if isinstance(params, Drawn):
            if params.shape != shape:
                raise ValueError(
                    f"{type(self).__name__}: params were drawn for a batch of shape {params.shape}, "
                    f"this batch's image is {shape}"
                )
            params, prepared = params.params, params.prepared
        else:
            if params is not None and not isinstance(params, dict):
                raise TypeError(
                    f"params must be a dict from sample_params or last_params (or a draw() result), "
                    f"got {type(params).__name__}"
                )
            params = self._draw_params(view, generator) if params is None else params
            stages, param_list = self._stages(params)
            prepared = prepare(stages, param_list, shape)  # parameter-sized algebra where the params live
        params, prepared = params_to((params, prepared), view.image.device)  # one copy to the batch's device
        self.last_params = params
        return self._run(view, params, prepared)

    def draw(self, batch: Batch, generator: Optional[torch.Generator] = None) -> Drawn:
        """The host half of a call on ``batch``: draws the params and prepares them (matrices, colour
        matrices, kernels), without touching its pixels; only the shape (and boxes, for draws that need
        them) is read. ``self(batch_on_device, params=drawn)`` then copies once and applies; the result
        equals ``self(batch, generator=generator)``.

        Example::

            drawn = pipeline.draw(host_batch, torch.Generator().manual_seed(0))  # e.g. in a loader thread
            out = pipeline(host_batch.to(device), params=drawn)
        """
        view = BatchView.parse(batch)
        params = self._draw_params(view, generator)
        stages, param_list = self._stages(params)
        shape = tuple(view.image.shape)
        return Drawn(params, prepare(stages, param_list, shape), shape)

    def _draw_params(self, view: BatchView, generator: Optional[torch.Generator]) -> Params:
        if self.needs_targets:
            targets = box_targets(view, getattr(self, "target_options", None))
            return self.sample_params(tuple(view.image.shape), generator, targets=targets)
        return self.sample_params(tuple(view.image.shape), generator)

    def _stages(self, params: Params) -> tuple[list, list[Params]]:
        """The execution stages and the params of each transform they run, in pipeline order."""
        return plan([self]), [params]

    def _run(self, view: BatchView, params: Params, prepared: Optional[list] = None) -> Batch:
        stages, param_list = self._stages(params)
        return execute(stages, view, param_list, prepared=prepared)

    def extra_repr(self) -> str:
        return f"p={self.p}" if self.p != 1.0 else ""
