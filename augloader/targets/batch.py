"""Targets of a batch dict in canonical form: parsed once, sliced per chunk, moved per stage, exported.

Keys (see :mod:`augloader._batch`): ``boxes`` with ``boxes_valid`` and per-box fields (``box_*``
keys, e.g. ``box_labels``), ``mask``, ``keypoints`` with ``keypoints_visible``. torchvision
``tv_tensors`` (``BoundingBoxes``, ``Mask``, ``KeyPoints``) are accepted and returned typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional, Sequence

import torch
from torch import Tensor

from ..ops.warp import Frame
from . import boxes as Bx
from . import keypoints as Kp
from . import masks as Mk
from .options import TargetOptions

_TV_FORMATS = {"XYXY": "xyxy", "XYWH": "xywh", "CXCYWH": "cxcywh"}


def _tv():
    try:
        from torchvision import tv_tensors

        return tv_tensors
    except Exception:  # torchvision is optional
        return None


def _plain(t: Tensor) -> Tensor:
    return t.as_subclass(Tensor) if type(t) is not Tensor else t


def _box_fields(container: Mapping[str, Any]) -> list[str]:
    return [k for k in container if k.startswith("box_")]


def _add_batch_dim(c: Mapping[str, Any]) -> dict[str, Any]:
    """One sample's targets with a leading batch dimension (torchvision types kept)."""
    tv = _tv()
    out = dict(c)
    for k in ("mask", "boxes", "boxes_valid", "keypoints", "keypoints_visible", *_box_fields(c)):
        v = c.get(k)
        if tv is not None and isinstance(v, tv.BoundingBoxes):
            out[k] = _plain(v).unsqueeze(0)  # BoundingBoxes are 2-D only: its format is read before
        elif isinstance(v, Tensor):
            u = _plain(v).unsqueeze(0)  # mask (H, W) -> (1, H, W); (K, H, W) -> (1, K, H, W)
            out[k] = tv.wrap(u, like=v) if tv is not None and isinstance(v, tv.TVTensor) else u
    return out


