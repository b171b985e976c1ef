"""Olist ERP (Tiny v3) error bodies as one line.

The v3 document answers 400 with an `ErrorDTO`: `mensagem` and `detalhes[]` with
`campo`/`mensagem` (the document's notes; other error bodies are not guaranteed), so the
generic `message`/`error_description` (the Keycloak token endpoint) are read too.
"""

from __future__ import annotations

from typing import Any


def error_line(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    message = body.get("mensagem") or body.get("message") or body.get("error_description")
    details = body.get("detalhes") or body.get("erros") or []
    parts = []
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict):
            field = detail.get("campo")
            text = detail.get("mensagem") or detail.get("message")
            if text:
                parts.append(f"{field}: {text}" if field else str(text))
        elif isinstance(detail, str):
            parts.append(detail)
    line = "; ".join(p for p in [str(message) if message else "", *parts] if p)
    return line or None
