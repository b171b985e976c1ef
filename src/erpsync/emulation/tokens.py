"""Stateless signed tokens: what emulators issue as access/refresh tokens and codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any


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
