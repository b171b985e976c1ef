"""Nuvemshop's wire shapes, written from the API docs (not from the connector).

Refs: TiendaNube/api-docs `README.md` (headers, errors, pagination, rate limit),
`resources/order.md`, `resources/product.md`, `resources/product_variant.md`,
`resources/metafields.md`, `resources/authentication.md`; the newer
tiendanube.github.io/api-documentation order example (string `quantity`/`variant_id`,
`+0000` offsets, `customer.identification`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse

#: the leaky bucket: 40 requests, draining 2 per second, per store and app (README, "Rate
#: limiting"); the x-rate-limit-reset header is in milliseconds
BUCKET_SIZE = 40
DRAIN_PER_SECOND = 2.0
MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 30
#: PATCH /products/stock-price takes at most this many variants (public clients: 51 answers
#: 422 "Too many variants sent for update")
STOCK_PRICE_MAX_VARIANTS = 50
#: the consent code lives 30 seconds (resources/authentication.md)
CODE_TTL_SECONDS = 30

ORDER_STATUSES = frozenset({"open", "closed", "cancelled"})
PAYMENT_STATUSES = frozenset({"pending", "authorized", "paid", "abandoned", "refunded", "voided"})
#: what `payment_status=any` (the default) lists: "it means authorized, pending and paid
#: orders" (resources/order.md, GET /orders parameters)
ANY_PAYMENT = frozenset({"pending", "authorized", "paid"})
#: documented filter values (unpacked/unfulfilled/fulfilled) and the spellings the docs'
#: own examples carry on orders (unshipped/shipped)
SHIPPING_FILTERS = frozenset({"any", "unpacked", "unfulfilled", "fulfilled"})
SHIPPING_SPELLINGS = {
    "unfulfilled": ("unfulfilled", "unshipped"),
    "fulfilled": ("fulfilled", "shipped"),
}
ORDER_PARAMS = frozenset(
    {"since_id", "status", "channels", "payment_status", "shipping_status", "created_at_min"}
    | {"created_at_max", "updated_at_min", "updated_at_max", "total_min", "total_max"}
    | {"customer_ids", "page", "per_page", "fields", "q", "app_id", "aggregates"}
)
PRODUCT_PARAMS = frozenset(
    {"since_id", "language", "q", "handle", "category_id", "published", "free_shipping"}
    | {"max_stock", "min_stock", "has_promotional_price", "has_weight", "has_all_dimensions"}
    | {"has_all_values", "sort_by", "created_at_min", "created_at_max", "updated_at_min"}
    | {"updated_at_max", "page", "per_page", "fields"}
)


def iso(moment: datetime) -> str:
    """Times as the docs' examples write them: `2022-11-15T19:37:08+0000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str) -> datetime:
    """A filter value: ISO 8601 with `Z`, `+00:00` or `+0000`."""
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {value}")
    return moment.astimezone(UTC)


def error(status: int, message: str, description: str | None = None, **fields: Any) -> JSONResponse:
    """The documented error body: `{code, message, description}` (+ per-field messages on 422)."""
    body: dict[str, Any] = {"code": status, "message": message}
    if description is not None:
        body["description"] = description
    body.update(fields)
    return JSONResponse(body, status_code=status)


def link_header(base: str, params: dict[str, str], page: int, last: int) -> str:
    """`Link: <...page=2>; rel="next", <...>; rel="last"` (README, "Pagination")."""

    def url(number: int) -> str:
        return f"{base}?{urlencode({**params, 'page': str(number)})}"

    links = []
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    links.append(f'<{url(1)}>; rel="first"')
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    return ", ".join(links)


def product_name(name: str) -> dict[str, str]:
    """Names are per language (`{"pt": ...}`)."""
    return {"pt": name, "es": name}
