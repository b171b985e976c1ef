"""Fanout and HttpConnector.each: independent requests together, in order, within the cap."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

import httpx
import pytest

from erpsync.errors import AuthError, FatalError, RetriableError
from erpsync.http.fanout import WIDEN_AT, Fanout, RoundTrips, read_ahead, read_together
from erpsync.http.ratelimit import RateLimit
from erpsync.http.retry import RetryPolicy
from erpsync.http.session import HttpSession
from erpsync.testing import FakeTime

#: long enough for any thread on a loaded machine; only reached when a test is broken
WAIT = 10.0


def test_outcomes_come_in_item_order_whatever_order_the_calls_finish_in() -> None:
    """requirement: results are applied in a deterministic order: the items' order."""
    last_done = threading.Event()

    def call(n: int) -> int:
        if n == 0:  # the first item finishes only after the last one has
            assert last_done.wait(WAIT)
        if n == 3:
            last_done.set()
        return n * 10

    outcomes = Fanout(4).map(call, range(4))
    assert [o.get() for o in outcomes] == [0, 10, 20, 30]


def test_calls_run_together_up_to_the_cap_and_never_beyond() -> None:
    """requirement: up to max_workers calls are in flight at once, never more."""
    cap = 3
    lock = threading.Lock()
    in_flight: list[int] = [0]
    most: list[int] = [0]
    together = threading.Barrier(cap)

    def call(n: int) -> int:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        if n < cap:  # the first `cap` calls can only pass once they are all in flight
            together.wait(WAIT)
        with lock:
            in_flight[0] -= 1
        return n

    fanout = Fanout(cap)
    try:
        assert [o.get() for o in fanout.map(call, range(12))] == list(range(12))
    finally:
        fanout.close()
    assert most[0] == cap


def test_a_failing_call_fails_only_its_own_item() -> None:
    """requirement: one call's ConnectorError is its item's outcome; the others succeed."""

    def call(n: int) -> int:
        if n == 1:
            raise RetriableError("HTTP 503", connector="shop")
        if n == 2:
            raise FatalError("HTTP 400", connector="shop")
        return n

    outcomes = Fanout(4).map(call, range(4))
    assert [o.ok for o in outcomes] == [True, False, False, True]
    assert isinstance(outcomes[1].error, RetriableError)
    assert isinstance(outcomes[2].error, FatalError)
    assert outcomes[3].get() == 3
    with pytest.raises(FatalError):
        outcomes[2].get()


def test_rejected_credentials_fail_the_whole_map() -> None:
    """requirement: an AuthError is not one item's problem: map raises it."""

    def call(n: int) -> int:
        if n == 2:
            raise AuthError("HTTP 401", connector="shop")
        return n

    with pytest.raises(AuthError):
        Fanout(4).map(call, range(5))


def test_a_bug_propagates_as_it_would_sequentially() -> None:
    """requirement: only ConnectorErrors become outcomes; anything else is raised."""

    def call(n: int) -> int:
        if n == 1:
            raise KeyError("results")
        return n

    with pytest.raises(KeyError):
        Fanout(4).map(call, range(3))


def test_a_map_inside_a_worker_runs_inline_rather_than_deadlocking() -> None:
    """requirement: a call that fans out again (nested) completes on a pool of one."""
    fanout = Fanout(2)

    def inner(n: int) -> int:
        return n + 1

    def outer(n: int) -> list[int]:
        return [o.get() for o in fanout.map(inner, [n, n])]

    try:
        outcomes = fanout.map(outer, range(4))
    finally:
        fanout.close()
    assert [o.get() for o in outcomes] == [[1, 1], [2, 2], [3, 3], [4, 4]]


def test_calls_made_inline_are_done_when_submit_returns_and_worker_calls_once_finished() -> None:
    """requirement: ``Pending.done`` says whether taking the outcomes would wait: a caller
    with nothing in flight hands its page on at once instead of holding it."""
    inline = Fanout(1).submit(lambda n: n, range(3))
    assert inline.done
    release = threading.Event()
    fanout = Fanout(2)
    try:
        waiting = fanout.submit(lambda n: release.wait(WAIT), range(2))
        assert not waiting.done
        release.set()
        assert [o.get() for o in waiting.outcomes()] == [True, True]
        assert waiting.done
    finally:
        fanout.close()


def test_read_together_keeps_no_item_it_handed_over_while_reading_the_next() -> None:
    """requirement (issue 11 section 2, memory): an item handed to the consumer (a page of
    payloads) is the consumer's to free: the reader does not keep it alive while it reads
    the next, on the consumer's thread or in its own."""
    assert _handed_items_alive_at_each_read(widened=False) == [0] * 6
    # threaded, a reader reads one ahead: at most the item the consumer is working on
    alive = _handed_items_alive_at_each_read(widened=True)
    assert len(alive) == 6 and max(alive) <= 1


class _Item:
    pass


