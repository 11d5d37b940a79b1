"""``HostPrefetcher``: a background thread that takes batches from a loader iterator ahead of the consumer.

:class:`~augloader.data.device.DeviceAugmenter` runs it so that fetching batch ``k + 1`` from the loader
(collating in the main process, or waiting on a DataLoader worker) and pinning it overlap step ``k``. The
thread keeps the loader's order; at most ``depth`` finished batches wait in a bounded queue. An exception
from the loader is handed to the consumer, which re-raises it with its original traceback. :meth:`stop`
ends the thread (the consumer broke out of its loop, or a new epoch started) and waits for it.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator, Optional

_POLL_S = 0.1  # how often a thread blocked on a full queue looks whether it was stopped


class _End:
    """The loader is exhausted."""


class _Stopped:
    """:meth:`HostPrefetcher.stop` ran while a consumer still held the iterator."""


class _Failure:
    """The loader (or the prepare step) raised ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class HostPrefetcher:
    """Iterates ``it`` in a daemon thread, applying ``prepare`` (e.g. pinning) to each batch there.

    Args:
        it: the loader's iterator (created by the consumer, advanced only by the thread).
        skip: batches to take and drop first (a mid-epoch resume: the loader still loads them).
        prepare: host-side work on each batch in the thread (None: the batch as the loader gives it).
        setup: called once in the thread before anything else (e.g. select the CUDA device).
        depth: how many prepared batches may wait for the consumer (1 or 2 is enough to overlap).

    Iterating a ``HostPrefetcher`` yields the prepared batches in the loader's order.

    Shape:
        batches pass through unchanged apart from ``prepare``.
    """

    def __init__(
        self,
        it: Iterator[Any],
        skip: int = 0,
        prepare: Optional[Callable[[Any], Any]] = None,
        setup: Optional[Callable[[], None]] = None,
        depth: int = 2,
    ) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"HostPrefetcher: depth must be a positive int, got {depth!r}")
        self._it: Optional[Iterator[Any]] = it
        self._skip = skip
        self._prepare = prepare
        self._setup = setup
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="augloader-prefetch", daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        """The background thread (alive until the loader ends, fails or :meth:`stop` runs)."""
        return self._thread

    # ---- the background thread ------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            if self._setup is not None:
                self._setup()
            for _ in range(self._skip):
                if self._stopping.is_set():
                    return
                next(self._it, None)
            while not self._stopping.is_set():
                try:
                    batch = next(self._it)
                except StopIteration:
                    self._put(_End())
                    return
                self._put(self._prepare(batch) if self._prepare is not None else batch)
        except BaseException as e:  # handed to the consumer, which re-raises it
            self._put(_Failure(e))
        finally:
            self._it = None  # the loader iterator (and a DataLoader's workers) goes with the thread

    def _put(self, item: Any) -> None:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    # ---- the consumer ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.error  # keeps the traceback from the thread, with this frame added
            if isinstance(item, _Stopped):
                raise RuntimeError(
                    "DeviceAugmenter: this iterator was stopped by set_epoch(), load_state_dict() or a newer "
                    "iter(); start a new loop over the DeviceAugmenter"
                )
            yield item

    def stop(self) -> None:
        """Ends the thread and waits for it (after at most the loader fetch it is in); idempotent."""
        self._stopping.set()
        if self._thread is threading.current_thread():
            return  # a garbage collection ran the consumer's cleanup inside the thread: it sees the flag
        self._drain()  # a thread blocked on the full queue can put its last item and see the flag
        self._thread.join()
        self._drain()
        self._queue.put_nowait(_Stopped())  # a consumer still waiting on get() hears why

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
