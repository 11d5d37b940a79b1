"""EDA word operations on a real labelled corpus (Debian ``fortunes``: topic file = label)."""

from __future__ import annotations

import os
import pickle
import random
from collections import Counter

import pytest
import torch
from torch.utils.data import DataLoader

from augloader.text import (
    DEFAULT_PROTECTED,
    EDA,
    ENGLISH_STOPWORDS,
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SynonymReplacement,
    TextAugmentCollate,
    detokenize,
    fortune_sentences,
    tokenize,
)
from augloader.text.corpus import DEFAULT_FORTUNES_DIR
from augloader.text.mythes import DEFAULT_MYTHES_PATH
from augloader.text.thesaurus import resolve_thesaurus
from augloader.text.word_ops import count_for_rate

TOPICS = ["science", "politics", "love", "sports", "medicine", "education"]


def _require(path: str, package: str) -> None:
    if not os.path.exists(path):
        if os.environ.get("CI"):
            pytest.fail(f"{path} missing: the Debian package {package!r} must be installed (make testdata)")
        pytest.skip(f"Debian package {package!r} not installed (make testdata)")


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    """400 real sentences from six fortune topics, with their topic as label."""
    _require(DEFAULT_FORTUNES_DIR, "fortunes")
    _require(DEFAULT_MYTHES_PATH, "mythes-en-us")
    pairs = fortune_sentences(topics=TOPICS, min_words=5, max_words=30)
    random.Random(0).shuffle(pairs)
    assert len({label for _, label in pairs[:400]}) == len(TOPICS)
    return pairs[:400]


@pytest.fixture(scope="module")
def sentences(corpus: list[tuple[str, str]]) -> list[list[str]]:
    return [tokenize(text) for text, _ in corpus]


def _words(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t[0].isalnum() or t[0] == "_"]


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _protected(tokens: list[str]) -> Counter[str]:
    return Counter(t.lower() for t in tokens if t.lower() in DEFAULT_PROTECTED)


def test_tokenizer_splits_punctuation_and_rejoins() -> None:
    tokens = tokenize("Hello, world! I don't like well-known (big) things... -- Twain")
    assert tokens == [
        "Hello",
        ",",
        "world",
        "!",
        "I",
        "don't",
        "like",
        "well-known",
        "(",
        "big",
        ")",
        "things",
        "...",
        "--",
        "Twain",
    ]
    assert detokenize(tokens) == "Hello, world! I don't like well-known (big) things... -- Twain"


def test_deletion_keeps_at_least_one_word_and_every_protected_word(sentences: list[list[str]]) -> None:
    changed = 0
    for p in (0.1, 0.5, 1.0):
        op = RandomDeletion(p, seed=1)
        for tokens in sentences:
            out = op.apply_tokens(tokens, op.rng)
            assert _is_subsequence(out, tokens)  # only deletions, order kept
            assert len(_words(out)) >= 1
            assert _protected(out) == _protected(tokens)
            assert [t for t in out if not t[0].isalnum()] == [t for t in tokens if not t[0].isalnum()]
            changed += out != tokens
    assert changed > 0.6 * 3 * len(sentences)
    only_deletable = RandomDeletion(1.0, seed=0).apply_tokens(["Cats", "eat", "fish"], random.Random(0))
    assert len(only_deletable) == 1 and only_deletable[0] in {"Cats", "eat", "fish"}
    assert RandomDeletion(1.0, seed=0)("Hello!") == "Hello!"  # a single word is never deleted


def test_swap_keeps_the_multiset_and_protected_positions(sentences: list[list[str]]) -> None:
    op = RandomSwap(0.2, seed=2)
    changed = 0
    for tokens in sentences:
        out = op.apply_tokens(tokens, op.rng)
        assert Counter(out) == Counter(tokens)
        for i, t in enumerate(tokens):
            if t.lower() in DEFAULT_PROTECTED or not t[0].isalnum():
                assert out[i] == t  # protected words and punctuation never move
        changed += out != tokens
    assert changed > 0.8 * len(sentences)


def test_replacement_uses_only_thesaurus_synonyms_of_content_words(sentences: list[list[str]]) -> None:
    th = resolve_thesaurus("mythes")
    op = SynonymReplacement(0.2, seed=3)
    changed = 0
    for tokens in sentences:
        out = op.apply_tokens(tokens, op.rng)
        assert len(out) == len(tokens)
        diffs = [(a, b) for a, b in zip(tokens, out) if a != b]
        assert len(diffs) <= count_for_rate(0.2, len(_words(tokens)))
        for old, new in diffs:
            assert old.lower() not in ENGLISH_STOPWORDS and old.lower() not in DEFAULT_PROTECTED
            assert new.lower() in {s.lower() for s in th.synonyms(old.lower())}, (old, new)
            if old[0].isupper() and new[0].isalpha():
                assert new[0].isupper()  # capitalisation follows the original
        changed += bool(diffs)
    assert changed > 0.8 * len(sentences)


