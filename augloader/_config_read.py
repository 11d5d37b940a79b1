"""Reading config sources with bounds: the one reader behind image, audio and text configs.

A config is a YAML file (read with a bounded ``yaml.SafeLoader``: no Python tags) or an already
parsed mapping. Whatever a config author writes, reading it finishes fast or raises
:class:`ConfigError` naming the source:

- files over ``max_bytes`` (default 1 MiB) are refused before they are parsed;
- files that are not UTF-8 are refused with the byte offset;
- nesting deeper than ``max_depth`` (default 100) is refused instead of a ``RecursionError``;
- more than ``max_nodes`` values (default 100,000) *counting every alias expansion* is refused, so
  nested anchors ("billion laughs") cannot make the config, or any message quoting it, huge;
- an anchor used inside itself, or a mapping that contains itself, is refused.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping
from typing import Any, Optional, Union

import yaml

from ._repr import clip, short_repr

__all__ = [
    "ConfigError",
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_NODES",
    "check_tree",
    "did_you_mean",
    "read_config",
]

#: Largest config file read, in bytes (``max_bytes=`` raises it).
MAX_CONFIG_BYTES = 1 << 20
#: Deepest nesting of lists and mappings accepted.
MAX_CONFIG_DEPTH = 100
#: Most values (scalars, lists, mappings) accepted, each alias counted as everything it stands for.
MAX_CONFIG_NODES = 100_000

Source = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class ConfigError(ValueError):
    """A config that cannot be read or built; the message names the place in the file."""


ConfigError.__module__ = "augloader.config"  # where users import it from


def did_you_mean(name: Any, choices: Any, renamed: Optional[Mapping[str, str]] = None) -> str:
    """``"; did you mean 'X'?"`` for the valid choice closest to ``name``, or ``""`` (image, audio and text configs).

    ``renamed`` maps deprecated names to their new ones: a name close to an old one suggests the new one.
    Names that are not strings, or longer than 100 characters, get no suggestion (a bounded message).
    """
    if not isinstance(name, str) or len(name) > 100:
        return ""
    match = difflib.get_close_matches(name, sorted(map(str, choices)), n=1)
    if not match and renamed:
        match = [renamed[m] for m in difflib.get_close_matches(name, sorted(renamed), n=1)]
    return f"; did you mean {match[0]!r}?" if match else ""


def _line(mark: Any) -> str:
    return f"line {mark.line + 1}" if mark is not None else "somewhere"


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts values (aliases at their expanded size) and nesting while composing."""

    def __init__(self, stream: str, label: str, max_nodes: int, max_depth: int) -> None:
        super().__init__(stream)
        self.label, self.max_nodes, self.max_depth = label, max_nodes, max_depth
        self.total = 0  # values so far, aliases expanded
        self.depth = 0
        self.sizes: dict[int, int] = {}  # id(node) -> its expanded size, once composed

    def _add(self, count: int, mark: Any) -> None:
        self.total += count
        if self.total > self.max_nodes:
            raise ConfigError(
                f"{self.label}: {_line(mark)}: more than {self.max_nodes:,} values once aliases are expanded "
                f"(nested anchors and aliases?); pass max_nodes= to allow a larger config"
            )

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:  # an undefined alias is left to yaml's own error
                size = self.sizes.get(id(node))
                if size is None:
                    raise ConfigError(
                        f"{self.label}: {_line(event.start_mark)}: alias *{event.anchor} is used inside "
                        f"its own anchor &{event.anchor} (a config cannot refer to itself)"
                    )
                self._add(size, event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        self.depth += 1
        if self.depth > self.max_depth:
            raise ConfigError(f"{self.label}: {_line(mark)}: nested deeper than {self.max_depth} levels")
        before = self.total
        self._add(1, mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        self.sizes[id(node)] = self.total - before
        return node


_BLANKS = {ord(" "): None, ord("\t"): None}


def _parse(text: str, label: str, max_nodes: int, max_depth: int) -> Any:
    # A run of opening brackets is refused before yaml's scanner, which looks ~1,000 characters ahead
    # at every bracket (half a second on "[[[[..."); the loader below catches every other deep nesting.
    # Spaces and tabs are dropped first, and a run is only tried from its first bracket: linear time.
    compact = text.translate(_BLANKS)
    run = re.search(r"(?<![\[{])[\[{]{%d}" % (max_depth + 1), compact)
    if run is not None:
        line = compact.count("\n", 0, run.start()) + 1
        raise ConfigError(f"{label}: line {line}: nested deeper than {max_depth} levels")
    loader = _BoundedLoader(text, label, max_nodes, max_depth)
    loader.name = label  # yaml's messages say where: in "<label>", line 3
    try:
        return loader.get_single_data()
    except yaml.constructor.ConstructorError as err:  # python/object tags land here: the safe loader refuses them
        raise ConfigError(f"{label}: not valid safe YAML (Python tags are refused): {clip(str(err), 1000)}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{label}: not valid YAML: {clip(str(err), 1000)}") from err
    finally:
        loader.dispose()


def check_tree(
    value: Any, label: str = "config", max_nodes: int = MAX_CONFIG_NODES, max_depth: int = MAX_CONFIG_DEPTH
) -> None:
    """Refuses a parsed config that contains itself, nests too deep or has too many values.

    Shared sub-objects count once per place they appear, as an alias does in YAML.

    Raises:
        ConfigError: naming the place (``config.pipeline[0]...``) and the bound.
    """
    count = 1  # the root
    on_path: set[int] = set()
    where: list[str] = []
    containers = (Mapping, list, tuple, set, frozenset)

    def place() -> str:
        return clip(label + "".join(where), 160)

    def walk(node: Any, depth: int) -> None:
        nonlocal count
        if depth >= max_depth:
            raise ConfigError(f"{place()}: nested deeper than {max_depth} levels")
        if id(node) in on_path:
            raise ConfigError(f"{place()}: contains itself (a config cannot refer to itself)")
        if isinstance(node, Mapping):
            count += 2 * len(node)
            items: Any = (
                (f"[{short_repr(k, 40)}]", c) for k, v in node.items() for c in (k, v) if isinstance(c, containers)
            )
        else:
            count += len(node)
            items = ((f"[{i}]", c) for i, c in enumerate(node) if isinstance(c, containers))
        if count > max_nodes:
            raise ConfigError(
                f"{place()}: more than {max_nodes:,} values, counting each shared object at every place "
                "it appears; pass max_nodes= to allow a larger config"
            )
        on_path.add(id(node))
        for key, child in items:
            where.append(key)
            walk(child, depth + 1)
            where.pop()
        on_path.discard(id(node))

    if isinstance(value, containers):
        walk(value, 0)


def read_config(
    source: Any,
    *,
    max_bytes: int = MAX_CONFIG_BYTES,
    max_nodes: int = MAX_CONFIG_NODES,
    max_depth: int = MAX_CONFIG_DEPTH,
) -> tuple[Any, str]:
    """Reads a config file (bounded safe YAML) or copies a parsed mapping, after checking its bounds.

    Args:
        source: a path (``str`` or ``os.PathLike``) or a mapping.
        max_bytes: largest file read.
        max_nodes: most values, aliases counted at their expanded size.
        max_depth: deepest nesting.

    Returns:
        ``(data, label)``: the parsed value (a private copy for mappings) and the name used in messages
        (the path, or ``"config"`` for a mapping).

    Raises:
        TypeError: ``source`` is neither a path nor a mapping.
        ConfigError: the file cannot be read, is too large, not UTF-8, not safe YAML, or breaks a bound.
    """
    if isinstance(source, Mapping):
        check_tree(source, "config", max_nodes, max_depth)
        return copy.deepcopy(dict(source)), "config"
    if not isinstance(source, (str, os.PathLike)) or isinstance(source, bool):
        raise TypeError(
            f"a config source must be a path (str or os.PathLike) or a mapping, got {type(source).__name__}"
        )
    label = os.fsdecode(os.fspath(source))
    try:
        if os.path.isdir(label):
            raise ConfigError(f"cannot read config {label}: it is a directory")
        with open(label, "rb") as f:
            data = f.read(max_bytes + 1)  # never more, whatever the file claims to be (/dev/zero, a growing file)
    except OSError as err:
        raise ConfigError(f"cannot read config {label}: {err.strerror or err}") from err
    if len(data) > max_bytes:
        raise ConfigError(
            f"{label}: larger than the {max_bytes:,}-byte limit for a config file; pass max_bytes= to read a larger one"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{label}: not UTF-8 text (byte {err.start}: {err.reason}); save the config as UTF-8"
        ) from err
    return _parse(text, label, max_nodes, max_depth), label
