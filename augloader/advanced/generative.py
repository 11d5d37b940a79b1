"""Generative augmentation: mix samples from a class-conditional generator into the training data.

Two ways to use a generator (any callable ``fn(labels, generator) -> images`` or an ``nn.Module`` with a
``sample(labels, generator)`` method, e.g. :class:`ConditionalVAE`):

* :class:`SyntheticMix`, a batch hook: ``images, labels = mix(images, labels)`` replaces (or appends) a
  ``ratio`` fraction of a uint8 batch with generated samples, or tops up under-represented classes;
* :class:`SyntheticDataset`, a Dataset wrapper that interleaves generated samples with the real ones
  so that every epoch holds the requested ratio (or target class distribution) exactly.

Both are for the training split only: attached to a ``val``/``test`` :class:`~augloader.data.split.SplitView`
they raise ``ValueError``. Example::

    vae = ConditionalVAE(num_classes=10)
    vae.load_state_dict(torch.load("out/generator.pt")["model"])
    train, val = split_dataset(ds, (0.9, 0.1), stratify=labels, seed=0)
    synth = SyntheticDataset(train, vae, ratio=0.25, num_classes=10, seed=0)   # 25% of every epoch is generated
    hook = SyntheticMix(vae, ratio=0.25, num_classes=10, seed=0, split=train)
    images, labels = hook(images_uint8, labels)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from .._protocol import ReplayMixin
from ..data.roles import EVAL_ROLES, role_of
from ..data.seeding import make_generator
from ..transforms import _args

__all__ = ["ConditionalVAE", "SyntheticMix", "SyntheticDataset", "train_vae", "to_uint8", "topup_counts"]

GeneratorFn = Union[Callable[..., Tensor], nn.Module]


# ---- helpers ----------------------------------------------------------------------------------------
def to_uint8(images: Tensor) -> Tensor:
    """uint8 images: uint8 stays as is, floating point is read as ``[0, 1]`` and rounded."""
    if images.dtype == torch.uint8:
        return images
    if not images.is_floating_point():
        return images.clamp(0, 255).to(torch.uint8)
    return (images.detach().float() * 255).round().clamp(0, 255).to(torch.uint8)


def _as_fn(generator_fn: GeneratorFn) -> Callable[[Tensor, torch.Generator], Tensor]:
    sample = getattr(generator_fn, "sample", None)
    if callable(sample):
        return sample
    if not callable(generator_fn):
        raise TypeError(
            f"generator_fn must be a callable fn(labels, generator) or have a .sample method, "
            f"got {type(generator_fn).__name__}"
        )
    return generator_fn


def _generate(fn: Callable, labels: Tensor, generator: torch.Generator, like: Optional[Tensor] = None) -> Tensor:
    """Calls the generator and checks its output: uint8 ``(n, C, H, W)`` matching ``like``'s sample shape."""
    with torch.no_grad():
        out = fn(labels, generator)
    if not isinstance(out, Tensor) or out.dim() != 4 or out.shape[0] != labels.numel():
        raise ValueError(
            f"the generator must return images (n, C, H, W) for n={labels.numel()} labels, "
            f"got {getattr(out, 'shape', type(out).__name__)}"
        )
    out = to_uint8(out.cpu())
    if like is not None and out.shape[1:] != like.shape[1:]:
        raise ValueError(f"generated images have shape {tuple(out.shape[1:])}, the real ones {tuple(like.shape[1:])}")
    return out


def _refuse_eval(split: Any, where: str) -> Optional[str]:
    """The role of ``split`` (a role string or a dataset with ``.role``, seen through ``Subset``); raises
    for val/test (see :data:`augloader.data.roles.EVAL_ROLES`)."""
    role = split if isinstance(split, str) or split is None else role_of(split)
    if role in EVAL_ROLES:
        raise ValueError(
            f"{where}: synthetic samples are for the training split only, and this data is the {role!r} "
            f"split; evaluate on real data only (attach {where} to the 'train' split view)."
        )
    return role