def test_insertion_adds_thesaurus_synonyms_of_words_in_the_sentence(sentences: list[list[str]]) -> None:
    th = resolve_thesaurus("mythes")
    op = RandomInsertion(0.2, seed=4)
    grew = 0
    for tokens in sentences:
        out = op.apply_tokens(tokens, op.rng)
        assert _is_subsequence(tokens, out)
        extra = Counter(out) - Counter(tokens)
        pool = {
            s for t in tokens if t.lower() not in ENGLISH_STOPWORDS | DEFAULT_PROTECTED for s in th.synonyms(t.lower())
        }
        assert set(extra) <= pool
        if extra:
            assert sum(extra.values()) == count_for_rate(0.2, len(_words(tokens)))
            grew += 1
        if tokens[-1] in {".", "!", "?"}:
            assert out[-1] == tokens[-1]  # inserted before the final punctuation
    assert grew > 0.8 * len(sentences)


def test_eda_variants_keep_protected_words_and_labels(corpus: list[tuple[str, str]]) -> None:
    eda = EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3, num_aug=4, seed=5)
    texts = [t for t, _ in corpus]
    labels = [label for _, label in corpus]
    out_texts, out_labels = eda.expand(texts, labels)
    assert len(out_texts) == len(out_labels) == 5 * len(texts)
    for i, (text, label) in enumerate(corpus):
        block = out_texts[5 * i : 5 * i + 5]
        assert block[0] == text
        assert out_labels[5 * i : 5 * i + 5] == [label] * 5
        for variant in block[1:]:
            assert _protected(tokenize(variant)) == _protected(tokenize(text)), (text, variant)
    negated = [t for t in texts if _protected(tokenize(t))]
    assert len(negated) >= 20  # the check above really covered negations


def test_eda_uses_operations_evenly(corpus: list[tuple[str, str]]) -> None:
    tokens = tokenize(corpus[0][0])
    all_four = ["RandomDeletion", "RandomInsertion", "RandomSwap", "SynonymReplacement"]
    for seed in range(20):
        assert sorted(name for name, _ in EDA(num_aug=4, seed=seed).augment_tokens(tokens)) == all_four
        counts = Counter(name for name, _ in EDA(num_aug=6, seed=seed).augment_tokens(tokens))
        assert sorted(counts.values()) == [1, 1, 2, 2] and set(counts) == set(all_four)
    orders = {tuple(n for n, _ in EDA(num_aug=4, seed=s).augment_tokens(tokens)) for s in range(20)}
    assert len(orders) > 1  # the order of the variants is random
    assert [len(v) for v in EDA(num_aug=9, seed=0)([t for t, _ in corpus[:5]])] == [9] * 5
    only_swap = EDA(alpha_sr=0, alpha_ri=0, p_rd=0, alpha_rs=0.2, num_aug=3, seed=0)
    for name, variant in only_swap.augment_tokens(tokens):
        assert name == "RandomSwap" and Counter(variant) == Counter(tokens)


def test_same_seed_same_output(corpus: list[tuple[str, str]]) -> None:
    texts = [t for t, _ in corpus[:100]]
    for make in (
        lambda s: EDA(seed=s),
        lambda s: SynonymReplacement(0.2, seed=s),
        lambda s: RandomInsertion(0.2, seed=s),
        lambda s: RandomSwap(0.2, seed=s),
        lambda s: RandomDeletion(0.3, seed=s),
    ):
        assert make(7)(texts) == make(7)(texts)
        assert make(7)(texts) != make(8)(texts)
    shared = random.Random(3)
    assert RandomSwap(0.2)(texts, rng=random.Random(3)) == RandomSwap(0.2, rng=shared)(texts)


def test_pickled_transform_continues_identically(corpus: list[tuple[str, str]]) -> None:
    eda = EDA(seed=9)
    eda([t for t, _ in corpus[:10]])  # warm caches and advance the RNG
    clone = pickle.loads(pickle.dumps(eda))
    texts = [t for t, _ in corpus[10:40]]
    assert clone(texts) == eda(texts)


