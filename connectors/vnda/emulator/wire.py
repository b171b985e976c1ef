"""Vnda API v2's wire shapes, written from developers.vnda.com.br (not from the connector).

Refs: "Chave de acesso e requisições" (Bearer token + X-Shop-Host), "Filtros e paginação"
(the X-Pagination header), "Integração de pedidos" (orders, items, addresses, packages),
"Controle de fila de integração de pedidos (Feed)" (the event list and its example order),
the API reference: post-api-feed-orders (mark), post-api-v2-variants-sku-quantity,
reference/estoque (batch), post-...-packages-package_code-invoices / -trackings, the 404
"Domínio de loja não encontrado" and 422 `{"errors": {field: [...]}}` bodies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse, Response

#: the vendor's examples write store-local times with their offset
LOCAL = ZoneInfo("America/Sao_Paulo")

#: GET /api/v2/orders?status= takes these
ORDER_STATUSES = frozenset({"received", "confirmed", "canceled"})
ORDER_PARAMS = frozenset({"start", "finish", "status", "page", "per_page", "code", "client_id"})
PRODUCT_PARAMS = frozenset({"page", "per_page", "reference", "ids", "tag_id", "sort"})
#: per_page ceiling of the lists [R: public clients; the docs name no number]
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
#: events per feed answer: not documented [U]; small enough that 120 orders take several
FEED_BATCH = 50
#: no published numbers [U]: the emulator enforces a bucket of 10 refilling 2/s per store
BUCKET_SIZE = 10
REFILL_PER_SECOND = 2.0
#: the batch stock endpoint applies "in about 1 minute"
BATCH_DELAY_SECONDS = 60.0

NO_STORE = "Domínio de loja não encontrado"


def iso(moment: datetime) -> str:
    """Times as the vendor writes them: store-local with the offset, milliseconds."""
    return moment.astimezone(LOCAL).isoformat(timespec="milliseconds")


def parse_day(value: str) -> datetime:
    """`start`/`finish` are yyyy-mm-dd (store days)."""
    day = datetime.strptime(value.strip(), "%Y-%m-%d")
    return day.replace(tzinfo=LOCAL)


def to_utc(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def error(status: int, message: str) -> JSONResponse:
    """`{"error": "..."}`: the 401/404 body."""
    return JSONResponse({"error": message}, status_code=status)


def invalid(**fields: str) -> JSONResponse:
    """422 `{"errors": {field: [...]}}`: validation errors of creates and updates."""
    return JSONResponse({"errors": {k: [v] for k, v in fields.items()}}, status_code=422)


def page(rows: list[Any], number: int, per_page: int) -> Response:
    """One page and its `X-Pagination` header (total_pages, total_count, current_page,
    prev_page, next_page: the last two booleans)."""
    total_pages = max(1, (len(rows) + per_page - 1) // per_page)
    body = json.loads(json.dumps(rows[(number - 1) * per_page : number * per_page]))
    meta = {
        "total_pages": total_pages,
        "total_count": len(rows),
        "current_page": number,
        "prev_page": number > 1,
        "next_page": number < total_pages,
    }
    return JSONResponse(body, headers={"X-Pagination": json.dumps(meta)})
