"""AnymarketEmulator: ANYMARKET API v2 in-process, awkward parts included.

- every call needs the `gumgaToken` header (or the `?gumgaToken=` some clients send); a wrong
  or revoked token is a 401;
- orders come through the feed: `GET /v2/orders/feeds` lists the orders that changed since
  their last acknowledgement (at most FEED_PAGE at a time), each with a token for that change;
  `PUT /v2/orders/feeds/{id} {"token"}` acknowledges it. Unacknowledged entries come back on
  every read; an order that changes after its acknowledgement (the marketplace paid or
  cancelled it, the ERP invoiced it) comes back with a new token; an acknowledgement with
  the token of an older change is refused and the entry stays (the newer change is unread);
- `PUT /v2/orders/{id}` moves the status only along the documented lifecycle (PENDING →
  PAID_WAITING_SHIP → INVOICED → PAID_WAITING_DELIVERY → CONCLUDED, CANCELED from any but
  itself), INVOICED needs the invoice's access key and PAID_WAITING_DELIVERY a tracking number;
  `PUT /v2/orders/{id}/nfe` takes the XML of the invoice the order holds;
  `PUT /v2/orders/partnerid/{id}` records the ERP's id;
- `PUT /v2/stocks` takes an array by `partnerId` or SKU `id` (and `stockLocalId`); one element
  it cannot place refuses the whole batch (422);
- lists (`/v2/products`) are Spring HATEOAS pages: `links` rel=next, `content`, `page`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.anymarket.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator

#: the integration token config.example.yaml ships with (valid until expire_access_tokens)
SANDBOX_TOKEN = "sandbox-gumga-token"  # noqa: S105 - the emulator's fake token
#: the account's stock locals (`GET /v2/stocks/locals`); the first is the default
STOCK_LOCALS = ({"id": 45479, "name": "Depósito principal"}, {"id": 45480, "name": "Loja"})
DEFAULT_LOCAL = 45479

Handler = Callable[[Request], Awaitable[Response]]


class AnymarketEmulator(Emulator):
    """One ANYMARKET account with a small catalogue and marketplace orders."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 12,
    ) -> None:
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        self.token_valid = True
        self.orders: dict[int, dict[str, Any]] = {}
        #: order id -> the token of its newest unacknowledged change
        self.feed: dict[int, str] = {}
        self.acknowledged: list[tuple[int, str]] = []
        #: (SKU id, stock local id) -> quantity
        self.stock: dict[tuple[int, int], int] = {}
        self.nfe: dict[int, bytes] = {}
        #: the account's SKUs (seed.skus() shapes); add_sku grows it
        self.catalogue: list[dict[str, Any]] = seed.skus()
        self._state = threading.RLock()

    def routes(self) -> Sequence[BaseRoute]:
        api: list[tuple[str, Handler, list[str]]] = [
            ("/v2/orders/feeds", self._feed, ["GET"]),
            ("/v2/orders/feeds/{order_id:int}", self._ack, ["PUT"]),
            ("/v2/orders/partnerid/{order_id:int}", self._partner_id, ["PUT"]),
            ("/v2/orders/{order_id:int}", self._order, ["GET"]),
            ("/v2/orders/{order_id:int}", self._update_order, ["PUT"]),
            ("/v2/orders/{order_id:int}/nfe", self._put_nfe, ["PUT"]),
            ("/v2/products", self._products, ["GET"]),
            ("/v2/stocks", self._put_stocks, ["PUT"]),
            ("/v2/stocks/locals", self._locals, ["GET"]),
        ]
        return [Route(path, self._api(h), methods=m) for path, h, m in api]

    # -- the contract-suite API ------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {"token": SANDBOX_TOKEN}

    def options(self) -> dict[str, Any]:
        return {"page_size": 2}  # small pages, so listings cross page boundaries

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        ids: list[str] = []
        with self._state:
            for _ in range(count):
                index = len(self.orders)
                moment = start + step * (len(ids)) + step * self.random.random()
                order_id = 50_000 + index
                order = seed.build_order(
                    self.random,
                    order_id,
                    moment.replace(microsecond=0),
                    index=index,
                    catalogue=self.catalogue,
                )
                self.orders[order_id] = order
                self._changed(order_id)
                ids.append(str(order_id))
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        with self._state:
            self.orders[int(external_id)].update(changes)
            self._changed(int(external_id))

    def cancel_order(self, external_id: str) -> None:
        self.update_order(
            external_id, status="CANCELED", marketPlaceStatus="cancelled",
            cancelDate=wire.iso(self.clock()),
        )  # fmt: skip

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        with self._state:
            return [(str(s["id"]), None, s["partnerId"]) for s in self.catalogue if s["partnerId"]]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        with self._state:
            return self.stock.get((int(item_id), DEFAULT_LOCAL))

    def stock_at(self, item_id: str, local_id: int) -> int | None:
        with self._state:
            return self.stock.get((int(item_id), local_id))

    def expire_access_tokens(self) -> None:
        """A new integration token generated in the panel: the old one stops working."""
        self.token_valid = False

    def invoice_ready(self, external_id: str) -> bool:
        order = self.orders.get(int(external_id)) or {}
        return order.get("status") == "PAID_WAITING_SHIP" and not order.get("fulfillment")

    def invoice_key(self, external_id: str) -> str | None:
        invoice = (self.orders.get(int(external_id)) or {}).get("invoice") or {}
        return invoice.get("accessKey")

    def tracking_ready(self, external_id: str) -> bool:
        """The hub takes tracking once the order is invoiced (its lifecycle's next step)."""
        order = self.orders.get(int(external_id)) or {}
        return order.get("status") == "INVOICED" and not order.get("fulfillment")

    def tracking_code(self, external_id: str) -> str | None:
        order = self.orders.get(int(external_id)) or {}
        if order.get("status") not in ("PAID_WAITING_DELIVERY", "CONCLUDED"):
            return None
        return (order.get("tracking") or {}).get("number")

    # -- emulator controls -----------------------------------------------------------------------

    def add_sku(self, sku_id: int, partner_id: str | None, *, product_id: int) -> None:
        """One more SKU (its own product unless ``product_id`` is shared)."""
        with self._state:
            self.catalogue.append(
                {
                    "id": sku_id, "title": partner_id or str(sku_id), "partnerId": partner_id,
                    "price": 10.0, "productId": product_id, "productTitle": f"Produto {product_id}",
                }
            )  # fmt: skip

    def feed_entries(self) -> dict[int, str]:
        with self._state:
            return dict(self.feed)

    def fault_response(self, status: int) -> Response:
        return wire.error(status, "Erro interno" if status >= 500 else "Erro")

    def rate_limit_response(self, retry_after: float | None) -> Response:
        response = wire.error(429, "Too Many Requests")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def _changed(self, order_id: int) -> None:
        """A change the ERP must read: a new feed token (replacing an unread one)."""
        self.feed[order_id] = secrets.token_hex(8)

    # -- plumbing --------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            token = request.headers.get("gumgatoken") or request.query_params.get("gumgaToken")
            if not token:
                return wire.error(401, "gumgaToken não informado", "UNAUTHORIZED")
            if token != SANDBOX_TOKEN or not self.token_valid:
                return wire.error(401, "Token inválido", "UNAUTHORIZED")
            return await handler(request)

        return endpoint

    @staticmethod
    async def _json(request: Request) -> tuple[Any, Response | None]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return None, wire.error(415, "Content-Type must be application/json")
        try:
            return json.loads(await request.body()), None
        except ValueError:
            return None, wire.error(400, "JSON inválido")

    # -- orders ----------------------------------------------------------------------------------

    async def _feed(self, request: Request) -> Response:
        with self._state:
            entries = list(self.feed.items())[: wire.FEED_PAGE]
        return JSONResponse([{"id": order_id, "token": token} for order_id, token in entries])

    async def _ack(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        order_id = request.path_params["order_id"]
        token = body.get("token") if isinstance(body, dict) else None
        with self._state:
            current = self.feed.get(order_id)
            if current is None:
                return wire.error(404, f"Feed do pedido {order_id} não encontrado")
            if token != current:
                return wire.error(400, "Token do feed não corresponde à última alteração")
            del self.feed[order_id]
            self.acknowledged.append((order_id, token))
        return Response(status_code=200)

    async def _order(self, request: Request) -> Response:
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
            copy = json.loads(json.dumps(order)) if order is not None else None
        if copy is None:
            return wire.error(404, "Pedido não encontrado")
        return JSONResponse(copy)

    async def _partner_id(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        partner = body.get("partnerId") if isinstance(body, dict) else None
        if not isinstance(partner, str) or not partner.strip():
            return wire.error(422, "partnerId é obrigatório")
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
            if order is None:
                return wire.error(404, "Pedido não encontrado")
            # the ERP's own id: not a change of the sale, so no feed entry
            order["partnerId"] = partner
        return Response(status_code=200)

    async def _update_order(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        if not isinstance(body, dict):
            return wire.error(400, "Corpo inválido")
        with self._state:
            order_id = request.path_params["order_id"]
            order = self.orders.get(order_id)
            if order is None:
                return wire.error(404, "Pedido não encontrado")
            status = body.get("status", order["status"])
            refusal = _transition_refusal(order, status, body)
            if refusal is not None:
                return wire.error(422, refusal)
            if status != order["status"] or body.get("invoice") or body.get("tracking"):
                order["status"] = status
                if isinstance(body.get("invoice"), dict):
                    order["invoice"] = dict(body["invoice"])
                if isinstance(body.get("tracking"), dict):
                    order["tracking"] = dict(body["tracking"])
                if status == "CANCELED":
                    order["cancelDate"] = wire.iso(self.clock())
                self._changed(order_id)
            answer = json.loads(json.dumps(order))
        return JSONResponse(answer)

    async def _put_nfe(self, request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/xml":
            return wire.error(415, "Content-Type must be application/xml")
        xml = await request.body()
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
            if order is None:
                return wire.error(404, "Pedido não encontrado")
            key = (order.get("invoice") or {}).get("accessKey")
            if not key:
                return wire.error(422, "O pedido não possui nota fiscal informada")
            if key.encode() not in xml:
                return wire.error(422, "O XML não corresponde à chave da nota do pedido")
            self.nfe[order["id"]] = xml
        return Response(status_code=200)

    # -- products and stock ----------------------------------------------------------------------

    async def _products(self, request: Request) -> Response:
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            return wire.error(400, "offset e limit devem ser números")
        if offset < 0 or not 1 <= limit <= wire.MAX_LIMIT:
            return wire.error(400, f"limit deve estar entre 1 e {wire.MAX_LIMIT}")
        with self._state:
            amounts = {sku: q for (sku, local), q in self.stock.items() if local == DEFAULT_LOCAL}
            rows = seed.products(self.catalogue, amounts)
        base = str(request.url.replace(query=""))
        return JSONResponse(
            wire.page(
                rows[offset : offset + limit], base=base, offset=offset, limit=limit,
                total=len(rows),
            )
        )  # fmt: skip

    async def _put_stocks(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        if not isinstance(body, list) or not body:
            return wire.error(400, "O corpo deve ser uma lista de estoques")
        with self._state:
            by_partner = {s["partnerId"]: s["id"] for s in self.catalogue if s["partnerId"]}
            known_ids = {s["id"] for s in self.catalogue}
        locals_ = {local["id"] for local in STOCK_LOCALS}
        planned: list[tuple[tuple[int, int], int]] = []
        for element in body:
            if not isinstance(element, dict):
                return wire.error(400, "Elemento de estoque inválido")
            sku_id = by_partner.get(element.get("partnerId")) or (
                element.get("id") if element.get("id") in known_ids else None
            )
            if sku_id is None:
                which = element.get("partnerId") or element.get("id")
                return wire.error(422, f"SKU {which} não encontrado")
            quantity = element.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                return wire.error(422, f"Quantidade inválida para o SKU {sku_id}")
            local = element.get("stockLocalId", DEFAULT_LOCAL)
            if local not in locals_:
                return wire.error(422, f"Local de estoque {local} não encontrado")
            planned.append(((sku_id, local), quantity))
        with self._state:
            self.stock.update(planned)
        return JSONResponse(body)

    async def _locals(self, request: Request) -> Response:
        return JSONResponse({"content": list(STOCK_LOCALS)})


def _transition_refusal(order: dict[str, Any], status: Any, body: dict[str, Any]) -> str | None:
    """Why the hub refuses this update, or None."""
    current = order["status"]
    if status not in wire.STATUSES:
        return f"Status {status!r} inválido"
    if status != current and status not in wire.NEXT[current]:
        return f"Não é possível alterar o status de {current} para {status}"
    if status == "INVOICED":
        invoice = body.get("invoice") if isinstance(body.get("invoice"), dict) else None
        key = str((invoice or order.get("invoice") or {}).get("accessKey") or "")
        if len(key) != 44 or not key.isdigit():
            return "Chave de acesso da nota fiscal inválida"
    if status == "PAID_WAITING_DELIVERY":
        tracking = body.get("tracking") if isinstance(body.get("tracking"), dict) else None
        if not (tracking or order.get("tracking") or {}).get("number"):
            return "Código de rastreio é obrigatório"
    return None
