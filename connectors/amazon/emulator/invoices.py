"""The emulator's NF-e submission for Brazil: the Delivery by Amazon API (2022-07-01).

ref: developer-docs.amazon.com/sp-api/docs/delivery-by-amazon-api, "Submit an invoice for
Delivery by Amazon and Self Ship orders" and "Check the invoice submission status" (Restricted:
BR only, Tax Invoicing role). ``POST /delivery/2022-07-01/invoice?orderId=`` with
``{invoiceContent (base64 of the authorised XML), marketplaceId, contentMD5Value, invoiceType:
"Outbound", programType: EasyShip | SelfShip}``; then ``GET /delivery/2022-07-01/invoice/status
?orderId=&marketplaceId=&invoiceType=&programType=`` answers ``invoiceStatus`` Processing,
Accepted, Errored or NotFound. What it enforces: the Brazil marketplace, the MD5 of the
decoded content, an nfeProc whose key is valid, a merchant-fulfilled order (FBA is invoiced by
Amazon) that is Unshipped or PartiallyShipped. Processing turns Accepted, or Errored when vNF
differs from the OrderTotal, on the next status read (or ``settle``). Not in the public pages
[U]: the status answer's exact shape (``{"invoiceStatus", "errorDetails"}`` here) and that the
same key submitted again is taken without error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from decimal import Decimal
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.emulator.wire import invalid_input
from erpsync.emulation import Emulator

NS = {"n": "http://www.portalfiscal.inf.br/nfe"}
BRAZIL = "A2Q3Y263D00KWC"
PROGRAMS = frozenset({"EasyShip", "SelfShip"})
INVOICEABLE = frozenset({"Unshipped", "PartiallyShipped"})


class InvoicesMixin(Emulator):
    """Mixed into AmazonEmulator (which provides orders, auth and the `_api` wrapper)."""

    orders: dict[str, Any]

    def _api(self, operation: str, handler: Any) -> Any:  # pragma: no cover - the emulator's
        raise NotImplementedError

    def setup_invoices(self) -> None:
        #: order id -> {key, total, status, errors}
        self.invoices: dict[str, dict[str, Any]] = {}

    def invoice_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/delivery/2022-07-01/invoice",
                self._api("submitInvoice", self._submit_invoice),
                methods=["POST"],
            ),
            Route(
                "/delivery/2022-07-01/invoice/status",
                self._api("getInvoiceStatus", self._invoice_status),
            ),
        ]

    def invoice_ready(self, external_id: str) -> bool:
        found = self.orders.get(external_id)
        order = found.order if found is not None else {}
        return order.get("FulfillmentChannel") == "MFN" and order.get("OrderStatus") in INVOICEABLE

    def invoice_key(self, external_id: str) -> str | None:
        held = self.invoices.get(external_id)
        return None if held is None or held["status"] != "Accepted" else str(held["key"])

    def settle_invoices(self) -> None:
        for order_id, held in self.invoices.items():
            self._decide(order_id, held)

    async def _submit_invoice(self, request: Request, granted: Any) -> Response:
        order_id = request.query_params.get("orderId")
        if not order_id:
            return invalid_input("orderId is required")
        try:
            body = await request.json()
        except ValueError:
            return invalid_input("The request body is not JSON")
        if body.get("marketplaceId") != BRAZIL:
            return invalid_input("marketplaceId must be the Brazil marketplace")
        if body.get("invoiceType") != "Outbound" or body.get("programType") not in PROGRAMS:
            return invalid_input("invoiceType must be Outbound, programType EasyShip or SelfShip")
        try:
            content = base64.b64decode(str(body.get("invoiceContent") or ""), validate=True)
        except (binascii.Error, ValueError):
            return invalid_input("invoiceContent is not base64")
        digest = base64.b64encode(hashlib.md5(content).digest()).decode()  # noqa: S324 - the API's
        if body.get("contentMD5Value") != digest:
            return invalid_input("contentMD5Value does not match the invoice content")
        nfe = _read(content)
        if nfe is None:
            return invalid_input("invoiceContent is not an authorised NF-e (nfeProc)")
        found = self.orders.get(order_id)
        if found is None:
            return invalid_input(f"Order {order_id} not found")
        order = found.order
        if order.get("FulfillmentChannel") != "MFN":
            return invalid_input("FBA orders are invoiced by Amazon")
        held = self.invoices.get(order_id)
        if held is not None and held["key"] != nfe["key"] and held["status"] != "Errored":
            return invalid_input("An invoice was already submitted for this order")
        if held is None or held["key"] != nfe["key"] or held["status"] == "Errored":
            if order.get("OrderStatus") not in INVOICEABLE:
                return invalid_input(f"Order is {order.get('OrderStatus')}: no invoice taken")
            total = Decimal(str((order.get("OrderTotal") or {}).get("Amount") or "0"))
            self.invoices[order_id] = {
                "key": nfe["key"],
                "vnf": nfe["total"],
                "total": total.quantize(Decimal("0.01")),
                "status": "Processing",
                "errors": [],
            }
        return JSONResponse({})

    async def _invoice_status(self, request: Request, granted: Any) -> Response:
        params = request.query_params
        if not params.get("orderId") or params.get("marketplaceId") != BRAZIL:
            return invalid_input("orderId and the Brazil marketplaceId are required")
        held = self.invoices.get(str(params["orderId"]))
        if held is None:
            return JSONResponse({"invoiceStatus": "NotFound"})
        self._decide(str(params["orderId"]), held)  # processed by the time it is read again
        status = held["status"]
        body: dict[str, Any] = {"invoiceStatus": status}
        if status == "Errored":
            body["errorDetails"] = held["errors"]
        return JSONResponse(body)

    def _decide(self, order_id: str, held: dict[str, Any]) -> None:
        if held["status"] != "Processing":
            return
        if held["vnf"] != held["total"]:
            held["status"] = "Errored"
            held["errors"] = [f"vNF {held['vnf']} differs from the order total {held['total']}"]
        else:
            held["status"] = "Accepted"


def _read(content: bytes) -> dict[str, Any] | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    if root.tag != "{http://www.portalfiscal.inf.br/nfe}nfeProc":
        return None
    if root.findtext("n:protNFe/n:infProt/n:cStat", namespaces=NS) not in {"100", "150"}:
        return None
    key = (root.findtext("n:protNFe/n:infProt/n:chNFe", namespaces=NS) or "").strip()
    if not (len(key) == 44 and key.isdigit() and _dv_ok(key)):
        return None
    total = root.findtext("n:NFe/n:infNFe/n:total/n:ICMSTot/n:vNF", namespaces=NS) or "0"
    return {"key": key, "total": Decimal(total).quantize(Decimal("0.01"))}


def _dv_ok(key: str) -> bool:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(key[:43])))
    remainder = total % 11
    return key[43] == ("0" if remainder < 2 else str(11 - remainder))
