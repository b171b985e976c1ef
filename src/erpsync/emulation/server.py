"""serve(): an emulator over real HTTP on loopback, in a thread (benchmarks, manual runs)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

from starlette.types import ASGIApp

from erpsync.emulation.faults import ConnectionDropped


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
