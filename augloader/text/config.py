"""Build text transforms from a plain dict (e.g. the ``text:`` section of ``configs/text.yaml``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .apertium import ApertiumTranslator
from .backtranslation import BackTranslation
from .eda import EDA
from .thesaurus import ThesaurusSource

__all__ = ["build_text_transforms", "load_text_config"]

_EDA_KEYS = {"alpha_sr", "alpha_ri", "alpha_rs", "p_rd", "num_aug", "protected", "stopwords", "seed"}
_BT_KEYS = {"backend", "source", "pivot", "cache", "p", "batch_size", "timeout", "seed", "executable", "on_miss"}


def _section(cfg: Mapping[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    sec = cfg.get(name) or {}
    if not isinstance(sec, Mapping):
        raise TypeError(f"text config section {name!r} must be a mapping, got {type(sec).__name__}")
    unknown = set(sec) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in text config section {name!r}; allowed: {sorted(allowed)}")
    return dict(sec)


def _thesaurus(cfg: Mapping[str, Any]) -> ThesaurusSource:
    th = cfg.get("thesaurus", "mythes")
    if isinstance(th, Mapping):
        if set(th) - {"source", "path"}:
            raise ValueError(f"thesaurus config takes 'source' and 'path', got {sorted(th)}")
        return th.get("path") or th.get("source", "mythes")
    return th


def build_text_transforms(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Create the transforms a text config describes.

    Args:
        cfg: A mapping with optional ``thesaurus`` (``"mythes"``, ``"wordnet"``, a path, or
            ``{source, path}``), ``eda`` (EDA keyword arguments) and ``back_translation``
            (``backend: apertium``, ``source``, ``pivot``, ``cache``, ``p``, ``batch_size``,
            ``timeout``, ``executable``, ``on_miss``, ``seed``) sections.

    Returns:
        ``{"eda": EDA, "back_translation": BackTranslation}`` for the sections present.

    Raises:
        ValueError: Unknown keys or an unsupported backend.
    """
    if not isinstance(cfg, Mapping):
        raise TypeError(f"text config must be a mapping, got {type(cfg).__name__}")
    unknown = set(cfg) - {"thesaurus", "eda", "back_translation"}
    if unknown:
        raise ValueError(f"unknown text config sections {sorted(unknown)}")
    out: dict[str, Any] = {}
    if cfg.get("eda") is not None:
        out["eda"] = EDA(thesaurus=_thesaurus(cfg), **_section(cfg, "eda", _EDA_KEYS))
    if cfg.get("back_translation") is not None:
        bt = _section(cfg, "back_translation", _BT_KEYS)
        backend = bt.pop("backend", "apertium")
        if backend != "apertium":
            raise ValueError(f"unsupported back_translation backend {backend!r}; only 'apertium' is configurable")
        translator = ApertiumTranslator(executable=bt.pop("executable", "apertium"), timeout=bt.pop("timeout", 300.0))
        cache = bt.pop("cache", None)
        if isinstance(cache, str):
            cache = os.path.expanduser(cache)
        out["back_translation"] = BackTranslation(translator, cache=cache, **bt)
    return out


def load_text_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML file and build the transforms of its ``text:`` section."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, Mapping) or "text" not in data:
        raise ValueError(f"{os.fspath(path)!r} has no top-level 'text:' section")
    return build_text_transforms(data["text"])