def test_structure_in_equals_structure_out() -> None:
    op = RandomSwap(0.5, seed=0)
    assert isinstance(op("one two three four"), str)
    out = op(["one two three", "four five six"])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(s, str) for s in out)
    assert op([]) == []
    assert isinstance(EDA(seed=0, thesaurus={"big": ["large"]})("a big dog"), list)
    with pytest.raises(TypeError, match=r"text\[1\]"):
        op(["fine", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        op(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate"):
        RandomSwap(1.5)
    with pytest.raises(ValueError, match="num_aug"):
        EDA(num_aug=0, thesaurus={})
    with pytest.raises(ValueError, match="at least one"):
        EDA(0, 0, 0, 0, thesaurus={})
    with pytest.raises(ValueError, match="seed or rng"):
        RandomSwap(0.1, seed=1, rng=random.Random(1))
    with pytest.raises(ValueError, match="labels"):
        EDA(thesaurus={}, seed=0).expand(["a b"], [1, 2])


def test_custom_sources_and_pos_tagger() -> None:
    mapping = {"quick": ["fast", "speedy"], "dog": ["hound"], "not": ["non"], "the": ["thee"]}
    op = SynonymReplacement(1.0, thesaurus=mapping, seed=0)
    for _ in range(20):
        out = tokenize(op("The quick dog is not here."))
        assert out[0] == "The" and out[4] == "not"  # stopword and protected word untouched
        assert out[1] in {"fast", "speedy"} and out[2] == "hound"
    assert SynonymReplacement(1.0, thesaurus=lambda w: [w.upper() + "X"], seed=0)("cat") == "CATX"
    sneaky = {"good": ["not bad", "fine", "no worse"]}  # synonyms must never add a negation
    assert {SynonymReplacement(1.0, thesaurus=sneaky, seed=s)("good") for s in range(20)} == {"fine"}
    assert {RandomInsertion(1.0, thesaurus=sneaky, seed=s)("good") for s in range(20)} <= {"fine good", "good fine"}
    tagger = lambda toks: ["v" if t == "run" else "n" for t in toks]  # noqa: E731
    as_verb = SynonymReplacement(1.0, pos_tagger=tagger, seed=0)
    verbs = set(resolve_thesaurus("mythes").synonyms("run", "v"))
    for _ in range(30):
        assert as_verb.apply_tokens(["run"], as_verb.rng)[0] in verbs
    with pytest.raises(ValueError, match="tags"):
        SynonymReplacement(1.0, pos_tagger=lambda toks: ["n"], thesaurus=mapping)("quick dog")


def test_collate_stage_on_a_dataloader(corpus: list[tuple[str, str]]) -> None:
    topics = sorted(TOPICS)
    samples = [(t, topics.index(label)) for t, label in corpus[:32]]
    loader = DataLoader(samples, batch_size=8, collate_fn=TextAugmentCollate(RandomSwap(0.2, seed=0)))
    batches = list(loader)
    assert len(batches) == 4
    texts, labels = batches[0]
    assert labels.dtype == torch.int64 and labels.tolist() == [y for _, y in samples[:8]]
    assert [Counter(tokenize(t)) for t in texts] == [Counter(tokenize(t)) for t, _ in samples[:8]]
    grow = DataLoader(samples, batch_size=8, collate_fn=TextAugmentCollate(EDA(num_aug=2, seed=0), expand=True))
    texts, labels = next(iter(grow))
    assert len(texts) == 24 and labels.tolist() == [y for _, y in samples[:8] for _ in range(3)]
    with pytest.raises(TypeError, match="expand"):
        TextAugmentCollate(EDA(num_aug=2, seed=0))(samples[:2])


@pytest.mark.parametrize("expand", [False, True], ids=["one-to-one", "expand"])
def test_collate_stream_is_the_same_for_any_num_workers(corpus: list[tuple[str, str]], expand: bool) -> None:
    # Like BatchAugment: batch k of epoch e draws from (seed, e, rank, k), so workers do not change it.
    topics = sorted(TOPICS)
    samples = [(t, topics.index(label)) for t, label in corpus[:48]]
    transform = EDA(num_aug=1, seed=0) if expand else RandomSwap(0.5, seed=0)

    def run(workers: int, epoch: int, seed: int = 3) -> list:
        collate = TextAugmentCollate(transform, expand=expand, seed=seed, rank=0)
        collate.set_epoch(epoch)
        return [texts for texts, _ in DataLoader(samples, batch_size=8, num_workers=workers, collate_fn=collate)]

    serial = run(0, 0)
    assert run(2, 0) == serial
    assert run(0, 0) == serial  # the transform's own RNG state does not leak into the stream
    assert run(0, 1) != serial and run(0, 0, seed=4) != serial
