"""Which failures are retried, and how long to wait: one policy object turned into tenacity.

Shape from dlt's ``_make_retry`` and ``wait_exponential_retry_after`` (dlt-hub/dlt:
dlt/sources/helpers/requests/retry.py): a small policy dataclass, a Retry-After-aware wait with
full jitter, ``reraise=True``; the sleep is injected (tenacity's ``sleep=``) so tests never wait.

tenacity is imported when a call first needs a retry (``retrying()``), not with this module: a
pull whose requests all succeed at once (almost every one) never loads it (11 modules, 0.4 MiB
of the peak RSS: issue 11 section 2, README Memory and start-up).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from erpsync.errors import RateLimitedError, RetriableError

if TYPE_CHECKING:
    import tenacity

log = logging.getLogger("erpsync.http")
T = TypeVar("T")


def is_retriable(exc: BaseException) -> bool:
    """True for transient failures: RetriableError (429, 5xx, connection), transport errors."""
    return isinstance(exc, RetriableError | httpx.TransportError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a request and how long to wait between tries.

    Args:
        attempts: total tries, the first included.
        initial_wait: the first back-off ceiling in seconds; it grows by ``multiplier``.
        max_wait: no single wait is longer, whatever the server's Retry-After says.
        multiplier: growth of the back-off ceiling per attempt.
        jitter: wait a uniform random time in [0, ceiling] ("full jitter") instead of the ceiling.
        sleep: how to wait between attempts; tests inject a recorder.
        limiter_sleep: how rate limiters wait (None: ``sleep``); ``instant()`` never waits.
    """

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 60.0
    multiplier: float = 2.0
    jitter: bool = True
    sleep: Callable[[float], None] = time.sleep
    limiter_sleep: Callable[[float], None] | None = None
    #: every wait decided, in order (filled by ``instant()`` policies' sleep)
    waits: list[float] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def instant(cls, attempts: int = 6, **overrides: Any) -> RetryPolicy:
        """A policy that never sleeps and records each wait in ``.waits`` (for tests)."""
        waits: list[float] = []
        overrides.setdefault("jitter", False)
        overrides.setdefault("limiter_sleep", _no_sleep)
        return cls(attempts=attempts, sleep=waits.append, waits=waits, **overrides)

    def wait_seconds(self, attempt_number: int, error: BaseException | None) -> float:
        """The wait after failed attempt ``attempt_number`` (1-based) that raised ``error``."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_wait)
        ceiling = min(self.initial_wait * self.multiplier ** (attempt_number - 1), self.max_wait)
        return random.uniform(0.0, ceiling) if self.jitter else ceiling

    def retrying(self, *, idempotent: bool = True) -> tenacity.Retrying:
        """A tenacity Retrying that retries RetriableError only and re-raises the last error.

        ``idempotent=False`` (a create): only a 429 is retried, since the platform refused it
        before doing anything; a timeout, a dropped connection or a 5xx may come after the
        platform stored the record, so it is raised for the caller to look it up first."""
        import tenacity  # only once a call needs retrying: see the module docstring

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, self.attempts)),
            wait=self._wait,
            retry=tenacity.retry_if_exception(is_retriable if idempotent else _is_rate_limited),
            sleep=self.sleep,
            before_sleep=_log_retry,
            retry_error_callback=_give_up,
            reraise=True,
        )

    def call(self, fn: Callable[..., T], *args: Any, idempotent: bool = True) -> T:
        """``fn(*args)`` under this policy: what ``retrying(idempotent=...)(fn, *args)`` does,
        without building a tenacity ``Retrying`` for a call that succeeds at once.

        Almost every request succeeds on its first attempt, and a ``Retrying`` built and run
        around each one was a measurable share of erpsync's CPU per request (bench/
        pull_orders.py --profile). So the first attempt runs bare; only when it fails in a way
        the policy retries does tenacity take over, replaying that failure as its own first
        attempt: the waits, the log lines and the "gave up after N attempts" message are the
        ones ``retrying()`` gives."""
        try:
            return fn(*args)
        except Exception as error:  # what tenacity's retry predicate would look at
            if self.attempts <= 1 or not (is_retriable if idempotent else _is_rate_limited)(error):
                raise
            first: Exception | None = error
        replay: Callable[..., T] = fn

        def attempt(*again: Any) -> T:
            nonlocal first
            if first is not None:  # the first attempt, already made: its failure again
                failure, first = first, None
                raise failure
            return replay(*again)

        result: T = self.retrying(idempotent=idempotent)(attempt, *args)
        return result

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return self.wait_seconds(state.attempt_number, error)


def _is_rate_limited(exc: BaseException) -> bool:
    return isinstance(exc, RateLimitedError)


def _no_sleep(seconds: float) -> None:
    """Tests: a rate limiter's wait passes instantly (and is not counted as a retry wait)."""


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info("attempt %d failed (%s); retrying in %.1f s", state.attempt_number, error, wait)


def _give_up(state: tenacity.RetryCallState) -> Any:
    """Re-raise the last error, its message saying how many attempts were made."""
    assert state.outcome is not None  # tenacity only gives up after an attempt
    error = state.outcome.exception()
    if (
        error is None
    ):  # pragma: no cover - tenacity gives up on errors only, with retry_if_exception
        return state.outcome.result()
    if state.attempt_number > 1 and error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]} (gave up after {state.attempt_number} attempts)",)
    raise error
