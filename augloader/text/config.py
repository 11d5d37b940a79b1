"""Build text transforms from a plain dict (e.g. the ``text:`` section of ``configs/text.yaml``).

:func:`augloader.from_config` reads text configs too (``kind: text`` or a ``text`` section), and
:func:`augloader.to_config` / :func:`augloader.save_config` write the built transforms back (with
``kind: text``) via :func:`text_to_config`: each transform records the section it was built from, so
only transforms built from a config can be written back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .._config_read import MAX_CONFIG_BYTES, ConfigError, read_config
from .._init_args import init_args, set_init_args
from .._repr import short_repr
from .apertium import ApertiumTranslator
from .backtranslation import BackTranslation
from .eda import EDA
from .thesaurus import ThesaurusSource

__all__ = ["SECTIONS", "build_text_transforms", "load_text_config", "text_to_config"]

#: The sections of a text config, in the order they are written.
SECTIONS = ("thesaurus", "eda", "back_translation")

_EDA_KEYS = {"alpha_sr", "alpha_ri", "alpha_rs", "p_rd", "num_aug", "protected", "stopwords", "seed"}
_BT_KEYS = {"backend", "source", "pivot", "cache", "p", "batch_size", "timeout", "seed", "executable", "on_miss"}


def _section(cfg: Mapping[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    sec = cfg.get(name) or {}
    if not isinstance(sec, Mapping):
        raise TypeError(f"text config section {name!r} must be a mapping, got {type(sec).__name__}")
    unknown = set(sec) - allowed
    if unknown:
        raise ValueError(
            f"unknown keys {short_repr(sorted(map(str, unknown)), 200)} in text config section {name!r}; "
            f"allowed: {sorted(allowed)}"
        )
    return dict(sec)


def _thesaurus(cfg: Mapping[str, Any]) -> ThesaurusSource:
    th = cfg.get("thesaurus", "mythes")
    if isinstance(th, Mapping):
        if set(th) - {"source", "path"}:
            raise ValueError(f"thesaurus config takes 'source' and 'path', got {short_repr(sorted(map(str, th)), 200)}")
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
        raise ValueError(
            f"unknown text config sections {short_repr(sorted(map(str, unknown)), 200)}; "
            "allowed: back_translation, eda, thesaurus"
        )
    out: dict[str, Any] = {}
    if cfg.get("eda") is not None:
        eda = _section(cfg, "eda", _EDA_KEYS)
        out["eda"] = EDA(thesaurus=_thesaurus(cfg), **eda)
        recorded = {"thesaurus": cfg["thesaurus"]} if "thesaurus" in cfg else {}
        set_init_args(out["eda"], {**recorded, "eda": eda})  # the sections it came from, for to_config
    if cfg.get("back_translation") is not None:
        bt = _section(cfg, "back_translation", _BT_KEYS)
        section = dict(bt)
        backend = bt.pop("backend", "apertium")
        if backend != "apertium":
            raise ValueError(
                f"unsupported back_translation backend {short_repr(backend, 60)}; only 'apertium' is configurable"
            )
        translator = ApertiumTranslator(executable=bt.pop("executable", "apertium"), timeout=bt.pop("timeout", 300.0))
        cache = bt.pop("cache", None)
        if isinstance(cache, str):
            cache = os.path.expanduser(cache)
        out["back_translation"] = BackTranslation(translator, cache=cache, **bt)
        set_init_args(out["back_translation"], {"back_translation": section})
    return out


def load_text_config(path: str | os.PathLike[str], *, max_bytes: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """Read a YAML file and build the transforms of its ``text:`` section.

    The file is read as :func:`augloader.from_config` reads configs (bounded safe YAML: size, depth
    and alias-expansion caps, UTF-8 only).

    Raises:
        TypeError: ``path`` is not a path.
        ConfigError: (a ``ValueError``) the file cannot be read or has no ``text:`` section.
    """
    if isinstance(path, Mapping) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"load_text_config takes a path (str or os.PathLike), got {type(path).__name__}; "
            "use build_text_transforms for a mapping"
        )
    data, label = read_config(path, max_bytes=max_bytes)
    data = data or {}
    if not isinstance(data, Mapping) or "text" not in data:
        raise ConfigError(f"{label!r} has no top-level 'text:' section")
    if data.get("kind", "text") != "text":
        raise ConfigError(
            f"{label}: kind is {short_repr(data['kind'], 40)}, not 'text'; load it with augloader.from_config"
        )
    return build_text_transforms(data["text"])


def text_to_config(built: Any) -> dict[str, Any]:
    """The config mapping (``kind: text`` and a ``text`` section) that rebuilds ``built``.

    ``built`` is what :func:`build_text_transforms` / :func:`augloader.from_config` returned (a dict with
    ``eda`` and/or ``back_translation``), or one :class:`EDA` / :class:`BackTranslation` it built.

    Raises:
        ConfigError: another object, or a transform built in Python (no recorded section).
    """
    from ..config import _value  # (augloader.config imports this module lazily)

    if isinstance(built, (EDA, BackTranslation)):
        built = {"eda" if isinstance(built, EDA) else "back_translation": built}
    if not isinstance(built, Mapping) or not built or set(built) - {"eda", "back_translation"}:
        raise ConfigError(
            "to_config takes the dict of text transforms a text config built ({'eda': EDA, "
            f"'back_translation': BackTranslation}}), got {short_repr(built, 100)}"
        )
    sections: dict[str, Any] = {}
    for key, obj in built.items():
        cls = EDA if key == "eda" else BackTranslation
        if not isinstance(obj, cls):
            raise ConfigError(f"text.{key}: must be a {cls.__name__}, got {type(obj).__name__}")
        recorded = init_args(obj)
        if recorded is None:
            raise ConfigError(
                f"text.{key}: {cls.__name__} has no recorded config section (build it with from_config to write it back)"
            )
        sections.update(recorded)
    text = {k: _value(sections[k], f"text.{k}") for k in SECTIONS if k in sections}
    return {"kind": "text", "text": text}
