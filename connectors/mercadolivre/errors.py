"""Mercado Livre's error envelope ``{message, error, status, cause[]}`` -> one readable line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def error_message(body: Any) -> str | None:
    """One readable line from ML's error envelope {message, error, status, cause[]}."""
    if not isinstance(body, Mapping):
        return None
    message = body.get("message")
    code = body.get("error")
    causes = [
        str(cause.get("message") or cause.get("code"))
        for cause in body.get("cause") or ()
        if isinstance(cause, Mapping) and (cause.get("message") or cause.get("code"))
    ]
    head = f"{message} ({code})" if message and code and code != message else message or code
    if not head:
        return None
    return f"{head}: {'; '.join(causes)}" if causes else str(head)
