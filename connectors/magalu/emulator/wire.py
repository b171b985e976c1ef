"""The Open API's wire shapes and conventions, as the docs show them: the error structure, the
paging envelope, query validation (unknown parameters are a 400), `_sort` and
`field__gte`/`__lte` filters, times, money nodes and portfolio SKUs.

Error structure: https://developers.magalu.com/docs/development-guide/error-structure
Paging/sorting: https://developers.magalu.com/docs/development-guide/pagination-filtering-sorting
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from erpsync.domain import to_utc

PAGING = frozenset({"_offset", "_limit", "_sort"})
SORTABLE = frozenset({"purchased_at", "created_at", "updated_at", "approved_at"})
_SLUGS = {
    400: ("BAD_REQUEST", "Bad Request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    422: ("UNPROCESSABLE_ENTITY", "Unprocessable entity"),
    500: ("SERVER_ERROR", "Internal server error"),
    502: ("BAD_GATEWAY", "Bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "Service unavailable"),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout"),
}


class ApiError(Exception):
    """An Open API error answer: `{slug, message, details}` with its HTTP status."""

    def __init__(self, status: int, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.details = details or []


def error_body(status: int, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    slug, message = _SLUGS.get(status, ("ERROR", "Error"))
    body: dict[str, Any] = {"slug": slug, "message": message}
    if details:
        body["details"] = details
    return body


def detail(
    field: str, location: str, message: str, slug: str = "INVALID_PARAMETER"
) -> dict[str, str]:
    return {"field": field, "location": location, "slug": slug, "message": message}


def query_params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise ApiError(400, [detail(name, "query", "Unknown parameter") for name in unknown])
    return dict(request.query_params)


def paging(params: dict[str, str], max_limit: int) -> tuple[int, int]:
    try:
        offset = int(params.get("_offset", "0"))
        limit = int(params.get("_limit", "50"))
    except ValueError:
        raise ApiError(400, [detail("_limit", "query", "must be an integer")]) from None
    if offset < 0 or limit < 1:
        raise ApiError(400, [detail("_offset", "query", "must be >= 0 (and _limit >= 1)")])
    # above max_limit the list serves max_limit records (and says so in meta.page)
    return offset, min(limit, max_limit)


def sort_key(value: str) -> tuple[str, bool]:
    field, _, direction = value.partition(":")
    direction = direction or "asc"
    if field not in SORTABLE or direction not in {"asc", "desc"}:
        raise ApiError(400, [detail("_sort", "query", f"invalid sort {value!r}")])
    return field, direction == "desc"


def parse_time(name: str, value: str) -> datetime:
    try:
        return to_utc(value)
    except ValueError:
        raise ApiError(400, [detail(name, "query", "must be an ISO 8601 date-time")]) from None


@functools.lru_cache(maxsize=1 << 16)
def as_time(value: str) -> datetime:
    """A stored time string as a datetime, parsed once per distinct string: every list
    request compares each order's times with its filters (the bench's time is this
    process's CPU too, and the real platform's work is not ours to pay)."""
    return to_utc(value)


def matcher(params: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """Whether an order passes a list request's filters (`status`, `code`,
    `field__gte`/`__lte`): the filters read once, then applied to each order."""
    equal: list[tuple[str, str]] = []
    ranges: list[tuple[str, str, datetime]] = []
    for name, value in params.items():
        if name in PAGING:
            continue
        if name in {"status", "code"}:
            equal.append((name, value))
            continue
        field, _, op = name.partition("__")
        ranges.append((field, op, parse_time(name, value)))

    def matches(order: dict[str, Any]) -> bool:
        for name, value in equal:
            if order.get(name) != value:
                return False
        for field, op, bound in ranges:
            stamp = order.get(field)
            if stamp is None:
                return False
            moment = as_time(stamp)
            if (op == "gte" and moment < bound) or (op == "lte" and moment > bound):
                return False
        return True

    return matches


def page(
    request: Request, records: list[Any], offset: int, limit: int, max_limit: int
) -> JSONResponse:
    chunk = records[offset : offset + limit]
    base = dict(request.query_params)

    def link(at: int) -> str:
        return f"{request.url.path}?{urlencode({**base, '_offset': at, '_limit': limit})}"

    return JSONResponse(
        {
            "meta": {
                "page": {
                    "limit": limit,
                    "offset": offset,
                    "count": len(chunk),
                    "max_limit": max_limit,
                },
                "links": {
                    "previous": link(max(offset - limit, 0)) if offset > 0 else None,
                    "next": link(offset + limit) if offset + limit < len(records) else None,
                    "self": link(offset),
                },
            },
            "results": chunk,
        }
    )


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, [detail("body", "body", "must be a JSON object")])
    return body


def iso(moment: datetime) -> str:
    """Milliseconds and Z, as the docs write times ("2024-07-04T19:30:28.993Z")."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money_json(total: int, norm: int, **extra: int) -> dict[str, Any]:
    """A money node: integer minor units and their normalizer."""
    return {"currency": "BRL", "normalizer": norm, "total": total, **extra}


def sku_resource(entry: dict[str, Any], channel_id: str) -> dict[str, Any]:
    """One element of GET /seller/v1/portfolios/skus `results`."""
    resource: dict[str, Any] = {
        "sku": entry["sku"],
        "title": entry["title"],
        "description": entry["title"],
        "status": "PUBLISHED",
        "url_marketplace": [
            {
                "channel": channel_id,
                "url": f"https://www.magazineluiza.com.br/p/{entry['sku'].lower()}/",
            }
        ],
        "condition": "NEW",
        "perishable": False,
        "brand": entry["brand"],
        "channels": [{"id": channel_id}],
        "identifiers": [],
        "has_ean": False,
    }
    if entry.get("group"):
        resource["group"] = {"id": entry["group"], "main_variation": entry["sku"].endswith("-M")}
    return resource
