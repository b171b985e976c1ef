"""Client-side token buckets: one per connector operation, adapted to what the server says.

A bucket refills ``rate`` tokens per second up to ``burst``; each request takes one, waiting for
it when the bucket is empty. Callers reserve their token under a lock and sleep outside it, so
threads queue fairly without holding the lock while waiting (a GCRA-style reservation).

The platform keeps one bucket per account, whichever object sends the requests, so the client's
buckets live as long as the process does (``SharedLimiters``): each step of ``erpsync sync``
opens new connector objects, and a step that starts right after another one spent the burst
must find its bucket as empty as the platform's, not full.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import httpx

#: a bucket paced by the server's announced budget (``RateLimit.window``) keeps this much refill
#: (seconds' worth, at most a token) in reserve: the network jitter it absorbs without a 429
RESERVE_SECONDS = 0.25
#: a request unanswered this long (seconds; longer than any request's timeouts) is taken as
#: arrived: its thread died without reporting the answer, and must not hold the refill back
MAX_IN_FLIGHT = 300.0
#: a penalty never pauses a bucket longer than this (unless the bucket's own refill is longer)
MAX_PAUSE = 60.0
#: header values above this are an epoch timestamp, not a delay
_EPOCH_THRESHOLD = 1_000_000_000
#: a "reset" delay above this many seconds is taken as milliseconds (Nuvemshop's
#: x-rate-limit-reset is in ms; the platforms that send seconds reset within minutes)
_MILLISECONDS_THRESHOLD = 3_600


#: IETF draft RateLimit-*, the common X-RateLimit-* and Nuvemshop's x-rate-limit-*
_REMAINING = ("RateLimit-Remaining", "X-RateLimit-Remaining", "X-Rate-Limit-Remaining")
_RESET = ("RateLimit-Reset", "X-RateLimit-Reset", "X-Rate-Limit-Reset")
_LIMIT = ("RateLimit-Limit", "X-RateLimit-Limit", "X-Rate-Limit-Limit")
_AMAZON_RATE = "x-amzn-RateLimit-Limit"
#: the headers ``observe`` acts on, as raw lower-case names: most responses carry none, and
#: one look at the raw header list costs a fraction of a ``Headers.get`` per name
_WATCHED = frozenset(name.lower().encode("ascii") for name in (_AMAZON_RATE, *_REMAINING))


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second refill, up to ``burst`` saved up."""

    rate: float
    burst: int = 1
    #: the share of the server's budget (its ``X-RateLimit-Limit``) to leave for others: a
    #: budget shared by every app on an account (Tiny) must not be spent by us alone
    reserve: float = 0.0
    #: seconds the server's ``X-RateLimit-Limit`` counts over (60: per minute); when set, the
    #: bucket's rate follows the limit the server announces (less ``reserve``)
    window: float | None = None

    @classmethod
    def per_minute(cls, count: float, burst: int = 1) -> RateLimit:
        return cls(rate=count / 60.0, burst=burst)