def _handed_items_alive_at_each_read(*, widened: bool) -> list[int]:
    handed: list[weakref.ref[_Item]] = []
    alive: list[int] = []

    def source() -> Iterator[_Item]:
        for _ in range(3):
            alive.append(sum(ref() is not None for ref in handed))
            yield _Item()

    for item in read_together([source(), source()], when=lambda: widened):
        handed.append(weakref.ref(item))
        del item
    return alive


def test_a_cap_of_one_runs_every_call_on_the_callers_thread() -> None:
    caller = threading.get_ident()
    threads = {o.get() for o in Fanout(1).map(lambda _: threading.get_ident(), range(5))}
    assert threads == {caller}


# -- HttpSession.each: requests through the shared limiter and retries ---------------------------


def _session(handler: object, *, concurrency: int, time: FakeTime, rate: float) -> HttpSession:
    return HttpSession(
        "https://api.shop.test",
        name="shop",
        limits={"default": RateLimit(rate=rate, burst=1)},
        retry=RetryPolicy.instant(attempts=2),
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        monotonic=time.monotonic,
        sleep=time.sleep,
        concurrency=concurrency,
    )


def test_each_sends_every_request_through_the_rate_limit() -> None:
    """requirement: concurrency never lifts the rate limit: every request takes a token, so
    20 requests at 5/s with a burst of 1 wait at least 19 refills (threads waiting at the same
    time each record their own wait, so the sum may be larger, never smaller)."""
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": request.url.path.rsplit("/", 1)[-1]})

    session = _session(handler, concurrency=4, time=time, rate=5.0)
    try:
        outcomes = session.each(lambda n: session.request("GET", f"/items/{n}").json(), range(20))
    finally:
        session.close()
    assert [o.get() for o in outcomes] == [{"id": str(n)} for n in range(20)]
    assert sum(time.slept) >= 19 / 5.0 - 1e-9


def test_each_fails_only_the_item_whose_request_keeps_failing() -> None:
    """requirement: a request still failing after its retries fails its item, not the others."""
    time = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/items/3":
            return httpx.Response(503, json={"message": "unavailable"})
        return httpx.Response(200, json={"ok": True})

    session = _session(handler, concurrency=4, time=time, rate=1000.0)
    try:
        outcomes = session.each(lambda n: session.request("GET", f"/items/{n}").json(), range(6))
    finally:
        session.close()
    assert [o.ok for o in outcomes] == [True, True, True, False, True, True]
    assert isinstance(outcomes[3].error, RetriableError)
    assert "gave up after 2 attempts" in str(outcomes[3].error)


# -- only when it pays: a session widens once its requests wait on the network -------------------


def test_a_fanout_told_its_calls_would_not_gain_runs_them_on_the_callers_thread() -> None:
    """requirement: at zero latency no thread is paid for; the outcomes are the same."""
    caller = threading.get_ident()
    wide = [False]
    fanout = Fanout(4, widen_when=lambda: wide[0])
    try:
        narrow = fanout.map(lambda n: (n, threading.get_ident()), range(6))
        assert [o.get() for o in narrow] == [(n, caller) for n in range(6)]
        wide[0] = True
        widened = [o.get() for o in fanout.map(lambda n: (n, threading.get_ident()), range(6))]
    finally:
        fanout.close()
    assert [n for n, _ in widened] == list(range(6))
    assert {thread for _, thread in widened} != {caller}


def test_round_trips_widen_on_sustained_waits_not_on_one_slow_answer() -> None:
    """requirement: the smoothed round trip decides; one slow answer among quick ones does not
    widen, answers at a real platform's 150 ms do, and quick answers narrow it again."""
    trips = RoundTrips()
    assert not trips.waiting()  # nothing measured yet: one at a time
    for seconds in (0.001, 0.002, 0.001, 0.060, 0.001):
        trips.record(seconds)
    assert not trips.waiting()
    for _ in range(3):
        trips.record(0.150)
    assert trips.waiting()
    for _ in range(20):
        trips.record(0.001)
    assert not trips.waiting()
    assert WIDEN_AT < 0.1  # far below the 100-300 ms real platforms answer in


def _slow_session(time: FakeTime, round_trip: float) -> HttpSession:
    def handler(request: httpx.Request) -> httpx.Response:
        time.advance(seconds=round_trip)  # the answer takes this long on the session's clock
        return httpx.Response(200, json={"thread": threading.get_ident()})

    return _session(handler, concurrency=4, time=time, rate=1000.0)


def test_a_session_whose_answers_come_at_once_sends_one_request_at_a_time() -> None:
    time = FakeTime()
    session = _slow_session(time, 0.0)
    try:
        session.request("GET", "/ping")
        outcomes = session.each(lambda n: session.request("GET", f"/items/{n}").json(), range(6))
    finally:
        session.close()
    assert {o.get()["thread"] for o in outcomes} == {threading.get_ident()}


def test_a_session_whose_answers_take_a_platforms_round_trip_sends_requests_together() -> None:
    """requirement: limit-bound, not latency-bound: once answers are seen taking 150 ms,
    independent requests go out on the fan-out's threads."""
    time = FakeTime()
    session = _slow_session(time, 0.15)
    try:
        session.request("GET", "/ping")
        outcomes = session.each(lambda n: session.request("GET", f"/items/{n}").json(), range(6))
    finally:
        session.close()
    assert threading.get_ident() not in {o.get()["thread"] for o in outcomes}


