"""Adversarial augmentation: FGSM / PGD examples against the current model, as a training-loop hook.

Images are taken in pixel space (float in ``[0, 1]`` or uint8) so that ``eps`` and ``alpha`` are pixel
units; an optional ``normalize`` runs between the pixels and the model. A fraction ``ratio`` of each
batch is attacked (rows chosen with the generator) and either replaces those rows or is appended.
Example::

    adv = AdversarialAugment(model, method="pgd", eps=8 / 255, steps=7, ratio=0.5,
                             normalize=((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    for images, labels in loader:                       # pixels in [0, 1]
        images, labels = adv((images, labels), generator=g)
        loss = F.cross_entropy(model(norm(images)), labels)

It also fits the ``mix`` slot of :class:`~augloader.data.device.DeviceAugmenter` (it is called as
``mix((images, labels), generator=g)``), provided the device transform leaves the images in pixel space.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..transforms import _args

__all__ = ["AdversarialAugment", "fgsm", "pgd"]

Normalize = Union[None, Callable[[Tensor], Tensor], tuple[Sequence[float], Sequence[float]]]


def _make_normalize(normalize: Normalize) -> Optional[Callable[[Tensor], Tensor]]:
    """Turns ``(mean, std)`` into a per-channel callable; passes a callable (or None) through."""
    if normalize is None or callable(normalize):
        return normalize
    if not (isinstance(normalize, (tuple, list)) and len(normalize) == 2):
        raise TypeError(f"normalize must be None, a callable or (mean, std); got {type(normalize).__name__}")
    try:
        mean = torch.as_tensor(normalize[0], dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(normalize[1], dtype=torch.float32).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"normalize must be (mean, std) of numbers, got {_args.show(normalize)}") from err
    if not bool(torch.isfinite(mean).all() and torch.isfinite(std).all()):
        raise ValueError("normalize: mean and std must be finite numbers")
    if mean.numel() != std.numel():
        raise ValueError(f"normalize: mean has {mean.numel()} values, std has {std.numel()}")
    if not bool((std > 0).all()):
        raise ValueError("normalize: every std must be > 0")

    def norm(x: Tensor) -> Tensor:
        if mean.numel() not in (1, x.shape[1]):
            raise ValueError(f"normalize has {mean.numel()} channels, images have {x.shape[1]}")
        m = mean.to(x.device, x.dtype).reshape(1, -1, 1, 1)  # (1, C, 1, 1)
        s = std.to(x.device, x.dtype).reshape(1, -1, 1, 1)
        return (x - m) / s

    return norm


def _input_grad(
    model: nn.Module,
    loss_fn: Callable[[Tensor, Any], Tensor],
    norm: Optional[Callable[[Tensor], Tensor]],
    x: Tensor,
    labels: Any,
) -> tuple[Tensor, Tensor]:
    """Loss and d(loss)/dx for pixel images ``x``; nothing is accumulated into the model's ``.grad``."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(norm(x) if norm is not None else x)
        loss = loss_fn(logits, labels)
        if loss.dim() > 0:
            loss = loss.sum()
        (grad,) = torch.autograd.grad(loss, x)
    return loss.detach(), grad


def fgsm(
    model: nn.Module,
    images: Tensor,
    labels: Any,
    eps: float,
    loss_fn: Callable[[Tensor, Any], Tensor] = F.cross_entropy,
    normalize: Optional[Callable[[Tensor], Tensor]] = None,
) -> Tensor:
    """Fast gradient sign method: ``clamp(x + eps * sign(grad), 0, 1)``; the model's mode is not touched.

    Shape:
        images float ``(B, C, H, W)`` in ``[0, 1]`` -> same shape and dtype.
    """
    _, grad = _input_grad(model, loss_fn, normalize, images, labels)
    return (images + eps * grad.sign()).clamp_(0.0, 1.0).detach()


