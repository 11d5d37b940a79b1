"""Back translation through the real Apertium backend, the batching contract and the disk cache."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from augloader.text import (
    ApertiumTranslator,
    BackendUnavailableError,
    BackTranslation,
    TranslationCache,
    cache_key,
    fortune_sentences,
    tokenize,
)
from augloader.text.corpus import DEFAULT_FORTUNES_DIR

ROOT = Path(__file__).resolve().parents[2]


def _require_apertium() -> None:
    missing = [] if shutil.which("apertium") else ["apertium"]
    if not os.path.isdir(DEFAULT_FORTUNES_DIR):
        missing.append("fortunes")
    if not missing and "eng-spa" not in subprocess.run(["apertium", "-l"], capture_output=True, text=True).stdout:
        missing.append("apertium-eng-spa")
    if missing:
        msg = f"Debian packages apertium, apertium-eng-spa and fortunes are needed (missing: {missing})"
        if os.environ.get("CI"):
            pytest.fail(msg + "; run make testdata")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def twenty() -> list[str]:
    """20 real sentences spread over five fortune topics."""
    _require_apertium()
    pairs = fortune_sentences(topics=["science", "politics", "love", "education", "wisdom"], min_words=8, max_words=25)
    random.Random(1).shuffle(pairs)
    return [t for t, _ in pairs[:20]]


@pytest.fixture(scope="module")
def translated(twenty: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], Path, int]:
    path = tmp_path_factory.mktemp("bt") / "cache.sqlite"
    translator = ApertiumTranslator()
    out = BackTranslation(translator, pivot="es", cache=path)(twenty)
    return out, path, translator.calls


def _overlap(a: str, b: str) -> float:
    x = {t.lower() for t in tokenize(a) if t[0].isalnum()}
    y = {t.lower() for t in tokenize(b) if t[0].isalnum()}
    return len(x & y) / len(x | y)


def test_apertium_round_trip_paraphrases_real_sentences(
    twenty: list[str], translated: tuple[list[str], Path, int]
) -> None:
    out, _, calls = translated
    assert len(out) == 20 and all(isinstance(t, str) and t.strip() for t in out)
    assert calls == 2  # one process there and one back for the whole batch, never per sentence
    assert sum(a != b for a, b in zip(twenty, out)) >= 18
    close = [o for a, b in zip(twenty, out) if 0.3 <= (o := _overlap(a, b)) <= 0.95]
    assert len(close) >= 14, [round(_overlap(a, b), 2) for a, b in zip(twenty, out)]


def test_cache_serves_a_second_call_without_starting_the_backend(
    twenty: list[str], translated: tuple[list[str], Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    out, path, _ = translated

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backend was started although every text is cached")

    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    translator = ApertiumTranslator()
    again = BackTranslation(translator, pivot="es", cache=TranslationCache(path))
    assert again(twenty) == out
    assert again(twenty[3]) == out[3]
    assert translator.calls == 0
    assert len(TranslationCache(path)) == 20


def test_cache_key_separates_backend_pivot_and_text() -> None:
    base = cache_key("apertium", "en", "es", "hello")
    assert len(base) == 64
    assert (
        len(
            {
                base,
                cache_key("marian", "en", "es", "hello"),
                cache_key("apertium", "en", "fr", "hello"),
                cache_key("apertium", "en", "es", "hello "),
            }
        )
        == 4
    )
    assert cache_key("apertium", "en", "es", "hello") == base


def test_batch_contract_on_the_real_backend(twenty: list[str]) -> None:
    translator = ApertiumTranslator()
    texts = ["The cat is\nnot happy.", "", "   ", "Line one.\n\nLine two."] + twenty[:3]
    out = translator.translate(texts, "en", "es")
    assert translator.calls == 1
    assert len(out) == len(texts) and out[1] == out[2] == ""
    assert "gato" in out[0].lower() and "\n" not in out[3] and out[3]
    with pytest.raises(BackendUnavailableError, match="apertium-"):
        translator.translate(["hello"], "en", "xx")  # no such language pair installed


def _fake_apertium(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-apertium"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return str(script)


def test_missing_backend_timeout_and_count_mismatch_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="apertium-eng-spa"):
        ApertiumTranslator(executable="no-such-apertium-binary").translate(["hi"], "en", "es")
    slow = ApertiumTranslator(executable=_fake_apertium(tmp_path, "import time; time.sleep(30)\n"), timeout=0.5)
    with pytest.raises(RuntimeError, match="timed out"):
        slow.translate(["hi", "there"], "en", "es")
    lossy = _fake_apertium(tmp_path, "import sys; sys.stdin.read(); print('only one')\n")
    with pytest.raises(RuntimeError, match="returned 1 texts for a batch of 2"):
        ApertiumTranslator(executable=lossy).translate(["hi", "there"], "en", "es")
    with pytest.raises(ValueError, match="timeout"):
        ApertiumTranslator(timeout=0)


class _Reverser:
    """A deterministic fake Translator (reverses word order) that counts its calls."""

    name = "reverser"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls.append(len(texts))
        return [" ".join(reversed(t.split())) + ("" if target == "en" else " !") for t in texts]


def test_probability_batching_and_precompute(tmp_path: Path) -> None:
    fake = _Reverser()
    bt = BackTranslation(fake, cache=tmp_path / "c.sqlite", batch_size=3)
    texts = [f"sentence number {i}" for i in range(7)]
    assert bt.precompute(texts + texts[:2]) == 7  # duplicates translated once
    assert fake.calls == [3, 3, 3, 3, 1, 1]  # batches of 3, there and back
    assert bt.precompute(texts) == 0
    fake.calls.clear()
    assert bt(texts) == [f"! sentence number {i}" for i in range(7)]  # reversed twice, marker kept
    assert fake.calls == []  # all served from the cache
    none = BackTranslation(_Reverser(), p=0.0)
    assert none(texts) == texts and none.translator.calls == []
    half = [BackTranslation(_Reverser(), p=0.5, seed=s)(texts) for s in (4, 4, 5)]
    assert half[0] == half[1] and half[0] != half[2]
    assert 0 < sum(a != b for a, b in zip(texts, half[0])) < 7
    offline = BackTranslation(_Reverser(), cache=tmp_path / "c.sqlite", on_miss="keep")
    assert offline(texts[:2] + ["never seen"]) == ["! sentence number 0", "! sentence number 1", "never seen"]
    assert offline.translator.calls == []  # a cache miss did not start the backend
    with pytest.raises(KeyError, match="not in the back-translation cache"):
        BackTranslation(_Reverser(), cache=tmp_path / "c.sqlite", on_miss="error")(["never seen"])
    with pytest.raises(ValueError, match="needs a cache"):
        BackTranslation(_Reverser(), on_miss="keep")
    with pytest.raises(ValueError, match="cache"):
        BackTranslation(_Reverser()).precompute(texts)
    with pytest.raises(TypeError, match="Translator"):
        BackTranslation(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pivot"):
        BackTranslation(_Reverser(), pivot="en", source="en")


def test_precompute_script_fills_the_cache(tmp_path: Path) -> None:
    _require_apertium()
    cache = tmp_path / "bt.sqlite"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "precompute_backtranslation.py"),
            "--fortunes",
            "love",
            "--limit",
            "25",
            "--cache",
            str(cache),
            "--batch-size",
            "64",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "translated 25" in proc.stdout
    assert len(TranslationCache(cache)) == 25
