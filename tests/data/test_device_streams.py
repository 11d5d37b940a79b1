"""DeviceAugmenter's prefetch order, proven on the CPU: fake CUDA streams and events log every call.

``augloader.data.device._cuda`` holds every CUDA call DeviceAugmenter makes; :class:`FakeCuda` replaces it
and keeps the real CPU tensors, so the stream path runs here and its order is checked call by call. The
background thread is checked with a loader gated by ``threading.Event``\\ s (no sleeps).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import traceback
from typing import Any, Iterator

import pytest
import torch
from torch import nn

import augloader as A
from augloader.data import DeviceAugmenter
from augloader.data import device as device_mod
from augloader.data.seeding import make_generator
from augloader.mix import MixUpCutMix

WAIT_S = 10.0  # a bound for a failing test only: every wait below returns as soon as its event is set


# ---- fakes ------------------------------------------------------------------------------------------
class FakeStream:
    def __init__(self, name: str, log: list) -> None:
        self.name, self.log = name, log

    def wait_stream(self, other: FakeStream) -> None:
        self.log.append(("wait_stream", self.name, other.name))

    def wait_event(self, event: FakeEvent) -> None:
        self.log.append(("wait_event", self.name, event.name))


class FakeEvent:
    def __init__(self, name: str, log: list) -> None:
        self.name, self.log = name, log

    def record(self, stream: FakeStream) -> None:
        self.log.append(("record", self.name, stream.name))


class FakeCuda(device_mod._Cuda):
    """Takes the stream path for any device; logs streams, events, pinning and record_stream."""

    def __init__(self) -> None:
        self.log: list = []
        self.streams: list[FakeStream] = []
        self.events = 0
        self.active = [FakeStream("main", self.log)]  # the current stream is the top of this stack

    def streams_for(self, device: torch.device) -> bool:
        return True

    def new_stream(self, device: torch.device) -> FakeStream:
        self.streams.append(FakeStream(f"side{len(self.streams)}", self.log))
        return self.streams[-1]

    def current_stream(self, device: torch.device) -> FakeStream:
        return self.active[-1]

    def new_event(self) -> FakeEvent:
        self.events += 1
        return FakeEvent(f"event{self.events}", self.log)

    @contextlib.contextmanager
    def use(self, stream: FakeStream) -> Iterator[None]:
        self.active.append(stream)
        try:
            yield
        finally:
            self.active.pop()

    def thread_setup(self, device: torch.device) -> Any:
        return lambda: self.log.append(("thread_setup", threading.current_thread()))

    def pin(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append(("pin", threading.current_thread()))
        return x

    def record_stream(self, x: torch.Tensor, stream: FakeStream) -> None:
        self.log.append(("record_stream", id(x), stream.name))


@pytest.fixture
def fake(monkeypatch) -> FakeCuda:
    cuda = FakeCuda()
    monkeypatch.setattr(device_mod, "_cuda", cuda)
    return cuda


class Tagged(nn.Module):
    """A transform that logs which batch it augments (its pixels hold the batch index) and on which stream."""

    def __init__(self, cuda: FakeCuda) -> None:
        super().__init__()
        self.cuda = cuda

    def forward(self, x: torch.Tensor, generator: Any = None) -> torch.Tensor:
        self.cuda.log.append(("augment", int(x[0, 0, 0, 0]), self.cuda.active[-1].name))
        return x.float()


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Batch ``k``: images full of ``k``, labels ``[k, k]``."""
    return [(torch.full((2, 3, 4, 4), k, dtype=torch.uint8), torch.tensor([k, k])) for k in range(n)]


def _calls(log: list, *kinds: str) -> list:
    return [entry for entry in log if entry[0] in kinds]


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "augloader-prefetch"]


