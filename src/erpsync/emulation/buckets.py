"""TokenBucket: the server-side rate limit an emulator enforces (answering 429)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# -- rate limits and tokens ---------------------------------------------------------------------


class TokenBucket:
    """A token bucket an emulator enforces (thread-safe).

    Args:
        rate: tokens per second. burst: capacity.
        clock: monotonic seconds.
        time_scale: how much faster than ``clock`` time passes for refills (10: ten times).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        time_scale: float = 1.0,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.time_scale = time_scale
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        """Take a token if one is available."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def wait_time(self) -> float:
        """Seconds (of ``clock``) until the next token is available."""
        with self._lock:
            self._refill()
            missing = max(0.0, 1.0 - self._tokens)
            return missing / (self.rate * self.time_scale)

    def _refill(self) -> None:
        now = self.clock()
        elapsed = max(0.0, now - self._updated) * self.time_scale
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now
