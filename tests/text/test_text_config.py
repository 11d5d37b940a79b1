"""configs/text.yaml and the dict loader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from augloader.config import ConfigError
from augloader.text import EDA, BackTranslation, WordNetThesaurus, build_text_transforms, load_text_config
from augloader.text.mythes import DEFAULT_MYTHES_PATH

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_builds_eda_and_back_translation() -> None:
    if not os.path.exists(DEFAULT_MYTHES_PATH):
        pytest.skip("Debian package 'mythes-en-us' not installed (make testdata)")
    built = load_text_config(ROOT / "configs" / "text.yaml")
    eda, bt = built["eda"], built["back_translation"]
    assert isinstance(eda, EDA) and isinstance(bt, BackTranslation)
    assert eda.num_aug == 4 and [op.rate for op in eda.operations] == [0.1, 0.1, 0.1, 0.1]
    assert {"no", "not", "never", "don't"} <= eda.lexicon.protected
    assert (bt.source, bt.pivot, bt.p, bt.batch_size) == ("en", "es", 0.5, 512)
    assert bt.cache is not None and bt.cache.path.endswith("backtranslation.sqlite") and "~" not in bt.cache.path
    assert bt.translator.timeout == 300


def test_dict_config_options_and_errors(tmp_path: Path) -> None:
    if not os.path.isdir("/usr/share/wordnet"):
        pytest.skip("Debian package 'wordnet-base' not installed (make testdata)")
    built = build_text_transforms({"thesaurus": "wordnet", "eda": {"alpha_ri": 0, "num_aug": 2, "seed": 1}})
    assert set(built) == {"eda"}
    assert isinstance(built["eda"].lexicon.thesaurus, WordNetThesaurus)
    assert len(built["eda"].operations) == 3
    with pytest.raises(ConfigError, match="text.eda: unknown argument 'alpha_x'"):
        build_text_transforms({"eda": {"alpha_x": 0.1}})
    with pytest.raises(ConfigError, match="text: unknown section 'edaa'; did you mean 'eda'"):
        build_text_transforms({"edaa": {}})
    with pytest.raises(ConfigError, match="text.back_translation: unsupported backend 'google'"):
        build_text_transforms({"back_translation": {"backend": "google"}})
    with pytest.raises(ConfigError, match="text.eda: protected .*YAML"):
        build_text_transforms({"thesaurus": "wordnet", "eda": {"protected": [False]}})  # YAML `no`
    with pytest.raises(ConfigError, match="text.thesaurus: unknown argument 'file'"):
        build_text_transforms({"thesaurus": {"file": "x"}, "eda": {}})
    bad = tmp_path / "bad.yaml"
    bad.write_text("image: {}\n")
    with pytest.raises(ValueError, match="text:"):
        load_text_config(bad)
