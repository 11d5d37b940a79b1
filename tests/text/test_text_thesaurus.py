"""Thesaurus readers (MyThes, WordNet) and pluggable synonym sources."""

from __future__ import annotations

import os
import pickle
import shutil

import pytest

from augloader.text.mythes import DEFAULT_MYTHES_PATH, MyThesThesaurus
from augloader.text.thesaurus import CallableThesaurus, DictThesaurus, penn_to_pos, resolve_thesaurus
from augloader.text.wordnet import DEFAULT_WORDNET_DIR, WordNetThesaurus


def _require(path: str, package: str) -> None:
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail(f"{path} missing: the Debian package {package!r} must be installed (make testdata)")
        pytest.skip(f"Debian package {package!r} not installed (make testdata)")


@pytest.fixture(scope="module")
def mythes() -> MyThesThesaurus:
    _require(DEFAULT_MYTHES_PATH, "mythes-en-us")
    return MyThesThesaurus()


@pytest.fixture(scope="module")
def wordnet() -> WordNetThesaurus:
    _require(DEFAULT_WORDNET_DIR, "wordnet-base")
    return WordNetThesaurus()


def _raw_mythes_entry(word: str) -> list[str]:
    """The sense lines of ``word`` found by a plain linear scan of the .dat file."""
    with open(DEFAULT_MYTHES_PATH, encoding="utf-8") as fh:
        for line in fh:
            head, _, count = line.rstrip("\n").rpartition("|")
            if head == word and count.isdigit():
                return [next(fh).rstrip("\n") for _ in range(int(count))]
    raise AssertionError(f"{word!r} not in the .dat file")


def test_mythes_synonyms_come_from_the_entry_without_antonyms(mythes: MyThesThesaurus) -> None:
    syns = mythes.synonyms("happy")
    raw = _raw_mythes_entry("happy")
    plain = {t for line in raw for t in line.split("|")[1:] if "(" not in t}
    assert set(syns) == plain
    raw_brown = {t for line in _raw_mythes_entry("brown") for t in line.split("|")[1:] if "(" not in t}
    assert "Brown University" in raw_brown and "Brown University" not in mythes.synonyms("brown")
    assert set(mythes.synonyms("brown")) == {t for t in raw_brown if t.islower()}
    assert set(MyThesThesaurus(proper_nouns=True).synonyms("brown")) == {t for t in raw_brown if t.lower() != "brown"}
    assert "glad" in syns and "happy" not in syns
    assert any("unhappy (antonym)" in line for line in raw)  # the file has the antonym ...
    assert "unhappy" not in syns  # ... and it is never offered as a synonym


def test_mythes_relations_option_adds_annotated_terms(mythes: MyThesThesaurus) -> None:
    rich = MyThesThesaurus(relations={"similar term"})
    assert "blissful" in rich.synonyms("happy") and "blissful" not in mythes.synonyms("happy")
    assert "unhappy" not in rich.synonyms("happy")
    with pytest.raises(ValueError, match="antonym"):
        MyThesThesaurus(relations={"antonym"})


def test_mythes_pos_filter(mythes: MyThesThesaurus) -> None:
    verbs, nouns, every = mythes.synonyms("run", "v"), mythes.synonyms("run", "n"), mythes.synonyms("run")
    assert "scarper" in verbs and "scarper" not in nouns
    assert "footrace" in nouns and "footrace" not in verbs
    assert set(verbs) | set(nouns) <= set(every)
    with pytest.raises(ValueError, match="pos"):
        mythes.synonyms("run", "noun")


def test_mythes_is_lazy_cached_and_exact_form(mythes: MyThesThesaurus) -> None:
    fresh = MyThesThesaurus()
    assert fresh._index is None  # nothing read at construction
    first = fresh.synonyms("dog")
    assert fresh._index is not None and first
    assert fresh.synonyms("dog") is first  # served from the cache
    assert fresh.synonyms("Dog") == first  # case-insensitive
    assert fresh.synonyms("dogs") == ()  # no guessing of inflections
    assert fresh.synonyms("qwxzzyq") == ()


def test_mythes_without_idx_scans_the_dat(tmp_path, mythes: MyThesThesaurus) -> None:
    dat = tmp_path / "th_test.dat"
    shutil.copyfile(DEFAULT_MYTHES_PATH, dat)  # no .idx beside it
    scanned = MyThesThesaurus(dat)
    for word in ("happy", "run", "quick", "zebra"):
        assert scanned.synonyms(word) == mythes.synonyms(word)


def test_thesaurus_pickles_without_its_mmap(mythes: MyThesThesaurus, wordnet: WordNetThesaurus) -> None:
    for th in (mythes, wordnet):
        th.synonyms("house")
        clone = pickle.loads(pickle.dumps(th))
        assert clone.synonyms("house") == th.synonyms("house")


def test_wordnet_reader(wordnet: WordNetThesaurus) -> None:
    assert {"felicitous", "glad", "well-chosen"} <= set(wordnet.synonyms("happy"))
    assert "happy" not in wordnet.synonyms("happy")
    assert "scarper" in wordnet.synonyms("run", "v") and "scarper" not in wordnet.synonyms("run", "n")
    assert "foot race" in wordnet.synonyms("run", "n")  # underscores become spaces
    assert all(" " not in s for s in WordNetThesaurus(multiword=False).synonyms("run"))
    assert wordnet.synonyms("cats") == ()
    assert "Brown University" in WordNetThesaurus(proper_nouns=True).synonyms("brown")
    assert all(s.islower() for s in wordnet.synonyms("brown"))


def test_missing_data_names_the_package(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="mythes-en-us"):
        MyThesThesaurus(tmp_path / "missing.dat")
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        WordNetThesaurus(tmp_path)


def test_dict_and_callable_sources() -> None:
    d = resolve_thesaurus({"Big": ["large", "big", "huge"], "small": ("little",)})
    assert isinstance(d, DictThesaurus)
    assert d.synonyms("big") == ("large", "huge") and d.synonyms("BIG") == ("large", "huge")
    assert d.synonyms("tiny") == ()
    calls: list[str] = []

    def fn(word: str) -> list[str]:
        calls.append(word)
        return [word + "ish", word]

    c = resolve_thesaurus(fn)
    assert isinstance(c, CallableThesaurus)
    assert c.synonyms("red") == ("redish",) and c.synonyms("red") == ("redish",)
    assert calls == ["red"]  # cached
    with pytest.raises(TypeError):
        resolve_thesaurus(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="iterable"):
        DictThesaurus({"a": "b"})
    with pytest.raises(TypeError, match="iterable"):
        CallableThesaurus(lambda w: "x").synonyms("a")


def test_named_sources_are_shared(mythes: MyThesThesaurus, wordnet: WordNetThesaurus) -> None:
    assert resolve_thesaurus("mythes") is resolve_thesaurus(None)
    assert isinstance(resolve_thesaurus("wordnet"), WordNetThesaurus)
    assert isinstance(resolve_thesaurus(DEFAULT_MYTHES_PATH), MyThesThesaurus)
    with pytest.raises(FileNotFoundError):
        resolve_thesaurus("/nonexistent/thesaurus")


def test_penn_tags_map_to_wordnet_pos() -> None:
    assert [penn_to_pos(t) for t in ("NNS", "VBD", "JJR", "RB", "DT", None)] == ["n", "v", "a", "r", None, None]
