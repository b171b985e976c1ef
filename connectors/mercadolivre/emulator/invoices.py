"""The emulator's NF-e import: POST/GET /shipments/{id}/invoice_data, with ML's preconditions.

ref: developers.mercadolivre.com.br/pt_br/importar-nota-fiscal (summarised in the shared API
notes §1.6). What it enforces, so a wrong client fails the tests:
- ``siteId=MLB`` and a raw XML body (``Content-Type: application/xml``);
- logistic types whose label the NF-e unlocks (drop_off, xd_drop_off, xd_same_day,
  cross_docking); Full and Flex are refused;
- the shipment in ``ready_to_ship``/``invoice_pending``;
- an authorised nfeProc: modelo 55, production (tpAmb 1), cStat 100/150 (``invalid_nfe_cstat``),
  a 44-digit key with a valid check digit that matches infNFe/@Id;
- vNF equal to what the buyer paid for the shipment's orders (``nfe_order_value_divergence``);
- the recipient's CPF/CNPJ equal to the buyer's billing document (``wrong_receiver_cpf``);
- one invoice per shipment (``shipment_invoice_already_saved``) and one shipment per key
  (``duplicated_fiscal_key``).
Accepted: the shipment moves to ``ready_to_print`` (the label is released). Error codes the
public page does not name are marked [U] where they are used.
It reads the XML with lxml itself: the emulator is a witness and imports nothing of the
connector or of erpsync's NF-e reader.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.mercadolivre.emulator.state import MlState
from erpsync.connectors.mercadolivre.emulator.wire import error, ml_time, unauthorized

NS = {"n": "http://www.portalfiscal.inf.br/nfe"}
INVOICE_GATED = frozenset({"drop_off", "xd_drop_off", "xd_same_day", "cross_docking"})


class InvoicesMixin(MlState):
    """Mixed into MercadoLivreEmulator (which provides orders, shipments, billing, auth)."""

    billing: dict[str, dict[str, Any]]

    def setup_invoices(self) -> None:
        #: shipment id -> the invoice ML keeps for it; fiscal key -> shipment id
        self.invoices: dict[int, dict[str, Any]] = {}
        self.fiscal_keys: dict[str, int] = {}

    def invoice_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/shipments/{shipment_id:int}/invoice_data",
                self.invoice_data,
                methods=["GET", "POST"],
            )
        ]

    def invoice_ready(self, external_id: str) -> bool:
        """Ready: an ME2 shipment at ready_to_ship/invoice_pending that carries only this
        order (a pack's NF-e covers all its orders)."""
        shipment_id = self._shipment_id(external_id)
        shipment = self.shipments.get(shipment_id or 0)
        if shipment is None or len(self.shipment_orders.get(shipment_id or 0, ())) != 1:
            return False
        logistic = (shipment.get("logistic") or {}).get("type")
        state = (shipment.get("status"), shipment.get("substatus"))
        return logistic in INVOICE_GATED and state == ("ready_to_ship", "invoice_pending")

    def invoice_key(self, external_id: str) -> str | None:
        saved = self.invoices.get(self._shipment_id(external_id) or 0)
        return None if saved is None else str(saved["fiscal_key"])

    def _shipment_id(self, external_id: str) -> int | None:
        order = self.orders.get(int(external_id)) or {}
        shipment_id = (order.get("shipping") or {}).get("id")
        return None if shipment_id is None else int(shipment_id)

    async def invoice_data(self, request: Request) -> Response:
        if self.caller(request) is None:
            return unauthorized()
        if request.query_params.get("siteId") != "MLB":
            return error(400, "siteId is required (MLB)", "invalid_site_id")  # [U]
        shipment_id = request.path_params["shipment_id"]
        with self.lock:
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                return error(404, "Shipment not found", "not_found")
            if request.method == "GET":
                saved = self.invoices.get(shipment_id)
                if saved is None:
                    return error(404, "Invoice not found", "not_found")
                return JSONResponse(dict(saved))
            body = await request.body()
            return self._import(shipment_id, shipment, request.headers, body)

    def _import(
        self, shipment_id: int, shipment: dict[str, Any], headers: Any, body: bytes
    ) -> Response:
        if "xml" not in headers.get("content-type", ""):
            return error(400, "Content-Type must be application/xml", "invalid_content_type")
        logistic = (shipment.get("logistic") or {}).get("type")
        if logistic not in INVOICE_GATED:
            return error(
                400, f"logistic type {logistic} does not take an NF-e", "invalid_logistic_type"
            )  # [U]
        nfe = _read(body)
        if isinstance(nfe, Response):
            return nfe
        saved = self.invoices.get(shipment_id)
        if saved is not None:
            return error(
                400, "The shipment already has an invoice", "shipment_invoice_already_saved"
            )
        if nfe["key"] in self.fiscal_keys:
            return error(400, "Fiscal key already used", "duplicated_fiscal_key")
        if (shipment.get("status"), shipment.get("substatus")) != (
            "ready_to_ship",
            "invoice_pending",
        ):
            status = f"{shipment.get('status')}/{shipment.get('substatus')}"
            return error(400, f"Shipment is {status}", "invalid_shipment_status")  # [U]
        orders = [self.orders[i] for i in self.shipment_orders.get(shipment_id, ())]
        paid = round(sum(float(o.get("paid_amount") or 0) for o in orders), 2)
        if abs(nfe["total"] - paid) > 0.005:
            return error(
                400,
                f"NF-e value {nfe['total']:.2f} differs from the order value {paid:.2f}",
                "nfe_order_value_divergence",
            )
        if nfe["recipient"] not in self._buyer_documents(orders):
            return error(400, "Receiver document differs from the buyer's", "wrong_receiver_cpf")
        invoice = {
            "id": 7000000 + len(self.invoices) + 1,
            "shipment_id": shipment_id,
            "fiscal_key": nfe["key"],
            "invoice_number": nfe["number"],
            "invoice_serie": nfe["series"],
            "invoice_amount": nfe["total"],
            "invoice_date": nfe["issued"],
            "status": "authorized",
        }
        self.invoices[shipment_id] = invoice
        self.fiscal_keys[nfe["key"]] = shipment_id
        shipment["substatus"] = "ready_to_print"
        shipment["last_updated"] = ml_time(self.clock())
        return JSONResponse(invoice, status_code=201)

    def _buyer_documents(self, orders: list[dict[str, Any]]) -> set[str]:
        found = set()
        for order in orders:
            billing_id = ((order.get("buyer") or {}).get("billing_info") or {}).get("id")
            info = (self.billing.get(str(billing_id)) or {}).get("buyer", {}).get("billing_info")
            number = ((info or {}).get("identification") or {}).get("number")
            if number:
                found.add("".join(ch for ch in str(number) if ch.isalnum()))
        return found


def _read(body: bytes) -> dict[str, Any] | Response:
    """The fields ML checks, or the error it answers."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return error(400, "The file is not an XML", "invalid_nfe")  # [U]
    if root.tag != "{http://www.portalfiscal.inf.br/nfe}nfeProc":
        return error(400, "An authorised nfeProc is required", "invalid_nfe")  # [U]

    def text(path: str) -> str:
        return str(root.findtext(path, default="", namespaces=NS)).strip()

    info_id = str(root.find("n:NFe/n:infNFe", NS).get("Id", ""))
    key = text("n:protNFe/n:infProt/n:chNFe")
    if text("n:NFe/n:infNFe/n:ide/n:mod") != "55":
        return error(400, "Only NF-e modelo 55", "invalid_nfe_model")  # [U]
    if text("n:NFe/n:infNFe/n:ide/n:tpAmb") != "1":
        return error(400, "NF-e from the homologation environment", "invalid_nfe_environment")
    if text("n:protNFe/n:infProt/n:cStat") not in {"100", "150"}:
        return error(400, "The NF-e is not authorised", "invalid_nfe_cstat")
    if not (len(key) == 44 and key.isdigit() and info_id == f"NFe{key}" and _dv_ok(key)):
        return error(400, "Invalid fiscal key", "invalid_fiscal_key")  # [U]
    recipient = text("n:NFe/n:infNFe/n:dest/n:CPF") or text("n:NFe/n:infNFe/n:dest/n:CNPJ")
    return {
        "key": key,
        "number": int(text("n:NFe/n:infNFe/n:ide/n:nNF") or 0),
        "series": text("n:NFe/n:infNFe/n:ide/n:serie"),
        "issued": text("n:NFe/n:infNFe/n:ide/n:dhEmi"),
        "total": float(text("n:NFe/n:infNFe/n:total/n:ICMSTot/n:vNF") or 0),
        "recipient": recipient,
    }


def _dv_ok(key: str) -> bool:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(key[:43])))
    remainder = total % 11
    return key[43] == ("0" if remainder < 2 else str(11 - remainder))