class GatedLoader:
    """Batch ``k`` is fetched only after ``release[k]`` is set; ``fetching[k]`` is set when its fetch starts."""

    def __init__(self, n: int, fail_at: int = -1) -> None:
        self.data = _batches(n)
        self.fetching = [threading.Event() for _ in range(n)]
        self.release = [threading.Event() for _ in range(n)]
        self.threads: list[threading.Thread] = []
        self.fail_at = fail_at

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Any]:
        for k, batch in enumerate(self.data):
            self.threads.append(threading.current_thread())
            self.fetching[k].set()
            if not self.release[k].wait(WAIT_S):
                raise TimeoutError(f"batch {k} was never released")
            if k == self.fail_at:
                _broken_loader_step(k)
            yield batch

    def release_all(self) -> None:
        for e in self.release:
            e.set()


def _broken_loader_step(k: int) -> None:
    raise ValueError(f"corrupt file in batch {k}")


# ---- stream order ---------------------------------------------------------------------------------
def test_each_batch_waits_for_the_current_stream_and_the_consumer_waits_on_its_event(fake):
    aug = DeviceAugmenter(_batches(3), Tagged(fake), "cpu", seed=0)
    got = []
    for images, labels in aug:
        fake.log.append(("consume", int(labels[0])))
        got.append((images, labels))
    order = [e[:3] for e in _calls(fake.log, "wait_stream", "augment", "record", "wait_event", "consume")]
    assert order == [
        ("wait_stream", "side0", "main"),  # batch 0: the side stream waits on the current stream first
        ("augment", 0, "side0"),  # copied and augmented on the side stream
        ("record", "event1", "side0"),  # then batch 0's own event
        ("wait_stream", "side0", "main"),  # batch 1 is queued before batch 0 is handed over
        ("augment", 1, "side0"),
        ("record", "event2", "side0"),
        ("wait_event", "main", "event1"),  # the consumer waits on batch 0's event only
        ("consume", 0),
        ("wait_stream", "side0", "main"),
        ("augment", 2, "side0"),
        ("record", "event3", "side0"),
        ("wait_event", "main", "event2"),
        ("consume", 1),
        ("wait_event", "main", "event3"),
        ("consume", 2),
    ]
    assert not any(e[1] == "main" for e in _calls(fake.log, "wait_stream"))  # never waits on the whole side stream
    # record_stream(current) on every handed-out tensor, right before it is handed out
    for k, (images, labels) in enumerate(got):
        i = fake.log.index(("consume", k))
        recorded = []
        for entry in reversed(fake.log[:i]):
            if entry[0] != "record_stream":
                break
            recorded.append(entry)
        assert sorted(recorded) == sorted(
            [("record_stream", id(images), "main"), ("record_stream", id(labels), "main")]
        )


def test_record_stream_reaches_tensors_nested_in_dicts(fake):
    batches = [
        {"image": torch.full((2, 3, 4, 4), k, dtype=torch.uint8), "meta": {"id": torch.tensor([k])}} for k in (0, 1)
    ]
    out = list(DeviceAugmenter(batches, None, "cpu", seed=0))
    recorded = {e[1] for e in _calls(fake.log, "record_stream")}
    assert recorded == {id(b["image"]) for b in out} | {id(b["meta"]["id"]) for b in out}


def test_one_side_stream_for_the_objects_lifetime(fake):
    aug = DeviceAugmenter(_batches(3), Tagged(fake), "cpu", seed=0)
    assert fake.streams == []  # made lazily, on the first iteration
    for epoch in range(3):
        aug.set_epoch(epoch)
        assert len(list(aug)) == 3
    for _ in aug:  # a loop left early, then a new one
        break
    list(aug)
    assert len(fake.streams) == 1
    assert {e[1] for e in _calls(fake.log, "wait_stream", "record")} - {f"event{i}" for i in range(1, 99)} == {"side0"}
    assert {e[2] for e in _calls(fake.log, "augment")} == {"side0"}


def test_the_background_thread_pins_each_batch(fake):
    aug = DeviceAugmenter(_batches(3), Tagged(fake), "cpu", seed=0)
    list(aug)
    threaded = _calls(fake.log, "thread_setup", "pin")
    assert threaded[0][0] == "thread_setup" and len(threaded) == 1 + 3 * 2  # images and labels of 3 batches
    assert {e[1] for e in threaded} == {threaded[0][1]} and threaded[0][1] is not threading.current_thread()


