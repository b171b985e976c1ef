"""NF-e and tracking to Nuvemshop: the pure parts (request bodies, what an answer means).

Nuvemshop has no invoice API; the documented convention is order metafields in the `nfe`
namespace: `key` = the access key, `link` = where the XML/DANFE is
(`POST /metafields {namespace, key, value, owner_resource: "Order", owner_id}`, read back with
`GET /metafields/orders?owner_id=&namespace=nfe&key=key`) [C: Nuvemshop ERP guide, invoices].
Tracking goes with `POST /orders/{id}/fulfill {shipping_tracking_number,
shipping_tracking_url, notify_customer}` (resources/order.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from erpsync.domain import Invoice, TrackingUpdate, to_money

NAMESPACE = "nfe"
KEY = "key"
OWNER = "Order"


def key_metafield(invoice: Invoice, order_id: str) -> dict[str, Any]:
    return {
        "namespace": NAMESPACE,
        "key": KEY,
        "value": invoice.access_key,
        "owner_resource": OWNER,
        "owner_id": int(order_id),
        "description": f"NF-e {invoice.number} série {invoice.series}",
    }


def refusal(invoice: Invoice, order: Mapping[str, Any]) -> str | None:
    """Why this NF-e must not be attached to this order, or None.

    Nuvemshop stores any string in a metafield, so erpsync checks what a marketplace would:
    the order is alive and the NF-e's total is the order's (a wrong invoice attached to an
    order is worse than none)."""
    if order.get("status") == "cancelled":
        return "the Nuvemshop order is cancelled"
    total = order.get("total", order.get("price"))
    if total not in (None, "") and to_money(total) != invoice.total:
        return (
            f"NF-e total {invoice.total} differs from the order's total {to_money(total)} "
            "(Nuvemshop does not check it; erpsync does)"
        )
    return None


def fulfil_body(update: TrackingUpdate, notify_customer: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"shipping_tracking_number": update.tracking_code}
    if update.tracking_url:
        body["shipping_tracking_url"] = update.tracking_url
    body["notify_customer"] = notify_customer
    return body


def already_fulfilled(order: Mapping[str, Any], update: TrackingUpdate) -> bool:
    """The order already shipped with this very tracking code: a replay, nothing to send."""
    return (
        order.get("shipping_status") in {"fulfilled", "shipped"}
        and str(order.get("shipping_tracking_number") or "") == update.tracking_code
    )


def same(value: Any, expected: str) -> bool:
    return str(value or "").strip() == expected
