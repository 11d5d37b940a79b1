"""Back translation and text configs under bad input: clear errors naming the path or translator (issue 16)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from augloader.config import ConfigError
from augloader.text import (
    ApertiumTranslator,
    BackTranslation,
    TranslationCache,
    build_text_transforms,
    load_text_config,
)
from augloader.text.cache import CacheError


class Scripted:
    """A translator that answers ``answer(texts)`` (the Translator protocol, no backend)."""

    def __init__(self, answer: Any, name: str = "scripted") -> None:
        self.answer, self.name = answer, name

    def translate(self, texts: Sequence[str], source: str, target: str) -> Any:
        return self.answer(list(texts))


def _upper(texts: list[str]) -> list[str]:
    return [t.upper() for t in texts]


# ---- the cache path ----------------------------------------------------------------------------------
def test_cache_that_is_a_directory_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"cache {tmp_path} is a directory; give a file path"):
        BackTranslation(Scripted(_upper), cache=tmp_path)


def test_cache_that_is_not_a_database_names_the_path_and_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    with pytest.raises(ValueError, match=f"cache {notes} exists but is not an SQLite database"):
        BackTranslation(Scripted(_upper), cache=notes)
    assert notes.read_text() == "my notes\n"


def test_cache_of_the_wrong_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="cache must be a path to an SQLite file .* got int"):
        BackTranslation(Scripted(_upper), cache=3)  # type: ignore[arg-type]


def test_cache_that_cannot_be_created_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bt = BackTranslation(Scripted(_upper), cache=blocker / "cache.sqlite")
    with pytest.raises(CacheError, match=f"cannot open the back-translation cache {blocker / 'cache.sqlite'}"):
        bt(["hello"])


def test_a_cache_that_became_a_directory_after_construction(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = TranslationCache(path)
    path.mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        cache.get_many(["k"])


# ---- what the translator returns -------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer, error, message",
    [
        (
            lambda texts: None,
            TypeError,
            "translator 'flaky' \\(en -> es\\) returned NoneType None, expected a list of 2 strings",
        ),
        (
            lambda texts: [None] * len(texts),
            TypeError,
            "translator 'flaky' \\(en -> es\\) returned NoneType None for text 0",
        ),
        (lambda texts: "hola", TypeError, "returned str 'hola', expected a list of 2 strings"),
        (lambda texts: texts[:1], RuntimeError, "translator 'flaky' \\(en -> es\\) returned 1 texts for 2"),
        (lambda texts: [1, 2], TypeError, "returned int 1 for text 0 \\('one'\\), expected a str"),
    ],
)
def test_bad_translator_output_names_the_translator(tmp_path: Path, answer: Any, error: type, message: str) -> None:
    cache = tmp_path / "bt.sqlite"
    bt = BackTranslation(Scripted(answer, name="flaky"), cache=cache)
    with pytest.raises(error, match=message):
        bt(["one", "two"])
    assert len(TranslationCache(cache)) == 0  # nothing half-translated was stored


def test_bad_output_on_the_way_back_is_caught_too() -> None:
    calls: list[int] = []

    def there_then_none(texts: list[str]) -> Any:
        calls.append(1)
        return texts if len(calls) == 1 else [None] * len(texts)

    with pytest.raises(TypeError, match=r"\(es -> en\) returned NoneType None"):
        BackTranslation(Scripted(there_then_none))(["one", "two"])


def test_a_good_translator_still_works(tmp_path: Path) -> None:
    bt = BackTranslation(Scripted(_upper), cache=tmp_path / "bt.sqlite")
    assert bt(["one", "two"]) == ["ONE", "TWO"] and bt("three") == "THREE"


# ---- apertium arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("timeout", [0, -1, math.nan, math.inf, "300", True, None])
def test_apertium_timeout_must_be_a_positive_finite_number(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        ApertiumTranslator(timeout=timeout)


def test_apertium_argument_types() -> None:
    with pytest.raises(TypeError, match="executable must be a non-empty str, got NoneType"):
        ApertiumTranslator(executable=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="codes must map"):
        ApertiumTranslator(codes={"en": 3})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="texts must be a list of str, got str"):
        ApertiumTranslator().translate("hello", "en", "es")  # type: ignore[arg-type]


# ---- text config files -------------------------------------------------------------------------------
def test_text_config_file_errors_name_the_file(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("text: {eda: {protected: [caf\xe9]}}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{latin}: not UTF-8 text"):
        load_text_config(latin)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_text_config(tmp_path / "missing.yaml")
    for source in (None, 3, {"text": {}}):
        with pytest.raises(TypeError, match="load_text_config takes a path"):
            load_text_config(source)  # type: ignore[arg-type]


def test_text_config_self_reference_and_bomb_are_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "self.yaml"
    path.write_text("text: &t {eda: *t}\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="used inside its own anchor"):
        load_text_config(path)
    assert time.perf_counter() - start < 1.0


def test_text_config_messages_are_bounded() -> None:
    with pytest.raises(ValueError) as info:
        build_text_transforms({"eda": {f"k{i}": 1 for i in range(100_000)}})
    assert "text.eda: unknown argument 'k0'" in str(info.value) and len(str(info.value)) < 400
