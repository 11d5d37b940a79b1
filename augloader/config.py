"""Image pipelines as YAML: :func:`from_config` builds one, :func:`to_config` / :func:`save_config` write one back.

The format (``configs/imagenet.yaml``)::

    pipeline:                                   # steps, in order: {Name: {argument: value}}
      - RandomResizedCrop: {size: 224}
      - RandomHorizontalFlip: {}                # or just: - RandomHorizontalFlip
      - RandomApply: {p: 0.5, transforms: [{GaussianBlur: {kernel_size: 5}}]}
      - Normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
    mix: {MixUpCutMix: {mixup_alpha: 0.8, cutmix_alpha: 1.0, num_classes: 10}}   # optional
    invariances: {vertical_flip: false}         # optional; given to Compose (label integrity checks)
    targets: {boxes_format: xyxy}               # optional; given to Compose (how boxes/masks/keypoints are read)

Names are the public transform classes of :mod:`augloader` and the image-side ones of
:mod:`augloader.advanced` (``FourierAmplitudeMix``, ``RandomStyle``; ``mix``: those of :mod:`augloader.mix`);
containers (``Compose``, ``RandomApply``, ``RandomChoice``, ``RandomOrder``) take a ``transforms:``
list of steps. Files are read with a bounded safe YAML loader only (see :mod:`augloader._config_read`:
files over 1 MiB, nesting over 100 levels, over 100,000 values counting alias expansions, and
self-referencing anchors are refused). Mistakes raise :class:`ConfigError` naming the place in the
file and, for unknown names, the closest valid one.

:func:`from_config` also reads audio and text configs (``configs/audio.yaml``, ``configs/text.yaml``)
and hands them to :func:`augloader.audio.load_audio_config` / :func:`augloader.text.load_text_config`'s
builder: a top-level ``kind: image | audio | text`` says which, else a ``collate`` key means audio and a
``text`` section (without ``pipeline``) means text.

Every transform records the arguments it was constructed with (see :mod:`augloader._init_args`), so
pipelines built in Python can be written as configs too; only the arguments given are written.
:func:`to_config` / :func:`save_config` also write audio and text configs back (with ``kind: audio`` /
``kind: text``), whether built from a config or in Python (audio and text transforms record their
arguments through the same hook, :mod:`augloader._protocol`).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import os
import tempfile
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Union

import torch
import yaml

from ._config_read import MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, MAX_CONFIG_NODES, ConfigError, read_config
from ._config_read import did_you_mean as _closest
from ._init_args import init_args, set_init_args
from ._repr import clip, short_repr
from .mix import MixUpCutMix
from .transforms import Compose, Transform

if TYPE_CHECKING:
    from .audio.config import AudioConfig

__all__ = [
    "ConfigError",
    "KINDS",
    "PipelineConfig",
    "from_config",
    "mix_classes",
    "save_config",
    "to_config",
    "transform_classes",
]

#: The keys a config file may have at the top level.
TOP_LEVEL_KEYS = ("kind", "pipeline", "mix", "invariances", "targets")
#: The values of the optional top-level ``kind`` key.
KINDS = ("image", "audio", "text")
Source = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass
class PipelineConfig:
    """A loaded config.

    Attributes:
        transform: the pipeline, a :class:`~augloader.Compose`; calling the config calls it.
        mix: the batch-level :class:`~augloader.MixUpCutMix` (or MixUp / CutMix), or None.
        invariances: the ``invariances`` mapping (also given to ``Compose(invariances=...)``).
        targets: the ``targets`` mapping (also given to ``Compose(targets=...)``).
        raw: the mapping that was read, for anything else a caller wants to look at.
    """

    transform: Compose
    mix: Optional[MixUpCutMix] = None
    invariances: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def __call__(self, batch: Any, **kwargs: Any) -> Any:
        """Runs :attr:`transform` (``params=`` and ``generator=`` are passed on)."""
        return self.transform(batch, **kwargs)


# ---- names -------------------------------------------------------------------------------------------
#: Public image-side transforms of :mod:`augloader.advanced` that a config cannot name, and why.
NOT_IN_CONFIGS: dict[str, str] = {
    "StyleNetworkAugment": "its style_net is an nn.Module; build it in Python",
}
#: Arguments a config cannot give (Python objects, not YAML values), by class name, and why.
PYTHON_ONLY_ARGS: dict[str, dict[str, str]] = {
    "FourierAmplitudeMix": {"style_bank": "a tensor of images; build the transform in Python to use a style bank"},
}


def transform_classes() -> dict[str, type]:
    """Every public transform class a ``pipeline`` step may name, by name.

    The public :class:`~augloader.Transform` subclasses of :mod:`augloader` and the image-side ones of
    :mod:`augloader.advanced` (``FourierAmplitudeMix``, ``RandomStyle``; not those in :data:`NOT_IN_CONFIGS`).
    """
    import augloader

    from . import advanced

    out = {}
    for module in (augloader, advanced):
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name, None)
            if (
                inspect.isclass(obj)
                and issubclass(obj, Transform)
                and obj is not Transform
                and name not in NOT_IN_CONFIGS
            ):
                out.setdefault(name, obj)
    return out


def mix_classes() -> dict[str, type]:
    """Every public mixing class of :mod:`augloader.mix` by name (what ``mix`` may use)."""
    from . import mix

    return {
        n: getattr(mix, n)
        for n in mix.__all__
        if inspect.isclass(getattr(mix, n)) and issubclass(getattr(mix, n), MixUpCutMix)
    }


@functools.lru_cache(maxsize=None)
def _accepted_args(cls: type) -> dict[str, inspect.Parameter]:
    """The keyword arguments ``cls`` takes, following ``**kwargs`` up the MRO (MixUp -> MixUpCutMix)."""
    params: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if klass in (torch.nn.Module, object):
            break
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        sig = inspect.signature(init)
        for name, p in list(sig.parameters.items())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                params.setdefault(name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    return params


# ---- building ----------------------------------------------------------------------------------------
def _split_step(step: Any, path: str) -> tuple[str, dict[str, Any]]:
    if isinstance(step, str):
        return step, {}
    if isinstance(step, Mapping) and len(step) == 1:
        name, args = next(iter(step.items()))
        if args is None:
            args = {}
        if not isinstance(name, str):
            raise ConfigError(f"{path}: a step name must be a string, got {type(name).__name__} {short_repr(name, 60)}")
        if not isinstance(args, Mapping):
            raise ConfigError(
                f"{path}.{name}: arguments must be a mapping {{name: value}}, got {type(args).__name__} {short_repr(args, 60)}"
            )
        return name, dict(args)
    raise ConfigError(
        f"{path}: a step must be 'Name' or {{Name: {{arguments}}}} (one name per step), got {short_repr(step)}"
    )


def _convert(name: str, value: Any) -> Any:
    """YAML spellings of Python values: a dtype may be written as ``float32``."""
    if name.endswith("dtype") and isinstance(value, str):
        dtype = getattr(torch, value.removeprefix("torch."), None)
        if isinstance(dtype, torch.dtype):
            return dtype
    return value


_SIMPLE = {int: "an int", float: "a number", bool: "true or false", str: "a string"}


@functools.lru_cache(maxsize=None)
def _simple_hints(cls: type) -> dict[str, tuple[type, bool]]:
    """``{argument: (int | float | bool | str, None allowed)}`` for arguments annotated with one plain type.

    An argument is taken from the most derived ``__init__`` that declares it.
    """
    out: dict[str, tuple[type, bool]] = {}
    seen: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass in (torch.nn.Module, object):
            continue
        declared = set(inspect.signature(init).parameters) - seen
        seen |= declared
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # annotations this Python cannot evaluate: leave checking to the transform
            continue
        for name in declared:
            hint = hints.get(name)
            options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
            simple = [t for t in options if t is not type(None)]
            if len(simple) == 1 and simple[0] in _SIMPLE:
                out[name] = (simple[0], type(None) in options)
    return out


def _check_simple_types(cls: type, args: dict[str, Any], where: str) -> None:
    """Rejects values of the wrong type for arguments annotated with a plain int, float, bool or str."""
    hints = _simple_hints(cls)
    for name, value in args.items():
        if name not in hints or (value is None and hints[name][1]):
            continue
        expected = hints[name][0]
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        ok = ok or (expected is float and isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            raise ConfigError(
                f"{where}: argument {name!r} must be {_SIMPLE[expected]}, got {type(value).__name__} {short_repr(value, 60)}"
            )


@functools.lru_cache(maxsize=None)
def _required_args(cls: type) -> tuple[str, ...]:
    """Required arguments of the class itself (parents get theirs from it)."""
    own = inspect.signature(cls).parameters
    return tuple(
        k for k, p in own.items() if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )


def _build(
    step: Any, path: str, registry: Mapping[str, type], kind: str, aliases: Optional[Mapping[str, type]] = None
) -> Any:
    """Builds one ``{Name: {arguments}}`` step of ``registry`` (or of ``aliases``: deprecated names, accepted
    but never suggested); every mistake is a :class:`ConfigError` naming ``path``."""
    name, args = _split_step(step, path)
    if kind == "transform" and name in NOT_IN_CONFIGS:
        raise ConfigError(f"{path}: {name} cannot be named in a config ({NOT_IN_CONFIGS[name]})")
    aliases = aliases or {}
    if name not in registry and name not in aliases:
        renamed = {old: getattr(c, "_deprecated_alias_of", c).__name__ for old, c in aliases.items()}
        raise ConfigError(
            f"{path}: unknown {kind} {short_repr(name, 60)}{_closest(name, registry, renamed)}"
            f"{_other_domain(name, kind)}"
        )
    named = registry[name] if name in registry else aliases[name]
    cls = getattr(named, "_deprecated_alias_of", named)  # a deprecated alias: read the new class's signature
    where = f"{path}.{name}"
    accepted = _accepted_args(cls)
    for key in args:
        if not isinstance(key, str):
            raise ConfigError(f"{where}: argument names must be strings, got {short_repr(key, 60)}")
        if key not in accepted:
            raise ConfigError(f"{where}: unknown argument {short_repr(key, 60)}{_closest(key, accepted)}")
        if key in PYTHON_ONLY_ARGS.get(name, {}):
            raise ConfigError(f"{where}: argument {key!r} cannot be given in a config ({PYTHON_ONLY_ARGS[name][key]})")
    missing = [k for k in _required_args(cls) if k not in args]
    if missing:
        raise ConfigError(f"{where}: missing required argument {missing[0]!r}")
    _check_simple_types(cls, args, where)
    kwargs = {k: _convert(k, v) for k, v in args.items()}
    if "transforms" in kwargs:
        steps = kwargs["transforms"]
        if isinstance(steps, (str, Mapping)) or not isinstance(steps, list) or not steps:
            raise ConfigError(f"{where}.transforms: must be a non-empty list of steps, got {short_repr(steps)}")
        kwargs["transforms"] = [
            _build(s, f"{where}.transforms[{i}]", registry, kind, aliases) for i, s in enumerate(steps)
        ]
    try:
        obj = named(**kwargs)  # a deprecated alias warns here
    except (TypeError, ValueError, KeyError) as err:
        raise ConfigError(f"{where}: {clip(str(err), 500)}") from err
    if init_args(obj) is None:  # classes without the recording hook (mixing)
        set_init_args(obj, kwargs)
    return obj


def _kind(spec: dict[str, Any], label: str) -> str:
    """Which loader a parsed config is for: its ``kind`` key, else guessed from its sections."""
    kind = spec.get("kind")
    if kind is not None:
        if kind not in KINDS:
            raise ConfigError(f"{label}: kind must be one of {', '.join(KINDS)}, got {short_repr(kind, 40)}")
        return kind
    if "collate" in spec:
        return "audio"
    if "text" in spec and "pipeline" not in spec:
        return "text"
    return "image"


def _check_image_keys(spec: dict[str, Any], label: str) -> None:
    for key in spec:
        if key not in TOP_LEVEL_KEYS:
            raise ConfigError(
                f"{label}: unknown top-level key {short_repr(key, 60)}{_closest(key, TOP_LEVEL_KEYS)} "
                f"(allowed: {', '.join(TOP_LEVEL_KEYS)}; audio configs add 'collate' or 'kind: audio', "
                "text configs have a 'text' section)"
            )
    if "pipeline" not in spec:
        raise ConfigError(f"{label}: a config needs a 'pipeline' list")


def _other_domain(name: Any, kind: str) -> str:
    """A hint when an image pipeline names an audio transform, or an audio pipeline an image one."""
    if not isinstance(name, str):
        return ""
    if kind == "audio transform":
        return (
            " (an image transform: audio configs take the transforms of augloader.audio)"
            if name in transform_classes()
            else ""
        )
    if kind != "transform":
        return ""
    from .audio.config import AUDIO_TRANSFORMS, DEPRECATED_AUDIO_TRANSFORMS

    return (
        " (an audio transform: add 'kind: audio' to the config)"
        if name in AUDIO_TRANSFORMS or name in DEPRECATED_AUDIO_TRANSFORMS
        else ""
    )


def _mapping(spec: dict[str, Any], key: str) -> dict[str, Any]:
    value = spec.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: must be a mapping, got {type(value).__name__} {short_repr(value, 60)}")
    return dict(value)


def _other_config(spec: dict[str, Any], kind: str, label: str) -> Union[AudioConfig, dict[str, Any]]:
    """Builds an audio or text config with its own loader; its errors become :class:`ConfigError`."""
    try:
        if kind == "audio":
            from .audio.config import load_audio_config

            return load_audio_config(spec)
        from .text.config import build_text_transforms

        extra = set(spec) - {"kind", "text"}
        if extra:
            raise ConfigError(
                f"{label}: a text config has a 'text' section (and optionally 'kind'), "
                f"got {short_repr(sorted(map(str, extra)), 200)}"
            )
        return build_text_transforms(spec.get("text") or {})
    except ConfigError:
        raise
    except (TypeError, ValueError, KeyError) as err:
        raise ConfigError(f"{label}: {clip(str(err), 500)}") from err


def from_config(
    source: Source,
    *,
    max_bytes: int = MAX_CONFIG_BYTES,
    max_nodes: int = MAX_CONFIG_NODES,
    max_depth: int = MAX_CONFIG_DEPTH,
) -> Union[PipelineConfig, AudioConfig, dict[str, Any]]:
    """Builds a pipeline from a YAML file (bounded safe YAML) or an already parsed mapping.

    Args:
        source: a path to a ``.yaml`` file, or a mapping in the same format.
        max_bytes: largest config file read (default 1 MiB).
        max_nodes: most values in the config, each alias counted at its expanded size (default 100,000).
        max_depth: deepest nesting of lists and mappings (default 100).

    Returns:
        For an image config (the default kind) a :class:`PipelineConfig`; ``config.transform`` is the
        :class:`~augloader.Compose`. For ``kind: audio`` (or a ``collate`` key) an
        :class:`~augloader.audio.AudioConfig`; for ``kind: text`` (or a ``text`` section) the dict of
        :func:`~augloader.text.build_text_transforms`.

    Raises:
        TypeError: ``source`` is neither a path nor a mapping.
        ConfigError: unreadable, oversized, non-UTF-8 or unsafe YAML, an unknown name or argument (with the
            closest valid one), a wrong type, or arguments a transform rejects; the message names the place.
    """
    spec, label = read_config(source, max_bytes=max_bytes, max_nodes=max_nodes, max_depth=max_depth)
    if not isinstance(spec, dict):
        raise ConfigError(f"{label}: a config must be a mapping with a 'pipeline' key, got {type(spec).__name__}")
    kind = _kind(spec, label)
    if kind != "image":
        return _other_config(spec, kind, label)
    _check_image_keys(spec, label)
    steps = spec["pipeline"]
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"pipeline: must be a non-empty list of steps, got {short_repr(steps)}")
    registry = transform_classes()
    transforms = [_build(s, f"pipeline[{i}]", registry, "transform") for i, s in enumerate(steps)]
    invariances, targets = _mapping(spec, "invariances"), _mapping(spec, "targets")
    accepted = _accepted_args(Compose)
    extra = {k: v for k, v in (("invariances", invariances), ("targets", targets)) if v and k in accepted}
    try:
        pipeline = Compose(transforms, **extra)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"pipeline: {clip(str(err), 500)}") from err
    mix = None
    if spec.get("mix") is not None:
        mix = _build(spec["mix"], "mix", mix_classes(), "mix")
    return PipelineConfig(pipeline, mix, invariances, targets, spec)


# ---- writing back ------------------------------------------------------------------------------------
def _value(value: Any, path: str) -> Any:
    if isinstance(value, (Transform, MixUpCutMix)):
        return _step(value, path)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.dtype):
        return str(value).removeprefix("torch.")
    if isinstance(value, os.PathLike):  # a file or folder (audio sounds, text caches) is written as its path
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return _value(value.value, path)
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): _value(v, f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _value(dataclasses.asdict(value), path)
    if isinstance(value, (list, tuple, torch.nn.ModuleList)):
        return [_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise ConfigError(f"{path}: cannot write a {type(value).__name__} to a config ({short_repr(value, 60)})")


def _step(obj: Any, path: str) -> dict[str, Any]:
    name = type(obj).__name__
    registry = mix_classes() if isinstance(obj, MixUpCutMix) else transform_classes()
    if name in NOT_IN_CONFIGS and not isinstance(obj, MixUpCutMix):
        raise ConfigError(f"{path}: {name} cannot be written to a config ({NOT_IN_CONFIGS[name]})")
    if registry.get(name) is not type(obj):
        raise ConfigError(f"{path}: {name} is not a public augloader class, so a config cannot name it")
    args = init_args(obj)
    if args is None:
        raise ConfigError(
            f"{path}: {name} has no recorded constructor arguments (build it with from_config to write it back)"
        )
    if any(k.startswith("*") for k in args):
        raise ConfigError(f"{path}.{name}: positional-only arguments cannot be written to a config")
    for key, why in PYTHON_ONLY_ARGS.get(name, {}).items():
        if args.get(key) is not None:
            raise ConfigError(f"{path}.{name}: argument {key!r} cannot be written to a config ({why})")
    return {name: {k: _value(v, f"{path}.{name}.{k}") for k, v in args.items()}}


def _other_to_config(obj: Any) -> dict[str, Any]:
    """Audio and text configs: written by their own modules, with ``kind:`` so from_config reads them back."""
    from .audio.base import AudioTransform
    from .audio.config import AudioConfig, audio_to_config
    from .text.backtranslation import BackTranslation
    from .text.config import text_to_config
    from .text.eda import EDA

    if isinstance(obj, (AudioConfig, AudioTransform)):
        return audio_to_config(obj)
    if isinstance(obj, (EDA, BackTranslation)) or (
        isinstance(obj, Mapping) and obj and all(isinstance(v, (EDA, BackTranslation)) for v in obj.values())
    ):
        return text_to_config(obj)
    raise ConfigError(
        "to_config takes a PipelineConfig or an augloader Transform, an AudioConfig or audio transform, "
        f"or the text transforms a text config built; got {type(obj).__name__}"
    )


def to_config(obj: Any) -> dict[str, Any]:
    """The config mapping that rebuilds ``obj``, in the format :func:`from_config` reads.

    Image: a :class:`PipelineConfig` or any transform. A top-level :class:`~augloader.Compose` becomes
    the ``pipeline`` list (its ``invariances``, if any, the ``invariances`` key); another transform
    becomes a one-step pipeline. Only arguments that were given are written, so
    ``to_config(from_config(d))`` gives back ``d`` in its canonical form (each step as
    ``{Name: {arguments}}``).

    Audio: an :class:`~augloader.audio.AudioConfig`, :class:`~augloader.audio.AudioCompose` or audio
    transform built from a config gives ``{kind: audio, pipeline: [...], collate: {...}}``. Text: the
    dict of transforms a text config built (or one of them) gives ``{kind: text, text: {...}}``.

    Raises:
        ConfigError: a transform that is not a public augloader class, one without recorded arguments,
            or an argument YAML cannot hold.
    """
    if isinstance(obj, PipelineConfig):
        out = to_config(obj.transform)
        if obj.mix is not None:
            out["mix"] = _step(obj.mix, "mix")
        for key in ("invariances", "targets"):
            if getattr(obj, key):
                out[key] = _value(getattr(obj, key), key)
        return out
    if not isinstance(obj, Transform):
        return _other_to_config(obj)
    if type(obj) is Compose and init_args(obj) is not None:
        args = init_args(obj)
        steps = [_value(t, f"pipeline[{i}]") for i, t in enumerate(args.pop("transforms"))]
        out: dict[str, Any] = {"pipeline": steps}
        for key in ("invariances", "targets"):
            value = args.pop(key, None)
            if value:
                out[key] = _value(value, key)
        if args:
            raise ConfigError(f"pipeline: Compose arguments {sorted(args)} have no place in a config")
        return out
    return {"pipeline": [_step(obj, "pipeline[0]")]}


def save_config(obj: Any, path: Union[str, "os.PathLike[str]"]) -> Path:
    """Writes ``to_config(obj)`` (image, audio or text) as YAML to ``path`` (atomically) and returns the path."""
    text = yaml.safe_dump(to_config(obj), sort_keys=False, default_flow_style=None, width=100)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
