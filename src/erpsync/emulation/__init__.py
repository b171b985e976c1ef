"""The emulator kit: every platform emulator's base class, fault injection, request recording,
an in-process sync transport, a loopback server, token buckets and stateless signed tokens.

An emulator is a Starlette app (``Emulator.app``) wrapped in three pure-ASGI middlewares: the
recorder (outermost: every request is recorded, faulted or not), the latency knob and the fault
injector. It runs
in-process through ``EmulatorTransport`` (httpx's ASGITransport is async-only, so a blocking
anyio portal bridges it, as Starlette's TestClient does) or over real HTTP with ``serve()``.

One module per concern: ``base`` (the Emulator class), ``faults``, ``latency`` (a round trip
per request, fixed and jittered), ``recording``,
``buckets`` (server-side rate limits), ``tokens`` (signed tokens), ``transport`` (in-process)
and ``server`` (loopback). Import from here.
"""

from __future__ import annotations

from erpsync.emulation.base import Emulator, bearer_token, read_form
from erpsync.emulation.buckets import TokenBucket
from erpsync.emulation.faults import FAULT_KINDS, ConnectionDropped, Fault, FaultKind, FaultPlan
from erpsync.emulation.latency import Latency, LatencyMiddleware
from erpsync.emulation.recording import RecordedRequest
from erpsync.emulation.server import serve
from erpsync.emulation.tokens import sign_token, verify_token
from erpsync.emulation.transport import EmulatorTransport

__all__ = [
    "FAULT_KINDS",
    "ConnectionDropped",
    "Emulator",
    "EmulatorTransport",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Latency",
    "LatencyMiddleware",
    "RecordedRequest",
    "TokenBucket",
    "bearer_token",
    "read_form",
    "serve",
    "sign_token",
    "verify_token",
]