def pgd(
    model: nn.Module,
    images: Tensor,
    labels: Any,
    eps: float,
    alpha: float,
    steps: int,
    loss_fn: Callable[[Tensor, Any], Tensor] = F.cross_entropy,
    normalize: Optional[Callable[[Tensor], Tensor]] = None,
    random_start: bool = True,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Projected gradient descent (Madry et al.): ``steps`` signed steps of ``alpha``, projected on the
    L-inf ball of radius ``eps`` around ``images`` and on ``[0, 1]``; uniform random start in the ball.

    Shape:
        images float ``(B, C, H, W)`` in ``[0, 1]`` -> same shape and dtype.
    """
    lo, hi = (images - eps).clamp(min=0.0), (images + eps).clamp(max=1.0)
    x = images.detach()
    if random_start:
        dev = generator.device if generator is not None else images.device
        noise = torch.rand(images.shape, generator=generator, device=dev, dtype=images.dtype).to(images.device)
        x = torch.min(torch.max(x + (2.0 * noise - 1.0) * eps, lo), hi)
    for _ in range(steps):
        _, grad = _input_grad(model, loss_fn, normalize, x, labels)
        x = torch.min(torch.max(x + alpha * grad.sign(), lo), hi).detach()
    return x


class AdversarialAugment(nn.Module):
    """Replaces (or appends) a fraction of each batch with adversarial examples against ``model``.

    The model is put in eval mode for the attack and every submodule gets its previous mode back; the
    gradient is taken with respect to the input only, so the parameters' ``.grad`` stay as they were.

    Args:
        model: the network being trained (attacked as it is now).
        loss_fn: ``loss_fn(logits, labels)``; default cross-entropy (soft labels work too).
        method: ``"fgsm"`` or ``"pgd"``.
        eps: L-inf budget in pixel units (``[0, 1]`` scale, also for uint8 input).
        alpha: PGD step in pixel units; default ``2.5 * eps / steps``. Ignored by FGSM.
        steps: PGD iterations. Ignored by FGSM.
        ratio: share of each batch attacked, ``round(ratio * B)`` rows chosen with the generator.
        mode: ``"replace"`` the chosen rows, or ``"append"`` their adversarial copies (labels repeated).
        normalize: ``(mean, std)`` per channel or a callable applied to pixels before the model.
        random_start: PGD starts uniformly inside the eps ball.

    Shape:
        ``(images, labels, ...)`` or a dict with ``image`` and ``label``; images ``(B, C, H, W)`` float in
        ``[0, 1]`` or uint8 -> the same structure and dtype; ``B`` rows (replace) or ``B + round(ratio * B)``
        (append, where every other tensor with ``B`` leading rows is extended the same way). uint8
        perturbations are truncated towards zero, so they stay inside ``eps``.
    """

    takes_labels = False  # returns (images, labels), not images only: use it as a mix, not a transform

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Optional[Callable[[Tensor, Any], Tensor]] = None,
        method: str = "fgsm",
        eps: float = 8 / 255,
        alpha: Optional[float] = None,
        steps: int = 10,
        ratio: float = 0.5,
        mode: str = "replace",
        normalize: Normalize = None,
        random_start: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if loss_fn is not None and not callable(loss_fn):
            raise TypeError("loss_fn must be callable(logits, labels)")
        if method not in ("fgsm", "pgd"):
            raise ValueError(f"method must be 'fgsm' or 'pgd', got {_args.show(method)}")
        if mode not in ("replace", "append"):
            raise ValueError(f"mode must be 'replace' or 'append', got {_args.show(mode)}")
        _args.number(eps, "eps (pixel units)", 0.0, 1.0)
        _args.number(ratio, "ratio", 0.0, 1.0)
        _args.integer(steps, "steps", low=1)
        if alpha is not None:
            _args.number(alpha, "alpha", low=0.0, low_open=True)
        # Not registered as a submodule: the hook must not show up in (or save) the model's parameters.
        object.__setattr__(self, "model", model)
        self.loss_fn = loss_fn if loss_fn is not None else F.cross_entropy
        self.method, self.mode = method, mode
        self.eps, self.steps, self.ratio = float(eps), int(steps), float(ratio)
        self.alpha = float(alpha) if alpha is not None else 2.5 * self.eps / self.steps
        self.normalize = _make_normalize(normalize)
        self.random_start = _args.flag(random_start, "random_start")

    def extra_repr(self) -> str:
        return (
            f"method={self.method!r}, eps={self.eps:.4g}, alpha={self.alpha:.4g}, steps={self.steps}, "
            f"ratio={self.ratio}, mode={self.mode!r}"
        )

    def attack(self, images: Tensor, labels: Any, generator: Optional[torch.Generator] = None) -> Tensor:
        """Adversarial copies of every row of ``images`` (float in ``[0, 1]``), model in eval mode.

        Shape:
            ``(B, C, H, W)`` float -> ``(B, C, H, W)`` float.
        """
        modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        try:
            if self.method == "fgsm":
                return fgsm(self.model, images, labels, self.eps, self.loss_fn, self.normalize)
            return pgd(
                self.model,
                images,
                labels,
                self.eps,
                self.alpha,
                self.steps,
                self.loss_fn,
                self.normalize,
                self.random_start,
                generator,
            )
        finally:
            for m, training in modes:
                m.training = training

    def forward(self, batch: Any, generator: Optional[torch.Generator] = None) -> Any:
        if isinstance(batch, Mapping):
            if "image" not in batch or "label" not in batch:
                raise ValueError("AdversarialAugment: a dict batch needs 'image' and 'label'")
            images, labels = batch["image"], batch["label"]
        elif isinstance(batch, (tuple, list)) and len(batch) >= 2:
            images, labels = batch[0], batch[1]
        else:
            raise TypeError(
                "AdversarialAugment needs labels: pass (images, labels, ...) or a dict with 'image' and 'label'"
            )
        if not isinstance(images, Tensor) or images.dim() != 4:
            got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"images must be a (B, C, H, W) tensor, got {got}")
        if not isinstance(labels, Tensor) or labels.dim() == 0 or labels.shape[0] != images.shape[0]:
            raise TypeError("labels must be a tensor with one row per image: class indices (B,) or soft labels (B, K)")
        if not (images.dtype == torch.uint8 or images.is_floating_point()):
            raise TypeError(f"images must be uint8 or float in [0, 1], got {images.dtype}")
        b = images.shape[0]
        k = int(round(self.ratio * b))
        dev = generator.device if generator is not None else torch.device("cpu")
        idx = torch.randperm(b, generator=generator, device=dev)[:k].sort().values.to(images.device)  # (k,)

        if k == 0:
            adv = images[:0]
        else:
            x = images[idx]
            sel_labels = labels[idx.to(labels.device)]
            if images.dtype == torch.uint8:
                x_f = x.float() / 255.0
                delta = self.attack(x_f, sel_labels, generator) - x_f
                # whole levels, truncated towards zero: |delta| stays <= eps and the result inside [0, 255]
                # (the 1e-4 nudge keeps a float 2.99999 from losing a level)
                levels = torch.trunc(delta * 255.0 + delta.sign() * 1e-4)
                levels = levels.clamp(-self.eps * 255.0, self.eps * 255.0).trunc().to(torch.int16)
                adv = (x.to(torch.int16) + levels).clamp(0, 255).to(torch.uint8)
            else:
                adv = self.attack(x, sel_labels, generator).to(images.dtype)

        if self.mode == "replace":
            new_images = images.clone()
            new_images[idx] = adv
        else:
            new_images = torch.cat([images, adv])  # (B + k, C, H, W)

        def extend(v: Any) -> Any:
            """Appends the attacked rows of a per-sample tensor (append mode only)."""
            if self.mode == "append" and isinstance(v, Tensor) and v.dim() > 0 and v.shape[0] == b:
                return torch.cat([v, v[idx.to(v.device)]])
            return v

        if isinstance(batch, Mapping):
            return {key: (new_images if key == "image" else extend(v)) for key, v in batch.items()}
        rest = [extend(v) for v in batch[1:]]
        return type(batch)([new_images, *rest]) if isinstance(batch, list) else (new_images, *rest)
