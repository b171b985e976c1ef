"""Amazon tracking for merchant-fulfilled orders, the pure parts: what an order's state means
for a tracking push, and the ``confirmShipment`` body.

The call is Orders v0 ``confirmShipment``: ``POST /orders/v0/orders/{orderId}/shipmentConfirmation``
with ``{marketplaceId, packageDetail: {packageReferenceId, carrierCode, carrierName,
shippingMethod?, trackingNumber, shipDate, orderItems: [{orderItemId, quantity}]}}``; Amazon
answers 204 with no body, 400 ``InvalidInput`` for a body it cannot take, 404 for an order it
does not know (models/orders-api-model/ordersV0.json in amzn/selling-partner-api-models:
ConfirmShipmentRequest, PackageDetail, ConfirmShipmentOrderItem; usage plan 2 rps, burst 10).

Orders v0 does not show the tracking number back, so a push is decided by the order's state
(``getOrder``) and its lines (``getOrderItems``): Unshipped or PartiallyShipped take the
package; an order whose every unit is already shipped holds a confirmation (ours, sent by a run
whose answer was lost, or the seller's own in Seller Central) and is taken as done; Pending is
not paid yet (sent again next run); Canceled and the rest are refusals. FBA (AFN) orders never
reach the sink (the engine skips shipments the channel fulfils) and neither do Easy Ship ones
(``tracking_logistic_types``): Amazon's carrier collects those and Amazon confirms them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from erpsync.connectors.amazon.orders import iso
from erpsync.domain import SendResult, TrackingUpdate

#: statuses in which Amazon takes a shipment confirmation (ordersV0 OrderStatus text)
CONFIRMABLE = frozenset({"Unshipped", "PartiallyShipped"})
#: every unit shipped: the confirmation is already there
DONE = frozenset({"Shipped", "InvoiceUnconfirmed"})
#: not paid yet: Amazon will take it once the order is Unshipped
NOT_YET = frozenset({"Pending", "PendingAvailability"})
#: the carrierCode that lets carrierName name any carrier. The PackageDetail model says
#: carrierName is "Required when carrierCode is \"Others\""; the CarrierCode list it links
#: (amzn-base.xsd) is a US/EU list with no Brazilian carrier (Correios, Jadlog, Loggi...), so
#: the seller's carrier always goes by name. [U] whether Amazon BR maps a name to a known
#: carrier for the buyer's tracking page.
OTHER_CARRIER = "Others"
#: packageReferenceId: "only positive numeric values are supported"; one package per order
PACKAGE_REFERENCE = "1"


def path(order_id: str) -> str:
    return f"/orders/v0/orders/{quote(order_id, safe='')}/shipmentConfirmation"


def unshipped_lines(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """confirmShipment's orderItems: every line's units not shipped yet (QuantityOrdered
    minus QuantityShipped). erpsync records one tracking code per Amazon order, so the package
    holds the rest of the order."""
    lines = []
    for item in items:
        left = int(item.get("QuantityOrdered") or 0) - int(item.get("QuantityShipped") or 0)
        if left > 0 and item.get("OrderItemId"):
            lines.append({"orderItemId": str(item["OrderItemId"]), "quantity": left})
    return lines


def confirm_body(
    update: TrackingUpdate,
    lines: Sequence[Mapping[str, Any]],
    *,
    marketplace_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The ConfirmShipmentRequest for one order's package."""
    carrier = (update.carrier or "").strip() or "Outra transportadora"
    package: dict[str, Any] = {
        "packageReferenceId": PACKAGE_REFERENCE,
        "carrierCode": OTHER_CARRIER,
        "carrierName": carrier,
        "trackingNumber": update.tracking_code,
        "shipDate": iso(update.shipped_at or now),
        "orderItems": [dict(line) for line in lines],
    }
    return {"marketplaceId": marketplace_id, "packageDetail": package}


def precheck(update: TrackingUpdate, order: Mapping[str, Any]) -> SendResult | None:
    """The answer an order's state already gives, without a confirmShipment; None: send it."""
    ref = update.shipment_ref
    status = str(order.get("OrderStatus") or "")
    if order.get("FulfillmentChannel") == "AFN":
        return SendResult(ref=ref, ok=False, error="fulfilled by Amazon (FBA): Amazon ships it")
    if order.get("EasyShipShipmentStatus"):
        return SendResult(
            ref=ref,
            ok=False,
            error="an Easy Ship order: Amazon's carrier collects it and Amazon confirms it",
        )
    if status in DONE:
        return SendResult(ref=ref, ok=True, remote_id=update.order_external_id)
    if status in NOT_YET:
        return SendResult(
            ref=ref,
            ok=False,
            retry=True,
            error=f"the order is {status} at Amazon (payment not authorised yet)",
        )
    if status not in CONFIRMABLE:
        return SendResult(
            ref=ref, ok=False, error=f"the order is {status} at Amazon: it takes no shipment"
        )
    return None
