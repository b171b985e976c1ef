"""VndaEmulator: one E-commerce da Olist (Vnda API v2) store, in-process.

Faithful to the documented API, awkward parts included:

- every /api/v2 call needs `Authorization: Bearer <token>` (401 otherwise) and `X-Shop-Host`
  naming the store (404 "Domínio de loja não encontrado" otherwise); the Orders Feed is also
  served on the store's own host, where the host itself names the store;
- the Orders Feed lists order *events*, each the order as it was then, oldest first, a batch
  at a time; `POST /api/feed/orders {"orders": [{"code"}]}` marks orders, and every event of
  a marked order present at that moment leaves the feed (the docs: "marcar os pedidos para
  que eles sejam filtrados da listagem do feed"); a later change adds a new event;
- GET /api/v2/orders filters on the day an order was received (`start`/`finish`), pages with
  `X-Pagination`, and carries `items` inline; the order resource carries neither items nor
  addresses: they are sub-resources;
- there is no `created_at`; `confirmed` may come without `paid_at`; `shipped_at` stays empty;
- stock by SKU, one at a time (400 without a quantity) or in a batch applied a minute later;
- invoices and tracking codes go on an order's package; a token bucket answers 429 with
  Retry-After (the numbers are not published: 10, refilling 2/s).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.vnda.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, TokenBucket, bearer_token

SHOP_HOST = "www.lojaexemplo.com.br"
#: the token config.example.yaml ships with (valid until expire_access_tokens)
SANDBOX_TOKEN = "sandbox-vnda-token"  # noqa: S105 - the emulator's fake token

Handler = Callable[[Request], Awaitable[Response]]


class VndaEmulator(Emulator):
    """One store (``SHOP_HOST``) with a small catalogue.

    Args (besides the kit's seed/clock/sandbox_orders):
        throttle: enforce the token bucket (off: never 429).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 12,
        throttle: bool = True,
    ) -> None:
        self.throttle = throttle
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        self.products = seed.build_products(self.clock())
        self.orders: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.addresses: dict[str, dict[str, Any]] = {}
        self.packages: dict[str, list[dict[str, Any]]] = {}
        #: the Orders Feed: {"seq", "code", "order" (snapshot), "marked"}
        self.events: list[dict[str, Any]] = []
        #: batch stock updates waiting for the background job: (due, sku, quantity)
        self.queued_stock: list[tuple[datetime, str, int]] = []
        self.token_valid = True
        #: the product list carries each product's variants (False: only their own resource)
        self.inline_variants = True
        self._state = threading.RLock()
        self.bucket = TokenBucket(
            wire.REFILL_PER_SECOND, wire.BUCKET_SIZE, clock=lambda: self.clock().timestamp()
        )

    def routes(self) -> Sequence[BaseRoute]:
        api: list[tuple[str, Handler, list[str]]] = [
            ("/api/v2/orders", self._list_orders, ["GET"]),
            ("/api/v2/orders/{code}", self._order, ["GET"]),
            ("/api/v2/orders/{code}/items", self._items, ["GET"]),
            ("/api/v2/orders/{code}/shipping_address", self._address, ["GET"]),
            ("/api/v2/orders/{code}/billing_address", self._address, ["GET"]),
            ("/api/v2/orders/{code}/packages", self._packages, ["GET"]),
            ("/api/v2/orders/{code}/packages/{package}/invoices", self._invoices, ["GET", "POST"]),
            (
                "/api/v2/orders/{code}/packages/{package}/trackings",
                self._trackings,
                ["GET", "POST"],
            ),
            ("/api/v2/products", self._products, ["GET"]),
            ("/api/v2/products/{product_id:int}", self._product, ["GET"]),
            ("/api/v2/products/{product_id:int}/variants", self._variants, ["GET"]),
            ("/api/v2/variants/quantity", self._batch_stock, ["POST"]),
            ("/api/v2/variants/{sku}/quantity", self._stock, ["POST"]),
            ("/api/feed/orders", self._feed, ["GET", "POST"]),
        ]
        return [Route(path, self._api(handler), methods=m) for path, handler, m in api]

    # -- the contract-suite API ------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {"token": SANDBOX_TOKEN}

    def options(self) -> dict[str, Any]:
        # small pages, so the contract suite crosses page boundaries in list mode too
        return {"shop_host": SHOP_HOST, "per_page": 50}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        codes = []
        with self._state:
            for index in range(count):
                number = len(self.orders) + 1
                moment = (start + step * index + step * self.random.random()).replace(microsecond=0)
                order, items, address = seed.build_order(
                    self.random,
                    self.products,
                    number=number,
                    kind=seed.KINDS[number % len(seed.KINDS)],
                    updated_at=moment,
                )
                code = order["code"]
                self.orders[code] = order
                self.items[code] = items
                self.addresses[code] = address
                if order["confirmed_at"]:
                    self.packages[code] = [_package(order)]
                if order["status"] != "received":  # it was received first: an older event
                    first = dict(order, status="received", updated_at=order["received_at"])
                    for key in ("confirmed_at", "paid_at", "canceled_at", "delivered_at"):
                        first[key] = None
                    first["shipping_tracked_at"] = first["tracking_code"] = None
                    self._event(first)
                self._event(order)
                codes.append(code)
        return codes

    def update_order(self, external_id: str, **changes: Any) -> None:
        with self._state:
            order = self.orders[external_id]
            order.update(changes)
            order["updated_at"] = wire.iso(self.clock())
            self._event(order)

    def cancel_order(self, external_id: str) -> None:
        now = wire.iso(self.clock())
        self.update_order(external_id, status="canceled", canceled_at=now)

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [(str(p["id"]), v["sku"], v["sku"]) for p in self.products.values() for v in _v(p)]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        for product in self.products.values():
            for variant in _v(product):
                if str(product["id"]) == item_id and variant["sku"] == variation_id:
                    return int(variant["quantity"])
        return None

    def expire_access_tokens(self) -> None:
        """The token deleted in Admin: every call is refused from now on."""
        self.token_valid = False

    def settle(self) -> None:
        """The batch stock job runs now."""
        self._run_stock_job(force=True)

    def invoice_ready(self, external_id: str) -> bool:
        order = self.orders.get(external_id) or {}
        return (
            order.get("status") == "confirmed"
            and bool(order.get("paid_at"))
            and len(self.packages.get(external_id, [])) == 1
        )

    def invoice_key(self, external_id: str) -> str | None:
        for package in self.packages.get(external_id, []):
            for invoice in package["invoices"]:
                return str(invoice["key"])
        return None

    def tracking_ready(self, external_id: str) -> bool:
        """Paid, not tracked yet, and one package to put the code on."""
        order = self.orders.get(external_id) or {}
        return (
            order.get("status") == "confirmed"
            and bool(order.get("paid_at"))
            and not order.get("tracking_code")
            and len(self.packages.get(external_id, [])) == 1
        )

    def tracking_code(self, external_id: str) -> str | None:
        for package in self.packages.get(external_id, []):
            if package["trackings"]:
                return str(package["trackings"][-1]["code"])
        return None

    # -- emulator controls ---------------------------------------------------------------------

    def variants(self) -> list[dict[str, Any]]:
        return [v for p in self.products.values() for v in _v(p)]

    def unmarked(self) -> list[dict[str, Any]]:
        return [e for e in self.events if not e["marked"]]

    def rate_limit_response(self, retry_after: float | None) -> Response:
        response = wire.error(429, "Too Many Requests")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        return wire.error(status, "Internal Server Error" if status >= 500 else "Error")

    # -- plumbing ------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if not self.token_valid or bearer_token(request) != SANDBOX_TOKEN:
                return wire.error(401, "Unauthorized")
            store = request.headers.get("x-shop-host", "").strip().lower()
            if request.url.path.startswith("/api/feed/") and not store:
                store = (request.url.hostname or "").lower()  # the store's own host
            if store != SHOP_HOST:
                return wire.error(404, wire.NO_STORE)
            if self.throttle and not self.bucket.try_take():
                wait = max(1, round(self.bucket.wait_time() + 0.5))
                return self.rate_limit_response(wait)
            self._run_stock_job()
            return await handler(request)

        return endpoint

    def _event(self, order: dict[str, Any]) -> None:
        self.events.append(
            {
                "seq": len(self.events) + 1,
                "code": order["code"],
                "order": copy.deepcopy(order),
                "marked": False,
            }
        )

    @staticmethod
    def _paging(request: Request, allowed: frozenset[str]) -> tuple[int, int] | Response:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:  # stricter than the platform on purpose: a misspelt filter fails loudly
            return wire.invalid(**{k: "unknown parameter" for k in unknown})
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", str(wire.DEFAULT_PER_PAGE)))
        except ValueError:
            return wire.invalid(page="must be a number")
        if page < 1 or not 1 <= per_page <= wire.MAX_PER_PAGE:
            return wire.invalid(per_page=f"must be 1 to {wire.MAX_PER_PAGE}")
        return page, per_page

    @staticmethod
    async def _body(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"null")
        except ValueError:
            return None

    def _known(self, request: Request) -> dict[str, Any] | None:
        return self.orders.get(request.path_params["code"])

    # -- orders --------------------------------------------------------------------------------

    async def _list_orders(self, request: Request) -> Response:
        paging = self._paging(request, wire.ORDER_PARAMS)
        if isinstance(paging, Response):
            return paging
        query = request.query_params
        try:
            start = wire.parse_day(query["start"]) if "start" in query else None
            finish = wire.parse_day(query["finish"]) if "finish" in query else None
        except ValueError:
            return wire.invalid(start="must be yyyy-mm-dd")
        status = query.get("status")
        if status is not None and status not in wire.ORDER_STATUSES:
            return wire.invalid(status="is not included in the list")
        with self._state:
            rows = []
            for code, order in self.orders.items():
                received = wire.to_utc(order["received_at"])
                if start is not None and received < start:
                    continue
                if finish is not None and received >= finish + timedelta(days=1):
                    continue
                if status is not None and order["status"] != status:
                    continue
                rows.append({**order, "items": self.items[code]})
        rows.sort(key=lambda o: o["received_at"], reverse=True)  # newest first
        return wire.page(rows, *paging)

    async def _order(self, request: Request) -> Response:
        """The order with its items inline (as recent clients read it); no addresses."""
        order = self._known(request)
        if order is None:
            return wire.error(404, "not found")
        return JSONResponse({**order, "items": self.items[order["code"]]})

    async def _items(self, request: Request) -> Response:
        code = request.path_params["code"]
        return (
            JSONResponse(self.items[code]) if code in self.items else wire.error(404, "not found")
        )

    async def _address(self, request: Request) -> Response:
        code = request.path_params["code"]
        if code not in self.addresses:
            return wire.error(404, "not found")
        return JSONResponse(self.addresses[code])

    async def _packages(self, request: Request) -> Response:
        if self._known(request) is None:
            return wire.error(404, "not found")
        shown = [
            {k: v for k, v in p.items() if k not in ("invoices", "trackings")}
            for p in self.packages.get(request.path_params["code"], [])
        ]
        return JSONResponse(shown)

    def _package(self, request: Request) -> dict[str, Any] | None:
        for package in self.packages.get(request.path_params["code"], []):
            if package["code"] == request.path_params["package"]:
                return package
        return None

    async def _invoices(self, request: Request) -> Response:
        with self._state:
            package = self._package(request)
            if package is None:
                return wire.error(404, "not found")
            if request.method == "GET":
                return JSONResponse(package["invoices"])
            body = await self._body(request)
            if not isinstance(body, dict) or not isinstance(body.get("number"), int):
                return wire.invalid(number="can't be blank")
            key = str(body.get("key") or "")
            if key and (len(key) != 44 or not key.isdigit()):
                return wire.invalid(key="is invalid")
            if any(i["number"] == body["number"] for i in package["invoices"]):
                return wire.invalid(number="has already been taken")
            invoice = {
                "number": body["number"],
                "series": body.get("series"),
                "issued_at": body.get("issued_at"),
                "key": key or None,
                "volumes": body.get("volumes"),
            }
            package["invoices"].append(invoice)
            return JSONResponse(invoice, status_code=201)

    async def _trackings(self, request: Request) -> Response:
        with self._state:
            package = self._package(request)
            order = self._known(request)
            if package is None or order is None:
                return wire.error(404, "not found")
            if request.method == "GET":
                return JSONResponse(package["trackings"])
            if order["status"] == "canceled":
                return wire.invalid(order="is canceled")
            body = await self._body(request)
            if not isinstance(body, dict) or not str(body.get("code") or "").strip():
                return wire.invalid(code="can't be blank")
            tracking = {
                "code": str(body["code"]).strip(),
                "company": body.get("company"),
                "url": body.get("url"),
            }
            package["trackings"].append(tracking)
            now = wire.iso(self.clock())
            package["tracked_at"] = now
            order.update(tracking_code=tracking["code"], shipping_tracked_at=now, updated_at=now)
            self._event(order)
            return JSONResponse(tracking, status_code=201)

    # -- the Orders Feed -----------------------------------------------------------------------

    async def _feed(self, request: Request) -> Response:
        with self._state:
            if request.method == "GET":
                batch = self.unmarked()[: wire.FEED_BATCH]
                return JSONResponse([copy.deepcopy(e["order"]) for e in batch])
            body = await self._body(request)
            orders = body.get("orders") if isinstance(body, dict) else None
            if not isinstance(orders, list) or not all(
                isinstance(o, dict) and o.get("code") for o in orders
            ):
                return wire.invalid(orders="must be a list of {code}")
            codes = {str(o["code"]) for o in orders}
            for event in self.events:
                if event["code"] in codes:
                    event["marked"] = True
            return Response(status_code=204)

    # -- products and stock --------------------------------------------------------------------

    async def _products(self, request: Request) -> Response:
        paging = self._paging(request, wire.PRODUCT_PARAMS)
        if isinstance(paging, Response):
            return paging
        with self._state:
            rows = sorted(self.products.values(), key=lambda p: p["id"])
        if not self.inline_variants:
            rows = [{k: v for k, v in p.items() if k != "variants"} for p in rows]
        return wire.page(rows, *paging)

    async def _product(self, request: Request) -> Response:
        product = self.products.get(request.path_params["product_id"])
        return JSONResponse(product) if product else wire.error(404, "not found")

    async def _variants(self, request: Request) -> Response:
        product = self.products.get(request.path_params["product_id"])
        return JSONResponse(product["variants"]) if product else wire.error(404, "not found")

    async def _stock(self, request: Request) -> Response:
        raw = request.query_params.get("quantity", "")
        try:
            quantity = int(raw)
        except ValueError:
            return JSONResponse(
                {"status": "error", "message": "A quantity must be provided to update stock"},
                status_code=400,
            )
        with self._state:
            if not self._set_stock(request.path_params["sku"], quantity):
                return wire.error(404, "not found")
        return JSONResponse({"status": "ok"})

    async def _batch_stock(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, list) or not body:
            return wire.invalid(variants="must be a list of {sku, quantity}")
        for entry in body:
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("sku"), str)
                and isinstance(entry.get("quantity"), int)
                and not isinstance(entry.get("quantity"), bool)
            ):
                return wire.invalid(variants="must be a list of {sku, quantity}")
        due = self.clock() + timedelta(seconds=wire.BATCH_DELAY_SECONDS)
        with self._state:
            self.queued_stock += [(due, e["sku"], e["quantity"]) for e in body]
        return JSONResponse({"status": "ok"}, status_code=202)

    def _run_stock_job(self, *, force: bool = False) -> None:
        now = self.clock()
        with self._state:
            waiting = []
            for due, sku, quantity in self.queued_stock:
                if force or due <= now:
                    self._set_stock(sku, quantity)  # an unknown SKU is dropped silently
                else:
                    waiting.append((due, sku, quantity))
            self.queued_stock = waiting

    def _set_stock(self, sku: str, quantity: int) -> bool:
        for variant in self.variants():
            if variant["sku"] == sku:
                variant["quantity"] = variant["stock"] = variant["available_quantity"] = quantity
                variant["available"] = quantity > 0
                variant["updated_at"] = wire.iso(self.clock())
                return True
        return False


def _package(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": f"{order['code']}-01",
        "shipping_name": order["shipping_label"],
        "shipping_price": order["shipping_price"],
        "delivery_type": order["shipping_method"],
        "fulfillment_status": "waiting",
        "tracked_at": order["shipping_tracked_at"],
        "delivered_at": order["delivered_at"],
        "invoices": [],
        "trackings": [],
    }


def _v(product: dict[str, Any]) -> list[dict[str, Any]]:
    return list(product["variants"])
