"""Stock: the `PUT /v2/stocks` batch body and how its answer reads. Pure planning only.

ref: AnyMarket/anymarket-sdk-java `anymarket-sdk-stock` (`StockService.updateStock`, the
`Stock` DTO: `id` or `partnerId`, `quantity`, `cost`, `additionalTime`, `stockLocalId`);
the array body follows somosyampi/anymarket-php-sdk `Services/Stock.php` and integrators'
scripts. The SDK documents no per-element answer, so a 2xx means the batch was taken; a
refused batch is sent again one element at a time, so one bad SKU fails alone. With a
location map (`stock_local_ids`) each erpsync location's quantity is its own element, with the
local it maps to (the Java SDK's `stockLocalId`; GET /v2/stocks/locals lists them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from erpsync.domain import PushResult, StockUpdate

#: elements per PUT /v2/stocks: no documented cap was found; integrators send 100 at most
MAX_BATCH = 100


def element(update: StockUpdate, stock_local_id: int | None) -> dict[str, Any]:
    """One array element: by `partnerId` (our SKU), else by the ANYMARKET SKU id.
    `cost` is left out: it is the cost price, not a quantity, and erpsync does not own it."""
    body: dict[str, Any] = {"partnerId": update.sku} if update.sku else {"id": int(update.item_id)}
    body["quantity"] = update.quantity
    if stock_local_id is not None:
        body["stockLocalId"] = stock_local_id
    return body


def local_of(
    update: StockUpdate, stock_local_id: int | None, stock_local_ids: Mapping[str, int]
) -> int | None:
    """The `stockLocalId` an update goes to: its location's, with a location map (per-location
    updates), else the one configured local (None: the account's default)."""
    if stock_local_ids:
        return stock_local_ids[str(update.location)]
    return stock_local_id


def body(
    updates: Sequence[StockUpdate],
    stock_local_id: int | None,
    stock_local_ids: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    return [element(u, local_of(u, stock_local_id, stock_local_ids or {})) for u in updates]


def accepted(updates: Sequence[StockUpdate]) -> list[PushResult]:
    return [PushResult(item_id=u.item_id, location=u.location, ok=True) for u in updates]


def failed(update: StockUpdate, error: str) -> PushResult:
    return PushResult(item_id=update.item_id, location=update.location, ok=False, error=error)
