"""SP-API wire shapes the emulator answers with: the error envelope, times, opaque page tokens."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

#: a route's handler: the request and the RDT dataElements granted -> the answer
Handler = Callable[[Request, frozenset[str]], Awaitable[Response]]
#: what Starlette routes to (a handler wrapped with auth and the operation's bucket)
Endpoint = Callable[[Request], Awaitable[Response]]

#: Amazon.com.br; ref: https://developer-docs.amazon.com/sp-api/docs/marketplace-ids
BRAZIL_MARKETPLACE_ID = "A2Q3Y263D00KWC"
DENIED = "Access to requested resource is denied."
EXPIRED = "The access token you provided has expired."
INVALID_TOKEN = "The access token you provided is revoked, malformed or invalid."  # noqa: S105
MISSING_TOKEN = "Access token is missing in the request header."  # noqa: S105
#: the models' example code for "The attributes are invalid."
INVALID_ATTRIBUTES = "90000900"
QUOTA = "You exceeded your quota for the requested resource."
_PREFIX = b"\xfb\xff"  # base64 "+/..": every token starts with characters that need encoding


def sp_errors(status: int, code: str, message: str, details: str = "") -> JSONResponse:
    """The SP-API error envelope: {"errors": [{"code", "message", "details"}]}."""
    body = {"errors": [{"code": code, "message": message, "details": details}]}
    return JSONResponse(body, status_code=status)


def invalid_input(message: str, details: str = "") -> JSONResponse:
    return sp_errors(400, "InvalidInput", message, details)


def page_token(secret: str, kind: str, state: dict[str, Any]) -> str:
    """An opaque, signed page token in standard base64 (``+``, ``/`` and ``=`` padding, as
    Amazon's NextTokens have): a client that does not URL-encode it sends a broken token."""
    body = json.dumps({"k": kind, **state}, sort_keys=True, separators=(",", ":")).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:8]
    raw = _PREFIX + mac + body
    if len(raw) % 3 == 0:
        raw += b" "  # keep a "=" pad in every token
    return base64.b64encode(raw).decode()


def read_page_token(secret: str, kind: str, token: str) -> dict[str, Any] | None:
    """The state inside a token this emulator issued, or None for anything else."""
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    body = raw[len(_PREFIX) + 8 :].rstrip(b" ")
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()[:8]
    if not raw.startswith(_PREFIX) or not hmac.compare_digest(raw[2:10], mac):
        return None
    state = json.loads(body)
    return state if isinstance(state, dict) and state.get("k") == kind else None


def fingerprint(params: dict[str, str]) -> str:
    """Which query a page token belongs to (its filters, sorted)."""
    text = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def iso(when: datetime) -> str:
    """SP-API date-time: ISO 8601 UTC with a Z, whole seconds."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 query value, or None when absent or unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def path_matches(pattern: str, path: str) -> bool:
    """An RDT resource path: exact, or generic with ``{placeholders}`` for path segments."""
    wanted, actual = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(wanted) == len(actual) and all(
        w == a or (w.startswith("{") and w.endswith("}"))
        for w, a in zip(wanted, actual, strict=True)
    )
