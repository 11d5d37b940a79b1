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
from .._init_args import init_args
from .._repr import clip, short_repr
from .apertium import ApertiumTranslator
from .backtranslation import BackTranslation
from .cache import TranslationCache
from .eda import EDA
from .thesaurus import ThesaurusSource

__all__ = ["SECTIONS", "build_text_transforms", "load_text_config", "text_to_config"]

#: The sections of a text config, in the order they are written.
SECTIONS = ("thesaurus", "eda", "back_translation")

_EDA_KEYS = ("alpha_sr", "alpha_ri", "alpha_rs", "p_rd", "num_aug", "protected", "stopwords", "seed")
_BT_KEYS = ("backend", "source", "pivot", "cache", "p", "batch_size", "timeout", "seed", "executable", "on_miss")
_TRANSLATOR_KEYS = ("executable", "timeout")  # given to ApertiumTranslator, the rest to BackTranslation
_THESAURUS_KEYS = ("source", "path")
_SECTIONS_ATTR = "_text_config_sections"  # the sections a transform was built from, when built from a config


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
        _record_sections(out["eda"], {**recorded, "eda": eda})  # the sections it came from, for to_config
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
        _record_sections(out["back_translation"], {"back_translation": section})
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


def _record_sections(obj: Any, sections: dict[str, Any]) -> None:
    """Keeps the config sections ``obj`` was built from (as written: ``~`` paths, thesaurus mappings)."""
    object.__setattr__(obj, _SECTIONS_ATTR, sections)


def _plain(value: Any) -> Any:
    """Sets (of stopwords, protected words) as sorted lists, which YAML can hold."""
    return sorted(value) if isinstance(value, (set, frozenset)) else value


def _python_only(args: dict[str, Any], names: tuple[str, ...], where: str) -> None:
    for name in names:
        if args.pop(name, None) is not None:
            raise ConfigError(
                f"{where}: argument {name!r} is a Python object a config cannot hold; build the transform without it"
            )


def _eda_sections(args: dict[str, Any]) -> dict[str, Any]:
    """The ``thesaurus`` and ``eda`` sections of an :class:`EDA` built in Python, from its constructor arguments."""
    where, out = "text.eda", {}
    thesaurus = args.pop("thesaurus", None)
    if thesaurus is not None:
        if not isinstance(thesaurus, (str, os.PathLike)):
            raise ConfigError(
                f"{where}: argument 'thesaurus' is a {type(thesaurus).__name__}; a config names 'mythes', "
                "'wordnet' or a path"
            )
        out["thesaurus"] = os.fspath(thesaurus)
    _python_only(args, ("pos_tagger", "rng"), where)
    out["eda"] = {k: _plain(v) for k, v in args.items()}
    return out


def _back_translation_section(args: dict[str, Any]) -> dict[str, Any]:
    """The ``back_translation`` section of a :class:`BackTranslation` built in Python."""
    where = "text.back_translation"
    translator = args.pop("translator", None)
    translator_args = init_args(translator) if isinstance(translator, ApertiumTranslator) else None
    if translator_args is None:
        raise ConfigError(
            f"{where}: only an ApertiumTranslator (backend: apertium) can be written to a config, "
            f"got {type(translator).__name__}"
        )
    extra = sorted(set(translator_args) - set(_TRANSLATOR_KEYS))
    if extra:
        raise ConfigError(f"{where}: ApertiumTranslator arguments {extra} have no place in a config")
    _python_only(args, ("rng",), where)
    cache = args.get("cache")
    if isinstance(cache, TranslationCache):
        args["cache"] = cache.path
    elif isinstance(cache, os.PathLike):
        args["cache"] = os.fspath(cache)
    return {"back_translation": {**translator_args, **args}}


def text_to_config(built: Any) -> dict[str, Any]:
    """The config mapping (``kind: text`` and a ``text`` section) that rebuilds ``built``.

    ``built`` is what :func:`build_text_transforms` / :func:`augloader.from_config` returned (a dict with
    ``eda`` and/or ``back_translation``), or one :class:`EDA` / :class:`BackTranslation`. Transforms built
    from a config are written as their sections were; those built in Python from their recorded
    constructor arguments (only those given), as long as a config can hold them.

    Raises:
        ConfigError: another object, or an argument a config cannot hold (a ``rng``, a POS tagger, a
            thesaurus object, a translator other than :class:`ApertiumTranslator`).
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
        recorded = obj.__dict__.get(_SECTIONS_ATTR)
        if recorded is None:
            args = init_args(obj)
            if args is None:
                raise ConfigError(f"text.{key}: {cls.__name__} has no recorded constructor arguments")
            recorded = _eda_sections(args) if key == "eda" else _back_translation_section(args)
        sections.update(recorded)
    text = {k: _value(sections[k], f"text.{k}") for k in SECTIONS if k in sections}
    return {"kind": "text", "text": text}
