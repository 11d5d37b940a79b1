"""Drawing mixing parameters: one vectorised call per quantity, on the generator's device.

A params dict holds ``(B, ...)`` tensors plus a ``static`` dict of plain Python values fixed by the
configuration (never by the data), which lets :func:`~augloader.mix.mix_images` pick the cheapest
exact computation without inspecting tensor values (no host sync):

- ``lam`` ``(B,)`` float32: weight of the sample's own label. For CutMix samples (with ``correct_lam``)
  it is exactly the fraction of output pixels that stay the sample's own.
- ``use_cutmix`` ``(B,)`` bool: the sample pastes a box of its partner instead of blending.
- ``box`` ``(B, 4)`` int64: the pasted region ``(x0, y0, x1, y1)`` in pixels, ``x1``/``y1`` exclusive,
  already clipped to the image; all zeros for samples that do not use CutMix.
- ``partner`` ``(B,)`` int64: index of the sample each one mixes with.
- ``static``: ``pairing`` (``"half"``: i <-> i + B // 2, which lets the images be read as two views;
  ``"index"``: any ``partner``), ``shared`` (one draw for the whole batch: every sample that has a
  partner other than itself holds the same values), ``mixup`` / ``cutmix`` (whether any sample may blend
  / paste).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import torch
from torch import Tensor

from .. import _host_math
from .._random import bernoulli, randint
from ..transforms._types import Params

MODES = ("batch", "pair", "elem")
PAIRINGS = ("half", "flip", "permute")


def _device(generator: Optional[torch.Generator]) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _gamma(n: int, shape: float, generator: Optional[torch.Generator], candidates: int = 16) -> Tensor:
    """``n`` float64 draws from ``Gamma(shape, 1)`` (Marsaglia-Tsang), vectorised, on the generator's device.

    torch's own Gamma sampler takes no generator. Each draw keeps the first of ``candidates`` proposals
    that is accepted (probability > 0.95 each, so all rejected is below 1e-20; then the mode is used).
    The uniforms and normals are drawn in float32 (the stream audio MixUp has always used) and the
    arithmetic is done in float64.
    """
    device = _device(generator)
    boost = shape < 1.0  # Gamma(a) = Gamma(a + 1) * U ** (1 / a)
    d = (shape + 1.0 if boost else shape) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    x = torch.randn((n, candidates), generator=generator, device=device).double()  # (n, candidates)
    u = torch.rand((n, candidates), generator=generator, device=device).double()
    v = (1.0 + c * x) ** 3
    accept = (v > 0) & (_host_math.log(u) < 0.5 * x * x + d - d * v + d * _host_math.log(v.clamp(min=1e-300)))
    first = accept.to(torch.uint8).argmax(dim=1, keepdim=True)  # (n, 1): the first accepted proposal
    draw = torch.where(
        accept.any(dim=1), d * v.gather(1, first).squeeze(1), torch.full((n,), d, dtype=torch.float64, device=device)
    )
    if boost:
        draw = draw * torch.rand(n, generator=generator, device=device).double().pow(1.0 / shape)
    return draw


def beta(n: int, alpha: float, generator: Optional[torch.Generator] = None) -> Tensor:
    """``n`` float64 draws from ``Beta(alpha, alpha)`` on the generator's device (CPU without one).

    ``G1 / (G1 + G2)`` with ``G1, G2 ~ Gamma(alpha)``; public torch only, every draw from ``generator``.
    The one Beta sampler of the package (mixing, audio MixUp, style mixing).
    """
    g1 = _gamma(n, float(alpha), generator)
    g2 = _gamma(n, float(alpha), generator)
    return g1 / (g1 + g2).clamp(min=1e-300)


def partner_index(batch_size: int, pairing: str, mode: str, generator: Optional[torch.Generator] = None) -> Tensor:
    """The partner of every sample.

    ``"half"`` pairs i with i + B // 2, ``"flip"`` pairs i with B - 1 - i (timm), ``"permute"`` draws a
    random permutation (``mode="pair"``: a random perfect matching). With an odd batch one sample is its
    own partner (it is left unmixed).

    Shape:
        ``-> (B,)`` int64.
    """
    b, dev = batch_size, _device(generator)
    idx = torch.arange(b, device=dev)
    if pairing == "half":
        h = b // 2
        return torch.where(idx < h, idx + h, torch.where(idx < 2 * h, idx - h, idx))
    if pairing == "flip":
        return idx.flip(0)
    perm = torch.randperm(b, generator=generator, device=dev)
    if mode != "pair":
        return perm
    h = b // 2
    partner = idx.clone()  # odd batch: the last drawn sample stays its own partner
    partner[perm[0 : 2 * h : 2]] = perm[1 : 2 * h : 2]
    partner[perm[1 : 2 * h : 2]] = perm[0 : 2 * h : 2]
    return partner


def cutmix_boxes(
    lam: Tensor,
    image_size: tuple[int, int],
    minmax: Optional[tuple[float, float]] = None,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Random CutMix regions, clipped to the image, as timm's ``rand_bbox`` / ``rand_bbox_minmax``.

    Without ``minmax`` the box has sides ``floor(H * sqrt(1 - lam))`` by ``floor(W * sqrt(1 - lam))``
    around a uniform centre, then clipped; with ``minmax`` each side is a uniform fraction of the image
    side in ``[min, max)`` and the box lies fully inside the image.

    Shape:
        ``lam: (n,)`` -> ``(n, 4)`` int64 ``(x0, y0, x1, y1)``.
    """
    n = lam.shape[0]
    h, w = image_size
    if minmax is None:
        ratio = torch.sqrt((1.0 - lam.double()).clamp_(min=0.0))
        cut_h = torch.floor(h * ratio).long()
        cut_w = torch.floor(w * ratio).long()
        cy = randint(n, 0, h, generator)
        cx = randint(n, 0, w, generator)
        y0 = (cy - cut_h // 2).clamp(0, h)
        y1 = (cy + (cut_h + 1) // 2).clamp(0, h)
        x0 = (cx - cut_w // 2).clamp(0, w)
        x1 = (cx + (cut_w + 1) // 2).clamp(0, w)
    else:
        lo, hi = minmax
        cut_h = randint(n, int(h * lo), max(int(h * hi), int(h * lo) + 1), generator)
        cut_w = randint(n, int(w * lo), max(int(w * hi), int(w * lo) + 1), generator)
        y0 = randint(n, 0, h - cut_h + 1, generator)
        x0 = randint(n, 0, w - cut_w + 1, generator)
        y1, x1 = y0 + cut_h, x0 + cut_w
    return torch.stack([x0, y0, x1, y1], dim=1)  # (n, 4)


def sample_mix_params(
    batch_size: int,
    image_size: tuple[int, int],
    *,
    mixup_alpha: float,
    cutmix_alpha: float,
    switch_prob: float,
    prob: float,
    mode: str,
    pairing: str,
    cutmix_minmax: Optional[tuple[float, float]] = None,
    correct_lam: bool = True,
    generator: Optional[torch.Generator] = None,
) -> Params:
    """Draws lambda, the MixUp/CutMix choice, the box and the partner of every sample.

    ``mode="elem"`` draws per sample, ``"pair"`` once per pair (both partners share lambda and box),
    ``"batch"`` once for the whole batch. A sample that ``prob`` leaves out, or that is its own partner,
    gets ``lam = 1`` and no box (the neutral parameters).

    Shape:
        ``-> dict`` of ``(B,)`` / ``(B, 4)`` tensors (see the module docstring).
    """
    b = batch_size
    height, width = image_size
    use_mixup = mixup_alpha > 0.0
    use_cut = cutmix_alpha > 0.0 or cutmix_minmax is not None
    partner = partner_index(b, pairing, mode, generator)
    n = 1 if mode == "batch" else b  # pair mode draws per sample, then each pair takes its first member's draw
    if use_mixup and use_cut:
        cut = bernoulli(n, switch_prob, generator)
        lam_mix = beta(n, mixup_alpha, generator)
        lam_cut = beta(n, cutmix_alpha, generator) if cutmix_minmax is None else torch.ones_like(lam_mix)
        lam = torch.where(cut, lam_cut, lam_mix)
    elif use_mixup:
        lam = beta(n, mixup_alpha, generator)
        cut = torch.zeros(n, dtype=torch.bool, device=lam.device)
    else:
        cut = torch.ones(n, dtype=torch.bool, device=_device(generator))
        lam = (
            beta(n, cutmix_alpha, generator)
            if cutmix_minmax is None
            else torch.ones(n, dtype=torch.float64, device=cut.device)
        )
    applied = bernoulli(n, prob, generator)
    lam = torch.where(applied, lam, torch.ones_like(lam))
    cut = cut & applied
    if use_cut:
        box = cutmix_boxes(lam, (height, width), cutmix_minmax, generator)
        box = torch.where(cut.view(-1, 1), box, torch.zeros_like(box))  # (n, 4)
        if correct_lam or cutmix_minmax is not None:
            area = ((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])).double()
            lam = torch.where(cut, 1.0 - area / float(height * width), lam)
    else:
        box = torch.zeros(n, 4, dtype=torch.int64, device=lam.device)
    if mode == "batch":
        lam, cut, box = lam.expand(b).clone(), cut.expand(b).clone(), box.expand(b, 4).clone()
    elif mode == "pair":
        first = torch.minimum(torch.arange(b, device=partner.device), partner)  # (B,) the pair's draw
        lam, cut, box = lam[first], cut[first], box[first]
    own = partner == torch.arange(b, device=partner.device)  # self-paired: nothing to mix with
    lam = torch.where(own, torch.ones_like(lam), lam)
    cut = cut & ~own
    box = torch.where(cut.view(-1, 1), box, torch.zeros_like(box))
    return {
        "lam": lam.to(torch.float32),
        "use_cutmix": cut,
        "box": box,
        "partner": partner,
        "static": {
            "pairing": "half" if pairing == "half" else "index",
            "shared": mode == "batch",
            "mixup": use_mixup,
            "cutmix": use_cut,
        },
    }


def identity_params(batch_size: int, device: torch.device | str = "cpu") -> Params:
    """Neutral parameters: every sample keeps its own image and label (``lam = 1``).

    Shape:
        ``-> dict`` of ``(B,)`` / ``(B, 4)`` tensors.
    """
    b = batch_size
    return {
        "lam": torch.ones(b, device=device),
        "use_cutmix": torch.zeros(b, dtype=torch.bool, device=device),
        "box": torch.zeros(b, 4, dtype=torch.int64, device=device),
        "partner": torch.arange(b, device=device),
        "static": {"pairing": "index", "shared": True, "mixup": False, "cutmix": False},
    }


def check_params(params: Any, batch_size: int) -> None:
    """Raises a clear error unless ``params`` is a mixing params dict for a batch of ``batch_size``."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict from sample_params() / last_params, got {type(params).__name__}")
    expected = {"lam": (batch_size,), "use_cutmix": (batch_size,), "box": (batch_size, 4), "partner": (batch_size,)}
    for key, shape in expected.items():
        value = params.get(key)
        if not isinstance(value, Tensor):
            raise ValueError(f"params[{key!r}] is missing or not a tensor (keys: {sorted(params)})")
        if tuple(value.shape) != shape:
            raise ValueError(
                f"params[{key!r}] has shape {tuple(value.shape)}, expected {shape} for a batch of {batch_size}"
            )
    static = params.get("static")
    if not isinstance(static, dict) or not {"pairing", "shared", "mixup", "cutmix"} <= set(static):
        raise ValueError("params['static'] must be the dict drawn with the params (pairing, shared, mixup, cutmix)")
    if static["pairing"] not in ("half", "index"):
        raise ValueError(f"params['static']['pairing'] must be 'half' or 'index', got {static['pairing']!r}")


def check_mode(mode: str, pairing: str) -> None:
    """Validates the ``mode`` and ``pairing`` names."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if pairing not in PAIRINGS:
        raise ValueError(f"pairing must be one of {PAIRINGS}, got {pairing!r}")


def check_alpha(value: Any, name: str) -> float:
    """A finite, non-negative Beta concentration."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)
