"""``MixUpCutMix`` and its two presets ``MixUp`` and ``CutMix``: whole batches, labels mixed exactly.

The same object serves the collate stage (uint8 batches in CPU workers) and the training-loop hook
(float batches on the GPU): parameters are drawn on the generator's device and moved to the batch's.
"""

from __future__ import annotations

import numbers
import threading
from typing import Any, Optional, Sequence, Union

import torch
import torch.utils.data
from torch import Tensor, nn

from .._batch import params_to
from .._memory import new_batch, tune_malloc
from .._protocol import ReplayMixin
from ..transforms._args import probability as check_probability
from ..transforms._types import Params
from ._images import auto_tile_bytes, mix_images
from ._labels import check_labels, mixed_targets
from ._params import check_alpha, check_mode, check_params, identity_params, sample_mix_params
from ._parsing import MixBatch, check_out, check_targets, flag_arg, minmax_arg, parse_batch
from ._targets import mix_boxes, mix_masks

_OUT_DTYPES = (torch.uint8, torch.float32, torch.float64, torch.float16, torch.bfloat16)


class MixUpCutMix(ReplayMixin, nn.Module):
    """MixUp and CutMix on a whole batch, per batch, per pair or per sample, with soft labels.

    Semantics follow timm's ``Mixup``: ``lam ~ Beta(alpha, alpha)``; with both alphas on, each draw uses
    CutMix with probability ``switch_prob``; ``prob`` gates mixing (a gated sample keeps ``lam = 1``);
    the CutMix lambda is recomputed from the clipped box (``correct_lam``; always with ``cutmix_minmax``).
    Unlike timm, the input is never modified, odd batch sizes work (with an odd batch the sample left
    without a partner is left unmixed), randomness comes from an optional ``torch.Generator``, and
    segmentation masks and detection boxes are mixed along with the images. The call contract is that of
    every augloader transform (:mod:`augloader._protocol`): ``forward(batch, params=None, generator=None)``,
    ``last_params`` replay, the caller's structure returned, constructor arguments recorded (so a Python-built
    mix writes back with :func:`augloader.to_config`).

    Args:
        mixup_alpha: Beta concentration for MixUp; 0 turns MixUp off.
        cutmix_alpha: Beta concentration for CutMix; 0 turns CutMix off (unless ``cutmix_minmax``).
        switch_prob: probability of CutMix instead of MixUp when both are on.
        prob: probability that a batch / pair / sample is mixed at all.
        mode: ``"batch"`` (one draw), ``"pair"`` (one draw per pair of partners) or ``"elem"`` (per sample:
            its own lambda, its own choice of MixUp or CutMix, its own box).
        label_smoothing: ``s``; single-label targets get ``s / K`` off and ``1 - s + s / K`` on, multi-label
            targets are smoothed towards 0.5.
        num_classes: K; needed for class-index labels ``(B,)``.
        cutmix_minmax: ``(min, max)`` box sides as fractions of the image sides, instead of alpha boxes.
        correct_lam: recompute the CutMix lambda from the clipped box (then it is exactly the share of the
            sample's own pixels); False keeps the drawn lambda, like timm's ``correct_lam=False``.
        multi_label: labels are multi-hot ``(B, K)`` rows (for ``BCEWithLogitsLoss``).
        pairing: ``"half"`` (i <-> i + B // 2, the fastest: the partner batch is read in place), ``"flip"``
            (i <-> B - 1 - i, timm's pairing) or ``"permute"`` (a random permutation from the generator).
        min_visibility: CutMix keeps a detection box when at least this share of its area is visible in
            the image it came from (see :func:`~augloader.mix.mix_boxes`).
        out_dtype: output dtype for uint8 images: None / uint8 (MixUp pixels rounded, halves up) or a
            float dtype (scaled to ``[0, 1]``, not rounded). Float images keep their dtype.
        enabled: mixing on; when off, images pass through and labels still become smoothed soft targets.
        off_epoch: with :meth:`set_epoch`, mixing is turned off from this epoch on.
        reuse_buffers: keep the small internal tile buffers between calls on CPU (never the returned
            tensors).
        tile_bytes: on CPU, mix the batch in tiles of about this many bytes of float32 image data so each
            tile's weights and float copies stay in cache (pairs of partners together); ``"auto"``:
            1.25 MiB per intra-op thread; None: one pass over the whole batch. Ignored on other devices
            and by the numba kernel that mixes float32 pairs on CPU (see :mod:`augloader.mix._images`).

    Shape:
        ``(images (B, C, H, W), labels (B,) or (B, K))`` or a dict with ``image``, and optionally ``label``,
        ``mask`` ``(B, H, W)`` / ``(B, K, H, W)``, ``boxes`` ``(B, N, 4)`` with ``boxes_valid`` ``(B, N)``,
        ``box_labels`` / ``box_weights`` ``(B, N)``. Labels come back as ``(B, K)`` float, boxes as ``(B, 2N, 4)``.
    """

    def __init__(
        self,
        mixup_alpha: float = 0.8,
        cutmix_alpha: float = 1.0,
        switch_prob: float = 0.5,
        prob: float = 1.0,
        mode: str = "batch",
        label_smoothing: float = 0.0,
        num_classes: Optional[int] = None,
        *,
        cutmix_minmax: Optional[Sequence[float]] = None,
        correct_lam: bool = True,
        multi_label: bool = False,
        pairing: str = "half",
        min_visibility: float = 0.25,
        out_dtype: Optional[torch.dtype] = None,
        enabled: bool = True,
        off_epoch: Optional[int] = None,
        reuse_buffers: bool = True,
        tile_bytes: Union[int, str, None] = "auto",
    ) -> None:
        super().__init__()
        self.mixup_alpha = check_alpha(mixup_alpha, "mixup_alpha")
        self.cutmix_alpha = check_alpha(cutmix_alpha, "cutmix_alpha")
        self.cutmix_minmax = minmax_arg(cutmix_minmax)
        if self.mixup_alpha == 0 and self.cutmix_alpha == 0 and self.cutmix_minmax is None:
            raise ValueError("nothing to mix: set mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax")
        self.switch_prob = check_probability(switch_prob, "switch_prob")
        self.prob = check_probability(prob, "prob")
        check_mode(mode, pairing)
        self.mode, self.pairing = mode, pairing
        if (
            isinstance(label_smoothing, bool)
            or not isinstance(label_smoothing, numbers.Real)
            or not 0 <= label_smoothing < 1
        ):
            raise ValueError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        if num_classes is not None and (
            isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1
        ):
            raise ValueError(f"num_classes must be a positive int or None, got {num_classes!r}")
        self.num_classes = None if num_classes is None else int(num_classes)
        self.correct_lam = flag_arg(correct_lam, "correct_lam")
        self.multi_label = flag_arg(multi_label, "multi_label")
        self.min_visibility = check_probability(min_visibility, "min_visibility")
        if out_dtype is not None and out_dtype not in _OUT_DTYPES:
            raise ValueError(f"out_dtype must be None, torch.uint8 or a float dtype, got {out_dtype!r}")
        self.out_dtype = out_dtype
        self.enabled = flag_arg(enabled, "enabled")
        if off_epoch is not None and (
            isinstance(off_epoch, bool) or not isinstance(off_epoch, numbers.Integral) or off_epoch < 0
        ):
            raise ValueError(f"off_epoch must be a non-negative int or None, got {off_epoch!r}")
        self.off_epoch = off_epoch
        self.reuse_buffers = flag_arg(reuse_buffers, "reuse_buffers")
        if tile_bytes not in (None, "auto") and (
            isinstance(tile_bytes, bool) or not isinstance(tile_bytes, numbers.Integral) or tile_bytes < 1
        ):
            raise ValueError(f"tile_bytes must be a positive int, 'auto' or None, got {tile_bytes!r}")
        self.tile_bytes = tile_bytes if tile_bytes in (None, "auto") else int(tile_bytes)
        self.last_params: Optional[Params] = None
        self._scratch: dict[tuple, Tensor] = {}

    # ---- schedule -------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Turns mixing off from ``off_epoch`` on (timm's ``mixup_off_epoch``); a no-op without it.

        In a DataLoader, workers hold copies of this object: call it before the epoch's iterator is
        created (persistent workers keep the state they started with).
        """
        if self.off_epoch is not None:
            self.enabled = epoch < self.off_epoch

    # ---- the contract ------------------------------------------------------------------------------
    def sample_params(
        self, batch_size: int, image_size: tuple[int, int], generator: Optional[torch.Generator] = None
    ) -> Params:
        """Draws lambda, MixUp/CutMix choice, box and partner for every sample (neutral when disabled).

        Shape:
            ``-> {"lam": (B,), "use_cutmix": (B,), "box": (B, 4), "partner": (B,), "static": {...}}``.
        """
        if not self.enabled:
            return identity_params(batch_size, generator.device if generator is not None else "cpu")
        return sample_mix_params(
            batch_size,
            image_size,
            mixup_alpha=self.mixup_alpha,
            cutmix_alpha=self.cutmix_alpha,
            switch_prob=self.switch_prob,
            prob=self.prob,
            mode=self.mode,
            pairing=self.pairing,
            cutmix_minmax=self.cutmix_minmax,
            correct_lam=self.correct_lam,
            generator=generator,
        )

    def apply(self, image: Tensor, params: Params, out: Optional[Tensor] = None) -> Tensor:
        """Mixes a ``(B, C, H, W)`` batch with fixed params (deterministic).

        Shape:
            ``(B, C, H, W)`` -> ``(B, C, H, W)``.
        """
        dtype = self._out_dtype(image)
        params = params_to(params, image.device)
        static = params["static"]
        if out is None and dtype == image.dtype and not (static["mixup"] or static["cutmix"]):
            return image  # nothing mixes: no copy
        if image.device.type == "cpu":
            tune_malloc()  # inside a DataLoader worker only (a collate-stage mix may be its only augloader call)
        if out is not None:
            check_out(out, image, dtype)
        else:
            # Shared memory inside a DataLoader worker (no copy to hand the batch over), elsewhere on
            # CPU a pooled block a dropped batch left (no page faults) or else huge pages (half the
            # first-touch cost), the caching allocator on GPUs.
            out = new_batch(tuple(image.shape), dtype, image.device)
        # Tiles keep a CPU batch in cache; on other devices, and in a compiled graph (which fuses the
        # whole batch into one loop), the batch is mixed whole.
        whole = image.device.type != "cpu" or torch.compiler.is_compiling()
        tile = None if whole else (auto_tile_bytes() if self.tile_bytes == "auto" else self.tile_bytes)
        return mix_images(image, params, out, dtype, self._buffer if self.reuse_buffers else None, tile)

    def soft_targets(self, labels: Tensor, params: Params) -> Tensor:
        """Smoothed soft targets of ``labels``, mixed with the partners' by ``lam``.

        Shape:
            ``(B,)`` or ``(B, K)`` -> ``(B, K)``.
        """
        return mixed_targets(
            labels, params["lam"], params["partner"], self.num_classes, self.label_smoothing, self.multi_label
        )

    def forward(
        self,
        batch: MixBatch,
        params: Optional[Params] = None,
        generator: Optional[torch.Generator] = None,
        *,
        out: Optional[Tensor] = None,
    ) -> MixBatch:
        """Mixes images, labels and targets; returns the structure it got.

        Args:
            batch: ``(images, labels)`` (tuple or list) or a dict with ``image`` and optional ``label``,
                ``mask``, ``boxes``, ``boxes_valid``, ``box_labels``, ``box_weights``; other keys pass through.
            params: parameters from :meth:`sample_params` or ``last_params`` to replay a call exactly.
            generator: source of randomness (parameters are drawn on its device).
            out: optional preallocated image output (right shape, dtype and device, not sharing memory
                with the input), for callers that recycle buffers.

        Shape:
            see the class docstring.
        """
        image, labels, targets, rebuild = parse_batch(batch)
        if image.dim() != 4:
            raise ValueError(f"mixing needs a batch of images (B, C, H, W), got shape {tuple(image.shape)}")
        if image.requires_grad:
            raise ValueError("mixing does not support images that require grad; detach them first")
        b, _, h, w = image.shape
        if labels is not None:
            check_labels(labels, b, self.num_classes, self.multi_label)
        check_targets(targets, image)
        if params is not None:
            check_params(params, b)
        if "mask" in targets and (self.mixup_alpha > 0 or (params is not None and params["static"]["mixup"])):
            raise ValueError(
                "MixUp cannot blend segmentation masks (class maps do not average); use CutMix for "
                "batches with a 'mask' (mixup_alpha=0, e.g. CutMix(...))"
            )
        params = self._params(params, lambda: self.sample_params(b, (h, w), generator), image.device)
        mixed = self.apply(image, params, out)
        new_labels = self.soft_targets(labels, params) if labels is not None else None
        updates: dict[str, Any] = {}
        if "mask" in targets:
            updates["mask"] = mix_masks(targets["mask"], params)
        if "boxes" in targets:
            valid = targets.get("boxes_valid")
            if valid is None:
                valid = torch.ones(targets["boxes"].shape[:2], dtype=torch.bool, device=image.device)
            updates.update(
                mix_boxes(
                    targets["boxes"],
                    valid,
                    params,
                    self.min_visibility,
                    targets.get("box_labels"),
                    targets.get("box_weights"),
                )
            )
        return rebuild(mixed, new_labels, updates)

    # ---- internals -----------------------------------------------------------------------------------
    def _out_dtype(self, image: Tensor) -> torch.dtype:
        return self.out_dtype if (self.out_dtype is not None and image.dtype == torch.uint8) else image.dtype

    def _buffer(self, name: str, shape: tuple, dtype: torch.dtype, device: torch.device) -> Tensor:
        """A scratch buffer reused across calls on CPU (one per name and thread); fresh elsewhere."""
        if device.type != "cpu":
            return torch.empty(shape, dtype=dtype, device=device)
        key = (name, threading.get_ident())
        buf = self._scratch.get(key)
        if buf is None or tuple(buf.shape) != shape or buf.dtype != dtype:
            if len(self._scratch) >= 16:  # many threads over time: start over rather than grow
                self._scratch.clear()
            buf = torch.empty(shape, dtype=dtype, device=device)
            self._scratch[key] = buf
        return buf

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state["_scratch"] = {}  # buffers are not part of the object (DataLoader workers, deepcopy)
        return state

    def extra_repr(self) -> str:
        parts = [
            f"mixup_alpha={self.mixup_alpha}",
            f"cutmix_alpha={self.cutmix_alpha}",
            f"switch_prob={self.switch_prob}",
            f"prob={self.prob}",
            f"mode={self.mode!r}",
            f"label_smoothing={self.label_smoothing}",
            f"num_classes={self.num_classes}",
            f"pairing={self.pairing!r}",
        ]
        if self.cutmix_minmax is not None:
            parts.append(f"cutmix_minmax={self.cutmix_minmax}")
        if not self.enabled:
            parts.append("enabled=False")
        return ", ".join(parts)


class MixUp(MixUpCutMix):
    """MixUp only: ``x = lam * x + (1 - lam) * partner``, labels mixed by the same ``lam``.

    Args:
        alpha: Beta concentration (> 0).
        num_classes: K, needed for class-index labels.
        label_smoothing: as :class:`MixUpCutMix`.
        **kwargs: ``prob``, ``mode``, ``multi_label``, ``pairing``, ``out_dtype``, ``enabled``, ``off_epoch``, ...

    Shape:
        as :class:`MixUpCutMix`.
    """

    def __init__(
        self, alpha: float = 1.0, num_classes: Optional[int] = None, label_smoothing: float = 0.0, **kwargs: Any
    ) -> None:
        if check_alpha(alpha, "alpha") == 0:
            raise ValueError("MixUp needs alpha > 0")
        _reject(kwargs, ("mixup_alpha", "cutmix_alpha", "switch_prob", "cutmix_minmax"), "MixUp")
        super().__init__(alpha, 0.0, 0.0, label_smoothing=label_smoothing, num_classes=num_classes, **kwargs)


class CutMix(MixUpCutMix):
    """CutMix only: a box of the partner is pasted; lambda is the share of the sample's own pixels.

    Args:
        alpha: Beta concentration for the box area (> 0; ignored with ``minmax``).
        num_classes: K, needed for class-index labels.
        label_smoothing: as :class:`MixUpCutMix`.
        minmax: ``(min, max)`` box sides as fractions of the image sides (timm's ``cutmix_minmax``).
        **kwargs: ``prob``, ``mode``, ``correct_lam``, ``pairing``, ``min_visibility``, ``enabled``, ...

    Shape:
        as :class:`MixUpCutMix`; masks are pasted along with the images.
    """

    def __init__(
        self,
        alpha: float = 1.0,
        num_classes: Optional[int] = None,
        label_smoothing: float = 0.0,
        minmax: Optional[Sequence[float]] = None,
        **kwargs: Any,
    ) -> None:
        if check_alpha(alpha, "alpha") == 0 and minmax is None:
            raise ValueError("CutMix needs alpha > 0 or minmax")
        _reject(kwargs, ("mixup_alpha", "cutmix_alpha", "switch_prob", "cutmix_minmax"), "CutMix")
        super().__init__(
            0.0, alpha, 1.0, label_smoothing=label_smoothing, num_classes=num_classes, cutmix_minmax=minmax, **kwargs
        )


# ---- helpers -----------------------------------------------------------------------------
def _reject(kwargs: dict[str, Any], names: Sequence[str], cls: str) -> None:
    bad = [k for k in names if k in kwargs]
    if bad:
        raise TypeError(f"{cls} does not take {', '.join(bad)}; use MixUpCutMix for both ops")
