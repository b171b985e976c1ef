"""Client-side token buckets: one per connector operation, adapted to what the server says.

A bucket refills ``rate`` tokens per second up to ``burst``; each request takes one, waiting for
it when the bucket is empty. Callers reserve their token under a lock and sleep outside it, so
threads queue fairly without holding the lock while waiting (a GCRA-style reservation).
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

#: concurrent use keeps this much refill (seconds' worth, at most a token) in reserve: the
#: network jitter it absorbs without a 429
RESERVE_SECONDS = 0.25
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
        concurrent: requests share the bucket from several threads (``erpsync.http.fanout``):
            keep a reserve for network jitter, and settle on answers (see below).
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        concurrent: bool = False,
    ) -> None:
        if limit.rate <= 0:
            raise ValueError(f"rate must be positive, got {limit.rate}")
        self.rate = float(limit.rate)
        # Concurrent requests leave the bucket paced to the exact token: the server then holds
        # nothing spare, and a request that overtakes its predecessor on the network (jitter)
        # arrives a little early and gets a 429. A reserve of RESERVE_SECONDS of refill (at
        # most one token, never below a burst of one) absorbs that much jitter, once. A bucket
        # that follows the server's announced budget (``window``) runs at exactly the pace the
        # server allows us, so even one request at a time needs it: an answer that came back
        # late delays nothing, but the next request may then arrive early.
        declared = max(1, int(limit.burst))
        jittery = concurrent or limit.window is not None
        self.reserve = min(1.0, self.rate * RESERVE_SECONDS, declared - 1.0) if jittery else 0.0
        self.burst = declared - self.reserve
        #: the share of the server's announced budget left to others (``RateLimit.reserve``)
        self.share_free = min(max(float(limit.reserve), 0.0), 0.95)
        self.window = limit.window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.concurrent = concurrent
        self._tokens = float(self.burst)
        #: the time up to which ``_tokens`` is accounted for; in the future while paused
        self._updated = clock()
        #: consecutive 429s without a success in between: grows the pause
        self._strikes = 0
        #: when the last token taken from a full bucket was sent (see ``_settle``)
        self._sent_full: float | None = None

    @property
    def tokens(self) -> float:
        """Tokens available now (negative: reserved by callers still waiting)."""
        with self._lock:
            self._refill(self._clock())
            return self._tokens

    def acquire(self) -> float:
        """Take one token, sleeping until it is available. Returns the seconds waited."""
        with self._lock:
            now = self._clock()
            if self.concurrent:
                # concurrent: other requests are in flight, so "now" says nothing of when the
                # last full-bucket request arrived; its answer settles it (answered())
                self._refill(now)
            else:
                self._settle(now)  # the previous such request got no observe()/penalize()
            full = self._tokens >= self.burst
            self._tokens -= 1.0
            ready_at = max(now, self._updated) + max(0.0, -self._tokens) / self.rate
            if full:
                self._sent_full = ready_at
        wait = ready_at - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0

    def answered(self) -> None:
        """A request's answer came (whatever it was): the server has seen the request, so
        the refill credited since a full-bucket send can be settled (see ``_settle``)."""
        with self._lock:
            self._settle(self._clock())

    def penalize(self, seconds: float | None) -> float:
        """Pause the bucket after a 429: ``seconds`` (Retry-After) or a growing guess.

        Without a Retry-After the pause is the bucket's own time to refill one token, doubled on
        each consecutive 429 (Mercado Livre and Amazon send none). Returns the pause in seconds.
        """
        with self._lock:
            now = self._clock()
            self._sent_full = None  # the pause below re-anchors the bucket
            self._refill(now)
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
        """Refill, then re-anchor after a token taken from a full bucket.

        The server's bucket was full too, so it starts refilling when our request *arrives*,
        not when we sent it; counting from the send puts us ahead of the server by the
        request's latency, and once the burst is spent the next request lands that much early
        (a 429). The answer comes after the arrival: forget the refill credited between send
        and answer (at most one token).
        """
        self._refill(now)
        if self._sent_full is not None:
            # sequential, the client waited for that answer and spent nothing meanwhile: at most
            # one token was credited early; concurrent, the others may have spent the whole
            # round trip's refill (over-counting the way back costs a fraction of a second once)
            most = self.burst if self.concurrent else 1.0
            self._tokens -= min(most, max(0.0, now - self._sent_full) * self.rate)
            self._sent_full = None

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def _pause(self, now: float, seconds: float) -> None:
        # one token when the pause ends (the first request after it probes the server); callers
        # already waiting keep their place behind it
        self._tokens = min(self._tokens, 0.0) + 1.0
        self._updated = max(self._updated, now + seconds)


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
