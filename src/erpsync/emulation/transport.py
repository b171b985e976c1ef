"""EmulatorTransport: an in-process sync httpx transport onto an emulator's ASGI app
(httpx's ASGITransport is async-only, so a blocking anyio portal bridges it, as Starlette's
TestClient does)."""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar

import anyio
import anyio.from_thread
import httpx
from starlette.types import ASGIApp

from erpsync.emulation.faults import ConnectionDropped

#: when the request being served was handed to an in-process transport (``time.monotonic``);
#: set in the task that serves it, so concurrent requests each see their own
_SENT_AT: ContextVar[float | None] = ContextVar("erpsync_emulation_sent_at", default=None)


def request_sent_at() -> float | None:
    """When the request being served was handed to this process's ``EmulatorTransport``
    (``time.monotonic()``), or None (served over a socket, or outside a request).

    The hop from the client's thread into the emulator's event loop costs this process a few
    milliseconds that no network adds on top of its round trip; ``Latency(includes_work=True)``
    counts them within it (erpsync.emulation.latency)."""
    return _SENT_AT.get()


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
        sent_at = time.monotonic()
        request.read()
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            status, headers, content = self._get_portal().call(
                self._send, request, timeout, sent_at
            )
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from exc
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"no response within {timeout} s", request=request) from exc
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content))

    async def _send(
        self, request: httpx.Request, timeout: float | None, sent_at: float
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        _SENT_AT.set(sent_at)  # this task's own context: the app runs in it
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
