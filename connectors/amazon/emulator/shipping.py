"""The emulator's shipment confirmation: Orders v0 ``confirmShipment``.

ref: models/orders-api-model/ordersV0.json (amzn/selling-partner-api-models):
``POST /orders/v0/orders/{orderId}/shipmentConfirmation``, body ConfirmShipmentRequest
``{marketplaceId, packageDetail: {packageReferenceId, carrierCode, carrierName, shippingMethod,
trackingNumber, shipDate, shipFromSupplySourceId, orderItems: [{orderItemId, quantity,
transparencyCodes}]}, codCollectionMethod}``; 204 on success (no body), 400 for a request it
cannot take, 404 for an unknown order; usage plan 2 rps, burst 10.

What it enforces, from the model: ``marketplaceId`` and ``packageDetail`` required; in the
package ``packageReferenceId`` (positive numeric only), ``carrierCode``, ``trackingNumber``,
``shipDate`` (ISO 8601 date-time: the model's own 400 example is a ``02/21/2022`` ship date) and
``orderItems`` required, ``carrierName`` required when ``carrierCode`` is "Others". From the
order's state (the OrderStatus meanings in the same model): only a merchant-fulfilled order that
is Unshipped or PartiallyShipped takes a shipment; every ``orderItemId`` must be a line of the
order and its quantity at most the units not shipped yet. The 400 messages for the state checks
are ours [U]: Amazon documents the status code and the envelope, not the text. On success the
lines' QuantityShipped grow and the order becomes PartiallyShipped or Shipped.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.emulator.wire import (
    BRAZIL_MARKETPLACE_ID,
    invalid_input,
    iso,
    parse_time,
    sp_errors,
)
from erpsync.emulation import Emulator

CONFIRMABLE = frozenset({"Unshipped", "PartiallyShipped"})
#: OrderStatus before payment (ordersV0.json)
NOT_PAID = frozenset({"Pending", "PendingAvailability"})
#: EasyShipShipmentStatus of a package whose pickup is still to be scheduled (ordersV0.json)
TO_SCHEDULE = frozenset({"PendingSchedule", "LabelCanceled"})
_POSITIVE = re.compile(r"[1-9][0-9]*")


class ShippingMixin(Emulator):
    """Mixed into AmazonEmulator (which provides orders, auth and the `_api` wrapper)."""

    orders: dict[str, Any]

    def _api(self, operation: str, handler: Any) -> Any:  # pragma: no cover - the emulator's
        raise NotImplementedError

    def setup_shipping(self) -> None:
        #: order id -> the packageDetail of every confirmed package, in order
        self.packages: dict[str, list[dict[str, Any]]] = {}

    def shipping_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/orders/v0/orders/{orderId}/shipmentConfirmation",
                self._api("confirmShipment", self._confirm_shipment),
                methods=["POST"],
            )
        ]

    def make_easy_ship(self, external_id: str, status: str = "PendingSchedule") -> None:
        """Turn a seeded order into an Easy Ship one (Amazon's carrier collects it)."""
        self.orders[external_id].order["EasyShipShipmentStatus"] = status

    # the contract-suite API
    def tracking_ready(self, external_id: str) -> bool:
        found = self.orders.get(external_id)
        order = found.order if found is not None else {}
        items = found.items if found is not None else []
        return (
            order.get("FulfillmentChannel") == "MFN"
            and order.get("OrderStatus") in CONFIRMABLE
            and not order.get("EasyShipShipmentStatus")
            and any(int(i["QuantityOrdered"]) > int(i["QuantityShipped"]) for i in items)
        )

    def tracking_code(self, external_id: str) -> str | None:
        held = self.packages.get(external_id)
        return str(held[-1]["trackingNumber"]) if held else None

    def schedule_easy_ship(self, external_id: str, status: str = "PendingPickUp") -> None:
        """The seller schedules the pickup in Seller Central: the order's EasyShipShipmentStatus
        moves on (ordersV0.json EasyShipShipmentStatus: PendingPickUp, PendingDropOff)."""
        self.orders[external_id].order["EasyShipShipmentStatus"] = status

    # the contract suite's label questions. Amazon.com.br serves no label document through the
    # SP-API (the Easy Ship documents feed is documented for India and Singapore only, the bulk
    # scheduling ZIP for Poland and the Netherlands; shared API notes §2.6): no shipment is ever
    # ready for one. Waiting ("blocked", asked again next run): a merchant-fulfilled order not
    # paid yet, and an open Easy Ship order whose pickup is still to be scheduled.
    def label_ready(self, external_id: str) -> bool:
        return False

    def label_blocked(self, external_id: str) -> bool:
        found = self.orders.get(external_id)
        order = found.order if found is not None else {}
        if order.get("FulfillmentChannel") != "MFN":
            return False
        status = order.get("OrderStatus")
        if status in NOT_PAID:
            return True
        return status in CONFIRMABLE and order.get("EasyShipShipmentStatus") in TO_SCHEDULE

    async def _confirm_shipment(self, request: Request, granted: Any) -> Response:
        found = self.orders.get(request.path_params["orderId"])
        if found is None:
            return sp_errors(404, "NotFound", "The specified resource does not exist.")
        try:
            body = await request.json()
        except ValueError:
            return invalid_input("Invalid Input", "The request body is not JSON")
        if not isinstance(body, dict):
            return invalid_input("Invalid Input")
        problem = _body_problem(body)
        if problem:
            return invalid_input("Invalid Input", problem)
        order = found.order
        if order.get("FulfillmentChannel") != "MFN":
            return invalid_input("Invalid Input", "Order is fulfilled by Amazon")
        if order.get("EasyShipShipmentStatus"):
            return invalid_input("Invalid Input", "Easy Ship orders are confirmed by Amazon")
        status = order.get("OrderStatus")
        if status not in CONFIRMABLE:
            return invalid_input("Invalid Input", f"Order status is {status}")
        package = body["packageDetail"]
        lines = {str(i["OrderItemId"]): i for i in found.items}
        wanted: dict[str, int] = {}
        for entry in package["orderItems"]:
            item_id = str(entry.get("orderItemId") or "")
            quantity = entry.get("quantity")
            if item_id not in lines:
                return invalid_input("Invalid Input", f"Invalid orderItemId {item_id}")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                return invalid_input("Invalid Input", f"Invalid quantity for {item_id}")
            wanted[item_id] = wanted.get(item_id, 0) + quantity
        for item_id, quantity in wanted.items():
            line = lines[item_id]
            left = int(line["QuantityOrdered"]) - int(line["QuantityShipped"])
            if quantity > left:
                return invalid_input(
                    "Invalid Input", f"quantity {quantity} exceeds the {left} unshipped units"
                )
        for item_id, quantity in wanted.items():
            lines[item_id]["QuantityShipped"] = int(lines[item_id]["QuantityShipped"]) + quantity
        self.packages.setdefault(found.id, []).append(package)
        shipped = sum(int(i["QuantityShipped"]) for i in found.items)
        ordered = sum(int(i["QuantityOrdered"]) for i in found.items)
        order["NumberOfItemsShipped"] = shipped
        order["NumberOfItemsUnshipped"] = ordered - shipped
        order["OrderStatus"] = "Shipped" if shipped >= ordered else "PartiallyShipped"
        order["LastUpdateDate"] = iso(self.clock())
        return Response(status_code=204)


def _body_problem(body: dict[str, Any]) -> str | None:
    """What the ConfirmShipmentRequest model refuses in ``body``, or None."""
    if body.get("marketplaceId") != BRAZIL_MARKETPLACE_ID:
        return "marketplaceId is missing or not this seller's marketplace"
    package = body.get("packageDetail")
    if not isinstance(package, dict):
        return "packageDetail is required"
    for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate"):
        if not isinstance(package.get(name), str) or not package[name].strip():
            return f"packageDetail.{name} is required"
    if not _POSITIVE.fullmatch(package["packageReferenceId"]):
        return "packageReferenceId must be a positive number"
    if package["carrierCode"] == "Others" and not str(package.get("carrierName") or "").strip():
        return "carrierName is required when carrierCode is Others"
    if parse_time(package["shipDate"]) is None:
        return "shipDate is not an ISO 8601 date-time"
    items = package.get("orderItems")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return "packageDetail.orderItems is required"
    return None