@dataclass
class Targets:
    """Spatial targets in canonical form for ``B`` samples of an image of ``size``.

    ``boxes``: ``(B, N, 4)`` xyxy pixels, ``valid``: ``(B, N)``; ``mask``: ``(B, K, H, W)``;
    ``points``: ``(B, K, 2)`` pixel-index coordinates, ``visible``: ``(B, K)``.
    """

    size: tuple[int, int]
    options: TargetOptions
    boxes: Optional[Tensor] = None
    valid: Optional[Tensor] = None
    fields: dict[str, Tensor] = field(default_factory=dict)  # per-box (B, N, ...) fields
    mask: Optional[Tensor] = None
    points: Optional[Tensor] = None
    visible: Optional[Tensor] = None
    # how to give them back
    box_form: str = "padded"  # "padded" or "list"
    box_format: str = "xyxy"
    box_dtype: torch.dtype = torch.float32
    list_fields: tuple[str, ...] = ()
    mask_squeeze: bool = False
    mask_tv: bool = False
    points_tv: bool = False
    normalized: bool = False
    box_tv: Optional[str] = None  # the torchvision BoundingBoxes format the boxes came in
    unbatched: bool = False  # the caller gave one (C, H, W) image: targets without the batch dim

    # ---- parsing ------------------------------------------------------------------------------
    @staticmethod
    def parse(
        container: Mapping[str, Any], image: Tensor, options: TargetOptions, unbatched: bool = False
    ) -> Optional["Targets"]:
        """Reads and validates the spatial targets of ``container``; ``None`` when it has none.

        ``unbatched``: the image was one ``(C, H, W)`` sample, so targets come without the batch
        dimension (boxes ``(N, 4)``, mask ``(H, W)`` or ``(K, H, W)``, keypoints ``(K, 2)``).
        """
        if not any(container.get(k) is not None for k in ("boxes", "mask", "keypoints")):
            return None
        b, _, h, w = image.shape
        t = Targets((h, w), options, unbatched=unbatched)
        tv = _tv()
        raw = container.get("boxes")
        first = raw[0] if isinstance(raw, (list, tuple)) and raw else raw
        if tv is not None and isinstance(first, tv.BoundingBoxes):
            t.box_tv = first.format.name
        if unbatched:
            container = _add_batch_dim(container)
        if container.get("boxes") is not None:
            t._parse_boxes(container, b, image.device)
        if container.get("mask") is not None:
            t._parse_mask(container["mask"], b)
        if container.get("keypoints") is not None:
            t._parse_points(container, b)
        return t

    def _parse_boxes(self, c: Mapping[str, Any], b: int, device: torch.device) -> None:
        raw = c["boxes"]
        opts = self.options
        fmt, normalized = opts.boxes_format, opts.normalized
        if self.box_tv is not None:
            if self.box_tv not in _TV_FORMATS:
                raise ValueError(f"BoundingBoxes format {self.box_tv} is not supported (use XYXY, XYWH or CXCYWH)")
            fmt, normalized = _TV_FORMATS[self.box_tv], False
            for x in raw if isinstance(raw, (list, tuple)) else [raw]:
                if hasattr(x, "canvas_size") and tuple(x.canvas_size) != self.size:
                    raise ValueError(
                        f"BoundingBoxes canvas_size {tuple(x.canvas_size)} differs from the image size {self.size}"
                    )
            raw = [_plain(x) for x in raw] if isinstance(raw, (list, tuple)) else _plain(raw)
        if isinstance(raw, (list, tuple)):
            if len(raw) != b:
                raise ValueError(f"boxes is a list of {len(raw)} tensors for a batch of {b} images")
            for i, x in enumerate(raw):
                if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != 4:
                    got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
                    raise ValueError(f"boxes[{i}] (sample {i}) must be a (N_i, 4) tensor, got {got}")
            self.box_form = "list"
            dtype = raw[0].dtype if raw and raw[0].is_floating_point() else torch.float32
            boxes, valid = Bx.pad_list(raw, dtype)
            self.list_fields = tuple(k for k in _box_fields(c) if isinstance(c[k], (list, tuple)))
            for k in self.list_fields:
                vals = c[k]
                if len(vals) != b or any(v.shape[0] != x.shape[0] for v, x in zip(vals, raw)):
                    raise ValueError(f"{k} must be a list of {b} tensors with one entry per box, like boxes")
                n = boxes.shape[1]
                padded = torch.zeros(
                    (b, n, *vals[0].shape[1:]) if b else (0, n),
                    dtype=vals[0].dtype if b else torch.float32,
                    device=boxes.device,
                )
                for i, v in enumerate(vals):
                    padded[i, : v.shape[0]] = v
                self.fields[k] = padded
        else:
            if not isinstance(raw, Tensor):
                raise TypeError(
                    f"boxes must be a tensor (B, N, 4) or a list of (N_i, 4) tensors, got {type(raw).__name__}"
                )
            boxes = raw
            if boxes.dim() != 3 or boxes.shape[0] != b or boxes.shape[2] != 4:
                raise ValueError(f"boxes must have shape (B, N, 4) with B = {b}, got {tuple(raw.shape)}")
            valid = c.get("boxes_valid")
            if valid is None:
                valid = torch.ones(boxes.shape[:2], dtype=torch.bool, device=boxes.device)
            elif (
                not isinstance(valid, Tensor)
                or valid.dtype != torch.bool
                or tuple(valid.shape) != tuple(boxes.shape[:2])
            ):
                raise ValueError(f"boxes_valid must be a bool tensor of shape {tuple(boxes.shape[:2])}")
            for k in _box_fields(c):
                v = c[k]
                if isinstance(v, Tensor) and tuple(v.shape[:2]) == tuple(boxes.shape[:2]):
                    self.fields[k] = v
                elif v is not None:
                    raise ValueError(
                        f"{k} must have shape {tuple(boxes.shape[:2])} (+ any) to match boxes, got "
                        f"{tuple(v.shape) if isinstance(v, Tensor) else type(v).__name__}"
                    )
        self.box_format, self.box_dtype = fmt, boxes.dtype
        boxes = boxes.to(torch.float32) if not boxes.is_floating_point() else boxes
        xyxy = Bx.to_xyxy(boxes, fmt)
        check = opts.validate if opts.validate is not None else xyxy.device.type == "cpu"
        if check:
            Bx.validate(xyxy, valid, normalized, fmt)
        self.boxes = Bx.scale_normalized(xyxy, self.size) if normalized else xyxy
        self.valid = valid
        self.normalized = normalized

    def _parse_mask(self, mask: Any, b: int) -> None:
        tv = _tv()
        if not isinstance(mask, Tensor):
            raise TypeError(f"mask must be a tensor (B, H, W) or (B, K, H, W), got {type(mask).__name__}")
        self.mask_tv = tv is not None and isinstance(mask, tv.Mask)
        mask = _plain(mask)
        if mask.dim() not in (3, 4) or mask.shape[0] != b or tuple(mask.shape[-2:]) != self.size:
            raise ValueError(
                f"mask must have shape (B, H, W) or (B, K, H, W) = ({b}, [K,] {self.size[0]}, {self.size[1]}), "
                f"got {tuple(mask.shape)}"
            )
        self.mask_squeeze = mask.dim() == 3
        self.mask = mask.unsqueeze(1) if self.mask_squeeze else mask

    def _parse_points(self, c: Mapping[str, Any], b: int) -> None:
        tv = _tv()
        raw = c["keypoints"]
        if not isinstance(raw, Tensor):
            raise TypeError(f"keypoints must be a (B, K, 2) tensor, got {type(raw).__name__}")
        self.points_tv = tv is not None and isinstance(raw, tv.KeyPoints)
        pts = _plain(raw)
        if pts.dim() != 3 or pts.shape[0] != b or pts.shape[2] != 2:
            raise ValueError(f"keypoints must have shape (B, K, 2) with B = {b}, got {tuple(raw.shape)}")
        vis = c.get("keypoints_visible")
        if vis is None:
            vis = torch.ones(pts.shape[:2], dtype=torch.bool, device=pts.device)
        elif not isinstance(vis, Tensor) or tuple(vis.shape) != tuple(pts.shape[:2]):
            raise ValueError(f"keypoints_visible must be a tensor of shape {tuple(pts.shape[:2])}")
        self.points, self.visible = pts if pts.is_floating_point() else pts.float(), vis.to(torch.bool)

    # ---- chunks ---------------------------------------------------------------------------------
    def slice(self, part: slice) -> "Targets":
        """The targets of samples ``part``."""
        pick = lambda x: None if x is None else x[part]  # noqa: E731
        return replace(
            self,
            boxes=pick(self.boxes),
            valid=pick(self.valid),
            fields={k: v[part] for k, v in self.fields.items()},
            mask=pick(self.mask),
            points=pick(self.points),
            visible=pick(self.visible),
        )

    @staticmethod
    def cat(parts: Sequence["Targets"]) -> "Targets":
        """Chunks concatenated along the batch."""
        first = parts[0]
        if len(parts) == 1:
            return first
        join = lambda name: None if getattr(first, name) is None else torch.cat([getattr(p, name) for p in parts])  # noqa: E731
        return replace(
            first,
            boxes=join("boxes"),
            valid=join("valid"),
            mask=join("mask"),
            points=join("points"),
            visible=join("visible"),
            fields={k: torch.cat([p.fields[k] for p in parts]) for k in first.fields},
        )

    # ---- moving ---------------------------------------------------------------------------------
    def move(
        self,
        matrix: Tensor,
        inverse: Tensor,
        size: tuple[int, int],
        padding_mode: str,
        frames: Sequence[Frame],
        integer: bool,
        projective: bool,
        prefixes: Sequence[tuple[Tensor, tuple[int, int]]] = (),
    ) -> None:
        """Moves every target with the stage's matrix (input -> output) to an output of ``size``.

        ``frames`` (output -> frame) and ``prefixes`` (input -> frame) describe the intermediate
        frames the fused chain clips to, so targets are cut where the pixels are.
        """
        o = self.options
        if self.boxes is not None:
            regions = Bx.frame_regions(matrix.to(self.boxes.device), prefixes)
            self.boxes, self.valid = Bx.move(
                self.boxes,
                self.valid,
                matrix.to(self.boxes.device),
                size,
                o.box_mode,
                projective,
                o.min_visibility,
                o.min_area,
                regions,
            )
        if self.mask is not None:
            inv = inverse.to(self.mask.device)
            # Axis-aligned maps (resized crops, resizes, flips) take the exact gather too: nearest is
            # floor(coordinate) per axis. Checked on the values on CPU only (free there; a sync on GPU).
            aligned = integer or (
                inv.device.type == "cpu"
                and not projective
                and all(
                    bool((q[:, 0, 1] == 0).all()) and bool((q[:, 1, 0] == 0).all())
                    for q in [inv, *(f for f, _ in frames)]
                )
            )
            self.mask = Mk.move(self.mask, inv, size, o.mask_fill, padding_mode, frames, aligned, projective)
        if self.points is not None:
            self.points, self.visible = Kp.move(
                self.points, self.visible, matrix.to(self.points.device), size, o.flip_pairs, prefixes
            )
        self.size = size

    # ---- export -----------------------------------------------------------------------------------
    def _list_order(self) -> tuple[list[int], Tensor]:
        """Each sample's box count, and the flat slots ``(b * N + n)`` of the kept boxes, in order.

        The counts are read on the host: the one device sync of list-form boxes (a list of ``(n_i, 4)``
        tensors cannot be built without ``n_i``). Knowing their sum, the slots come from
        ``nonzero_static``, which has a fixed output size and so no second sync (``boxes[valid]`` has one).

        Shape:
            ``valid (B, N)`` -> ``B`` ints, ``(sum n_i,)`` int64.
        """
        counts = self.valid.sum(1).tolist()
        return counts, torch.nonzero_static(self.valid.reshape(-1), size=sum(counts)).squeeze(1)

    def export(self) -> dict[str, Any]:
        """The targets in the caller's form, as updates for the batch dict.

        Padded boxes (``boxes (B, N, 4)`` with ``boxes_valid``), masks and keypoints come back without any
        host read: no device sync. List-form boxes (the caller gave a list of ``(N_i, 4)`` tensors) read
        each sample's box count on the host once, a device sync on a GPU; pass padded boxes to avoid it.
        """
        out: dict[str, Any] = {}
        tv = _tv()
        if self.boxes is not None:
            boxes = Bx.scale_normalized(self.boxes, self.size, inverse=True) if self.normalized else self.boxes
            boxes = Bx.from_xyxy(boxes, self.box_format)
            boxes = torch.where(
                self.valid.unsqueeze(-1), boxes, torch.zeros((), dtype=boxes.dtype, device=boxes.device)
            )
            if not self.box_dtype.is_floating_point:
                boxes = boxes.round()
            boxes = boxes.to(self.box_dtype)
            typed = (
                (lambda x: tv.BoundingBoxes(x, format=self.box_tv, canvas_size=self.size))
                if self.box_tv
                else (lambda x: x)
            )
            if self.box_form == "list":
                counts, kept = self._list_order()  # (sum n_i,) flat slots, sample by sample
                out["boxes"] = [typed(x) for x in boxes.reshape(-1, 4).index_select(0, kept).split(counts)]
                for k in self.list_fields:
                    f = self.fields[k]
                    out[k] = list(f.reshape(-1, *f.shape[2:]).index_select(0, kept).split(counts))
            elif self.box_tv:  # a BoundingBoxes tensor is one image's (N, 4)
                if boxes.shape[0] != 1:
                    raise ValueError(
                        "a torchvision BoundingBoxes holds one image's boxes; pass a list of them for a batch"
                    )
                out["boxes"], out["boxes_valid"] = typed(boxes[0]), self.valid[0]
            else:
                out["boxes"], out["boxes_valid"] = boxes, self.valid
        if self.mask is not None:
            mask = self.mask.squeeze(1) if self.mask_squeeze else self.mask
            out["mask"] = tv.Mask(mask) if self.mask_tv else mask
        if self.points is not None:
            out["keypoints"] = tv.KeyPoints(self.points, canvas_size=self.size) if self.points_tv else self.points
            out["keypoints_visible"] = self.visible
        if self.unbatched:
            out = {
                k: v if (k == "boxes_valid" and self.box_tv) else _drop_batch_dim(k, v, self.mask_squeeze)
                for k, v in out.items()
            }
        return out


def _drop_batch_dim(key: str, value: Any, mask_squeeze: bool) -> Any:
    tv = _tv()
    if not isinstance(value, Tensor) or (tv is not None and isinstance(value, tv.BoundingBoxes)):
        return value  # list forms stay lists; BoundingBoxes are already one image's
    u = _plain(value)[0]
    return tv.wrap(u, like=value) if tv is not None and isinstance(value, tv.TVTensor) else u
