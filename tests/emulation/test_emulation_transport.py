"""EmulatorTransport from threads, and serve() over real loopback HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest

from erpsync.emulation import EmulatorTransport, serve


def test_transport_is_safe_from_many_threads(emulator, access):
    """requirement: one transport serves concurrent requests from several threads."""
    transport = EmulatorTransport(emulator.app)
    statuses: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client(base_url="http://kit.test", transport=transport) as http:
            for _ in range(5):
                status = http.get("/orders", headers=access).status_code
                with lock:
                    statuses.append(status)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transport.close()
    assert statuses == [200] * 40
    assert len(emulator.requests) == 40


def test_transport_restarts_after_close(emulator):
    """requirement: closing a transport frees its event-loop thread; it restarts on use."""
    transport = EmulatorTransport(emulator.app)
    with httpx.Client(transport=transport) as http:
        assert http.get("http://kit.test/echo").status_code == 200
    transport.close()
    with httpx.Client(transport=transport) as http:
        assert http.get("http://kit.test/echo").status_code == 200
    transport.close()


def test_serve_over_loopback(emulator, access, caplog):
    """requirement: serve() runs the emulator on 127.0.0.1 and yields its URL; a drop fault
    closes the socket (RemoteProtocolError) without a traceback in the logs; the server stops
    on exit."""
    with serve(emulator.app) as url, httpx.Client(base_url=url, timeout=5) as http:
        assert url.startswith("http://127.0.0.1:")
        assert http.get("/orders", headers=access).json() == {"results": []}
        emulator.faults.add("drop")
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/echo")
        assert http.get("/echo").status_code == 200
    assert "Traceback" not in caplog.text
    assert "ConnectionDropped" not in caplog.text
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/echo", timeout=1)


UNCLOSED = """
import httpx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from erpsync.emulation import EmulatorTransport

async def ok(request):
    return JSONResponse({})

transport = EmulatorTransport(Starlette(routes=[Route("/", ok)]))
print(httpx.Client(transport=transport).get("http://x/").status_code)
"""


def test_an_unclosed_transport_does_not_keep_the_process_alive():
    """requirement: a sandbox run that never closes its transport still exits."""
    done = subprocess.run(
        [sys.executable, "-c", UNCLOSED], capture_output=True, text=True, timeout=20, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "200")
