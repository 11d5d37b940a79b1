"""Build text transforms from a plain dict (e.g. the ``text:`` section of ``configs/text.yaml``).

:func:`augloader.from_config` reads text configs too (``kind: text`` or a ``text`` section), and
:func:`augloader.to_config` / :func:`augloader.save_config` write the built transforms back (with
``kind: text``) via :func:`text_to_config`: each transform records the section it was built from, so
only transforms built from a config can be written back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .._config_read import MAX_CONFIG_BYTES, ConfigError, did_you_mean, read_config
from .._init_args import init_args, set_init_args
from .._repr import clip, short_repr
from .apertium import ApertiumTranslator
from .backtranslation import BackTranslation
from .eda import EDA
from .thesaurus import ThesaurusSource

__all__ = ["SECTIONS", "build_text_transforms", "load_text_config", "text_to_config"]

#: The sections of a text config, in the order they are written.
SECTIONS = ("thesaurus", "eda", "back_translation")

_EDA_KEYS = ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd", "num_aug", "protected", "stopwords", "seed")
_BT_KEYS = ("backend", "source", "pivot", "cache", "p", "batch_size", "timeout", "seed", "executable", "on_miss")
_TRANSLATOR_KEYS = ("executable", "timeout")  # given to ApertiumTranslator, the rest to BackTranslation
_THESAURUS_KEYS = ("source", "path")


def _section(cfg: Mapping[str, Any], name: str, allowed: tuple[str, ...], path: str) -> dict[str, Any]:
    """The section ``name`` as a dict, after refusing a non-mapping or an unknown key (with the closest one)."""
    sec = cfg.get(name) or {}
    where = f"{path}.{name}"
    if not isinstance(sec, Mapping):
        raise ConfigError(
            f"{where}: arguments must be a mapping {{name: value}}, got {type(sec).__name__} {short_repr(sec, 60)}"
        )
    for key in sec:
        if not isinstance(key, str):
            raise ConfigError(f"{where}: argument names must be strings, got {short_repr(key, 60)}")
        if key not in allowed:
            raise ConfigError(f"{where}: unknown argument {short_repr(key, 60)}{did_you_mean(key, allowed)}")
    return dict(sec)


def _thesaurus(cfg: Mapping[str, Any], path: str) -> ThesaurusSource:
    th = cfg.get("thesaurus", "mythes")
    if isinstance(th, Mapping):
        th = _section(cfg, "thesaurus", _THESAURUS_KEYS, path)
        return th.get("path") or th.get("source", "mythes")
    return th


def _construct(where: str, cls: Callable[..., Any], **kwargs: Any) -> Any:
    """``cls(**kwargs)``, its argument errors (and a missing data file) raised as :class:`ConfigError` at ``where``."""
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, KeyError, FileNotFoundError) as err:
        raise ConfigError(f"{where}: {clip(str(err), 500)}") from err


def build_text_transforms(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Create the transforms a text config describes.

    Mistakes are reported as image configs report them (:func:`augloader.from_config`): a
    :class:`~augloader.config.ConfigError` naming the place (``text.eda``), with the closest valid name
    for an unknown section or argument, and a type check of plain int, float, bool and str arguments.

    Args:
        cfg: A mapping with optional ``thesaurus`` (``"mythes"``, ``"wordnet"``, a path, or
            ``{source, path}``), ``eda`` (EDA keyword arguments) and ``back_translation``
            (``backend: apertium``, ``source``, ``pivot``, ``cache``, ``p``, ``batch_size``,
            ``timeout``, ``executable``, ``on_miss``, ``seed``) sections.

    Returns:
        ``{"eda": EDA, "back_translation": BackTranslation}`` for the sections present.

    Raises:
        ConfigError: (a ``ValueError``) an unknown section or key, a wrongly typed value, an unsupported
            backend, or a value a transform rejects.
    """
    from ..config import _check_simple_types  # (augloader.config imports this module lazily)

    path = "text"
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"{path}: must be a mapping of sections, got {type(cfg).__name__} {short_repr(cfg, 60)}")
    for key in cfg:
        if key not in SECTIONS:
            raise ConfigError(
                f"{path}: unknown section {short_repr(key, 60)}{did_you_mean(key, SECTIONS)} "
                f"(a text config has: {', '.join(SECTIONS)})"
            )
    out: dict[str, Any] = {}
    if cfg.get("eda") is not None:
        eda = _section(cfg, "eda", _EDA_KEYS, path)
        _check_simple_types(EDA, eda, f"{path}.eda")
        out["eda"] = _construct(f"{path}.eda", EDA, thesaurus=_thesaurus(cfg, path), **eda)
        recorded = {"thesaurus": cfg["thesaurus"]} if "thesaurus" in cfg else {}
        set_init_args(out["eda"], {**recorded, "eda": eda})  # the sections it came from, for to_config
    if cfg.get("back_translation") is not None:
        where = f"{path}.back_translation"
        bt = _section(cfg, "back_translation", _BT_KEYS, path)
        section = dict(bt)
        backend = bt.pop("backend", "apertium")
        if backend != "apertium":
            raise ConfigError(
                f"{where}: unsupported backend {short_repr(backend, 60)}; only 'apertium' is configurable"
            )
        translator_args = {k: bt.pop(k) for k in _TRANSLATOR_KEYS if k in bt}
        _check_simple_types(ApertiumTranslator, translator_args, where)
        _check_simple_types(BackTranslation, bt, where)
        translator = _construct(where, ApertiumTranslator, **translator_args)
        if isinstance(bt.get("cache"), str):
            bt["cache"] = os.path.expanduser(bt["cache"])
        out["back_translation"] = _construct(where, BackTranslation, translator=translator, **bt)
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
