"""Variable-length clips to one batch: zero-pad with lengths (and a mask), or crop to a common length."""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor

from .. import _random as R
from . import _args
from .ops import length_mask

__all__ = ["pad_or_crop", "length_mask"]


def pad_or_crop(
    clips: Sequence[Tensor],
    length: Optional[int] = None,
    mode: str = "pad",
    crop: str = "start",
    generator: Optional[torch.Generator] = None,
) -> tuple[Tensor, Tensor]:
    """Stacks clips of different lengths into a batch.

    ``mode="pad"`` zero-pads every clip to ``length`` (default: the longest) and crops longer ones;
    ``mode="crop"`` crops every clip to ``length`` (default: the shortest) and pads shorter ones.
    Clips longer than the target are cut at the ``crop`` position: ``"start"``, ``"center"``, or
    ``"random"`` (one offset per clip, drawn in one call from ``generator``).
    Use :func:`length_mask` on the returned lengths to tell valid samples from padding.

    Args:
        clips: ``(T_i,)`` (mono) or ``(C, T_i)`` float tensors with one channel count.
        length: the batch length in samples.
        mode: ``"pad"`` or ``"crop"`` (which default length to take).
        crop: where longer clips are cut.
        generator: for ``crop="random"``.

    Returns:
        ``(batch, lengths)``: ``(B, C, length)`` and ``(B,)`` int64 valid samples per clip.
    """
    _args.choice(mode, "mode", ("pad", "crop"))
    _args.choice(crop, "crop", ("start", "center", "random"))
    if isinstance(clips, Tensor) or not isinstance(clips, Sequence):
        raise TypeError(f"clips must be a list of tensors, got {type(clips).__name__}")
    if not clips:
        raise ValueError("pad_or_crop needs at least one clip")
    shaped = []
    for i, clip in enumerate(clips):
        if not isinstance(clip, Tensor) or clip.dim() not in (1, 2):
            raise ValueError(
                f"clip {i} must be a tensor (T,) or (C, T), got {getattr(clip, 'shape', type(clip).__name__)}"
            )
        shaped.append(clip.unsqueeze(0) if clip.dim() == 1 else clip)
    channels = {c.shape[0] for c in shaped}
    if len(channels) != 1:
        raise ValueError(f"all clips must have the same number of channels, got {sorted(channels)}")
    sizes = torch.tensor([c.shape[-1] for c in shaped], dtype=torch.int64)
    if length is None:
        length = int(sizes.max() if mode == "pad" else sizes.min())
    length = _args.positive_int(length, "length")

    excess = (sizes - length).clamp(min=0)  # samples to cut from each clip
    if crop == "start":
        offsets = torch.zeros_like(excess)
    elif crop == "center":
        offsets = excess // 2
    else:
        offsets = torch.floor(R.uniform(len(shaped), 0.0, 1.0, generator).cpu().double() * (excess + 1)).to(torch.int64)
    lengths = sizes.clamp(max=length)
    first = shaped[0]
    batch = torch.zeros((len(shaped), first.shape[0], length), dtype=first.dtype, device=first.device)
    for i, clip in enumerate(shaped):  # a copy per clip in the collate step, not an augmentation op
        start, n = int(offsets[i]), int(lengths[i])
        batch[i, :, :n] = clip[:, start : start + n]
    return batch, lengths
