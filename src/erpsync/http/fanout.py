"""Fanout: a connector's independent requests in flight together, bounded by a cap.

Real platforms answer in 100-300 ms. A connector that sends one request at a time is then
bound by that latency, not by the platform's rate limit: at 10 requests/s and 300 ms a round
trip, one request in flight reaches a third of the limit. The per-order detail calls of a page
(Mercado Livre's billing info and shipment, Amazon's getOrderItems), the multigets of a listing
page and the writes of a stock push do not depend on each other, so they go out together: the
rate limiters (``erpsync.http.ratelimit``, thread-safe) still decide *when* each request may
leave, and the cap bounds how many wait for an answer at once.

Threads, not asyncio: ``bench/concurrency.py`` measured threads with a sync ``httpx.Client``
faster and cheaper than an event loop at every connector count (README, Benchmarks). A
``ThreadPoolExecutor`` per session holds at most ``max_workers`` threads, started on the first
call that has more than one item.

Only when it pays: threads cost CPU (a hand-off per call, the GIL passed between them), which
at zero latency (a platform next door, the loopback benchmarks) buys nothing:
``bench/pull_orders.py`` measured a third more CPU with the fan-out on than one at a time. So
a session's ``Fanout`` starts sequential and widens once its requests wait on the network:
``RoundTrips`` keeps a smoothed mean of each request's round trip (on the session's clock, so a
benchmark's scaled platform time counts as the platform's), and the fan-out uses its threads
while that mean is at least ``WIDEN_AT``. A ``Fanout`` built without such a gauge always widens.

What stays sequential and deterministic: ``map`` returns one ``Outcome`` per item, in the
items' order, whatever order the answers came in, so the caller applies them as if they had
been fetched one by one. A ``ConnectorError`` fails its own item only (its ``Outcome`` carries
it), except an ``AuthError``: credentials rejected fail every item alike, so ``map`` raises it
(after the calls already in flight return). Anything else (a bug) propagates as it would
sequentially.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from erpsync.errors import AuthError, ConnectorError

T = TypeVar("T")
R = TypeVar("R")

#: the default cap of requests one connector has in flight at once
DEFAULT_CONCURRENCY = 8
#: a mean round trip (seconds) from which a session's calls go out together: far above a
#: loopback or same-datacentre answer (1-5 ms, CPU-bound: threads would only add their cost;
#: on a loaded machine, waiting for a core, loopback answers took over 20 ms), below half of a
#: real platform's 100-300 ms (latency-bound: one at a time reaches a third of a 10/s limit
#: at 300 ms)
WIDEN_AT = 0.05
#: the weight of the newest round trip in the smoothed mean (one slow answer does not widen)
ROUND_TRIP_WEIGHT = 0.2


class RoundTrips:
    """The smoothed mean round trip of a session's requests: whether its fan-out pays.

    Recorded from several threads without a lock: a sample lost to a race only delays the
    mean by one request.
    """

    def __init__(self, widen_at: float = WIDEN_AT, weight: float = ROUND_TRIP_WEIGHT) -> None:
        self.widen_at = widen_at
        self.weight = weight
        #: None until the first request has been answered
        self.mean: float | None = None

    def record(self, seconds: float) -> None:
        """One request's round trip (sent to answered, in seconds)."""
        mean = self.mean
        self.mean = seconds if mean is None else mean + self.weight * (seconds - mean)

    def waiting(self) -> bool:
        """Requests wait on the network long enough for calls in flight together to pay."""
        mean = self.mean
        return mean is not None and mean >= self.widen_at


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One item's result: its ``value``, or the ``error`` its call raised."""

    value: R | None = None
    error: ConnectorError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def get(self) -> R:
        """The value; raises the call's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class Pending(Generic[R]):
    """Calls submitted together (``Fanout.submit``); ``outcomes()`` waits for them."""

    def __init__(self, futures: list[Future[Outcome[R]] | Outcome[R]]) -> None:
        #: a call made inline (not on a worker) is its ``Outcome`` already: no ``Future``
        #: (a lock and a condition each) per call on the sequential path
        self._futures = futures

    @property
    def done(self) -> bool:
        """Every call has its outcome already (made inline, or finished on a worker):
        ``outcomes()`` will not wait."""
        return all(isinstance(f, Outcome) or f.done() for f in self._futures)

    def outcomes(self) -> list[Outcome[R]]:
        """One ``Outcome`` per item, in the items' order, once all are in.

        Raises:
            AuthError: a call's credentials were rejected (the first such item's error).
        """
        outcomes = [f if isinstance(f, Outcome) else f.result() for f in self._futures]
        for outcome in outcomes:
            if isinstance(outcome.error, AuthError):
                raise outcome.error
        return outcomes


class Fanout:
    """Runs a function over items on up to ``max_workers`` threads; outcomes in item order.

    Args:
        max_workers: the cap of calls in flight at once (1: every call on the caller's thread).
        name: names the worker threads (``erpsync-<name>-N``), for logs and debuggers.
        widen_when: asked at each ``submit``: False runs the calls one by one on the caller's
            thread (they would not gain from threads); None: always widen.
    """

    def __init__(
        self,
        max_workers: int = DEFAULT_CONCURRENCY,
        *,
        name: str = "http",
        widen_when: Callable[[], bool] | None = None,
    ) -> None:
        self.max_workers = max(1, int(max_workers))
        self.name = name
        self._widen_when = widen_when
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._workers = threading.local()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[Outcome[R]]:
        """``fn`` on every item, concurrently; one ``Outcome`` per item, in order.

        Raises:
            AuthError: a call's credentials were rejected (the first such item's error).
        """
        return self.submit(fn, items).outcomes()

    @property
    def wide(self) -> bool:
        """Calls go out together now (several allowed, and they pay)."""
        return self.max_workers > 1 and (self._widen_when is None or self._widen_when())

    def submit(self, fn: Callable[[T], R], items: Iterable[T]) -> Pending[R]:
        """Start ``fn`` on every item and return at once: the caller reads the next page
        while these calls run, and takes their outcomes (in order) when it needs them."""
        todo = list(items)
        # nested inside a worker (a detail call that itself fans out) runs inline: a pool
        # waiting on its own workers could deadlock, and the outer call already holds the cap
        if len(todo) <= 1 or getattr(self._workers, "inside", False) or not self.wide:
            return Pending([self._call(fn, item) for item in todo])
        executor = self._pool()
        return Pending([executor.submit(self._worker_call, fn, item) for item in todo])

    def start(self, call: Callable[[], R]) -> Future[R] | None:
        """``call`` on a worker, returning at once (its ``Future`` raises what it raised);
        None when calls would not go out together now (not wide, or already on a worker):
        the caller makes the call itself when it needs it. For a guess that may go unused
        (a page read ahead): errors are the caller's to take, not wrapped in an ``Outcome``."""
        if getattr(self._workers, "inside", False) or not self.wide:
            return None
        return self._pool().submit(self._worker_start, call)

    def _worker_start(self, call: Callable[[], R]) -> R:
        self._workers.inside = True
        return call()

    def _worker_call(self, fn: Callable[[T], R], item: T) -> Outcome[R]:
        self._workers.inside = True
        return self._call(fn, item)

    @staticmethod
    def _call(fn: Callable[[T], R], item: T) -> Outcome[R]:
        try:
            return Outcome(value=fn(item))
        except ConnectorError as exc:
            return Outcome(error=exc)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix=f"erpsync-{self.name}"
                )
            return self._executor

    def close(self) -> None:
        """Stop the worker threads (after the calls in flight); a later ``map`` starts anew."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


#: how often a read-ahead thread blocked on a full buffer checks whether it should stop
_POLL_SECONDS = 0.1
#: how long a closed read-ahead waits for its thread to stop
_JOIN_SECONDS = 5.0


def read_ahead(
    source: Iterator[T],
    *,
    depth: int = 1,
    name: str = "read-ahead",
    when: Callable[[], bool] | None = None,
) -> Iterator[T]:
    """``source``'s items, read up to ``depth`` items ahead of the consumer in a thread.

    For a chain of requests that depend on each other (the pages of a search): the next page
    is in flight while the consumer works on this one (its detail calls, the engine's commit).
    Items come in ``source``'s order; an error ``source`` raises is raised to the consumer at
    the point it would have been. Closing the iterator early stops the thread after the item
    it is reading.

    ``when``: asked before each item; items are read on the consumer's thread, one when asked
    for, until it first says True, and ahead in a thread from then on (a session's
    ``Fanout.wide``: no thread where answers come at once).
    """
    return read_together([source], depth=depth, name=name, when=when)


def read_together(
    sources: Sequence[Iterator[T]],
    *,
    depth: int = 1,
    name: str = "read-ahead",
    when: Callable[[], bool] | None = None,
) -> Iterator[T]:
    """The items of several independent chains (the searches of one window), source after
    source, each read ahead as ``read_ahead`` reads one, but all of them at once: the second
    search's first page is in flight with the first search's pages, not after its last.

    Items come in the sources' order (every item of the first, then the second's), whatever
    order the answers came in, so the consumer applies them as if read one after the other;
    an error a source raises is raised where it happened in that order (after the items
    before it: a later source's failure never takes back an earlier one's items). Closing
    stops every thread. ``when``: as for ``read_ahead``; until it says True the current
    source is read on the consumer's thread and the later ones wait their turn, from then on
    the rest of every source is read ahead together.
    """
    if when is None:
        return _read_together(list(sources), depth, name)
    return _read_together_when(list(sources), depth, name, when)


def _read_together_when(
    sources: list[Iterator[T]], depth: int, name: str, when: Callable[[], bool]
) -> Iterator[T]:
    threaded = False
    try:
        while sources and not when():
            try:
                item = next(sources[0])
            except StopIteration:
                _close(sources.pop(0))
                continue
            yield item
            del item  # the consumer's now: not held while the next item is read
        threaded = True
    finally:
        if not threaded:  # from here on the threads own the sources (and close them)
            for source in sources:
                _close(source)
    yield from _read_together(sources, depth, name)


def _read_together(sources: list[Iterator[T]], depth: int, name: str) -> Iterator[T]:
    readers: list[_Reader[T]] = []
    try:
        for index, source in enumerate(sources):
            label = name if len(sources) == 1 else f"{name}-{index + 1}"
            readers.append(_Reader(source, depth, label))
        for reader in readers:
            yield from reader.items()
    finally:
        for reader in readers:
            reader.stop.set()
        # a request in flight may take its timeout and retries to end: wait a little for each
        # thread to close its source, never for that (daemons; they stop after the item)
        for reader in readers:
            reader.thread.join(timeout=_JOIN_SECONDS)


def _close(source: Iterator[Any]) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        close()


class _Reader(Generic[T]):
    """One source read ahead in a thread of its own, started at once."""

    def __init__(self, source: Iterator[T], depth: int, name: str) -> None:
        self.source = source
        self.buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"erpsync-{name}", daemon=True)
        self.thread.start()

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self.stop.is_set():
            try:
                self.buffer.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self.source:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(("error", exc))
        finally:
            _close(self.source)

    def items(self) -> Iterator[T]:
        while True:
            kind, value = self.buffer.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
            del value  # the consumer's now: not held while the next item is awaited
