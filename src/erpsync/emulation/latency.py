"""The latency knob: an emulator that answers after a real platform's round trip.

Real platforms answer in 100-300 ms; an emulator in-process answers in microseconds, which
hides whether a connector is bound by the platform's rate limit or by waiting for answers.
``Latency(seconds, jitter)`` delays every request by ``seconds`` plus a uniform random part in
``[0, jitter]``: half on the way in (before the routes, the rate limits and the faults see the
request), half on the way back (before the response starts). Delays are awaited on the
emulator's event loop, so concurrent requests wait together, as they would on the network.

Every ``Emulator`` has one (``emulator.latency``, zero by default; change its fields at any
time); ``LatencyMiddleware`` wraps any ASGI app (a benchmark's own rate-limit enforcer, say).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from erpsync.emulation.transport import request_sent_at


@dataclass
class Latency:
    """A round trip of ``seconds`` plus up to ``jitter`` more (uniform), per request.

    ``seed`` makes the jitter reproducible; ``sleep`` is how a leg is awaited (tests record
    the delays instead of waiting). ``delays`` keeps the last round trips drawn (up to
    ``keep``), for tests and benchmarks to check what was applied.

    ``includes_work``: the round trip is the time from the request to its answer, the
    emulator's own work included, as a platform's answer time includes its servers' work: each
    leg ends at its time from the request's start, so the way in absorbs the in-process
    transport's hop into the emulator's event loop, and the way back the app's work and the
    way in's oversleep (a leg never goes below zero). Off by default (the work comes on top),
    which keeps a test's recorded legs exact; a benchmark whose emulator runs in the measured
    process turns it on, so neither the emulator's CPU nor its hop is counted on top of the
    round trip (a network adds neither). The request's start is ``sent_at()``: when
    ``EmulatorTransport`` took it, or None (over a socket), and then the middleware's arrival.
    ``monotonic`` is the clock of both (real seconds, as the legs are).
    """

    seconds: float = 0.0
    jitter: float = 0.0
    seed: int = 0
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    includes_work: bool = False
    monotonic: Callable[[], float] = time.monotonic
    sent_at: Callable[[], float | None] = request_sent_at
    keep: int = 1000
    delays: list[float] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def set(self, seconds: float, jitter: float = 0.0) -> Latency:
        """Change the round trip from now on (requests already delayed keep theirs)."""
        if seconds < 0 or jitter < 0:
            raise ValueError(f"latency must not be negative, got {seconds} s + {jitter} s")
        self.seconds, self.jitter = seconds, jitter
        return self

    @property
    def active(self) -> bool:
        return self.seconds > 0 or self.jitter > 0

    def draw(self) -> float:
        """The next request's round trip in seconds."""
        with self._lock:
            extra = self._random.uniform(0.0, self.jitter) if self.jitter > 0 else 0.0
            delay = self.seconds + extra
            if len(self.delays) >= self.keep:
                del self.delays[: self.keep // 2]
            self.delays.append(delay)
        return delay


class LatencyMiddleware:
    """Pure ASGI: delays each HTTP request by ``latency`` (half in, half out)."""

    def __init__(self, app: ASGIApp, latency: Latency) -> None:
        self.app = app
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        latency = self.latency
        if scope["type"] != "http" or not latency.active:
            await self.app(scope, receive, send)
            return
        leg = latency.draw() / 2
        if not latency.includes_work:
            await latency.sleep(leg)

            async def delayed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await latency.sleep(leg)
                await send(message)

            await self.app(scope, receive, delayed)
            return
        sent = latency.sent_at()
        start = latency.monotonic() if sent is None else sent
        await latency.sleep(max(0.0, start + leg - latency.monotonic()))

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                await latency.sleep(max(0.0, start + 2 * leg - latency.monotonic()))
            await send(message)

        await self.app(scope, receive, answered)
