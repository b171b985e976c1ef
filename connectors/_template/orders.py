"""Orders: the platform's order payload -> canonical Order. Pure: no I/O, no connector import.

Mapper naming, the same in every connector: ``order_from_payload`` here,
``listing_from_payload`` in listings.py, module functions taking the payload and
``connector=`` (the config name). Status tables are dicts with a comment on each odd value.
Tests feed them the recorded payloads in fixtures/ (``order-<id>.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Order, OrderItem, OrderStatus

#: the platform's display name, stored on every order
PLATFORM = "Template"

#: TODO: every status the platform documents (ref: link to the doc page)
STATUSES: Mapping[str, OrderStatus] = {
    "paid": OrderStatus.PAID,
    "cancelled": OrderStatus.CANCELLED,
}


def order_from_payload(payload: Mapping[str, Any], *, connector: str) -> Order:
    """One order as fetched (``RawOrder.payload``) -> Order. Raise ValueError/KeyError on a
    payload it cannot read: the engine quarantines the order with the message."""
    order = payload["order"]
    items = tuple(
        OrderItem(
            sku=item.get("sku"),
            channel_item_id=str(item["id"]),
            quantity=int(item["quantity"]),
            unit_price=item["unit_price"],
        )
        for item in order["items"]
    )
    return Order(
        connector=connector,
        platform=PLATFORM,
        external_id=str(order["id"]),
        status=STATUSES[order["status"]],
        channel_status=order["status"],
        created_at=order["created_at"],
        updated_at=order["updated_at"],
        items_total=order["total"],
        total=order["total"],
        items=items,
    )
