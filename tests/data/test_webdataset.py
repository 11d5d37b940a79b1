"""Sharded tar streams (webdataset) through AugmentedDataset + BatchAugment, split by rank and worker."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

import augloader as A
from augloader.data import AugmentedDataset, AugmentedIterableDataset, BatchAugment

wds = pytest.importorskip("webdataset")
Image = pytest.importorskip("PIL.Image")

N_SHARDS, PER_SHARD = 4, 8
KEYS = [f"s{i:04d}" for i in range(N_SHARDS * PER_SHARD)]


def _encoded(i: int) -> tuple[str, bytes]:
    """Sample ``i`` as PNG (even) or JPEG (odd) bytes, of one of several sizes."""
    h, w = 20 + 3 * (i % 5), 24 + 5 * (i % 3)
    pixels = torch.randint(0, 256, (h, w, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(i))
    buf = io.BytesIO()
    fmt = "png" if i % 2 == 0 else "jpeg"
    Image.fromarray(pixels.numpy()).save(buf, format=fmt)
    return ("png" if fmt == "png" else "jpg"), buf.getvalue()


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("shards")
    with wds.ShardWriter(str(root / "train-%06d.tar"), maxcount=PER_SHARD, verbose=0) as sink:
        for i, key in enumerate(KEYS):
            ext, data = _encoded(i)
            sink.write({"__key__": key, ext: data, "cls": i % 3})
    urls = sorted(str(p) for p in root.glob("train-*.tar"))
    assert len(urls) == N_SHARDS
    return urls


def _stream(urls: list[str], form: str = "dict"):
    ds = wds.WebDataset(urls, shardshuffle=False, nodesplitter=wds.split_by_node).decode("pil")
    if form == "tuple":
        return ds.to_tuple("jpg;png", "cls", "__key__")
    return ds.rename(image="jpg;png", label="cls")  # keeps __key__ and __url__


def _batches(
    urls: list[str], num_workers: int, batch_transform=None, form: str = "dict", seed: int = 0, epoch: int = 0
):
    ds = AugmentedDataset(
        _stream(urls, form), A.RandomResizedCrop(32), seed=seed, sample_key=-1 if form == "tuple" else None
    )
    ds.set_epoch(epoch)
    collate = BatchAugment(batch_transform, seed=0)
    return list(DataLoader(ds, batch_size=4, num_workers=num_workers, collate_fn=collate))


def _by_key(batches: list) -> dict[str, tuple[torch.Tensor, int, str]]:
    """``{__key__: (image, label, shard file name)}``, checking every key comes once."""
    out = {}
    for b in batches:
        if isinstance(b, dict):
            rows = zip(b["__key__"], b["image"], b["label"].tolist(), [Path(u).name for u in b["__url__"]])
        else:
            rows = zip(b[2], b[0], b[1].tolist(), [""] * len(b[2]))
        for key, image, label, shard in rows:
            assert key not in out, f"{key} came twice"
            out[key] = (image, label, shard)
    return out


def test_per_sample_stage_is_the_same_for_any_num_workers_and_both_forms(shards):
    zero, two = _by_key(_batches(shards, 0)), _by_key(_batches(shards, 2))
    assert sorted(zero) == sorted(two) == KEYS  # every sample exactly once
    for key in KEYS:
        a, b = zero[key], two[key]
        assert a[0].shape == (3, 32, 32) and a[0].dtype == torch.uint8  # mixed sizes cropped to 32
        assert torch.equal(a[0], b[0]) and a[1:] == b[1:] == (int(key[1:]) % 3, a[2])
    as_tuples = _by_key(_batches(shards, 2, form="tuple"))  # the key kept with .to_tuple(..., "__key__")
    assert all(torch.equal(as_tuples[k][0], zero[k][0]) for k in KEYS)
    other_seed, next_epoch = _by_key(_batches(shards, 0, seed=1)), _by_key(_batches(shards, 0, epoch=1))
    assert sum(not torch.equal(other_seed[k][0], zero[k][0]) for k in KEYS) >= 28  # the draws really depend on the seed
    assert sum(not torch.equal(next_epoch[k][0], zero[k][0]) for k in KEYS) >= 28  # and on the epoch


def test_batch_stage_is_deterministic_for_a_fixed_num_workers(shards):
    pipeline = A.Compose([A.RandomHorizontalFlip(), A.ColorJitter(0.2, 0.2)])
    for workers in (0, 2):
        first, again = _batches(shards, workers, pipeline), _batches(shards, workers, pipeline)
        assert len(first) == len(again) == 8
        for a, b in zip(first, again):
            assert a["__key__"] == b["__key__"] and torch.equal(a["image"], b["image"])
        plain = _by_key(_batches(shards, workers))
        augmented = _by_key(first)
        assert sorted(augmented) == KEYS
        assert sum(not torch.equal(augmented[k][0], plain[k][0]) for k in KEYS) >= 16  # the batch stage ran
    two = _batches(shards, 2, pipeline)
    assert all(len({Path(u).name for u in b["__url__"]}) == 1 for b in two)  # batches form inside one worker's shard


def test_rank_split_gives_disjoint_shards(shards, monkeypatch):
    seen = {}
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))  # what torchrun sets, and webdataset's split_by_node reads
        monkeypatch.setenv("WORLD_SIZE", "2")
        seen[rank] = _by_key(_batches(shards, 2))
    shards_of = {r: {v[2] for v in seen[r].values()} for r in seen}
    assert shards_of == {0: {"train-000000.tar", "train-000002.tar"}, 1: {"train-000001.tar", "train-000003.tar"}}
    assert set(seen[0]).isdisjoint(seen[1]) and sorted([*seen[0], *seen[1]]) == KEYS


def test_streams_without_names_fall_back_and_bad_sample_keys_are_clear(shards):
    ds = AugmentedDataset(
        _stream(shards).map(lambda s: {k: v for k, v in s.items() if k != "__key__"}), A.RandomResizedCrop(32), seed=0
    )
    assert isinstance(ds, AugmentedIterableDataset) and ds.sample_key is None
    assert len(list(ds)) == len(KEYS)  # keyed by (worker, position)
    with pytest.raises(TypeError, match="tuple position, but the sample is a dict"):
        next(iter(AugmentedDataset(_stream(shards), seed=0, sample_key=-1)))
    with pytest.raises(TypeError, match="must select a str or int name"):
        next(iter(AugmentedDataset(_stream(shards, "tuple"), seed=0, sample_key=0)))
    with pytest.raises(KeyError, match="no such key"):
        next(iter(AugmentedDataset(_stream(shards), seed=0, sample_key="id")))
    with pytest.raises(TypeError, match="sample_key must be None"):
        AugmentedDataset(_stream(shards), seed=0, sample_key=1.5)


def _docs_block() -> str:
    text = (Path(__file__).parents[2] / "docs" / "data.md").read_text()
    section = text[text.index("### Streams past one disk") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_docs_example_runs(shards, monkeypatch):
    monkeypatch.chdir(Path(shards[0]).parent.parent)
    Path("shards").mkdir(exist_ok=True)
    for url in shards:
        target = Path("shards") / Path(url).name
        if not target.exists():
            target.symlink_to(url)
    scope: dict = {}
    exec(compile(_docs_block(), "docs/data.md", "exec"), scope)
    assert sorted(scope["seen"]) == KEYS
