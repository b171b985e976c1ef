"""The emulator's post-sale endpoints: the NF-e per delivery (and its validation), the
shipping of the seller's own deliveries, Magalu Entregas labels.

ref: developers.magalu.com (Open API, orders: "deliveries/{id}/invoices"; logistics:
"shipping-labels"), summarised in the shared API notes §3.6. Every push is per delivery:
- ``POST /seller/v1/deliveries/{id}/invoices`` ``{key, issued_at, xml, channel}``: the
  delivery must be ``approved``; the key is 44 digits with a valid mod-11 check digit and is
  the XML's own (chNFe); the XML is an authorised nfeProc. Answer ``201 {key, issued_at,
  status: "awaiting_validation"}`` and the delivery becomes ``invoiced``. Not in the public
  pages [U], chosen here: the same key sent again is a 409 (a replay), another key on an
  invoiced delivery a 422, and for a one-delivery order vNF must equal the order's total
  (422).
- ``GET /seller/v1/deliveries/{id}/invoices``: the delivery's NF-e, ``status`` validating
  (ours: awaiting_validation), approved or invalid; an NF-e is validated by the time it is read
  again (or ``settle``): invalid when its recipient is not the delivery's [U], and the delivery
  then takes another NF-e. ``GET /seller/v1/deliveries/{id}``: the delivery.
- ``POST /seller/v1/deliveries/{id}/shippings``: see ``_ship``.
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
import uuid
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
    channel_id: str
    _state: threading.RLock
    label_downloads: list[dict[str, str]]

    def _api(self, handler: Any) -> Any:  # pragma: no cover - the emulator's
        raise NotImplementedError

    def postsale_routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/seller/v1/deliveries/{delivery_id}/invoices",
                self._api(self._invoices),
                methods=["GET", "POST"],
            ),
            Route(
                "/seller/v1/deliveries/{delivery_id}",
                self._api(self._get_delivery),
                methods=["GET"],
            ),
            Route(
                "/seller/v1/deliveries/{delivery_id}/shippings",
                self._api(self._ship),
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
        return None if invoice is None or invoice["status"] == "invalid" else str(invoice["key"])

    def settle_invoices(self) -> None:
        """Validate every NF-e still awaiting validation (approved, or invalid)."""
        with self._state:
            for order in self.orders.values():
                for delivery in order["deliveries"]:
                    self._validate(delivery)

    def tracking_ready(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return (
            delivery is not None
            and _provider(delivery) != "magalu_entregas"
            and delivery["status"] == "invoiced"
        )

    def tracking_code(self, external_id: str) -> str | None:
        delivery = self._only_delivery(external_id)
        shipping = (delivery or {}).get("shipped")
        return None if shipping is None else str(shipping["protocol"])

    def label_ready(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return delivery is not None and _label_refusal(delivery) is None

    def label_blocked(self, external_id: str) -> bool:
        delivery = self._only_delivery(external_id)
        return (
            delivery is not None
            and delivery["status"] == "approved"
            and not _fulfillment(delivery)
            and _provider(delivery) == "magalu_entregas"
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

    async def _invoices(self, request: Request) -> Response:
        if request.method == "GET":
            return self._list_invoices(request)
        return await self._invoice(request)

    def _list_invoices(self, request: Request) -> Response:
        """ref: developers.magalu.com/docs/plataforma-do-seller-pedidos/get_invoice.en/ (the
        list envelope, each NF-e with key, issued_at, xml, status approved|validating|invalid).
        Magalu has validated an NF-e by the time it is read again."""
        with self._state:
            _, delivery = self._delivery(request.path_params["delivery_id"])
            self._validate(delivery)
            held = [dict(i) for i in delivery.get("invoices", [])]
        results = [
            {
                "key": i["key"],
                "issued_at": i["issued_at"],
                "xml": i["xml"],
                "status": "validating" if i["status"] == "awaiting_validation" else i["status"],
            }
            for i in held
        ]
        meta = {
            "page": {"limit": 20, "offset": 0, "max_limit": 100},
            "links": {"previous": None, "next": None, "self": "?_offset=0&_limit=20"},
        }
        return JSONResponse({"meta": meta, "results": results})

    def _validate(self, delivery: dict[str, Any]) -> None:
        """awaiting_validation -> approved, or invalid when the NF-e's recipient is not the
        delivery's (our rule [U]: the pages do not say what Magalu checks)."""
        invoice = delivery.get("invoice")
        if invoice is None or invoice["status"] != "awaiting_validation":
            return
        recipient = ((delivery.get("shipping") or {}).get("recipient") or {}).get("document_number")
        if recipient and invoice.get("recipient") and invoice["recipient"] != recipient:
            invoice["status"] = "invalid"
            delivery["status"] = "approved"  # it takes another NF-e
        else:
            invoice["status"] = "approved"

    async def _get_delivery(self, request: Request) -> Response:
        """ref: developers.magalu.com/docs/plataforma-do-seller-pedidos/get_delivery.en/"""
        with self._state:
            _, delivery = self._delivery(request.path_params["delivery_id"])
            public = {k: v for k, v in delivery.items() if k not in ("invoice", "invoices")}
        return JSONResponse(public)

    async def _ship(self, request: Request) -> Response:
        """ref: developers.magalu.com/docs/seller-pedidos/ship_delivery.en/: ``{channel,
        tracking_url, protocol, labels, dates: {shipped_at, estimated_delivery_at}, carrier:
        {name}}`` -> 201 ``{id, created_at}``. Refused here: a Magalu Entregas or fulfillment
        delivery (Magalu ships those), a delivery not invoiced (new/approved: the NF-e first;
        shipped, delivered, cancelled, frozen: no more shipping) [U: the docs list 400/404
        without the rules], a body without protocol or carrier name, or with an unreadable
        date or an URL that is not http(s)."""
        body = await wire.json_body(request)
        problems = []
        if not str(body.get("protocol") or "").strip():
            problems.append(wire.detail("protocol", "body", "is required"))
        if not str((body.get("carrier") or {}).get("name") or "").strip():
            problems.append(wire.detail("carrier.name", "body", "is required"))
        channel = (body.get("channel") or {}).get("id")
        if channel is not None and channel != self.channel_id:
            problems.append(wire.detail("channel.id", "body", f"unknown channel {channel}"))
        url = body.get("tracking_url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            problems.append(wire.detail("tracking_url", "body", "must be an http(s) URL"))
        for name, value in (body.get("dates") or {}).items():
            try:
                wire.parse_time(f"dates.{name}", str(value))
            except wire.ApiError:
                problems.append(wire.detail(f"dates.{name}", "body", "must be ISO 8601"))
        if problems:
            raise wire.ApiError(400, problems)
        with self._state:
            order, delivery = self._delivery(request.path_params["delivery_id"])
            if _fulfillment(delivery) or _provider(delivery) == "magalu_entregas":
                message = "delivery ships with Magalu: its carrier sends the tracking"
                raise wire.ApiError(422, [wire.detail("delivery_id", "path", message)])
            if delivery["status"] != "invoiced":
                message = f"delivery is {delivery['status']}: only invoiced deliveries ship"
                raise wire.ApiError(422, [wire.detail("delivery_id", "path", message)])
            shipping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"shipping:{delivery['id']}"))
            delivery["shipped"] = {"id": shipping_id, **body}
            delivery["status"] = "shipped"
            order["updated_at"] = wire.iso(self.clock())
        return JSONResponse(
            {"id": shipping_id, "created_at": wire.iso(self.clock())}, status_code=201
        )

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
            if held is not None and held["status"] == "invalid" and held["key"] != key:
                held = None  # Magalu refused it: the delivery takes another NF-e
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
            delivery["invoice"] = {**invoice, "xml": xml, "recipient": nfe["recipient"]}
            delivery.setdefault("invoices", []).append(delivery["invoice"])
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


def _provider(delivery: dict[str, Any]) -> str | None:
    provider = ((delivery.get("shipping") or {}).get("provider") or {}).get("id")
    return None if provider is None else str(provider)


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
    dest = root.find("n:NFe/n:infNFe/n:dest", namespaces=NS)
    recipient = None
    if dest is not None:
        recipient = dest.findtext("n:CPF", namespaces=NS) or dest.findtext("n:CNPJ", namespaces=NS)
    return {
        "key": (root.findtext("n:protNFe/n:infProt/n:chNFe", namespaces=NS) or "").strip(),
        "total": Decimal(total).quantize(Decimal("0.01")),
        "recipient": recipient,
    }


def _dv_ok(key: str) -> bool:
    total = sum(int(d) * (2 + i % 8) for i, d in enumerate(reversed(key[:43])))
    remainder = total % 11
    return key[43] == ("0" if remainder < 2 else str(11 - remainder))
