"""Two gloo ranks on CPU: each rank draws different augmentations, and a rerun repeats them exactly."""

from __future__ import annotations

import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.utils.data import DistributedSampler


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    import os

    import augloader as A
    from augloader.data import loader

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        # every sample is the same image: differences between ranks come from the augmentation only
        image = torch.randint(0, 256, (3, 24, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
        data = [(image, 0)] * 32
        sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=5)
        dl = loader(
            data,
            4,
            transform=A.RandomCrop(20),
            batch_transform=A.Compose([A.RandomHorizontalFlip(), A.ColorJitter(0.3, 0.3)]),
            seed=11,
            sampler=sampler,
            num_workers=1,
        )
        out = []
        for epoch in (0, 1):
            dl.set_epoch(epoch)
            out.append(torch.cat([x for x, _ in dl]))
        torch.save({"batches": out, "indices": list(sampler)}, f"{out_dir}/rank{rank}.pt")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _launch(tmp_path, name):
    out_dir = tmp_path / name
    out_dir.mkdir()
    mp.spawn(_worker, args=(2, _free_port(), str(out_dir)), nprocs=2, join=True)
    return [torch.load(out_dir / f"rank{r}.pt") for r in range(2)]


def test_ranks_differ_and_rerun_repeats(tmp_path):
    first = _launch(tmp_path, "a")
    assert set(first[0]["indices"]).isdisjoint(first[1]["indices"])  # DistributedSampler shards
    r0, r1 = first[0]["batches"], first[1]["batches"]
    assert r0[0].shape == r1[0].shape == (16, 3, 20, 20)
    assert not torch.equal(r0[0], r1[0]) and not torch.equal(r0[1], r1[1])  # the rank is mixed into every draw
    assert not torch.equal(r0[0], r0[1])  # epochs differ
    second = _launch(tmp_path, "b")
    for a, b in zip(first, second):
        assert all(torch.equal(x, y) for x, y in zip(a["batches"], b["batches"]))
