"""Request/response event hooks that log each exchange through the Redactor.

One DEBUG line per response: ``METHOD redacted-url -> status (ms)``. Headers and bodies are never
logged: the redactor masks what it knows, but a body can hold buyer data (CPF, addresses).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from erpsync.http.redact import Redactor

#: the logger every HTTP exchange goes to
LOGGER_NAME = "erpsync.http"
_STARTED = "erpsync.started"


def event_hooks(
    redactor: Redactor, logger: logging.Logger | None = None
) -> dict[str, list[Callable[[Any], Any]]]:
    """httpx ``event_hooks`` that time each request and log its outcome, redacted."""
    log = logger or logging.getLogger(LOGGER_NAME)

    def on_request(request: httpx.Request) -> None:
        request.extensions[_STARTED] = time.perf_counter()

    def on_response(response: httpx.Response) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        request = response.request
        started = request.extensions.get(_STARTED)
        elapsed_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        log.debug(
            "%s %s -> %d (%.0f ms)",
            request.method,
            redactor.url(request.url),
            response.status_code,
            elapsed_ms,
        )

    return {"request": [on_request], "response": [on_response]}


def log_transport_error(
    logger: logging.Logger, redactor: Redactor, request: httpx.Request, error: Exception
) -> None:
    """One DEBUG line for an exchange that got no response (timeout, dropped connection)."""
    logger.debug(
        "%s %s -> %s: %s",
        request.method,
        redactor.url(request.url),
        type(error).__name__,
        redactor.text(str(error)),
    )
