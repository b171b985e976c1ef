"""The client-side token bucket: bursts, waits, 429 penalties, server headers, threads."""

from __future__ import annotations

import heapq
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpx
import pytest

from erpsync.errors import RateLimitedError
from erpsync.http.ratelimit import RateLimit, RateLimiter
from erpsync.http.retry import RetryPolicy
from erpsync.testing import FakeTime


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def limiter(fake: FakeTime, rate: float = 2.0, burst: int = 2) -> RateLimiter:
    return RateLimiter(RateLimit(rate=rate, burst=burst), clock=fake.monotonic, sleep=fake.sleep)


def response(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_burst_then_steady_rate(fake):
    """requirement: ``burst`` requests go at once, then one every 1/rate seconds."""
    bucket = limiter(fake)
    assert [bucket.acquire() for _ in range(5)] == [0.0, 0.0, 0.5, 0.5, 0.5]
    assert fake.slept == [0.5, 0.5, 0.5]


def test_idle_time_refills_up_to_burst(fake):
    """requirement: an idle bucket refills, but never beyond its burst."""
    bucket = limiter(fake)
    bucket.acquire()
    bucket.acquire()
    fake.advance(seconds=60)
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.5]


def test_penalty_without_retry_after_grows_from_the_refill_time(fake):
    """requirement: a 429 without Retry-After pauses the bucket for its refill time, doubled on
    every consecutive 429 and capped; a success resets the streak."""
    bucket = limiter(fake, rate=0.5, burst=1)  # refill: 2 s
    assert [bucket.penalize(None) for _ in range(7)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    bucket.observe(response())
    assert bucket.penalize(None) == 2.0


def test_slow_buckets_pause_at_least_their_refill_time(fake):
    """requirement: a bucket refilling once a minute (Amazon getOrders) pauses >= 60 s."""
    bucket = limiter(fake, rate=1 / 120, burst=20)
    assert bucket.penalize(None) == pytest.approx(120.0)
    assert bucket.penalize(None) == pytest.approx(120.0)


def test_penalty_delays_the_next_request_and_leaves_one_token(fake):
    """requirement: after a pause, one request probes at once; the rest follow the rate."""
    bucket = limiter(fake, rate=2, burst=10)
    bucket.penalize(5.0)
    assert [bucket.acquire() for _ in range(3)] == [5.0, 0.5, 0.5]


def test_amazon_rate_header_sets_the_rate(fake):
    """requirement: x-amzn-RateLimit-Limit (requests/second) replaces the declared rate."""
    bucket = limiter(fake, rate=10, burst=1)
    bucket.acquire()
    bucket.observe(response(**{"x-amzn-RateLimit-Limit": "0.0167"}))
    assert bucket.rate == pytest.approx(0.0167)
    assert bucket.acquire() == pytest.approx(1 / 0.0167)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"}, 5.0),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "3"}, 3.0),
        ({"x-rate-limit-remaining": "0", "x-rate-limit-reset": "20000"}, 20.0),  # Nuvemshop: ms
        ({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "5"}, 0.0),
        ({"X-RateLimit-Remaining": "0"}, 0.01),  # no reset: one refill at the declared rate
    ],
)
def test_remaining_and_reset_headers(fake, headers, wait):
    """requirement: when the server says no requests remain, wait until its reset."""
    bucket = limiter(fake, rate=100, burst=100)
    bucket.observe(response(**headers))
    assert bucket.acquire() == pytest.approx(wait)


def test_a_window_that_resets_soon_does_not_let_the_next_request_run_ahead(fake):
    """requirement: when our share of a window runs out a moment before the window resets,
    the next request still waits a whole refill (1/rate), not just until the reset: a
    request sent sooner arrives early at a server pacing the same rate (a 429 after the
    first burst)."""
    bucket = RateLimiter(
        RateLimit(rate=0.7, burst=3, reserve=0.3, window=60.0),
        clock=fake.monotonic,
        sleep=fake.sleep,
    )
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "18", "X-RateLimit-Reset": "1"}
    bucket.observe(response(**headers))  # 42 of 60 used: our 70% share of this minute
    assert bucket.acquire() == pytest.approx(1 / 0.7)