def _check_ratio(ratio: Optional[float], where: str, upper_inclusive: bool = True) -> None:
    if ratio is None:
        return
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio):
        raise ValueError(f"{where}: ratio must be a number in [0, 1), got {_args.show(ratio)}")
    if not (0 <= ratio <= 1 if upper_inclusive else 0 <= ratio < 1):
        raise ValueError(f"{where}: ratio must be in [0, {'1]' if upper_inclusive else '1)'}, got {ratio}")


def _as_numbers(value: Any, name: str, where: str) -> Tensor:
    """``value`` (numbers, a tensor or an array) as a flat float64 tensor, or a TypeError naming ``name``."""
    if isinstance(value, (str, bytes)) or any(
        isinstance(v, (str, bytes, bool)) for v in (value if isinstance(value, (list, tuple)) else [])
    ):
        raise TypeError(f"{where}: {name} must be numbers, got {_args.show(value)}")
    try:
        return torch.as_tensor(value, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{where}: {name} must be numbers, got {_args.show(value)}") from err


def _distribution(target: Optional[Sequence[float]], num_classes: int, where: str) -> Tensor:
    if target is None:
        return torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64)
    t = _as_numbers(target, "target", where)
    if t.numel() != num_classes or (t < 0).any() or t.sum() <= 0 or not torch.isfinite(t).all():
        raise ValueError(
            f"{where}: target must hold {num_classes} non-negative weights with a positive sum, got {_args.show(target)}"
        )
    return t / t.sum()


def _class_counts(counts: Sequence[int], num_classes: int, where: str) -> Tensor:
    c = _as_numbers(counts, "class_counts", where)
    if c.numel() != num_classes or not bool(((c >= 0) & (c == c.floor()) & torch.isfinite(c)).all()):
        raise ValueError(f"{where}: class_counts must hold {num_classes} non-negative counts, got {_args.show(counts)}")
    if c.sum() <= 0:
        raise ValueError(f"{where}: class_counts are all zero")
    return c


def topup_counts(class_counts: Sequence[int], target: Optional[Sequence[float]] = None) -> list[int]:
    """How many samples to generate per class so that real + generated follows ``target``.

    ``target`` (default uniform) is a distribution over the classes; the fewest samples are generated:
    every class is topped up to ``s * target[c]`` with ``s`` the smallest scale that needs no removal
    (uniform target: every class up to the majority count). A class with samples but a zero target
    weight cannot be matched by adding samples and raises.
    """
    counts = _class_counts(class_counts, len(class_counts), "topup_counts")
    t = _distribution(target, counts.numel(), "topup_counts")
    if ((t == 0) & (counts > 0)).any():
        raise ValueError("topup_counts: a class with real samples has target weight 0; top-up only adds samples")
    scale = (counts[t > 0] / t[t > 0]).max()
    return [max(0, int(round(float(scale * t[c] - counts[c])))) for c in range(counts.numel())]