class RateLimiter:
    """A thread-safe token bucket.

    Args:
        limit: the declared rate (requests/second) and burst.
        clock: a monotonic clock in seconds.
        sleep: how to wait for a token.

    Requests may share the bucket from several threads (``erpsync.http.fanout``): each is
    settled on its own answer, from whichever thread (``_settle``), so the bucket behaves the
    same either way.
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit.rate <= 0:
            raise ValueError(f"rate must be positive, got {limit.rate}")
        self.rate = float(limit.rate)
        # A bucket that follows the server's announced budget (``window``) runs at exactly the
        # pace the server allows us, with no burst of its own to absorb anything: it keeps a
        # reserve of RESERVE_SECONDS of refill (at most one token, never below a burst of one)
        # so that a request whose predecessor was slower on the network may arrive that much
        # early without a 429. A declared bucket needs none: it settles each request on its
        # answer (``_settle``), which keeps it behind the server whatever the network's jitter.
        declared = max(1, int(limit.burst))
        self.reserve = (
            min(1.0, self.rate * RESERVE_SECONDS, declared - 1.0)
            if limit.window is not None
            else 0.0
        )
        self.burst = declared - self.reserve
        #: the share of the server's announced budget left to others (``RateLimit.reserve``)
        self.share_free = min(max(float(limit.reserve), 0.0), 0.95)
        self.window = limit.window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        #: a new bucket is as full as an idle server's: the server holds ``burst`` too
        self._tokens = float(self.burst)
        #: the time up to which ``_tokens`` is accounted for; in the future while paused
        self._updated = clock()
        #: consecutive 429s without a success in between: grows the pause
        self._strikes = 0
        #: tokens taken since the bucket was made
        self._taken = 0
        #: ``_taken`` before each request still in flight took its token -> when it was sent
        #: (see ``_refill``)
        self._in_flight: dict[int, float] = {}
        #: per thread: its request in flight (its entry in ``_in_flight``), if any
        self._mine = threading.local()
        #: refill not credited so far because requests were in flight (see ``_refill``)
        self._withheld = 0.0

    @property
    def tokens(self) -> float:
        """Tokens available now (negative: reserved by callers still waiting)."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def acquire(self) -> float:
        """Take one token, sleeping until it is available. Returns the seconds waited.

        The request is in flight (see ``_refill``) until its answer is reported on the same
        thread (``observe``, ``answered`` or ``penalize``), or the thread's next ``acquire``."""
        with self._lock:
            now = self._clock()
            # this thread's previous request, if its answer was never reported (a caller using
            # the bare bucket), is taken as having arrived when it was sent
            self._in_flight.pop(getattr(self._mine, "taken", None), None)  # type: ignore[arg-type]
            self._refill(now)
            mine = self._mine.taken = self._taken
            self._taken += 1
            self._tokens -= 1.0
            ready_at = max(now, self._updated) + max(0.0, -self._tokens) / self.rate
            withheld = self._withheld
        waited = 0.0
        while ready_at > now:
            self._sleep(ready_at - now)
            waited += ready_at - now
            with self._lock:
                now = ready_at
                self._refill(self._clock())
                # refill withheld meanwhile (a request in flight, see ``_refill``) moves every
                # token reserved before it back by as much
                ready_at += (self._withheld - withheld) / self.rate
                withheld = self._withheld
        with self._lock:
            self._in_flight[mine] = self._clock()  # sent now: in flight until its answer
        return waited

    def answered(self) -> None:
        """This thread's request got its answer (whatever it was): the server has seen it."""
        with self._lock:
            self._settle(self._clock())

    def penalize(self, seconds: float | None) -> float:
        """Pause the bucket after a 429: ``seconds`` (Retry-After) or a growing guess.

        Without a Retry-After the pause is the bucket's own time to refill one token, doubled on
        each consecutive 429 (Mercado Livre and Amazon send none). Returns the pause in seconds.
        """
        with self._lock:
            now = self._clock()
            self._settle(now)
            self._strikes += 1
            if seconds is None:
                refill = 1.0 / self.rate
                seconds = min(refill * 2 ** (self._strikes - 1), max(refill, MAX_PAUSE))
            self._pause(now, max(0.0, seconds))
            return seconds

    def observe(self, response: httpx.Response) -> None:
        """Adapt to rate-limit headers of a successful response; clears the 429 streak."""
        headers = response.headers
        watched = any(name.lower() in _WATCHED for name, _ in headers.raw)
        with self._lock:
            now = self._clock()
            self._settle(now)
            self._strikes = 0
            if not watched:  # no rate-limit header to adapt to
                return
            # ref: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits
            # (x-amzn-RateLimit-Limit: the operation's current rate in requests per second)
            amazon_rate = _number(headers.get(_AMAZON_RATE))
            if amazon_rate is not None and amazon_rate > 0:
                self.rate = amazon_rate
            remaining = _number(_first(headers, *_REMAINING))
            if remaining is None:
                return
            limit = _number(_first(headers, *_LIMIT))
            if limit is not None and limit > 0 and (self.share_free or self.window):
                # keep ``share_free`` of the announced budget free: what is left for us is the
                # remainder above it, and our pace that share of the limit over its window
                remaining -= math.ceil(limit * self.share_free)
                if self.window:
                    self.rate = max(limit * (1.0 - self.share_free) / self.window, 1e-3)
            self._tokens = min(self._tokens, remaining)
            if remaining < 1:
                reset = _reset_seconds(_first(headers, *_RESET))
                if reset is not None:
                    # the probe after the pause never runs ahead of the bucket's own pace: a
                    # window that resets a moment after our share of it ran out would let it
                    # go a fraction of a refill after the previous request, and a budget kept
                    # for others (``share_free``) is spent evenly, not at each window's start
                    self._pause(now, max(reset, 1.0 / self.rate))

    def _settle(self, now: float) -> None:
        """Refill, then take this thread's request out of flight: its answer has come."""
        self._refill(now)
        taken = getattr(self._mine, "taken", None)
        if taken is not None:
            self._mine.taken = None
            self._in_flight.pop(taken, None)

    def _refill(self, now: float) -> None:
        """Credit the refill since the last update, up to the burst, and while requests are in
        flight never above what the server may hold.

        The server counts a request when it *arrives*, the bucket when it is sent. That alone
        keeps the bucket behind the server (the server refills during the request's flight),
        but for a full server bucket: it refills nothing until the request arrives, and a
        bucket counting from the send runs ahead of it by the request's latency (the first
        request after the burst lands that much early: a 429). Until its answer proves it
        arrived, a request may not have reached the server: the server may still be full, and
        take that request and every one sent after it later. So while requests are in flight
        the bucket holds at most ``burst`` less the tokens taken since the oldest of them was
        sent. That costs nothing while the bucket is short of tokens (paced: those tokens are
        long spent) and, after a burst from a full bucket, the refill of one round trip; and
        it holds whatever the latency, its jitter, a slow first connection or the order in
        which requests overtake each other on the network, so no jitter reserve is needed.
        """
        if now > self._updated:
            most = self.burst
            if self._in_flight:
                oldest = min(self._in_flight)
                if now - self._in_flight[oldest] > MAX_IN_FLIGHT:  # its thread is gone
                    self._in_flight = {
                        k: sent
                        for k, sent in self._in_flight.items()
                        if now - sent <= MAX_IN_FLIGHT
                    }
                    oldest = min(self._in_flight, default=self._taken)
                most -= self._taken - oldest
            refilled = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            if refilled > most:
                self._withheld += refilled - max(self._tokens, most)
            self._tokens = max(self._tokens, min(most, refilled))
            self._updated = now

    def _pause(self, now: float, seconds: float) -> None:
        # one token when the pause ends (the first request after it probes the server); callers
        # already waiting keep their place behind it
        self._tokens = min(self._tokens, 0.0) + 1.0
        self._updated = max(self._updated, now + seconds)


