"""The emulator's shipping labels: GET /shipment_labels, with ML's preconditions.

ref: developers.mercadolivre.com.br/pt_br/gerenciamento-de-envios ("Imprimir etiqueta";
summarised in the shared API notes §1.6): ``shipment_ids`` (comma-separated) and
``response_type=pdf|zpl2``; several ids come back as one combined document. What it enforces,
so a wrong client fails the tests:
- every shipment exists and is the caller's;
- its logistic type has an ML label: ME2 (drop_off, xd_drop_off, xd_same_day, cross_docking);
  Full (fulfillment) and Flex (self_service) never, ME1 (custom) neither (the seller's carrier);
- the shipment is ``ready_to_ship`` and, for ME2, its NF-e is in: a shipment still at
  ``invoice_pending`` has no label (the NF-e releases it).
Answers: ``application/pdf`` for pdf; for zpl2 a ZIP holding one ``.txt`` of ZPL, the form
integrator code reports [R] (a client must also take raw ZPL). A label served moves the
shipment from ``ready_to_print`` to ``printed``. The error codes are not in the public page
[U]: ML's envelope with ``not_printable_status``/``invalid_logistic_type`` is what this uses.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.mercadolivre.emulator.state import MlState
from erpsync.connectors.mercadolivre.emulator.wire import error, ml_time, unauthorized

#: logistic types whose label ML issues (the NF-e must be in first)
LABELLED = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})
RESPONSE_TYPES = frozenset({"pdf", "zpl2"})


class LabelsMixin(MlState):
    """Mixed into MercadoLivreEmulator (which provides shipments, orders, auth)."""

    def label_routes(self) -> list[BaseRoute]:
        return [Route("/shipment_labels", self.shipment_labels, methods=["GET"])]

    def label_ready(self, external_id: str) -> bool:
        """Ready: an ME2 shipment at ready_to_ship whose NF-e is in (not invoice_pending)."""
        shipment = self._label_shipment(external_id)
        return shipment is not None and _refusal(shipment) is None

    def label_blocked(self, external_id: str) -> bool:
        """An ME2 shipment that waits for its NF-e before ML releases the label."""
        shipment = self._label_shipment(external_id)
        return shipment is not None and (shipment.get("status"), shipment.get("substatus")) == (
            "ready_to_ship",
            "invoice_pending",
        )

    def _label_shipment(self, external_id: str) -> dict[str, Any] | None:
        order = self.orders.get(int(external_id)) or {}
        shipment_id = (order.get("shipping") or {}).get("id")
        return None if shipment_id is None else self.shipments.get(int(shipment_id))

    async def shipment_labels(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        kind = request.query_params.get("response_type", "pdf")
        if kind not in RESPONSE_TYPES:
            return error(400, f"Invalid response_type: {kind}", "bad_request")
        raw = request.query_params.get("shipment_ids", "")
        ids = [part.strip() for part in raw.split(",") if part.strip()]
        if not ids or not all(part.isdigit() for part in ids):
            return error(400, "shipment_ids is required", "bad_request")
        with self.lock:
            found = []
            for part in ids:
                shipment = self.shipments.get(int(part))
                if shipment is None:
                    return error(404, f"Shipment {part} not found", "not_found")
                problem = _refusal(shipment)
                if problem is not None:
                    return error(400, f"Shipment {part}: {problem[1]}", problem[0])
                found.append(shipment)
            for shipment in found:
                if shipment.get("substatus") == "ready_to_print":
                    shipment["substatus"] = "printed"
                    shipment["last_updated"] = ml_time(self.clock())
        if kind == "pdf":
            return Response(_pdf(ids), media_type="application/pdf")
        return Response(_zipped(_zpl(ids)), media_type="application/zip")


def _refusal(shipment: dict[str, Any]) -> tuple[str, str] | None:
    logistic = (shipment.get("logistic") or {}).get("type")
    if logistic not in LABELLED:
        return "invalid_logistic_type", f"logistic type {logistic} has no Mercado Envios label"
    status, substatus = shipment.get("status"), shipment.get("substatus")
    if status != "ready_to_ship":
        return "not_printable_status", f"status {status} is not printable"
    if substatus == "invoice_pending":
        return "not_printable_status", "the invoice (NF-e) is pending"
    return None


def _pdf(ids: list[str]) -> bytes:
    """A small valid-looking PDF naming the shipments (one page each, one document)."""
    pages = "".join(f"% label for shipment {i}\n" for i in ids)
    return b"%PDF-1.4\n" + pages.encode() + b"%%EOF\n"


def _zpl(ids: list[str]) -> bytes:
    return "".join(f"^XA^FO50,50^A0N,40,40^FDShipment {i}^FS^XZ\n" for i in ids).encode()


def _zipped(zpl: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Etiqueta de envio.txt", zpl)
    return buffer.getvalue()