# ---- the batch hook ---------------------------------------------------------------------------------
class SyntheticMix(ReplayMixin):
    """Mixes generated samples into uint8 training batches: ``images, labels = hook(images, labels)``.

    Args:
        generator_fn: ``fn(labels LongTensor (n,), generator torch.Generator) -> images (n, C, H, W)`` (uint8,
            or float in ``[0, 1]``), or a module with such a ``sample`` method (:class:`ConditionalVAE`).
        ratio: the expected fraction of each output batch that is generated. ``None`` selects top-up mode.
        num_classes: number of classes; generated classes are drawn from ``target`` (default uniform).
        class_counts: top-up mode (with ``ratio=None``): the real per-class counts of the training set; the
            generated classes and their amount are chosen so the expected class distribution of the output
            batches is ``target`` (default uniform, i.e. every class up to the majority count).
        target: a distribution over classes (weights): the generated classes in ratio mode, the wanted
            final distribution in top-up mode.
        mode: ``"replace"`` (batch size kept: random samples are replaced) or ``"append"`` (generated samples
            are appended; the batch grows by ``ratio / (1 - ratio)``).
        seed: seed of the hook's own generator (see :meth:`set_epoch`); a ``generator`` passed to a call wins.
        split: the dataset/split view (or its role) this hook is attached to; ``val``/``test`` raise.

    The number generated per batch is ``ratio * B`` (replace) or ``ratio / (1 - ratio) * B`` (append), rounded
    stochastically so the ratio holds in expectation and, over an epoch, to within a few samples.

    Called as every augloader transform is (:mod:`augloader._protocol`): ``hook(batch, params=None,
    generator=None)`` with ``batch`` an ``(images, labels)`` pair or a dict with ``image`` and ``label``; the
    same structure comes back. Each call draws its parameters once (:meth:`sample_params`: how many, which
    classes, which slots, and a seed for ``generator_fn``), keeps them in ``last_params``, and
    ``hook(batch, params=hook.last_params)`` replays it (the same images, if ``generator_fn`` is deterministic
    given its generator). The ``mix=`` slot of :func:`augloader.data.loader` accepts it, provided the
    ``batch_transform`` there keeps the batch uint8 (normalise in the training loop); it cannot be the
    ``batch_transform`` itself (that slot does not return labels). ``hook(images, labels)`` (augloader 0.1)
    still works until 0.3, with a DeprecationWarning.

    Shape:
        images ``(B, C, H, W)`` uint8, labels ``(B,)`` int -> the same (``B + n`` in append mode).
    """

    randomized = True

    def __init__(
        self,
        generator_fn: GeneratorFn,
        ratio: Optional[float] = 0.25,
        num_classes: int = 10,
        *,
        class_counts: Optional[Sequence[int]] = None,
        target: Optional[Sequence[float]] = None,
        mode: str = "replace",
        seed: int = 0,
        split: Any = None,
    ) -> None:
        where = "SyntheticMix"
        self.role = _refuse_eval(split, where)
        self.fn = _as_fn(generator_fn)
        self.generator_fn = generator_fn
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{where}: num_classes must be a positive int, got {_args.show(num_classes)}")
        if mode not in ("replace", "append"):
            raise ValueError(f"{where}: mode must be 'replace' or 'append', got {_args.show(mode)}")
        if ratio is None and class_counts is None:
            raise ValueError(f"{where}: give a ratio, or ratio=None with class_counts (top-up mode)")
        if ratio is not None and class_counts is not None:
            raise ValueError(f"{where}: ratio and class_counts are exclusive (class_counts selects top-up mode)")
        _check_ratio(ratio, where, upper_inclusive=(mode == "replace"))
        self.num_classes, self.mode, self.seed = num_classes, mode, _args.integer(seed, "seed")
        if class_counts is None:
            self.ratio = float(ratio)
            self.class_probs = _distribution(target, num_classes, where)
        else:
            counts = _class_counts(class_counts, num_classes, where)
            t = _distribution(target, num_classes, where)
            p_real = counts / counts.sum()
            if mode == "append":
                extra = torch.tensor(topup_counts(counts.tolist(), t.tolist()), dtype=torch.float64)
                self.ratio = float(extra.sum() / (extra.sum() + counts.sum()))
                q = extra
            else:  # final = (1 - r) p_real + r q = t  with q >= 0  ->  the smallest r
                r = float(1 - (t[p_real > 0] / p_real[p_real > 0]).min())
                self.ratio = max(0.0, r)
                q = (t - (1 - self.ratio) * p_real).clamp_min(0) if self.ratio > 0 else t.clone()
            self.class_probs = q / q.sum() if q.sum() > 0 else t
        self.target = target
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Reseeds the hook's generator from ``(seed, epoch)``: each epoch's draws are reproducible."""
        self.generator = make_generator(self.seed, "synthetic-mix", epoch)

    def _count(self, batch: int, g: torch.Generator) -> int:
        expected = (
            self.ratio * batch
            if self.mode == "replace"
            else (self.ratio / (1 - self.ratio) * batch if self.ratio < 1 else 0.0)
        )
        base = math.floor(expected)
        n = base + int(torch.rand((), generator=g, dtype=torch.float64).item() < expected - base)
        return min(n, batch) if self.mode == "replace" else n

    def sample_params(self, batch_size: int, generator: Optional[torch.Generator] = None) -> dict[str, Tensor]:
        """Draws a call's parameters for a batch of ``batch_size`` (from ``generator``, else the hook's own).

        Shape:
            ``{"classes": (n,) int64, "slots": (n,) int64 (replace mode; (0,) in append mode), "seed": ()
            int64}``: the generated classes, the batch positions they replace, the seed of ``generator_fn``.
        """
        g = generator if generator is not None else self.generator
        n = self._count(batch_size, g)
        empty = torch.zeros(0, dtype=torch.int64)
        if n == 0:
            return {"classes": empty, "slots": empty, "seed": torch.zeros((), dtype=torch.int64)}
        classes = torch.multinomial(self.class_probs.float(), n, replacement=True, generator=g).cpu()
        seed = torch.randint(2**63 - 1, (), generator=g, device=g.device).cpu()
        slots = torch.randperm(batch_size, generator=g, device=g.device)[:n].cpu() if self.mode == "replace" else empty
        return {"classes": classes, "slots": slots, "seed": seed}

    def __call__(
        self,
        batch: Any,
        params: Any = None,
        generator: Optional[torch.Generator] = None,
        *,
        labels: Optional[Tensor] = None,
    ) -> Any:
        """Mixes generated samples into ``batch`` (see the class docstring); returns the structure it got."""
        if params is not None and not isinstance(params, Mapping):  # hook(images, labels): augloader 0.1
            params, labels = None, (params if labels is None else labels)
        if labels is not None:
            warnings.warn(
                "SyntheticMix: hook(images, labels) is deprecated and will be removed in augloader 0.3; "
                "pass the batch as hook((images, labels))",
                DeprecationWarning,
                stacklevel=2,
            )
            batch = (batch, labels)
        images, labels, rebuild = _parse_batch(batch)
        b = images.shape[0]
        params = self._params(params, lambda: self.sample_params(b, generator))
        classes, slots = _check_params(params, b, self.mode)
        if classes.numel() == 0:
            return rebuild(images, labels)
        g = torch.Generator(device=generator.device if generator is not None else self.generator.device)
        fake = _generate(self.fn, classes, g.manual_seed(int(params["seed"])), like=images).to(images.device)
        classes = classes.to(device=labels.device, dtype=labels.dtype)
        if self.mode == "append":
            return rebuild(torch.cat([images, fake]), torch.cat([labels, classes]))
        images, labels = images.clone(), labels.clone()
        images[slots.to(images.device)] = fake
        labels[slots.to(labels.device)] = classes
        return rebuild(images, labels)

    forward = __call__

    def __repr__(self) -> str:
        return f"SyntheticMix(ratio={self.ratio:.4g}, num_classes={self.num_classes}, mode={self.mode!r}, seed={self.seed})"


def _parse_batch(batch: Any) -> tuple[Tensor, Tensor, Callable[[Tensor, Tensor], Any]]:
    """``(images, labels, rebuild)`` of an ``(images, labels)`` pair or an ``{image, label}`` dict."""
    if isinstance(batch, Mapping):
        if "image" not in batch or "label" not in batch:
            raise ValueError(f"SyntheticMix needs a dict with 'image' and 'label', got keys {sorted(map(str, batch))}")
        extra = sorted(str(k) for k in batch if k not in ("image", "label"))
        if extra:
            raise ValueError(
                f"SyntheticMix mixes 'image' and 'label' only; the batch also has {extra}, which generated samples "
                "cannot have (run it on (images, labels) batches)"
            )
        images, labels = batch["image"], batch["label"]

        def rebuild(x: Tensor, y: Tensor) -> Any:
            return {**batch, "image": x, "label": y}

    elif isinstance(batch, (tuple, list)) and len(batch) == 2:
        images, labels = batch

        def rebuild(x: Tensor, y: Tensor) -> Any:
            return type(batch)((x, y)) if isinstance(batch, tuple) else [x, y]

    else:
        raise TypeError(
            f"SyntheticMix takes an (images, labels) pair or a dict with 'image' and 'label', got {type(batch).__name__}"
        )
    if not isinstance(images, Tensor) or images.dim() != 4 or images.dtype != torch.uint8:
        raise ValueError("SyntheticMix expects uint8 images (B, C, H, W); run it before normalisation")
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.numel() != images.shape[0] or labels.is_floating_point():
        raise ValueError(
            "SyntheticMix expects integer class labels (B,) (run it before MixUp/CutMix or one-hot targets)"
        )
    return images, labels, rebuild


def _check_params(params: Mapping[str, Any], batch_size: int, mode: str) -> tuple[Tensor, Tensor]:
    """``(classes, slots)`` of replayed ``params``, after checking they fit a batch of ``batch_size``."""
    classes, slots, seed = params.get("classes"), params.get("slots"), params.get("seed")
    ok = all(isinstance(t, Tensor) and not t.is_floating_point() for t in (classes, slots, seed))
    ok = ok and classes.dim() == 1 and slots.dim() == 1 and seed.numel() == 1
    ok = ok and (slots.numel() == (classes.numel() if mode == "replace" else 0))
    if not ok:
        raise ValueError(
            "SyntheticMix: params must be a dict from sample_params or last_params with integer 'classes' (n,), "
            f"'slots' (n,) in replace mode ((0,) in append mode) and 'seed' (); got keys {sorted(map(str, params))}"
        )
    if slots.numel() and (int(slots.min()) < 0 or int(slots.max()) >= batch_size):
        raise ValueError(f"SyntheticMix: params['slots'] must lie in [0, {batch_size}) for this batch")
    return classes, slots


# ---- the dataset wrapper ----------------------------------------------------------------------------
class SyntheticDataset(Dataset):
    """A training dataset of real samples interleaved with generated ones, in an exact proportion.

    Args:
        real_dataset: map-style dataset of ``(image uint8 (C, H, W), label)`` samples (a ``train`` split view;
            ``val``/``test`` views raise).
        generator_fn: as for :class:`SyntheticMix`.
        ratio: fraction of the epoch that is generated: ``round(ratio / (1 - ratio) * len(real))`` generated
            samples are added (exact whenever that is a whole number). ``None``: top-up mode.
        num_classes: number of classes.
        labels / class_counts: top-up mode: the real labels (or per-class counts); enough samples of each class
            are generated that real + generated follows ``target`` (default uniform: every class is topped up
            to the majority count), see :func:`topup_counts`.
        target: ratio mode: the distribution of generated classes (default uniform; the generated labels
            are allotted exactly, largest remainders); top-up mode: the wanted final distribution.
        seed: fixes where the generated samples sit, their classes and their pixels; :meth:`set_epoch`
            draws fresh pixels per epoch (same positions and classes).

    Sample ``i`` is generated per index from ``(seed, epoch, i)``, so it is reproducible in any worker.
    """

    def __init__(
        self,
        real_dataset: Dataset,
        generator_fn: GeneratorFn,
        ratio: Optional[float] = 0.25,
        num_classes: int = 10,
        *,
        labels: Optional[Sequence[int]] = None,
        class_counts: Optional[Sequence[int]] = None,
        target: Optional[Sequence[float]] = None,
        seed: int = 0,
    ) -> None:
        where = "SyntheticDataset"
        self.role = _refuse_eval(real_dataset, where)
        if not (hasattr(real_dataset, "__len__") and hasattr(real_dataset, "__getitem__")) or isinstance(
            real_dataset, (str, bytes)
        ):
            raise TypeError(
                f"{where}: real_dataset must be a map-style dataset (len() and [i]), got {type(real_dataset).__name__}"
            )
        self.real = real_dataset
        self.fn = _as_fn(generator_fn)
        self.generator_fn = generator_fn
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"{where}: num_classes must be a positive int, got {_args.show(num_classes)}")
        self.num_classes, self.seed, self.epoch = num_classes, _args.integer(seed, "seed"), 0
        n_real = len(real_dataset)
        if ratio is not None:
            if labels is not None or class_counts is not None:
                raise ValueError(f"{where}: ratio and labels/class_counts are exclusive (labels select top-up mode)")
            _check_ratio(ratio, where, upper_inclusive=False)
            n_syn = int(round(ratio / (1 - ratio) * n_real))
            per_class = self._allot(n_syn, _distribution(target, num_classes, where))
        else:
            if class_counts is None and labels is None:
                raise ValueError(f"{where}: give a ratio, or ratio=None with labels or class_counts (top-up mode)")
            if class_counts is None:
                lab = torch.as_tensor(labels).flatten().long()
                if lab.numel() != n_real:
                    raise ValueError(f"{where}: {lab.numel()} labels for a dataset of {n_real} samples")
                if lab.numel() and (lab.min() < 0 or lab.max() >= num_classes):
                    raise ValueError(f"{where}: labels must lie in [0, {num_classes})")
                class_counts = torch.bincount(lab, minlength=num_classes).tolist()
            _class_counts(class_counts, num_classes, where)
            per_class = topup_counts(class_counts, target)
        g = make_generator(seed, "synthetic-dataset")
        syn_labels = torch.cat(
            [torch.full((k,), c, dtype=torch.long) for c, k in enumerate(per_class)]
            or [torch.empty(0, dtype=torch.long)]
        )
        self.synthetic_labels = syn_labels[torch.randperm(syn_labels.numel(), generator=g)]
        total = n_real + self.synthetic_labels.numel()
        slots = torch.zeros(total, dtype=torch.bool)
        slots[torch.randperm(total, generator=g)[: self.synthetic_labels.numel()]] = True
        # index i -> real index (>= 0) or -(synthetic slot + 1)
        self._map = torch.empty(total, dtype=torch.long)
        self._map[~slots] = torch.arange(n_real)
        self._map[slots] = -(torch.arange(self.synthetic_labels.numel()) + 1)
        self._like: Optional[Tensor] = None

    @staticmethod
    def _allot(n: int, probs: Tensor) -> list[int]:
        quota = probs * n
        counts = quota.floor().long()
        rest = n - int(counts.sum())
        if rest > 0:
            counts[torch.argsort(quota - counts, descending=True, stable=True)[:rest]] += 1
        return counts.tolist()

    @property
    def num_synthetic(self) -> int:
        return int(self.synthetic_labels.numel())

    def set_epoch(self, epoch: int) -> None:
        """Generated pixels are drawn from ``(seed, epoch, index)``; positions and classes stay fixed."""
        self.epoch = int(epoch)

    def is_synthetic(self, index: int) -> bool:
        return bool(self._map[index] < 0)

    def __len__(self) -> int:
        return int(self._map.numel())

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if index < 0:
            index += len(self)
        k = int(self._map[index])
        if k >= 0:
            return self.real[k]
        label = self.synthetic_labels[-k - 1].reshape(1)
        g = make_generator(self.seed, "synthetic-sample", self.epoch, index)
        if self._like is None and len(self.real):
            first = self.real[0]
            if not (
                isinstance(first, (tuple, list)) and len(first) >= 2 and isinstance(first[0], (Tensor, np.ndarray))
            ):
                raise TypeError(
                    f"SyntheticDataset: real_dataset samples must be (image (C, H, W), label) pairs, "
                    f"got {type(first).__name__} {_args.show(first)}"
                )
            self._like = torch.as_tensor(first[0]).unsqueeze(0)
        image = _generate(self.fn, label, g, like=self._like)[0]
        return image, int(label)

    def __repr__(self) -> str:
        return (
            f"SyntheticDataset(real={len(self.real)}, synthetic={self.num_synthetic}, "
            f"ratio={self.num_synthetic / max(1, len(self)):.4g}, seed={self.seed})"
        )


# ---- a small class-conditional generator --------------------------------------------------------------
class ConditionalVAE(nn.Module):
    """A small conditional VAE for grey or colour images (Fashion-MNIST size by default), trainable on a CPU.

    Encoder: two strided convs + the one-hot class -> ``mu``, ``logvar``; decoder: ``z`` + one-hot -> a
    linear layer -> two transposed convs -> per-pixel logits (Bernoulli likelihood). ``sample(labels,
    generator)`` draws ``z ~ N(0, temperature^2)`` and returns uint8 images of the requested classes.
    """

    def __init__(
        self,
        num_classes: int = 10,
        image_shape: tuple[int, int, int] = (1, 28, 28),
        latent_dim: int = 8,
        width: int = 16,
    ) -> None:
        super().__init__()
        _args.integer(num_classes, "num_classes", low=1)
        _args.integer(latent_dim, "latent_dim", low=1)
        _args.integer(width, "width", low=1)
        if not (
            isinstance(image_shape, Sequence)
            and len(image_shape) == 3
            and all(_args.is_int(v) and v > 0 for v in image_shape)
        ):
            raise ValueError(
                f"ConditionalVAE: image_shape must be (C, H, W) positive ints, got {_args.show(image_shape)}"
            )
        c, h, w = image_shape
        if h % 4 or w % 4:
            raise ValueError(f"ConditionalVAE: image_shape height and width must be multiples of 4, got {image_shape}")
        self.num_classes, self.image_shape, self.latent_dim = num_classes, tuple(image_shape), latent_dim
        self._hw = (h // 4, w // 4)
        feat = 2 * width * self._hw[0] * self._hw[1]
        self.encoder = nn.Sequential(
            nn.Conv2d(c, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.to_stats = nn.Sequential(
            nn.Linear(feat + num_classes, 256), nn.LeakyReLU(0.2), nn.Linear(256, 2 * latent_dim)
        )
        self.from_latent = nn.Sequential(
            nn.Linear(latent_dim + num_classes, 256), nn.ReLU(), nn.Linear(256, feat), nn.ReLU()
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(width, c, 4, 2, 1)
        )
        self._width = width

    def _onehot(self, labels: Tensor) -> Tensor:
        labels = labels.long().flatten()
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"ConditionalVAE: labels must lie in [0, {self.num_classes})")
        return F.one_hot(labels, self.num_classes).float()

    def encode(self, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        stats = self.to_stats(torch.cat([self.encoder(x), self._onehot(labels).to(x.device)], 1))
        return stats.chunk(2, dim=1)

    def decode(self, z: Tensor, labels: Tensor) -> Tensor:
        """Pixel logits ``(n, C, H, W)``."""
        hid = self.from_latent(torch.cat([z, self._onehot(labels).to(z.device)], 1))
        return self.decoder(hid.view(-1, 2 * self._width, *self._hw))

    def forward(self, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``x`` float in ``[0, 1]``; returns (pixel logits, mu, logvar) with the reparametrisation trick."""
        mu, logvar = self.encode(x, labels)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decode(z, labels), mu, logvar

    def loss(self, images: Tensor, labels: Tensor, beta: float = 1.0) -> Tensor:
        """Negative ELBO per image (Bernoulli reconstruction + ``beta`` * KL); ``images`` uint8 or float in [0, 1]."""
        x = images.float() / 255 if images.dtype == torch.uint8 else images.float()
        logits, mu, logvar = self(x, labels)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        return rec + beta * kl

    @torch.no_grad()
    def sample(self, labels: Tensor, generator: Optional[torch.Generator] = None, temperature: float = 1.0) -> Tensor:
        """uint8 images ``(n, C, H, W)`` of the classes ``labels`` (n,); ``generator`` (CPU) fixes the draw."""
        labels = torch.as_tensor(labels).long().flatten()
        device = next(self.parameters()).device
        z = torch.randn(labels.numel(), self.latent_dim, generator=generator) * temperature
        was_training = self.training
        self.eval()
        try:
            probs = torch.sigmoid(self.decode(z.to(device), labels.to(device)))
        finally:
            self.train(was_training)
        return to_uint8(probs.cpu())


def train_vae(
    model: ConditionalVAE,
    images: Tensor,
    labels: Tensor,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
    max_steps: Optional[int] = None,
    log: Optional[Callable[[str], None]] = None,
) -> list[float]:
    """Trains ``model`` on uint8 ``images (N, C, H, W)`` and ``labels (N,)`` with Adam; returns the mean loss
    of each epoch. ``max_steps`` stops early (tests, smoke runs)."""
    if images.dim() != 4 or images.shape[0] != labels.numel() or images.shape[0] == 0:
        raise ValueError("train_vae: images (N, C, H, W) and labels (N,) with N > 0 expected")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history, steps = [], 0
    for epoch in range(epochs):
        order = torch.randperm(images.shape[0], generator=g)
        total, count = 0.0, 0
        for start in range(0, order.numel(), batch_size):
            idx = order[start : start + batch_size]
            loss = model.loss(images[idx], labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
            count += idx.numel()
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        history.append(total / max(1, count))
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.2f}")
        if max_steps is not None and steps >= max_steps:
            break
    model.eval()
    return history