def test_a_bucket_paced_by_the_server_s_window_keeps_a_jitter_reserve(fake):
    """requirement: a bucket that follows the server's announced budget runs at exactly the
    server's pace, so even one request at a time keeps RESERVE_SECONDS of refill in hand: a
    request whose predecessor was slower on the network arrives that much early without a
    429. The last request of a full burst waits for it."""
    bucket = RateLimiter(
        RateLimit(rate=0.7, burst=3, reserve=0.3, window=60.0),
        clock=fake.monotonic,
        sleep=fake.sleep,
    )
    waits = [bucket.acquire() for _ in range(3)]
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(0.25)


def test_remaining_header_caps_local_tokens(fake):
    """requirement: the server's remaining count caps what the bucket believes it has."""
    bucket = limiter(fake, rate=1, burst=10)
    bucket.observe(response(**{"X-RateLimit-Remaining": "1"}))
    assert [bucket.acquire() for _ in range(2)] == [0.0, 1.0]


def test_rate_limit_headers_are_found_in_any_case(fake):
    """requirement: header names are case-insensitive; a response without any rate-limit
    header leaves the bucket as it was."""
    bucket = limiter(fake, rate=1, burst=10)
    bucket.observe(response(**{"content-type": "application/json", "Server": "x"}))
    assert bucket.tokens == 10
    bucket.observe(httpx.Response(200, headers=[(b"x-ratelimit-REMAINING", b"1")]))
    assert [bucket.acquire() for _ in range(2)] == [0.0, 1.0]


def test_threads_share_the_bucket(fake):
    """requirement: concurrent callers each reserve a distinct slot (thread-safe)."""
    lock = threading.Lock()
    waits: list[float] = []
    bucket = RateLimiter(RateLimit(rate=10, burst=1), clock=lambda: 0.0, sleep=lambda s: None)

    def take() -> None:
        wait = bucket.acquire()
        with lock:
            waits.append(round(wait, 6))

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [round(n / 10, 6) for n in range(20)]


def test_rejects_non_positive_rates():
    """requirement: a zero rate is a declaration bug, not an infinite wait."""
    with pytest.raises(ValueError, match="rate must be positive"):
        RateLimiter(RateLimit(rate=0))


def test_session_penalizes_on_429_and_shares_default_bucket(mock_connector):
    """requirement: a 429 pauses the operation's bucket; undeclared operations use "default"."""
    answers = iter([httpx.Response(429, json={}), httpx.Response(200, json={})])
    connector = mock_connector(lambda r: next(answers), policy=RetryPolicy.instant())
    connector.request("GET", "/orders", operation="orders")
    assert connector.limiter("orders") is connector.limiter("default")
    assert connector.limiter("default").tokens < 1000


def test_session_gives_up_on_persistent_429(mock_connector):
    """requirement: persistent 429s end in RateLimitedError after the policy's attempts."""
    connector = mock_connector(
        lambda r: httpx.Response(429, json={}), policy=RetryPolicy.instant(2)
    )
    with pytest.raises(RateLimitedError):
        connector.request("GET", "/orders")


def test_session_limiters_use_the_context_clock_and_sleep(make_connector):
    """requirement: limiters measure with context.monotonic and wait with context.sleep
    (simulated time in the contract suite)."""
    fake = FakeTime()
    connector = make_connector(
        transport_=httpx.MockTransport(lambda r: httpx.Response(200, json={})),
        oauth=False,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
    )
    connector.http.limits = {"default": RateLimit(rate=2, burst=1)}
    for _ in range(3):
        connector.request("GET", "/a")
    assert fake.slept == [0.5, 0.5]


def test_sessions_of_one_account_share_its_buckets(fake):
    """requirement: every session of one account (each step of a sync opens its own) takes
    the same bucket per operation, as the platform counts the account's requests; another
    account, or a session that names none, has its own; ``clear`` forgets them all."""
    from erpsync.http.ratelimit import SharedLimiters
    from erpsync.http.session import HttpSession

    shared = SharedLimiters()
    limits = {"default": RateLimit(rate=2, burst=2), "stock": RateLimit(rate=1, burst=1)}

    def session(account: str | None) -> HttpSession:
        return HttpSession(
            "http://x.test",
            limits=limits,
            account=account,
            shared=shared,
            monotonic=fake.monotonic,
            sleep=fake.sleep,
        )

    first, second = session("a"), session("a")
    assert second.limiter("default") is first.limiter("default")
    assert second.limiter("orders") is first.limiter("default")  # undeclared: "default"
    assert second.limiter("stock") is first.limiter("stock") is not first.limiter("default")
    first.limiter("default").acquire()
    first.limiter("default").acquire()
    assert second.limiter("default").acquire() == pytest.approx(0.5)  # the burst is spent
    assert session("b").limiter("default") is not first.limiter("default")
    assert session(None).limiter("default") is not first.limiter("default")
    shared.clear()
    assert session("a").limiter("default") is not first.limiter("default")


