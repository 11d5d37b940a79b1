"""Text samples through the Dataset wrapper (per sample, before tokenisation)."""

from __future__ import annotations

import pytest

from augloader.data import AugmentedDataset, BatchAugment
from augloader.text import SynonymReplacement


def test_text_samples_are_augmented_per_sample_and_labels_kept():
    pairs = [("the film was good", 0), ("the film was not good", 1)]
    sr = SynonymReplacement(1.0, thesaurus={"film": ["movie"], "good": ["fine"]}, seed=0)
    ds = AugmentedDataset(pairs, transform=sr, kind="text")
    texts = [ds[i] for i in range(2)]
    assert [label for _, label in texts] == [0, 1]
    assert all(t.startswith("the movie was") or t.endswith("fine") for t, _ in texts)
    assert "not" in texts[1][0]  # protected words survive
    dicts = AugmentedDataset([{"text": "good film", "label": 3}], transform=sr, kind="text")
    assert dicts[0]["label"] == 3 and dicts[0]["text"] != "good film"


def test_text_kind_errors():
    with pytest.raises(TypeError, match="str"):
        AugmentedDataset([(3, 0)], kind="text")[0]
    with pytest.raises(ValueError, match="TextAugmentCollate"):
        BatchAugment(kind="text")
