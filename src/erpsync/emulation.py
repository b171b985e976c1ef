"""The emulator kit: every platform emulator's base class, fault injection, request recording,
an in-process sync transport, a loopback server, token buckets and stateless signed tokens.

An emulator is a Starlette app (``Emulator.app``) wrapped in two pure-ASGI middlewares: the
recorder (outermost: every request is recorded, faulted or not) and the fault injector. It runs
in-process through ``EmulatorTransport`` (httpx's ASGITransport is async-only, so a blocking
anyio portal bridges it, as Starlette's TestClient does) or over real HTTP with ``serve()``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args
from urllib.parse import parse_qs

import anyio
import anyio.from_thread
import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from erpsync.domain import utcnow

FaultKind = Literal["status", "rate_limit", "delay", "drop", "malformed_json", "expire_token"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


class ConnectionDropped(Exception):
    """Raised by the fault injector to drop the connection without a (complete) response."""


# -- recording ----------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request an emulator received, and the status it was answered with."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    #: the response status (None: no response started, e.g. a dropped connection)
    status: int | None = None

    @property
    def params(self) -> dict[str, str]:
        """Query parameters, one value each (the last, as Starlette's ``query_params[...]``)."""
        return {name: values[-1] for name, values in self.query.items() if values}

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """A form-encoded body, one value per field."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class _Recorder:
    """Pure ASGI: buffers the request body, records the request, replays the body to the app."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        recorded = RecordedRequest(scope["method"], scope["path"], query, headers, bytes(body))
        self.emulator._record(recorded)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorded.status = message["status"]
            await send(message)

        await self.app(scope, replay, send_and_note)


# -- faults -------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: FaultKind
    times: int = 1
    path: str | None = None
    status: int = 500
    retry_after: float | None = None
    delay: float = 0.0


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
    ) -> FaultPlan:
        """Queue a fault for the next ``times`` requests whose path starts with ``path``.

        ``kind`` is checked at run time (a plain str is accepted for parametrised tests).

        Kinds: "status" (answer ``status``), "rate_limit" (429 in the platform's shape, with
        Retry-After when ``retry_after`` is set), "delay" (wait ``delay`` seconds, then answer),
        "drop" (close the connection without a response), "malformed_json" (a 200 with a
        truncated JSON body), "expire_token" (expire access tokens, then answer normally).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            fault = Fault(cast(FaultKind, kind), times, path, status, retry_after, delay)
            self._faults.append(fault)
        return self

    def take(self, path: str) -> Fault | None:
        """The fault for a request to ``path``, if any (consumes one of its ``times``)."""
        with self._lock:
            for fault in self._faults:
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
        fault = self.emulator.faults.take(scope["path"]) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        emulator = self.emulator
        if fault.kind == "delay":
            await anyio.sleep(fault.delay)
        elif fault.kind == "expire_token":
            emulator.expire_access_tokens()
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


# -- the base class -----------------------------------------------------------------------------


class Emulator(ABC):
    """Base of every platform emulator.

    Subclasses put their state in ``setup()`` (called before the sandbox account is seeded, so
    do not assign state after ``super().__init__``), return their routes from ``routes()``, and
    implement the contract-suite API: ``credentials``, ``options``, ``seed_orders``,
    ``update_order``, ``cancel_order``, ``expire_access_tokens``, ``listing_refs``, ``stock_of``
    and, for platforms that apply pushes asynchronously, ``settle``.

    Args:
        seed: makes generated data (and the token signing key) deterministic.
        clock: the emulator's "now" (aware UTC); tests inject a fake one.
        sandbox_orders: orders seeded over the last days so ``sandbox: true`` has data.
    """

    #: how far back the sandbox account's orders go
    sandbox_span: timedelta = timedelta(days=7)

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 10,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.random = random.Random(seed)
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        #: benchmarks turn this off so memory stays flat over hundreds of thousands of requests
        self.record_requests = True
        self._requests_lock = threading.Lock()
        self._used_tokens: set[str] = set()
        self._token_generation: dict[str, int] = {}
        self.setup()
        self.app: Starlette = self.build_app()
        if sandbox_orders > 0:
            self.seed_sandbox(sandbox_orders)

    # hooks --------------------------------------------------------------------------------------

    def setup(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Initialise the emulator's state (products, listings, tokens ...)."""

    @abstractmethod
    def routes(self) -> Sequence[BaseRoute]:
        """The platform's endpoints, at their real paths (token endpoint included)."""

    def build_app(self) -> Starlette:
        return Starlette(
            routes=list(self.routes()),
            middleware=[
                Middleware(_Recorder, emulator=self),
                Middleware(_FaultInjector, emulator=self),
            ],
        )

    def seed_sandbox(self, orders: int) -> None:
        """Seed the default sandbox account: ``orders`` orders over the last ``sandbox_span``."""
        now = self.clock()
        self.seed_orders(orders, start=now - self.sandbox_span, end=now)

    def rate_limit_response(self, retry_after: float | None) -> Response:
        """The platform's 429 answer (override with the platform's body shape)."""
        headers = {"Retry-After": _header_seconds(retry_after)} if retry_after is not None else {}
        return JSONResponse({"message": "Too Many Requests"}, status_code=429, headers=headers)

    def fault_response(self, status: int) -> Response:
        """The answer to an injected "status" fault."""
        return JSONResponse({"message": "injected failure", "status": status}, status_code=status)

    def malformed_response(self) -> Response:
        """A 200 whose JSON body is cut short."""
        return Response(b'{"results": [{"id": ', media_type="application/json")

    # the contract-suite API (every platform emulator implements these) ---------------------

    def credentials(self) -> dict[str, Any]:
        """A ``credentials`` config block that works against this emulator."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """An ``options`` config block that works against this emulator."""
        return {}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        """Create ``count`` deterministic orders updated within [start, end); their ids."""
        raise NotImplementedError

    def update_order(self, external_id: str, **changes: Any) -> None:
        """Change an order (its update time becomes now)."""
        raise NotImplementedError

    def cancel_order(self, external_id: str) -> None:
        """Cancel an order (its update time becomes now)."""
        raise NotImplementedError

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        """(item_id, variation_id or None, seller SKU) of every listing."""
        raise NotImplementedError

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        """The quantity a listing has now, or None when unknown."""
        raise NotImplementedError

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far invalid (default: for ``issue_token`` tokens)."""
        self.revoke_tokens("access")

    def settle(self) -> None:  # noqa: B027 - an optional hook, empty by design
        """Apply now what the platform applies asynchronously (stock pushes it answered 202
        to), so ``stock_of`` shows it. Default: nothing is asynchronous."""

    def invoice_ready(self, external_id: str) -> bool:
        """Whether the channel would take an NF-e for exactly this order now (its shipment
        waits for one and holds no other order). Emulators of InvoiceSink platforms answer;
        the contract suite skips its invoice checks while none is ready."""
        return False

    def invoice_key(self, external_id: str) -> str | None:
        """The NF-e access key the channel holds for this order, or None."""
        return None

    # helpers for subclasses ------------------------------------------------------------------

    @property
    def token_secret(self) -> str:
        """HMAC key of this emulator's tokens: stable per class and seed, so a fresh sandbox
        emulator (the next CLI run) accepts tokens issued by the previous one."""
        material = f"erpsync-emulator:{type(self).__module__}.{type(self).__qualname__}:{self.seed}"
        return hashlib.sha256(material.encode()).hexdigest()

    def issue_token(
        self, kind: str, payload: dict[str, Any] | None = None, ttl: timedelta | None = None
    ) -> str:
        """A signed token of ``kind`` ("access", "refresh", "code" ...), valid for ``ttl``."""
        body = {**(payload or {}), "gen": self._token_generation.get(kind, 0)}
        expires_at = self.clock() + ttl if ttl is not None else None
        return sign_token(self.token_secret, kind, body, expires_at)

    def read_token(self, kind: str, token: str | None) -> dict[str, Any] | None:
        """The payload of a valid, unexpired, unrevoked token of ``kind``, else None."""
        if not token:
            return None
        payload = verify_token(self.token_secret, kind, token, self.clock())
        if payload is None or payload.get("gen", 0) < self._token_generation.get(kind, 0):
            return None
        return payload

    def use_once(self, token: str) -> bool:
        """True the first time ``token`` is used in this emulator's life (single-use refresh
        tokens and authorization codes), False after."""
        with self._requests_lock:
            if token in self._used_tokens:
                return False
            self._used_tokens.add(token)
            return True

    def revoke_tokens(self, kind: str) -> None:
        """Invalidate every token of ``kind`` issued so far."""
        self._token_generation[kind] = self._token_generation.get(kind, 0) + 1

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path starts with ``path`` (and of ``method``, when given)."""
        return [
            r
            for r in list(self.requests)
            if r.path.startswith(path) and (method is None or r.method == method.upper())
        ]

    def _record(self, request: RecordedRequest) -> None:
        if not self.record_requests:
            return
        with self._requests_lock:
            self.requests.append(request)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body, one value per field.

    Use this instead of ``request.form()``: Starlette's needs python-multipart, which erpsync
    does not depend on.
    """
    body = (await request.body()).decode()
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _header_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, kind: str, payload: dict[str, Any], expires_at: datetime | None) -> str:
    """A stateless token: URL-safe base64 JSON (kind, payload, expiry, nonce) + HMAC-SHA256."""
    claims = {
        "k": kind,
        "p": payload,
        "e": expires_at.timestamp() if expires_at is not None else None,
        "n": secrets.token_urlsafe(6),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def verify_token(secret: str, kind: str, token: str, now: datetime) -> dict[str, Any] | None:
    """The payload of ``token`` if its signature is good, its kind matches and it is unexpired."""
    body, _, signature = token.rpartition(".")
    if not body:
        return None
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        return None
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("k") != kind:
        return None
    expiry = claims.get("e")
    if expiry is not None and now.timestamp() >= float(expiry):
        return None
    payload = claims.get("p")
    return payload if isinstance(payload, dict) else None


# -- transports ---------------------------------------------------------------------------------


class EmulatorTransport(httpx.BaseTransport):
    """A sync httpx transport that runs an ASGI app in-process (safe from several threads).

    Honours the request's read timeout (``httpx.ReadTimeout``) and turns a dropped connection
    into ``httpx.RemoteProtocolError``, as the network would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._asgi = httpx.ASGITransport(app=app)
        self._lock = threading.Lock()
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._thread: threading.Thread | None = None

    def _get_portal(self) -> anyio.from_thread.BlockingPortal:
        with self._lock:
            if self._portal is None:
                self._portal, self._thread = _start_portal()
            return self._portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            status, headers, content = self._get_portal().call(self._send, request, timeout)
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no response within {timeout} s", request=request) from exc
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    async def _send(
        self, request: httpx.Request, timeout: float | None
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        with anyio.fail_after(timeout):
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
        return response.status_code, response.headers.raw, content

    def close(self) -> None:
        with self._lock:
            portal, thread, self._portal, self._thread = self._portal, self._thread, None, None
        if portal is not None and thread is not None:
            portal.call(portal.stop)
            thread.join()


def _start_portal() -> tuple[anyio.from_thread.BlockingPortal, threading.Thread]:
    """An event loop in a daemon thread, with a portal into it.

    Not ``anyio.from_thread.start_blocking_portal()``: its loop runs in a ThreadPoolExecutor
    thread, which the interpreter joins at exit, so a transport nobody closed hangs the process.
    """
    ready = threading.Event()
    portals: list[anyio.from_thread.BlockingPortal] = []

    async def run() -> None:
        async with anyio.from_thread.BlockingPortal() as portal:
            portals.append(portal)
            ready.set()
            await portal.sleep_until_stopped()

    thread = threading.Thread(
        target=anyio.run, args=(run,), name="erpsync-emulator-loop", daemon=True
    )
    thread.start()
    if not ready.wait(timeout=10.0):  # pragma: no cover - the loop failed to start
        raise RuntimeError("the emulator's event loop did not start")
    return portals[0], thread


class _HideDrops(logging.Filter):
    """uvicorn logs an app exception with its traceback: an injected drop is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped)


@contextlib.contextmanager
def serve(app: ASGIApp, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 (a free port) in a daemon thread; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    hide = _HideDrops()
    error_log = logging.getLogger("uvicorn.error")
    error_log.addFilter(hide)
    thread = threading.Thread(target=server.run, name="erpsync-emulator", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        error_log.removeFilter(hide)


__all__ = [
    "FAULT_KINDS",
    "ConnectionDropped",
    "Emulator",
    "EmulatorTransport",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RecordedRequest",
    "TokenBucket",
    "bearer_token",
    "read_form",
    "serve",
    "sign_token",
    "verify_token",
]