def test_a_slow_first_request_does_not_put_the_client_ahead_of_the_server(fake):
    """requirement: no early send after the burst. The server's full bucket starts refilling
    when the first request arrives, not when the client sent it; a client counting from the
    send would fire the first post-burst request one latency early and get a 429."""
    from erpsync.emulation import TokenBucket

    client = limiter(fake, rate=1.0, burst=2)
    server = TokenBucket(rate=1.0, burst=2, clock=fake.monotonic)
    latencies = [0.5, 0.0, 0.0, 0.0, 0.0]  # a slow first request, then instant ones
    for latency in latencies:
        client.acquire()
        fake.advance(seconds=latency)  # the request travels
        assert server.try_take(), f"429 at t={fake.monotonic()}"
        client.observe(response(200))


def test_a_reserve_leaves_a_share_of_the_servers_budget_free(fake):
    """requirement: with ``reserve``, the bucket stops when only that share of the server's
    announced limit remains (other apps on the account use it) and waits for the reset; with
    ``window``, its pace becomes the announced limit less the reserve over that window."""
    bucket = RateLimiter(
        RateLimit(rate=1.0, burst=10, reserve=0.25, window=60.0),
        clock=fake.monotonic,
        sleep=fake.sleep,
    )
    headers = {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "30", "X-RateLimit-Reset": "40"}
    bucket.observe(response(**headers))
    assert bucket.acquire() == pytest.approx(40.0)  # 30 left = the 25% kept free
    assert bucket.rate == pytest.approx(120 * 0.75 / 60)
    headers["X-RateLimit-Remaining"] = "35"
    bucket.observe(response(**headers))
    assert bucket.tokens <= 5


def test_a_bucket_shared_by_threads_starts_with_the_whole_declared_burst(fake):
    """requirement: a new bucket holds what an idle server's does: ``burst`` requests go at
    once, from one thread or several, and only the next one waits for the refill."""
    bucket = RateLimiter(RateLimit(rate=5, burst=5), clock=fake.monotonic, sleep=fake.sleep)
    assert bucket.tokens == 5
    assert [bucket.acquire() for _ in range(6)] == [0.0] * 5 + [pytest.approx(0.2)]


class _Network:
    """Virtual time for threads: ``sleep`` blocks a thread until the simulation's clock
    reaches its end, and the clock moves on only once every thread is blocked (waiting for a
    token, or for its request's answer). Events: a request arriving at the server's bucket,
    an answer reaching the thread that sent it."""

    def __init__(self) -> None:
        self.now = 0.0
        self._cond = threading.Condition()
        self._busy = 0  # threads running (not blocked on the clock or on an answer)
        self._timers: list[tuple[float, int, Any]] = []  # (when, order, callback)
        self._order = 0

    def at(self, when: float, callback: Any) -> None:
        with self._cond:
            self._order += 1
            heapq.heappush(self._timers, (when, self._order, callback))
            self._cond.notify_all()

    def wake(self, event: threading.Event) -> Any:
        def callback() -> None:
            with self._cond:
                self._busy += 1  # counted as running before it runs
            event.set()

        return callback

    def sleep(self, seconds: float) -> None:
        woken = threading.Event()
        self.at(self.now + max(0.0, seconds), self.wake(woken))
        self.block(woken)

    def block(self, event: threading.Event) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()
        event.wait()

    def started(self) -> None:
        with self._cond:
            self._busy += 1

    def run(self) -> None:
        """Move the clock from event to event until nothing is left to happen."""
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._busy == 0)
                if not self._timers:
                    return
                when, _, callback = heapq.heappop(self._timers)
                self.now = max(self.now, when)
            callback()


#: how to draw one request's (way there, way back), in seconds: asked once it has its token
Legs = Callable[[], tuple[float, float]]


