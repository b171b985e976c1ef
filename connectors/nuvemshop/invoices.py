"""NF-e and tracking to Nuvemshop: the pure parts (request bodies, what an answer means).

Nuvemshop has no invoice API; the documented convention is order metafields in the `nfe`
namespace (`POST /metafields {namespace, key, value, owner_resource: "Order", owner_id}`, read
back with `GET /metafields/orders?owner_id=&namespace=nfe&key=...`). Two generations of it:
the preferred one, `nfe`/`list`, a JSON-encoded *string* holding the order's NF-es
`[{"key", "link", "fulfillment_order_id"?}]` that each producer appends to (read it, then
`PUT /metafields/{id}` the longer list, or POST it when absent), so an order can carry several;
and the older pair `nfe`/`key` (the access key) and `nfe`/`link` (the XML's URL), which the
docs say still works. erpsync writes both, so consumers of either find the NF-e [C: Nuvemshop
ERP guide "orders/invoices" and the order resource's "Invoices" section, which calls the list
the preferred method; TiendaNube/api-docs resources/order.md for the key/link pair].
Tracking goes with `POST /orders/{id}/fulfill {shipping_tracking_number,
shipping_tracking_url, notify_customer}` (resources/order.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from erpsync.domain import Invoice, TrackingUpdate, to_money

NAMESPACE = "nfe"
KEY = "key"
LINK = "link"
LIST = "list"
OWNER = "Order"
#: the list metafield's description in the docs' example ("use this example as-is")
LIST_DESCRIPTION = "Lista de NFes"


def key_metafield(invoice: Invoice, order_id: str) -> dict[str, Any]:
    return metafield(
        KEY, invoice.access_key, order_id, f"NF-e {invoice.number} série {invoice.series}"
    )


def metafield(key: str, value: str, order_id: str, description: str) -> dict[str, Any]:
    return {
        "namespace": NAMESPACE,
        "key": key,
        "value": value,
        "owner_resource": OWNER,
        "owner_id": int(order_id),
        "description": description,
    }


def link_for(invoice: Invoice, template: str | None) -> str | None:
    """The XML's URL from ``options.nfe_link`` (``{key}``: the access key), or None."""
    return template.format(key=invoice.access_key) if template else None


def list_entries(value: Any) -> list[dict[str, Any]] | None:
    """The NF-es an `nfe`/`list` value holds (a JSON-encoded array); None when it is not one
    (another app's data erpsync must not overwrite)."""
    if value in (None, ""):
        return []
    try:
        entries = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return None
    return entries


def with_entry(entries: list[dict[str, Any]], access_key: str, link: str | None) -> str | None:
    """The list value with this NF-e appended, or None when it already holds it (a replay)."""
    if any(same(e.get("key"), access_key) for e in entries):
        return None
    entry: dict[str, Any] = {"key": access_key}
    if link:
        entry["link"] = link
    return json.dumps([*entries, entry], ensure_ascii=False)


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