def test_read_ahead_reads_on_the_consumers_thread_until_told_it_pays() -> None:
    """requirement: no read-ahead thread while the session's answers come at once; items and
    their order are the same either way."""
    caller = threading.get_ident()
    readers: list[int] = []
    wide = [False]

    def pages() -> Iterator[int]:
        for n in range(5):
            readers.append(threading.get_ident())
            yield n

    seen = []
    for page in read_ahead(pages(), when=lambda: wide[0]):
        seen.append(page)
        if page == 1:
            wide[0] = True
    assert seen == [0, 1, 2, 3, 4]
    assert readers[:2] == [caller, caller]
    assert caller not in readers[2:]


def test_closing_a_read_ahead_that_never_widened_closes_the_source() -> None:
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            yield from range(10)
        finally:
            closed.set()

    reader = read_ahead(pages(), when=lambda: False)
    assert next(reader) == 0
    reader.close()  # type: ignore[attr-defined]
    assert closed.is_set()


# -- read_ahead: a chain of dependent pages, one in flight ahead of the consumer ----------------


def test_read_ahead_yields_the_sources_items_in_order_and_reads_one_ahead() -> None:
    """requirement: while the consumer works on page n, page n + 1 is being read."""
    read: list[int] = []
    ahead_of_consumer = threading.Event()

    def pages() -> Iterator[int]:
        for n in range(4):
            read.append(n)
            if n == 1:
                ahead_of_consumer.set()
            yield n

    seen = []
    for page in read_ahead(pages()):
        if page == 0:  # page 1 is read while the consumer still holds page 0
            assert ahead_of_consumer.wait(WAIT)
        seen.append(page)
    assert seen == [0, 1, 2, 3]
    assert read == [0, 1, 2, 3]


def test_read_ahead_raises_the_sources_error_where_it_happened() -> None:
    """requirement: the pages before the failure are delivered, then the error is raised."""

    def pages() -> Iterator[int]:
        yield 0
        yield 1
        raise RetriableError("HTTP 503", connector="shop")

    seen = []
    with pytest.raises(RetriableError):
        for page in read_ahead(pages()):
            seen.append(page)
    assert seen == [0, 1]


def test_closing_read_ahead_early_stops_reading_and_closes_the_source() -> None:
    """requirement: a consumer that stops (an error while committing) stops the reading."""
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    reader = read_ahead(pages())
    assert next(reader) == 0
    reader.close()  # type: ignore[attr-defined]
    assert closed.is_set()


# -- read_together: independent chains (a window's searches) read at once, handed over in order --


def test_read_together_starts_every_source_at_once_and_hands_them_over_in_order() -> None:
    """requirement: the second search's first page is read while the consumer still holds
    the first search's first page; the consumer gets the first search's pages, then the
    second's, each in its order."""
    second_started = threading.Event()

    def first() -> Iterator[str]:
        yield from ("a0", "a1", "a2")

    def second() -> Iterator[str]:
        second_started.set()
        yield from ("b0", "b1")

    seen = []
    for page in read_together([first(), second()]):
        if page == "a0":
            assert second_started.wait(WAIT)
        seen.append(page)
    assert seen == ["a0", "a1", "a2", "b0", "b1"]


def test_read_together_raises_a_later_sources_error_after_the_earlier_sources_items() -> None:
    """requirement: the cancelled search failing first in time still comes after every page
    of the default search (which are committed); its own pages before the failure too."""
    failed = threading.Event()

    def first() -> Iterator[int]:
        assert failed.wait(WAIT)
        yield 0
        yield 1

    def second() -> Iterator[int]:
        yield 10
        failed.set()
        raise RetriableError("HTTP 503", connector="shop")

    seen = []
    with pytest.raises(RetriableError):
        for page in read_together([first(), second()]):
            seen.append(page)
    assert seen == [0, 1, 10]


def test_read_together_reads_one_source_after_the_other_until_told_it_pays() -> None:
    """requirement: no thread while answers come at once: the later source is not started
    before the earlier is done."""
    caller = threading.get_ident()
    readers: list[tuple[str, int]] = []

    def source(tag: str) -> Iterator[str]:
        for n in range(2):
            readers.append((tag, threading.get_ident()))
            yield f"{tag}{n}"

    seen = list(read_together([source("a"), source("b")], when=lambda: False))
    assert seen == ["a0", "a1", "b0", "b1"]
    assert readers == [("a", caller), ("a", caller), ("b", caller), ("b", caller)]


def test_closing_read_together_early_closes_every_source() -> None:
    """requirement: a consumer that stops (an error while committing) stops both searches."""
    closed: list[str] = []

    def source(tag: str) -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(tag)

    reader = read_together([source("a"), source("b")])
    assert next(reader) == 0
    reader.close()  # type: ignore[attr-defined]
    assert sorted(closed) == ["a", "b"]