def _play(
    rate: float, burst: int, plans: Sequence[Iterable[Legs]]
) -> tuple[list[float], list[float], float]:
    """One thread per plan, each sending its plan's requests one after the other (the next as
    soon as the previous one's answer is in) through one ``RateLimiter`` on the simulated
    network, the server's token bucket counting each request when it arrives. Returns (when
    each request was sent, the refused arrivals, the last arrival)."""
    from erpsync.emulation import TokenBucket

    net = _Network()
    client = RateLimiter(RateLimit(rate=rate, burst=burst), clock=lambda: net.now, sleep=net.sleep)
    server = TokenBucket(rate, burst, clock=lambda: net.now)
    sent: list[float] = []
    refused: list[float] = []
    last = [0.0]
    lock = threading.Lock()

    def arrive() -> None:
        with lock:
            if not server.try_take():
                refused.append(net.now)
            last[0] = net.now

    def thread(plan: Iterable[Legs]) -> None:
        for legs in plan:
            client.acquire()
            there, back = legs()
            with lock:
                sent.append(net.now)
            answered = threading.Event()
            net.at(net.now + there, arrive)
            net.at(net.now + there + back, net.wake(answered))
            net.block(answered)
            client.observe(response(200))
        with net._cond:
            net._busy -= 1
            net._cond.notify_all()

    threads = [threading.Thread(target=thread, args=(plan,)) for plan in plans]
    for each in threads:
        net.started()
        each.start()
    net.run()
    for each in threads:
        each.join()
    return sent, refused, last[0]


def _simulate(rate, burst, round_trip, requests, workers, seed):
    """``requests`` sent by ``workers`` threads, each with its own way there and back
    (jittered by half the round trip either way, a cold connection's two extra round trips on
    each thread's first request). Returns (refused arrivals, last arrival)."""
    draw = random.Random(seed)
    left = [requests]
    lock = threading.Lock()

    def plan() -> Iterator[Legs]:
        cold = True
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1

            def legs(first: bool = cold) -> tuple[float, float]:
                way = round_trip / 2
                there = way * draw.uniform(0.5, 1.5) + (2 * round_trip if first else 0.0)
                return there, way * draw.uniform(0.5, 1.5)

            yield legs
            cold = False

    _, refused, last = _play(rate, burst, [plan() for _ in range(workers)])
    return len(refused), last


@pytest.mark.parametrize(
    ("rate", "burst", "round_trip", "workers"),
    [(10, 20, 0.3, 8), (1.5, 10, 0.3, 8), (3, 3, 0.15, 8), (5, 5, 0.3, 4), (10, 20, 0.05, 8)],
)
def test_requests_in_flight_together_never_land_early_whatever_their_latency(
    rate, burst, round_trip, workers
):
    """requirement: no 429 from the server's bucket however the network reorders requests
    (each way jittered by half the round trip, a slow first request on every new connection),
    and still limit-bound: after the burst the requests arrive at the server's pace, the
    bucket's caution costing a few round trips in all."""
    requests = 4 * burst + 20
    for seed in range(5):
        refused, last = _simulate(rate, burst, round_trip, requests, workers, seed)
        assert refused == 0, f"seed {seed}: {refused} requests refused"
        # the cold connection (2), the round trip withheld after the burst (1), the last way
        # there with its jitter (1), the last requests overtaken (2)
        assert last <= (requests - burst) / rate + 6 * round_trip, f"seed {seed}: slow"


def test_a_bursts_first_answer_coming_straight_back_releases_no_token_the_server_lacks():
    """requirement: the worst case of the in-flight rule, played exactly. A burst of 3 (1/s)
    from a full bucket; the first request reaches the server at 1.5 s and its answer comes
    straight back, the other two reach it just after and answer late. The server started
    refilling only at 1.5 s, and the two still in flight may have taken its last tokens, so
    the next request waits for one refill, until 2.5 s, and nothing is refused. (A client
    that credited the refill from half the round trip, or from the burst, would send it at
    1.5 s, into an empty bucket.)"""

    def legs(there: float, back: float) -> Legs:
        return lambda: (there, back)

    plans = [[legs(1.5, 0.0), legs(0.02, 0.02)], [legs(1.51, 2.0)], [legs(1.51, 2.0)]]
    sent, refused, _ = _play(1.0, 3, plans)
    assert sorted(sent) == pytest.approx([0.0, 0.0, 0.0, 2.5])
    assert refused == []
