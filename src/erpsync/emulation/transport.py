"""EmulatorTransport: an in-process sync httpx transport onto an emulator's ASGI app
(httpx's ASGITransport is async-only, so a blocking anyio portal bridges it, as Starlette's
TestClient does)."""

from __future__ import annotations

import threading

import anyio
import anyio.from_thread
import httpx
from starlette.types import ASGIApp

from erpsync.emulation.faults import ConnectionDropped

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