# ---- the background thread -----------------------------------------------------------------------
@pytest.mark.parametrize("streams", [False, True], ids=["cpu", "fake-cuda"])
def test_next_batch_is_fetched_while_the_consumer_holds_this_one(streams, monkeypatch):
    if streams:
        monkeypatch.setattr(device_mod, "_cuda", FakeCuda())
    loader = GatedLoader(5)
    aug = DeviceAugmenter(loader, None, "cpu", seed=0)
    it = iter(aug)
    ahead = 2 if streams else 1  # with streams batch k + 1 is already on the device when k is handed over
    for k in range(ahead):
        loader.release[k].set()
    loader.release[ahead].set()
    images, _ = next(it)  # the consumer holds batch 0 and does not call next() ...
    assert int(images[0, 0, 0, 0]) == 0
    assert loader.fetching[ahead + 1].wait(WAIT_S)  # ... while the thread fetched the next batch and went on
    assert loader.threads[ahead] is not threading.current_thread()
    assert aug.position == 1
    loader.release_all()
    assert [int(x[0, 0, 0, 0]) for x, _ in it] == [1, 2, 3, 4] and aug.position == 5


def test_breaking_out_stops_the_thread():
    loader = GatedLoader(6)
    loader.release_all()
    aug = DeviceAugmenter(loader, None, "cpu", seed=0)
    for _ in aug:
        assert loader.fetching[3].wait(WAIT_S)  # the thread is ahead, blocked on the full queue
        break
    assert loader.threads and not any(t.is_alive() for t in loader.threads)
    assert _prefetch_threads() == []


def test_a_dropped_iterator_stops_the_thread():
    loader = GatedLoader(6)
    loader.release_all()
    it = iter(DeviceAugmenter(loader, None, "cpu", seed=0))
    next(it)
    assert loader.threads[0].is_alive()
    del it
    gc.collect()
    assert not loader.threads[0].is_alive()


def test_set_epoch_and_a_new_loop_stop_the_running_thread():
    loader = GatedLoader(4)
    loader.release_all()
    aug = DeviceAugmenter(loader, None, "cpu", seed=0)
    first = iter(aug)
    next(first)
    aug.set_epoch(1)
    assert not loader.threads[0].is_alive()
    with pytest.raises(RuntimeError, match="stopped by set_epoch"):
        next(first)
    loader = GatedLoader(4)
    loader.release_all()
    aug.loader = loader
    a, b = iter(aug), iter(aug)
    next(a)
    thread_a = loader.threads[-1]
    assert len(list(b)) == 4  # the newer loop runs to the end
    assert not thread_a.is_alive()
    with pytest.raises(RuntimeError, match="newer iter"):
        next(a)
    assert _prefetch_threads() == []


@pytest.mark.parametrize("streams", [False, True], ids=["cpu", "fake-cuda"])
def test_a_loader_error_reaches_the_consumer_with_its_traceback(streams, monkeypatch):
    if streams:
        monkeypatch.setattr(device_mod, "_cuda", FakeCuda())
    loader = GatedLoader(5, fail_at=2)
    loader.release_all()
    got = []
    with pytest.raises(ValueError, match="corrupt file in batch 2") as info:
        for images, _ in DeviceAugmenter(loader, None, "cpu", seed=0):
            got.append(int(images[0, 0, 0, 0]))
    assert got == [0, 1]  # with streams too: batch 1, already prepared, is handed over before the error
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "_broken_loader_step" in frames and "__iter__" in frames
    assert not any(t.is_alive() for t in loader.threads)


def test_a_loader_that_cannot_be_iterated_fails_in_the_consumer():
    with pytest.raises(TypeError, match="not iterable"):
        next(iter(DeviceAugmenter(42, None, "cpu", seed=0)))


# ---- the same results as a plain loop ---------------------------------------------------------------
DATA = [
    (
        torch.randint(0, 256, (8, 3, 20, 20), dtype=torch.uint8, generator=torch.Generator().manual_seed(k)),
        torch.arange(8) % 5,
    )
    for k in range(5)
]


def _pipeline() -> A.Compose:
    return A.Compose(
        [
            A.RandomResizedCrop(12),
            A.RandomHorizontalFlip(),
            A.ColorJitter(0.4, 0.4, 0.4),
            A.Normalize([0.5] * 3, [0.2] * 3),
        ]
    )


