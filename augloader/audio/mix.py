"""MixUp for audio batches: each sample blended with a partner by its own ``lambda ~ Beta(alpha, alpha)``.

A small local version until the shared mixing module (``augloader.mix``) takes audio batches.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import _random as R
from ..mix._labels import check_label_rows
from . import _args
from . import ops as O
from .base import AudioShape, AudioTransform, Params

__all__ = ["AudioMixUp", "sample_beta"]


def _sample_gamma(n: int, shape: float, generator: Optional[torch.Generator], candidates: int = 16) -> Tensor:
    """``n`` draws from ``Gamma(shape, 1)`` (Marsaglia-Tsang), vectorised with a fixed number of candidates.

    torch's own Gamma sampler takes no generator. Each draw keeps the first of ``candidates`` proposals
    that is accepted (probability > 0.95 each, so all rejected is below 1e-20).
    """
    device = R._device(generator)
    boost = shape < 1.0  # Gamma(a) = Gamma(a + 1) * U ** (1 / a)
    a = shape + 1.0 if boost else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    x = torch.randn((n, candidates), generator=generator, device=device)
    u = torch.rand((n, candidates), generator=generator, device=device)
    v = (1.0 + c * x) ** 3
    accept = (v > 0) & (torch.log(u) < 0.5 * x * x + d - d * v + d * torch.log(v.clamp(min=1e-30)))
    first = accept.to(torch.uint8).argmax(dim=1, keepdim=True)  # first accepted proposal
    draw = torch.where(accept.any(dim=1), d * v.gather(1, first).squeeze(1), torch.full((n,), d, device=device))
    if boost:
        draw = draw * torch.rand(n, generator=generator, device=device).pow(1.0 / shape)
    return draw


def sample_beta(n: int, alpha: float, generator: Optional[torch.Generator] = None) -> Tensor:
    """``n`` draws from ``Beta(alpha, alpha)`` on the generator's device."""
    g1 = _sample_gamma(n, alpha, generator)
    g2 = _sample_gamma(n, alpha, generator)
    return g1 / (g1 + g2).clamp(min=1e-30)


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
        if label.dtype.is_floating_point:
            if label.dim() != 2:
                raise ValueError(f"soft labels must have shape (B, K), got {tuple(label.shape)}")
            if label.device.type == "cpu" and label.numel():  # checked where it costs no device sync
                check_label_rows(label, multi_label=False)
            soft = label.float()
        else:
            if self.num_classes is None:
                raise ValueError("AudioMixUp needs num_classes to mix integer class labels")
            if label.dim() != 1:
                raise ValueError(f"class labels must have shape (B,), got {tuple(label.shape)}")
            soft = F.one_hot(label.long(), self.num_classes).float()
            soft = soft * (1.0 - self.label_smoothing) + self.label_smoothing / self.num_classes
        return O.mix(soft, params["index"].to(soft.device), params["lam"].to(soft.device))

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, num_classes={self.num_classes}, p={self.p}"
