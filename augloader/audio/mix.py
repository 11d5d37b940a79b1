"""MixUp for audio batches: each sample blended with a partner by its own ``lambda ~ Beta(alpha, alpha)``.

A small local version until the shared mixing module (``augloader.mix``) takes audio batches.
"""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor

from .. import _random as R
from ..mix._labels import mix_labels, soft_labels
from ..mix._params import beta
from . import _args
from . import ops as O
from .base import AudioShape, AudioTransform, Params

__all__ = ["AudioMixUp", "sample_beta"]


def sample_beta(n: int, alpha: float, generator: Optional[torch.Generator] = None) -> Tensor:
    """``n`` float32 draws from ``Beta(alpha, alpha)`` on the generator's device (:func:`augloader.mix`'s sampler)."""
    return beta(n, alpha, generator).float()


class AudioMixUp(AudioTransform):
    """Blends each sample with a random partner from the batch: ``lam * x + (1 - lam) * x[partner]``.

    ``lam`` is drawn per sample from ``Beta(alpha, alpha)``; partners are a random permutation. A dict
    batch's ``"label"`` (class indices ``(B,)`` with ``num_classes``, or soft labels ``(B, K)``) becomes
    the matching soft labels ``(B, K)`` float32, and its ``"lengths"`` the longer of each pair's (the
    mixed clip holds audio up to there; an unmixed sample keeps its own).

    Args:
        alpha: Beta concentration (> 0); small values keep most samples nearly unmixed.
        num_classes: needed when labels are class indices.
        label_smoothing: smoothing applied to one-hot labels before mixing.
        domain: ``"waveform"`` or ``"spectrogram"``.
        p: probability that a sample is mixed (others get ``lam = 1``).

    Shape:
        ``(B, C, T)`` (or ``(B, C, F, N)``), optionally with ``label`` ``(B,)`` / ``(B, K)``.
    """

    def __init__(
        self,
        alpha: float = 0.4,
        num_classes: Optional[int] = None,
        label_smoothing: float = 0.0,
        domain: str = "waveform",
        p: float = 1.0,
    ) -> None:
        super().__init__(p)
        self.alpha = _args.number(alpha, "alpha", low=0.0, low_open=True)
        self.num_classes = None if num_classes is None else _args.positive_int(num_classes, "num_classes", 2)
        self.label_smoothing = _args.number(label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)
        self.domain = _args.choice(domain, "domain", ("waveform", "spectrogram"))

    def sample_params(self, shape: AudioShape, generator: Optional[torch.Generator] = None) -> Params:
        b = shape[0]
        on = R.bernoulli(b, self.p, generator)
        lam = R.gate(sample_beta(b, self.alpha, generator), on, 1.0)
        index = torch.randperm(b, generator=generator, device=R._device(generator))
        return {"lam": lam, "index": index}

    def apply(self, audio: Tensor, params: Params, lengths: Optional[Tensor] = None) -> Tensor:
        return O.mix(audio, params["index"], params["lam"])

    def apply_lengths(self, lengths: Tensor, params: Params, size: int) -> Tensor:
        """A mixed sample holds both clips: its valid part is the longer of the two (unmixed: its own)."""
        index = params["index"].to(lengths.device)
        mixed = params["lam"].to(lengths.device) < 1.0  # (B,)
        return torch.where(mixed, torch.maximum(lengths, lengths.index_select(0, index)), lengths)

    def apply_label(self, label: Any, params: Params) -> Tensor:
        if not isinstance(label, Tensor):
            raise TypeError(f"AudioMixUp needs batch['label'] as a tensor, got {type(label).__name__}")
        if label.dim() == 1 and self.num_classes is None:
            raise ValueError("AudioMixUp needs num_classes to mix integer class labels")
        # smoothing applies to class indices; soft rows are taken as they are
        smoothing = self.label_smoothing if label.dim() == 1 else 0.0
        soft = soft_labels(label, self.num_classes, smoothing).float()  # (B, K), checked as augloader.mix checks
        return mix_labels(soft, params["lam"], params["index"])

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, num_classes={self.num_classes}, p={self.p}"
