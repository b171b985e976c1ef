"""Bling's error body as one line.

ref: the API reference's error schema, as the SDK generated from it carries it
(AlexandreBellas/bling-erp-api-js `src/entities/@shared/interfaces/error.interface.ts`):
``{"error": {"type", "message", "description", "fields": [{code, msg, element, namespace,
collection: [{index, code, msg, element, namespace}]}]}}``.
"""

from __future__ import annotations

from typing import Any

#: `error.type` of a 429 (per-second and daily limits alike) [R: ecomplus/cloud-commerce
#: bling-auth]; the daily one is told apart by its description ("diário")
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"


def error_of(body: Any) -> dict[str, Any]:
    """The `error` object of a body, or {}."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def error_message(body: Any) -> str:
    """ "type: description (element: msg; ...)" from an error body; "" when it is not one."""
    error = error_of(body)
    if not error:
        return ""
    head = str(error.get("description") or error.get("message") or "").strip()
    kind = str(error.get("type") or "").strip()
    text = f"{kind}: {head}" if kind and head else kind or head
    problems = [_field(f) for f in error.get("fields") or [] if isinstance(f, dict)]
    problems = [p for p in problems if p]
    return f"{text} ({'; '.join(problems)})" if problems else text


def daily_limit(body: Any) -> bool:
    """True for the 429 of the daily quota (its description speaks of the day), which a
    retry within seconds cannot clear."""
    error = error_of(body)
    text = f"{error.get('message', '')} {error.get('description', '')}".lower()
    return error.get("type") == TOO_MANY_REQUESTS and ("diári" in text or "diari" in text)


def _field(field: dict[str, Any]) -> str:
    message = str(field.get("msg") or "").strip()
    element = str(field.get("element") or "").strip()
    inner = [
        f"item {c.get('index')}: {c.get('msg')}"
        for c in field.get("collection") or []
        if isinstance(c, dict) and c.get("msg")
    ]
    text = f"{element}: {message}" if element and message else message or element
    return f"{text} [{', '.join(inner)}]" if inner else text
