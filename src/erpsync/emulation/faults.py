"""Fault injection: a plan of faults (status, 429, delay, drop, malformed JSON, expired
token) that a pure-ASGI middleware applies to the next matching requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast, get_args

import anyio
import anyio.from_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from erpsync.emulation.base import Emulator

FaultKind = Literal[
    "status", "rate_limit", "delay", "drop", "malformed_json", "expire_token", "lost_answer"
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


class ConnectionDropped(Exception):
    """Raised by the fault injector to drop the connection without a (complete) response."""


# -- faults -------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: FaultKind
    times: int = 1
    path: str | None = None
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0
    #: only requests of this method ("POST"); None: any
    method: str | None = None


class FaultPlan:
    """Faults the emulator injects into the next matching requests, each ``times`` times."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        kind: FaultKind | str,
        *,
        times: int = 1,
        path: str | None = None,
        status: int = 500,
        retry_after: float | None = None,
        delay: float = 0.0,
        method: str | None = None,
    ) -> FaultPlan:
        """Queue a fault for the next ``times`` requests whose path starts with ``path`` (and
        whose method is ``method``, when given).

        ``kind`` is checked at run time (a plain str is accepted for parametrised tests).

        Kinds: "status" (answer ``status``), "rate_limit" (429 in the platform's shape, with
        Retry-After when ``retry_after`` is set), "delay" (wait ``delay`` seconds, then answer),
        "drop" (close the connection without a response), "malformed_json" (a 200 with a
        truncated JSON body), "expire_token" (expire access tokens, then answer normally),
        "lost_answer" (the platform handles the request, so a create is stored, then the
        connection drops before the answer arrives).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            fault = Fault(
                cast(FaultKind, kind),
                times,
                path,
                status,
                retry_after,
                delay,
                method.upper() if method else None,
            )
            self._faults.append(fault)
        return self

    def take(self, path: str, method: str | None = None) -> Fault | None:
        """The fault for a ``method`` request to ``path``, if any (consumes one of its
        ``times``)."""
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and method is not None and fault.method != method:
                    continue
                if fault.path is None or path.startswith(fault.path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def pending(self) -> int:
        """How many injections are still queued."""
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class _FaultInjector:
    """Pure ASGI: applies the emulator's FaultPlan before the routes see the request."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = (
            self.emulator.faults.take(scope["path"], scope.get("method"))
            if scope["type"] == "http"
            else None
        )
        if fault is None:
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        if fault.kind == "delay":
            await anyio.sleep(fault.delay)
        elif fault.kind == "expire_token":
            emulator.expire_access_tokens()
        elif fault.kind == "lost_answer":
            # the platform does the work (a create is stored) and its answer never arrives
            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionDropped("answer lost after the request was handled (fault injection)")
        elif fault.kind == "drop":
            # a started response then an error: uvicorn closes the socket mid-response and the
            # in-process transport turns the error into httpx.RemoteProtocolError
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionDropped("connection dropped by fault injection")
        else:
            response = {
                "status": lambda: emulator.fault_response(fault.status),
                "rate_limit": lambda: emulator.rate_limit_response(fault.retry_after),
                "malformed_json": emulator.malformed_response,
            }[fault.kind]()
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
