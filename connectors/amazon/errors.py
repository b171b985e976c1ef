"""SP-API error bodies -> one line: the ``errors[]`` envelope and listing ``issues[]``. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx


def sp_error(response: httpx.Response) -> dict[str, str]:
    """The first entry of an SP-API error envelope, or {} when the body is something else."""
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return {}
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    return {k: str(first.get(k) or "") for k in ("code", "message", "details")}


def said(error: Mapping[str, str]) -> str:
    """What Amazon said, as "code: message" (either part may be missing)."""
    return ": ".join(p for p in (error.get("code"), error.get("message")) if p)


def access_token_expired(response: httpx.Response) -> bool:
    """SP-API answers an expired access token with 403 (not 401) and "expired" in details
    (amzn/selling-partner-api-models#4122, #2333): the signal to refresh once and retry."""
    if response.status_code != 403:
        return False
    response.read()
    return "expired" in sp_error(response).get("details", "").lower()


def issue_text(issues: Iterable[Mapping[str, Any]], *, severity: str = "ERROR") -> str:
    """Listing issues of one severity as one line: "code: message; code: message"."""
    parts = [
        f"{i.get('code')}: {i.get('message')}" if i.get("code") else str(i.get("message"))
        for i in issues
        if i.get("severity") == severity
    ]
    return "; ".join(parts)
