"""The HTTP layer every platform connector goes through: client, auth, limits, retries, paging.

Names are re-exported lazily, so importing one submodule (``erpsync.http.redact`` for the CLI's
log filter) does not pay for the others.

httpx's own command line stays out: ``import httpx`` also imports ``httpx._main`` (its CLI:
click, pygments, rich.syntax, about 40 modules, 3 MiB and 40-70 ms per process) and has no
switch to skip it (encode/httpx#3547). Its ``__init__`` wraps that import in ``try/except
ImportError``, so a ``None`` in ``sys.modules`` (the documented way to make an import fail)
skips it and ``httpx.main`` becomes a stub that says the CLI is not installed; nothing of
erpsync calls it. This package is loaded before httpx on every path that uses HTTP (the
submodules import httpx after it, ``erpsync.connector`` imports it first), and never by
``erpsync --help``, which must import no httpx at all. Risk: ``httpx._main`` is a private
name; if httpx renames it, the line does nothing and only the memory comes back
(``tests/cli/test_subprocess.py`` checks that a pull imports no click or pygments).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if "httpx" not in sys.modules:  # once httpx is in, its CLI is too: nothing left to skip
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

if TYPE_CHECKING:
    from erpsync.http.auth import (
        HeaderAuth,
        MemoryTokenStore,
        OAuth2RefreshAuth,
        QueryAuth,
        Tokens,
        TokenStore,
        bearer,
        fingerprint,
    )
    from erpsync.http.client import build_client
    from erpsync.http.pagination import (
        CursorPaginator,
        DrainPaginator,
        LinkHeaderPaginator,
        NextUrlPaginator,
        OffsetPaginator,
        PageNumberPaginator,
        PaginationCapReached,
        Paginator,
    )
    from erpsync.http.ratelimit import RateLimiter
    from erpsync.http.redact import Redactor
    from erpsync.http.retry import RetryPolicy, is_retriable
    from erpsync.http.session import HttpSession

_EXPORTS = {
    "auth": [
        "HeaderAuth",
        "MemoryTokenStore",
        "OAuth2RefreshAuth",
        "QueryAuth",
        "TokenStore",
        "Tokens",
        "bearer",
        "fingerprint",
    ],
    "client": ["build_client"],
    "pagination": [
        "CursorPaginator",
        "DrainPaginator",
        "LinkHeaderPaginator",
        "NextUrlPaginator",
        "OffsetPaginator",
        "PageNumberPaginator",
        "PaginationCapReached",
        "Paginator",
    ],
    "ratelimit": ["RateLimiter"],
    "redact": ["Redactor"],
    "retry": ["RetryPolicy", "is_retriable"],
    "session": ["HttpSession"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "CursorPaginator",
    "DrainPaginator",
    "HeaderAuth",
    "HttpSession",
    "LinkHeaderPaginator",
    "MemoryTokenStore",
    "NextUrlPaginator",
    "OAuth2RefreshAuth",
    "OffsetPaginator",
    "PageNumberPaginator",
    "PaginationCapReached",
    "Paginator",
    "QueryAuth",
    "RateLimiter",
    "Redactor",
    "RetryPolicy",
    "TokenStore",
    "Tokens",
    "bearer",
    "build_client",
    "fingerprint",
    "is_retriable",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'erpsync.http' has no attribute {name!r}")
    return getattr(importlib.import_module(f"erpsync.http.{module}"), name)
