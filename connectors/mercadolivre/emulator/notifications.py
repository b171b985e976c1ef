"""The emulator's ME1 status notifications: POST /v2/shipments/{id}/seller_notifications.

ref: developers.mercadolivre.com.br/status-de-pedidos-rastreamento (updated 2026-05-28) and
developers.mercadolibre.cl/estados-de-ordenes-me1 (the V2 migration: the V1 path without
``/v2`` was discontinued on 2026-10-31; ``substatus`` must be present, JSON null when none,
never the string "null"; ``tracking_number`` and ``tracking_url`` go together) [R for the V2
rules: integrator notes quoting the .cl page]. The status table of the pt-br page:

    shipped / null, out_for_delivery, receiver_absent, dangerous_area, bad_address,
              unauthorized_receiver
    delivered / null
    not_delivered / returning_to_sender

What it enforces, so a wrong client fails: a bearer token; the shipment exists; it is ME1
(``logistic.mode`` me1: ML moves ME2 itself, custom shipping is outside Mercado Envios);
the body above; the shipment neither cancelled (nor its orders) nor in a final state
(delivered, not_delivered: "final states are irreversible"); shipped before delivered. The
error codes are not published [U]: ML's envelope with ``bad_request`` is what this uses.
Accepted: the shipment takes the status, substatus and tracking; the order's tags follow
(``delivered``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.mercadolivre.emulator.state import MlState
from erpsync.connectors.mercadolivre.emulator.wire import error, ml_time, unauthorized

SUBSTATUSES: dict[str, frozenset[str | None]] = {
    "shipped": frozenset(
        {
            None,
            "out_for_delivery",
            "receiver_absent",
            "dangerous_area",
            "bad_address",
            "unauthorized_receiver",
        }
    ),
    "delivered": frozenset({None}),
    "not_delivered": frozenset({"returning_to_sender"}),
}
FINAL = frozenset({"delivered", "not_delivered", "cancelled"})
#: where an ME1 shipment waits for the seller to dispatch it
WAITING = frozenset({"pending", "handling", "ready_to_ship"})
PAID = frozenset({"paid", "partially_refunded"})


class NotificationsMixin(MlState):
    """Mixed into MercadoLivreEmulator (which provides orders, shipments, auth)."""

    def notification_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/v2/shipments/{shipment_id:int}/seller_notifications",
                self.seller_notifications,
                methods=["POST"],
            )
        ]

    def ship_by_seller(self, external_id: str, *, mode: str = "me1") -> None:
        """Make an order's shipment one the seller ships himself: ME1 (logistic type
        ``default``) or custom shipping (``custom``), waiting in ``handling``."""
        with self.lock:
            shipment = self._seller_shipment(external_id)
            shipment["logistic"] = {
                "direction": "forward",
                "mode": mode,
                "type": "default" if mode == "me1" else mode,
            }
            if shipment.get("status") in WAITING:
                shipment.update(status="handling", substatus=None, tracking_number=None)
            shipment["last_updated"] = ml_time(self.clock())

    def tracking_ready(self, external_id: str) -> bool:
        """Ready: a paid order whose ME1 shipment waits for the seller to dispatch it."""
        order = self.orders.get(int(external_id)) or {}
        shipment = self.shipments.get((order.get("shipping") or {}).get("id") or 0) or {}
        return (
            order.get("status") in PAID
            and (shipment.get("logistic") or {}).get("mode") == "me1"
            and shipment.get("status") in WAITING
        )

    def tracking_code(self, external_id: str) -> str | None:
        order = self.orders.get(int(external_id)) or {}
        shipment = self.shipments.get((order.get("shipping") or {}).get("id") or 0) or {}
        if (shipment.get("logistic") or {}).get("mode") != "me1":
            return None
        if shipment.get("status") not in ("shipped", "delivered", "not_delivered"):
            return None
        code = shipment.get("tracking_number")
        return None if code is None else str(code)

    def _seller_shipment(self, external_id: str) -> dict[str, Any]:
        order = self.orders[int(external_id)]
        return self.shipments[int(order["shipping"]["id"])]

    async def seller_notifications(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        shipment_id = request.path_params["shipment_id"]
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return error(400, "The body must be JSON", "bad_request")
        with self.lock:
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                return error(404, "Shipment not found", "not_found")
            refusal = self._refusal(shipment_id, shipment, body)
            if refusal is not None:
                return error(400, refusal, "bad_request")
            status, substatus = body["status"], body["substatus"]
            shipment.update(status=status, substatus=substatus)
            if body.get("tracking_number"):
                shipment["tracking_number"] = body["tracking_number"]
                shipment["tracking_url"] = body["tracking_url"]
            now = ml_time(self.clock())
            shipment["last_updated"] = now
            for order_id in self.shipment_orders.get(shipment_id, ()):
                order = self.orders[order_id]
                if status == "delivered":
                    tags = [t for t in order["tags"] if t != "not_delivered"]
                    order["tags"] = [*tags, "delivered"]
                order["last_updated"] = now
        return JSONResponse({"shipment_id": shipment_id, "status": status, "substatus": substatus})

    def _refusal(self, shipment_id: int, shipment: dict[str, Any], body: Any) -> str | None:
        """Why ML refuses this notification, or None."""
        if not isinstance(body, dict):
            return "The body must be a JSON object"
        mode = (shipment.get("logistic") or {}).get("mode")
        if mode != "me1":
            return f"Shipment {shipment_id} is {mode}: only ME1 shipments take notifications"
        status = body.get("status")
        if status not in SUBSTATUSES:
            return f"Invalid status {status!r}"
        if "substatus" not in body:
            return "substatus is required (null when there is none)"
        substatus = body["substatus"]
        if substatus not in SUBSTATUSES[status]:
            return f"Invalid substatus {substatus!r} for status {status}"
        if bool(body.get("tracking_number")) != bool(body.get("tracking_url")):
            return "tracking_number and tracking_url must be sent together"
        orders = [self.orders[i] for i in self.shipment_orders.get(shipment_id, ())]
        if shipment.get("status") == "cancelled" or any(o["status"] == "cancelled" for o in orders):
            return f"Shipment {shipment_id} is cancelled"
        if shipment.get("status") in FINAL:
            return f"Shipment {shipment_id} is {shipment.get('status')}: a final state"
        if not orders or not all(o["status"] in PAID for o in orders):
            return f"Shipment {shipment_id}: the order is not paid"
        if status != "shipped" and shipment.get("status") != "shipped":
            return f"Shipment {shipment_id} is {shipment.get('status')}: it was not shipped yet"
        return None