def _reference(seed: int, epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The straightforward loop DeviceAugmenter must equal: batch k draws from (seed, epoch, rank, "device", k)."""
    transform, mix = _pipeline(), MixUpCutMix(num_classes=5)
    out = []
    for k, (images, labels) in enumerate(DATA):
        images = transform(images, generator=make_generator(seed, epoch, 0, "device", k))
        out.append(mix((images, labels), generator=make_generator(seed, epoch, 0, "device-mix", k)))
    return out


@pytest.mark.parametrize("streams", [False, True], ids=["cpu", "fake-cuda"])
def test_results_equal_a_plain_loop_and_resume_mid_epoch(streams, monkeypatch):
    if streams:
        monkeypatch.setattr(device_mod, "_cuda", FakeCuda())
    aug = DeviceAugmenter(DATA, _pipeline(), "cpu", mix=MixUpCutMix(num_classes=5), seed=7, rank=0)
    for epoch in (0, 1):
        aug.set_epoch(epoch)
        got = list(aug)
        ref = _reference(7, epoch)
        assert len(got) == len(ref) == 5
        assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(got, ref))
    aug.set_epoch(1)
    it = iter(aug)
    next(it), next(it)
    state = aug.state_dict()
    assert state["position"] == 2
    resumed = DeviceAugmenter(DATA, _pipeline(), "cpu", mix=MixUpCutMix(num_classes=5), seed=0, rank=0)
    resumed.load_state_dict(state)
    tail = list(resumed)
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(tail, _reference(7, 1)[2:]))
    assert len(tail) == 3 and resumed.position == 5


def test_parameters_are_drawn_and_prepared_in_the_background_thread(monkeypatch):
    pipe = _pipeline()
    threads = []
    draw = type(pipe).draw

    def recording_draw(self, batch, generator=None):
        threads.append(threading.current_thread())
        return draw(self, batch, generator)

    monkeypatch.setattr(type(pipe), "draw", recording_draw)
    aug = DeviceAugmenter(DATA, pipe, "cpu", seed=7, rank=0)
    got = list(aug)
    assert len(threads) == len(got) == 5
    assert all(t is not threading.current_thread() and t.name == "augloader-prefetch" for t in threads)
    ref = [_pipeline()(x, generator=make_generator(7, 0, 0, "device", k)) for k, (x, _) in enumerate(DATA)]
    assert all(torch.equal(a, c) for (a, _), c in zip(got, ref))


# ---- the transform and the mix go to the device once --------------------------------------------------
class CountsMoves(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.moves: list = []

    def to(self, *args: Any, **kwargs: Any) -> CountsMoves:
        self.moves.append(args)
        return super().to(*args, **kwargs)

    def forward(self, x: Any, generator: Any = None) -> Any:
        return x


def test_the_transform_and_the_mix_move_to_the_device_once():
    transform, mix = CountsMoves(), CountsMoves()
    aug = DeviceAugmenter(_batches(2), transform, "cpu", mix=lambda batch, generator=None: batch, seed=0)
    for epoch in range(3):
        aug.set_epoch(epoch)
        list(aug)
    assert transform.moves == [(torch.device("cpu"),)]  # a plain function as the mix is left alone
    aug.mix = mix  # a new module is moved on the next loop
    list(aug)
    list(aug)
    assert mix.moves == [(torch.device("cpu"),)] and len(transform.moves) == 1


def test_an_augmentation_error_comes_after_the_batch_already_prepared(fake):
    batches = [(torch.rand(2, 3, 4, 4), torch.tensor([0, 1])) for _ in range(3)]
    batches[2][0][1, 0, 0, 0] = float("nan")
    aug = DeviceAugmenter(batches, None, "cpu", seed=0, check_finite=True)
    got = []
    with pytest.raises(ValueError, match=r"batch 2, input\): sample 1 has NaN"):
        for images, _ in aug:
            got.append(images)
    assert len(got) == 2 and aug.position == 2  # batch 1 was queued with batch 2's failure still ahead
