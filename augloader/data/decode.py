"""Decoding one sample to the uint8 ``(C, H, W)`` tensor the batch stage expects."""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Mapping, Optional

import numpy as np
import torch
from torch import Tensor


def to_image_tensor(image: Any) -> Tensor:
    """A PIL image, an ``(H, W, C)``/``(H, W)`` uint8 array, a ``(C, H, W)``/``(H, W)`` tensor, an image
    file path, encoded bytes or a :class:`~augloader.data.lazy.LazyImage` as ``(C, H, W)``.

    PIL images and files decode into ``(H, W, C)`` memory seen as ``(C, H, W)`` (no transposing copy;
    call ``.contiguous()`` where a plain layout is needed).

    Shape:
        PIL / numpy ``(H, W[, C])`` -> ``(C, H, W)`` uint8; tensors keep their dtype.
    """
    from .lazy import LazyImage, array_to_chw

    if isinstance(image, (str, os.PathLike, bytes, bytearray)):
        image = LazyImage.open(image)
    if isinstance(image, LazyImage):
        return image.decode()
    if isinstance(image, Tensor):
        if image.dim() == 2:
            return image.unsqueeze(0)
        if image.dim() != 3:
            raise ValueError(f"an image tensor must be (C, H, W) or (H, W), got shape {tuple(image.shape)}")
        return image
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise TypeError(f"numpy images must be uint8 (H, W, C), got dtype {image.dtype}; convert before wrapping")
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3:
            raise ValueError(f"a numpy image must be (H, W, C) or (H, W), got shape {image.shape}")
        if not image.flags.writeable or any(st < 0 for st in image.strides):
            # torch warns on read-only arrays and refuses negative strides (``img[..., ::-1]``, BGR to
            # RGB); the permute below copies anyway.
            image = np.ascontiguousarray(image) if image.flags.writeable else image.copy()
        return torch.from_numpy(image).permute(2, 0, 1).contiguous()
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow ships with torchvision
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGB")
        return array_to_chw(np.array(image))  # one writable copy, no transposing copy
    raise TypeError(
        f"cannot decode a {type(image).__name__} as an image (use a PIL image, numpy uint8 array or tensor)"
    )


def to_audio_tensor(clip: Any) -> Tensor:
    """A waveform as a float ``(C, T)`` tensor: ``(T,)``/``(C, T)`` tensors or float numpy arrays.

    Shape:
        ``(T,)`` or ``(C, T)`` -> ``(C, T)``.
    """
    if isinstance(clip, np.ndarray):
        if not np.issubdtype(clip.dtype, np.floating):
            raise TypeError(f"numpy waveforms must be float, got dtype {clip.dtype}")
        clip = torch.from_numpy(np.ascontiguousarray(clip))
    if not isinstance(clip, Tensor):
        raise TypeError(f"cannot decode a {type(clip).__name__} as a waveform (use a float tensor or numpy array)")
    if not clip.is_floating_point():
        raise TypeError(f"waveforms must be float tensors, got dtype {clip.dtype}")
    if clip.dim() == 1:
        return clip.unsqueeze(0)
    if clip.dim() != 2:
        raise ValueError(f"a waveform must be (T,) or (C, T), got shape {tuple(clip.shape)}")
    return clip


def to_text(text: Any) -> str:
    """A sample's text, checked: text transforms take ``str``."""
    if not isinstance(text, str):
        raise TypeError(f"a text sample must be a str, got {type(text).__name__}")
    return text


#: What each kind of data is called in a sample dict, and how one sample is decoded.
DECODERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "image": ("image", to_image_tensor),
    "audio": ("audio", to_audio_tensor),
    "text": ("text", to_text),
}


def decoder(kind: str) -> tuple[str, Callable[[Any], Any]]:
    """``(dict key, decode function)`` for ``kind`` (``"image"``, ``"audio"`` or ``"text"``)."""
    if kind not in DECODERS:
        raise ValueError(f"kind must be one of {sorted(DECODERS)}, got {kind!r}")
    return DECODERS[kind]


def split_sample(sample: Any, key: str = "image") -> tuple[Any, Callable[[Any], Any]]:
    """The image (or ``key``) of a sample and a function that puts a new one back in the same structure.

    A sample is an image, a tuple/list ``(image, target, ...)`` or a dict with an ``image`` (``key``) key.
    """
    if isinstance(sample, Mapping):
        if key not in sample:
            raise KeyError(f"sample dict has no {key!r} key (keys: {sorted(sample)})")
        return sample[key], lambda img: {**sample, key: img}
    if isinstance(sample, (tuple, list)):
        if not sample:
            raise ValueError("got an empty tuple as a sample")
        return sample[0], lambda img: (img, *sample[1:])
    return sample, lambda img: img


def takes_generator(fn: Any) -> bool:
    """True when ``fn`` accepts a ``generator=`` keyword (augloader transforms do)."""
    target = getattr(fn, "forward", fn)  # nn.Module.__call__ hides forward's signature
    try:
        return "generator" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def call_transform(fn: Any, batch: Any, generator: Optional[torch.Generator], gen_ok: bool) -> Any:
    return fn(batch, generator=generator) if gen_ok else fn(batch)
