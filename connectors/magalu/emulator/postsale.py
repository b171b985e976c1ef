"""The emulator's post-sale endpoints: the NF-e per delivery and Magalu Entregas labels.

ref: developers.magalu.com (Open API, orders: "deliveries/{id}/invoices"; logistics:
"shipping-labels"), summarised in the shared API notes §3.6. Every push is per delivery:
- ``POST /seller/v1/deliveries/{id}/invoices`` ``{key, issued_at, xml, channel}``: the
  delivery must be ``approved``; the key is 44 digits with a valid mod-11 check digit and is
  the XML's own (chNFe); the XML is an authorised nfeProc. Answer ``201 {key, issued_at,
  status: "awaiting_validation"}`` and the delivery becomes ``invoiced``. Not in the public
  pages [U], chosen here: the same key sent again is a 409 (a replay), another key on an
  invoiced delivery a 422, and for a one-delivery order vNF must equal the order's total
  (422).
- ``POST /seller/v1/logistics/shipping-labels`` ``{deliveries:[{id}], label:{format, type},
  channel}``: only Magalu Entregas deliveries, not Magalu's fulfillment, once invoiced (the
  label carries the NF-e) [U: the invoice precondition is what integrators report];
  answers ``{label: {signed_url, expires_on}}``. The signed URL serves the PDF/ZPL without
  the bearer token until it expires (15 minutes here [U]).
It reads the XML with lxml itself and imports nothing of the connector.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.magalu.emulator import wire
from erpsync.emulation import Emulator

NS = {"n": "http://www.portalfiscal.inf.br/nfe"}
LABEL_TTL = timedelta(minutes=15)
FORMATS = frozenset({"pdf", "zpl"})
SIGNED_PATH = "/signed/shipping-labels"


class PostSaleMixin(Emulator):
    """Mixed into MagaluEmulator (which provides orders, auth and the `_api` wrapper)."""

    orders: dict[str, dict[str, Any]]
    _state: threading.RLock
    label_downloads: list[dict[str, str]]

    def _api(self, handler: Any) -> Any:  # pragma: no cover - the emulator's
        raise NotImplementedError

    def postsale_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/seller/v1/deliveries/{delivery_id}/invoices",
                self._api(self._invoice),
                methods=["POST"],
            ),
            Route(
                "/seller/v1/logistics/shipping-labels",
                self._api(self._shipping_labels),
                methods=["POST"],
            ),
            Route(SIGNED_PATH + "/{token}", self._signed_label, methods=["GET"]),
        ]

    # -- the contract-suite API ----------------------------------------------------------------

    def invoice_ready(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return delivery is not None and delivery["status"] == "approved"

    def invoice_key(self, external_id: str) -> str | None:
        delivery = self._only_delivery(external_id)
        invoice = (delivery or {}).get("invoice")
        return None if invoice is None else str(invoice["key"])

    def label_ready(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return delivery is not None and _label_refusal(delivery) is None

    def label_blocked(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return (
            delivery is not None and delivery["status"] == "approved" and not _fulfillment(delivery)
        )

    def _only_delivery(self, external_id: str) -> dict[str, Any] | None:
        order = self.orders.get(external_id)
        if order is None or len(order["deliveries"]) != 1:
            return None
        delivery: dict[str, Any] = order["deliveries"][0]
        return None if _fulfillment(delivery) else delivery

    def _delivery(self, delivery_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for order in self.orders.values():
            for delivery in order["deliveries"]:
                if delivery["id"] == delivery_id:
                    return order, delivery
        raise wire.ApiError(404)

    # -- invoices ------------------------------------------------------------------------------

    async def _invoice(self, request: Request) -> Response:
        body = await wire.json_body(request)
        key, xml = str(body.get("key") or ""), body.get("xml")
        problems = []
        if not (len(key) == 44 and key.isdigit() and _dv_ok(key)):
            problems.append(wire.detail("key", "body", "must be a valid 44-digit NF-e key"))
        if not isinstance(xml, str) or not xml.strip():
            problems.append(wire.detail("xml", "body", "is required"))
        if not body.get("issued_at"):
            problems.append(wire.detail("issued_at", "body", "is required"))
        if problems:
            raise wire.ApiError(400, problems)
        nfe = _read(str(xml))
        if nfe is None or nfe["key"] != key:
            raise wire.ApiError(422, [wire.detail("xml", "body", "not the authorised NF-e of key")])
        with self._state:
            order, delivery = self._delivery(request.path_params["delivery_id"])
            held = delivery.get("invoice")
            if held is not None:
                if held["key"] == key:
                    raise wire.ApiError(
                        409, [wire.detail("key", "body", "invoice already registered")]
                    )
                raise wire.ApiError(422, [wire.detail("key", "body", "delivery already invoiced")])
            if delivery["status"] != "approved":
                message = f"delivery is {delivery['status']}: only approved deliveries take an NF-e"
                raise wire.ApiError(422, [wire.detail("delivery_id", "path", message)])
            if len(order["deliveries"]) == 1:
                total = _money(order["amounts"])
                if nfe["total"] != total:
                    message = f"NF-e total {nfe['total']} differs from the order total {total}"
                    raise wire.ApiError(422, [wire.detail("xml", "body", message)])
            invoice = {
                "key": key,
                "issued_at": body["issued_at"],
                "status": "awaiting_validation",
            }
            delivery["invoice"] = invoice
            delivery["status"] = "invoiced"
            order["updated_at"] = wire.iso(self.clock())
        return JSONResponse(invoice, status_code=201)

    # -- labels --------------------------------------------------------------------------------

    async def _shipping_labels(self, request: Request) -> Response:
        body = await wire.json_body(request)
        deliveries = body.get("deliveries")
        label = body.get("label") or {}
        if not isinstance(deliveries, list) or not deliveries:
            raise wire.ApiError(400, [wire.detail("deliveries", "body", "is required")])
        if label.get("format") not in FORMATS:
            raise wire.ApiError(400, [wire.detail("label.format", "body", "pdf or zpl")])
        ids = [str((d or {}).get("id") or "") for d in deliveries]
        with self._state:
            for delivery_id in ids:
                _, delivery = self._delivery(delivery_id)
                problem = _label_refusal(delivery)
                if problem is not None:
                    raise wire.ApiError(422, [wire.detail("deliveries", "body", problem)])
        expires = self.clock() + LABEL_TTL
        token = self._sign(",".join(ids), label["format"], expires)
        url = f"https://labels.magalu.test{SIGNED_PATH}/{token}"
        return JSONResponse({"label": {"signed_url": url, "expires_on": wire.iso(expires)}})

    async def _signed_label(self, request: Request) -> Response:
        self._record_plain(request)
        found = self._unsign(request.path_params["token"])
        if found is None:
            return Response("<Error><Code>AccessDenied</Code></Error>", status_code=403)
        ids, fmt, expires = found
        if self.clock() > expires:
            return Response("<Error><Code>ExpiredToken</Code></Error>", status_code=403)
        if fmt == "pdf":
            content = b"%PDF-1.4\n" + b"".join(b"% label " + i.encode() + b"\n" for i in ids)
            return Response(content + b"%%EOF\n", media_type="application/pdf")
        zpl = "".join(f"^XA^FDMagalu Entregas {i}^FS^XZ\n" for i in ids)
        return Response(zpl.encode(), media_type="text/plain")

    def _record_plain(self, request: Request) -> None:
        """The signed URL is fetched without the API's bearer token (it is another host)."""
        self.label_downloads.append(dict(request.headers))

    def _sign(self, ids: str, fmt: str, expires: datetime) -> str:
        payload = f"{ids}|{fmt}|{int(expires.timestamp())}"
        mac = hmac.new(self.token_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        return f"{payload.encode().hex()}.{mac[:32]}"

    def _unsign(self, token: str) -> tuple[list[str], str, datetime] | None:
        raw, _, mac = token.partition(".")
        try:
            payload = bytes.fromhex(raw).decode()
        except ValueError:
            return None
        good = hmac.new(self.token_secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(good[:32], mac):
            return None
        ids, fmt, stamp = payload.split("|")
        return ids.split(","), fmt, datetime.fromtimestamp(int(stamp), tz=self.clock().tzinfo)


def _fulfillment(delivery: dict[str, Any]) -> bool:
    network = (delivery.get("shipping") or {}).get("logistic_network") or {}
    return network.get("id") == "fulfillment"


def _label_refusal(delivery: dict[str, Any]) -> str | None:
    if _fulfillment(delivery):
        return "fulfillment deliveries are shipped by Magalu"
    provider = ((delivery.get("shipping") or {}).get("provider") or {}).get("id")
    if provider != "magalu_entregas":
        return f"delivery ships with {provider}, not Magalu Entregas: no label"
    if delivery["status"] != "invoiced":
        return f"delivery is {delivery['status']}: the label needs its invoice first"
    return None


def _money(node: dict[str, Any]) -> Decimal:
    return (Decimal(int(node["total"])) / Decimal(int(node.get("normalizer") or 100))).quantize(
        Decimal("0.01")
    )


def _read(xml: str) -> dict[str, Any] | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml.encode(), parser)
    except etree.XMLSyntaxError:
        return None
    if root.tag != "{http://www.portalfiscal.inf.br/nfe}nfeProc":
        return None
    if root.findtext("n:protNFe/n:infProt/n:cStat", namespaces=NS) not in {"100", "150"}:
        return None
    total = root.findtext("n:NFe/n:infNFe/n:total/n:ICMSTot/n:vNF", namespaces=NS) or "0"
    return {
        "key": (root.findtext("n:protNFe/n:infProt/n:chNFe", namespaces=NS) or "").strip(),
        "total": Decimal(total).quantize(Decimal("0.01")),
    }


def _dv_ok(key: str) -> bool:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(key[:43])))
    remainder = total % 11
    return key[43] == ("0" if remainder < 2 else str(11 - remainder))
