"""The Open API error structure -> one readable line (used by ``classify_error``).

ref: https://developers.magalu.com/docs/development-guide/error-structure
`{slug, message, details:[{field, location, slug, message}]}`.
"""

from __future__ import annotations

import httpx


def describe_error(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(data, dict):
        return response.reason_phrase or "error"
    head = ": ".join(str(part) for part in (data.get("slug"), data.get("message")) if part)
    details = []
    for detail in data.get("details") or []:
        if isinstance(detail, dict):
            where = " in ".join(str(p) for p in (detail.get("field"), detail.get("location")) if p)
            what = detail.get("message") or detail.get("slug") or ""
            details.append(f"{where}: {what}" if where else str(what))
    text = head or response.reason_phrase or "error"
    return f"{text} ({'; '.join(details)})" if details else text
