"""NF-e and tracking to Anymarket: the pure parts (request bodies, what an order's state allows).

The documented write-back (AnyMarket/anymarket-sdk-java `OrderService.updateOrder`,
`putXMLNFe`; `dto/InvoiceResource`, `dto/TrackingResource`; public integrator scripts):

- `PUT /v2/orders/{id}` `{"status": "INVOICED", "invoice": {accessKey, series, number, date}}`;
- `PUT /v2/orders/{id}/nfe` with the authorised XML as the body (`application/xml`);
- `PUT /v2/orders/{id}` `{"status": "PAID_WAITING_DELIVERY", "tracking": {number, carrier,
  date, shippedDate, ...}}` once the goods leave; the hub relays both to the marketplace.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from erpsync.domain import Invoice, TrackingUpdate, to_money

INVOICED = "INVOICED"
SHIPPED = "PAID_WAITING_DELIVERY"
CANCELED = "CANCELED"
#: the statuses an order may be invoiced from (the hub's documented order of transitions)
INVOICEABLE = frozenset({"PAID_WAITING_SHIP", INVOICED})
#: the statuses from which tracking may be sent: it follows the invoice
SHIPPABLE = frozenset({INVOICED, SHIPPED})


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def invoice_body(invoice: Invoice) -> dict[str, Any]:
    return {
        "status": INVOICED,
        "invoice": {
            "accessKey": invoice.access_key,
            "series": str(invoice.series),
            "number": str(invoice.number),
            "date": iso(invoice.issued_at),
        },
    }


def invoice_refusal(invoice: Invoice, order: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(why this NF-e must not go to this order now, whether it is worth trying again).

    A cancelled order never takes one; an order not paid yet may later. The hub stores what
    it is given, so erpsync checks the total a marketplace would check (a wrong invoice
    relayed to the marketplace is worse than none)."""
    status = order.get("status")
    if status == CANCELED:
        return "the Anymarket order is cancelled", False
    held = invoice_key(order)
    if held is not None and held != invoice.access_key:
        return f"the Anymarket order already holds another NF-e ({held})", False
    if status not in INVOICEABLE and held is None:
        return f"the Anymarket order is {status}: it takes an NF-e once paid", True
    total = order.get("total")
    if total not in (None, "") and to_money(total) != invoice.total:
        return (
            f"NF-e total {invoice.total} differs from the order's total {to_money(total)}",
            False,
        )
    return None, False


def invoice_key(order: Mapping[str, Any]) -> str | None:
    node = order.get("invoice")
    key = node.get("accessKey") if isinstance(node, Mapping) else None
    return str(key) if key else None


def tracking_body(update: TrackingUpdate, now: datetime) -> dict[str, Any]:
    shipped = update.shipped_at or now
    tracking: dict[str, Any] = {
        "number": update.tracking_code,
        "date": iso(shipped),
        "shippedDate": iso(shipped),
    }
    if update.carrier:
        tracking["carrier"] = update.carrier
    if update.tracking_url:
        tracking["url"] = update.tracking_url
    return {"status": SHIPPED, "tracking": tracking}


def already_shipped(order: Mapping[str, Any], update: TrackingUpdate) -> bool:
    """The order already left with this very tracking number: a replay, nothing to send."""
    node = order.get("tracking")
    number = node.get("number") if isinstance(node, Mapping) else None
    return order.get("status") in {SHIPPED, "CONCLUDED"} and str(number) == update.tracking_code
