"""Text transforms follow the image side's call contract with strings: generator=, params= replay,
last_params, recorded arguments (a text pipeline built in Python writes back with augloader.to_config)."""

from __future__ import annotations

import os
import random

import pytest
import torch

import augloader
from augloader.config import ConfigError
from augloader.text import (
    EDA,
    ApertiumTranslator,
    BackTranslation,
    RandomDeletion,
    RandomInsertion,
    RandomSwap,
    SynonymReplacement,
)
from augloader.text.mythes import DEFAULT_MYTHES_PATH

THESAURUS = {"quick": ["fast", "speedy", "rapid"], "lazy": ["idle", "slothful"], "dog": ["hound", "pup"]}
TEXTS = [
    "the quick brown fox does not jump over the lazy dog",
    "a lazy dog sleeps all day long in the warm quick sun",
    "quick thinking saved the dog from the river",
]
MAKERS = {
    "RandomSwap": lambda: RandomSwap(0.3, seed=0),
    "RandomDeletion": lambda: RandomDeletion(0.3, seed=0),
    "SynonymReplacement": lambda: SynonymReplacement(0.5, thesaurus=THESAURUS, seed=0),
    "RandomInsertion": lambda: RandomInsertion(0.5, thesaurus=THESAURUS, seed=0),
    "EDA": lambda: EDA(alpha_sr=0.3, alpha_ri=0.3, alpha_rs=0.3, p_rd=0.3, num_aug=3, thesaurus=THESAURUS, seed=0),
}


def _g(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class Reverser:
    """A stand-in translator: reverses the words (there and back gives a visible change)."""

    name = "reverser"

    def __init__(self) -> None:
        self.calls = 0

    def translate(self, texts, source, target):
        self.calls += 1
        return [" ".join(reversed(t.split())) + (" ." if target == "en" else "") for t in texts]


@pytest.mark.parametrize("name", MAKERS)
def test_generator_seeds_the_call_and_params_replay_it(name):
    t = MAKERS[name]()
    first = t(TEXTS, generator=_g(1))
    params = t.last_params
    assert set(params) == {"seed"} and params["seed"].dtype == torch.int64
    assert MAKERS[name]()(TEXTS, generator=_g(1)) == first  # same generator seed, same output
    others = [t(TEXTS, generator=_g(s)) for s in range(2, 8)]
    assert any(o != first for o in others)  # the generator matters
    assert t(TEXTS, params=params) == first  # replay after other calls: identical
    assert t.last_params is params
    single = t(TEXTS[0], generator=_g(1))
    assert single == first[0]  # a string is a batch of one with the same draw
    assert t(TEXTS, rng=random.Random(5)) == MAKERS[name]()(TEXTS, rng=random.Random(5))


def test_own_rng_path_also_records_params():
    t = RandomSwap(0.5, seed=3)
    out = t(TEXTS)  # no generator: the seed comes from the transform's own RNG
    params = t.last_params
    assert any(t(TEXTS) != out for _ in range(5))  # the own RNG moves on
    assert t(TEXTS, params=params) == out
    assert RandomSwap(0.5, seed=3)(TEXTS) == out  # the same construction seed, the same outputs


def test_eda_expand_takes_generator_and_params():
    eda = MAKERS["EDA"]()
    texts, labels = eda.expand(TEXTS, [0, 1, 2], generator=_g(4))
    assert len(texts) == len(labels) == 3 * 4 and labels[:4] == [0] * 4
    assert eda.expand(TEXTS, [0, 1, 2], params=eda.last_params) == (texts, labels)
    assert MAKERS["EDA"]().expand(TEXTS, [0, 1, 2], generator=_g(4)) == (texts, labels)


def test_back_translation_draws_and_replays_its_choice():
    bt = BackTranslation(Reverser(), p=0.5, seed=0)
    out = bt(TEXTS * 4, generator=_g(2))
    chosen = bt.last_params["chosen"]
    assert chosen.dtype == torch.bool and chosen.shape == (12,) and 0 < int(chosen.sum()) < 12
    assert [o != t for o, t in zip(out, TEXTS * 4)] == chosen.tolist()
    assert BackTranslation(Reverser(), p=0.5)(TEXTS * 4, generator=_g(2)) == out
    assert bt(TEXTS * 4, params={"chosen": chosen}) == out
    with pytest.raises(ValueError, match=r"'chosen', a \(3,\) bool tensor"):
        bt(TEXTS, params={"chosen": chosen})


def test_call_errors_and_the_deprecated_positional_rng():
    t = RandomSwap(0.3)
    with pytest.warns(DeprecationWarning, match=r"RandomSwap\(text, rng\) is deprecated"):
        old = t(TEXTS, random.Random(1))
    assert old == t(TEXTS, rng=random.Random(1))
    with pytest.warns(DeprecationWarning):
        assert MAKERS["EDA"]()(TEXTS[0], random.Random(2)) == MAKERS["EDA"]()(TEXTS[0], rng=random.Random(2))
    with pytest.raises(ValueError, match="pass one of params, rng and generator, got rng and generator"):
        t(TEXTS, rng=random.Random(1), generator=_g(1))
    with pytest.raises(TypeError, match="generator must be a torch.Generator, got int"):
        t(TEXTS, generator=3)
    with pytest.raises(ValueError, match="integer 'seed'"):
        t(TEXTS, params={"chosen": torch.ones(3, dtype=torch.bool)})


def test_python_built_text_pipeline_round_trips(tmp_path):
    if not os.path.exists(DEFAULT_MYTHES_PATH):
        pytest.skip("Debian package 'mythes-en-us' not installed (make testdata)")
    eda = EDA(alpha_sr=0.2, alpha_ri=0.0, num_aug=2, protected={"not", "no"}, thesaurus="mythes", seed=3)
    bt = BackTranslation(ApertiumTranslator(timeout=30), cache=tmp_path / "bt.sqlite", p=0.5, on_miss="keep", seed=1)
    written = augloader.to_config({"eda": eda, "back_translation": bt})
    assert written == {
        "kind": "text",
        "text": {
            "thesaurus": "mythes",
            "eda": {"alpha_sr": 0.2, "alpha_ri": 0.0, "num_aug": 2, "protected": ["no", "not"], "seed": 3},
            "back_translation": {
                "timeout": 30,
                "cache": str(tmp_path / "bt.sqlite"),
                "p": 0.5,
                "on_miss": "keep",
                "seed": 1,
            },
        },
    }
    rebuilt = augloader.from_config(written)
    assert augloader.to_config(rebuilt) == written
    assert rebuilt["eda"](TEXTS, generator=_g(7)) == eda(TEXTS, generator=_g(7))
    assert rebuilt["back_translation"].translator.timeout == 30
    assert rebuilt["back_translation"](TEXTS, generator=_g(7)) == bt(TEXTS, generator=_g(7))  # cache misses: kept


def test_text_arguments_a_config_cannot_hold():
    with pytest.raises(ConfigError, match="text.eda: argument 'thesaurus' is a dict"):
        augloader.to_config(EDA(thesaurus=THESAURUS))
    with pytest.raises(ConfigError, match="text.eda: argument 'rng' is a Python object"):
        augloader.to_config(EDA(thesaurus="mythes", rng=random.Random(0)))
    with pytest.raises(ConfigError, match="ApertiumTranslator arguments \\['codes'\\] have no place"):
        augloader.to_config(BackTranslation(ApertiumTranslator(codes={"en": "eng"})))