class SharedLimiters:
    """The rate limiters of every account this process talks to, built on first use.

    A limiter is found by the account (``HttpConnector.rate_limit_account``: the platform,
    its base URL, the connector's name and a digest of its settings), the operation, its
    declared limit and the
    clock and sleep it measures and waits with (two simulated clocks are two worlds: tests).
    Thread-safe: a sync's connectors run in worker threads, and every limiter is too.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[Hashable, RateLimiter] = {}

    def get(
        self,
        account: Hashable,
        operation: str,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        """The bucket of ``operation`` on ``account``: the same object for every caller."""
        key = (account, operation, limit, clock, sleep)
        with self._lock:
            found = self._limiters.get(key)
            if found is None:
                found = RateLimiter(limit, clock=clock, sleep=sleep)
                self._limiters[key] = found
            return found

    def clear(self) -> None:
        """Forget every bucket (tests: each starts from idle platforms)."""
        with self._lock:
            self._limiters.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._limiters)


#: this process's buckets: the connectors' sessions take theirs from it (``HttpSession``'s
#: ``account``), unless their context brings its own (``ConnectorContext.rate_limiters``)
SHARED_LIMITERS = SharedLimiters()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _first(headers: httpx.Headers, *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return str(value)
    return None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().split(",")[0])
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _reset_seconds(value: str | None) -> float | None:
    number = _number(value)
    if number is None:
        return None
    if number > _EPOCH_THRESHOLD:
        return max(0.0, number - time.time())
    if number > _MILLISECONDS_THRESHOLD:
        return number / 1000.0
    return max(0.0, number)
