"""NuvemshopEmulator: the Nuvemshop/Tiendanube API v1 and its token endpoint, in-process.

Faithful to the documented API, awkward parts included:

- every call needs `Authentication: bearer <token>` (the ERP guide's `Authorization: Bearer`
  is accepted too) and a `User-Agent` (400 without one); tokens never expire, a new grant
  or an uninstall is what kills them;
- lists page with `page`/`per_page` (≤ 200) and a `Link` header; an empty result is a 404
  "Last page is 0" (integrators' reports); orders come sorted by `created_at`, not by the
  `updated_at` the filter uses (TiendaNube/api-docs#22), and the default
  `payment_status=any` means authorized, pending and paid only;
- a leaky bucket of 40 requests draining 2/s per store, reported in `x-rate-limit-*` headers
  (reset in milliseconds) and enforced with 429;
- `PATCH /products/stock-price` takes ≤ 50 variants and answers per variant (a batch can be
  half applied); `PUT /products/{id}/variants` replaces the collection and deletes the
  variants left out, as documented, so a test can prove it is never called;
- NF-e data as order metafields, `POST /orders/{id}/fulfill` with tracking.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.nuvemshop.emulator import seed, wire
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, read_form

STORE_ID = 1234567
CLIENT_ID = "4321"  # the sandbox app id
CLIENT_SECRET = "sandbox-app-secret"  # noqa: S105 - the emulator's fake app secret
#: the access token config.example.yaml ships with (valid until expire_access_tokens)
SANDBOX_TOKEN = "sandbox-token"  # noqa: S105
SCOPES = "read_orders,write_orders,read_products,write_products,read_customers"

Handler = Callable[[Request], Awaitable[Response]]


class NuvemshopEmulator(Emulator):
    """One Nuvemshop store (``STORE_ID``) with a small catalogue.

    Args (besides the kit's seed/clock/sandbox_orders):
        throttle: enforce the leaky bucket (off: headers only).
        locations: multi-inventory location ids; variants then carry `inventory_levels`.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 12,
        throttle: bool = True,
        locations: Sequence[str] = (),
    ) -> None:
        self.throttle = throttle
        self.locations = tuple(locations)
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        self.store_id = STORE_ID
        self.products = seed.build_products(self.store_id, self.clock())
        if self.locations:
            for variant in self.variants():
                levels = [{"location_id": loc, "stock": 0} for loc in self.locations]
                levels[0]["stock"] = variant["stock"]
                variant["inventory_levels"] = levels
        self.orders: dict[int, dict[str, Any]] = {}
        self.metafields: dict[int, dict[str, Any]] = {}
        #: variant ids whose next stock-price update fails (a half-applied batch)
        self.failing_variants: set[int] = set()
        self.sandbox_token_valid = True
        self._level = 0.0
        self._drained_at: float | None = None
        self._state = threading.RLock()

    def routes(self) -> Sequence[BaseRoute]:
        api: list[tuple[str, Handler, list[str]]] = [
            ("/{store_id:int}/orders", self._orders, ["GET"]),
            ("/{store_id:int}/orders/{order_id:int}", self._order, ["GET"]),
            ("/{store_id:int}/orders/{order_id:int}/fulfill", self._fulfill, ["POST"]),
            ("/{store_id:int}/products", self._products, ["GET"]),
            ("/{store_id:int}/products/stock-price", self._stock_price, ["PATCH"]),
            ("/{store_id:int}/products/{product_id:int}/variants", self._put_variants, ["PUT"]),
            ("/{store_id:int}/metafields", self._create_metafield, ["POST"]),
            ("/{store_id:int}/metafields/orders", self._order_metafields, ["GET"]),
            ("/{store_id:int}/metafields/{metafield_id:int}", self._update_metafield, ["PUT"]),
        ]
        routes: list[BaseRoute] = [Route("/apps/authorize/token", self._token, methods=["POST"])]
        # base_url may or may not carry the version: /v1/{store_id}/... or /{store_id}/...
        for prefix in ("/v1", ""):
            routes += [Route(prefix + path, self._api(h), methods=m) for path, h, m in api]
        return routes

    # -- the contract-suite API ------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {
            "access_token": SANDBOX_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }

    def options(self) -> dict[str, Any]:
        return {
            "store_id": self.store_id,
            "user_agent": "erpsync sandbox (ti@example.com.br)",
            "per_page": 50,  # small pages, so the contract suite crosses page boundaries
        }

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        ids = []
        with self._state:
            for index in range(count):
                number = 100 + len(self.orders)
                moment = start + step * index + step * self.random.random()
                order = seed.build_order(
                    self.random,
                    self.products,
                    store_id=self.store_id,
                    order_id=871254200 + len(self.orders),
                    number=number,
                    kind=seed.KINDS[len(self.orders) % len(seed.KINDS)],
                    updated_at=moment.replace(microsecond=0),
                )
                self.orders[order["id"]] = order
                ids.append(str(order["id"]))
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        with self._state:
            order = self.orders[int(external_id)]
            order.update(changes)
            order["updated_at"] = wire.iso(self.clock())

    def cancel_order(self, external_id: str) -> None:
        self.update_order(external_id, status="cancelled", cancel_reason="customer")

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [(str(v["product_id"]), str(v["id"]), v["sku"]) for v in self.variants() if v["sku"]]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        for variant in self.variants():
            if str(variant["id"]) == variation_id and str(variant["product_id"]) == item_id:
                stock = variant["stock"]
                return int(stock) if stock is not None else None
        return None

    def stock_at(self, item_id: str, variation_id: str, location_id: str) -> int | None:
        """A variant's inventory level at one multi-inventory location (None: no such level)."""
        for variant in self.variants():
            if str(variant["id"]) == variation_id and str(variant["product_id"]) == item_id:
                for level in variant["inventory_levels"]:
                    if level["location_id"] == location_id:
                        return int(level["stock"]) if level["stock"] is not None else None
        return None

    def expire_access_tokens(self) -> None:
        """A new grant or an uninstall: every token issued so far stops working."""
        self.sandbox_token_valid = False
        self.revoke_tokens("access")

    def invoice_ready(self, external_id: str) -> bool:
        """Nuvemshop takes NF-e data on any live order; an NF-e is issued once it is paid."""
        order = self.orders.get(int(external_id)) or {}
        return order.get("status") == "open" and order.get("payment_status") == "paid"

    def invoice_key(self, external_id: str) -> str | None:
        """The order's newest NF-e key: the last of its `nfe`/`list` (the preferred
        convention), else its `nfe`/`key` metafield."""
        entries = self.nfe_list(external_id)
        if entries:
            return str(entries[-1].get("key"))
        field = self.order_metafield(external_id, "nfe", "key")
        return str(field["value"]) if field is not None else None

    def nfe_list(self, external_id: str) -> list[dict[str, Any]]:
        """The entries of the order's `nfe`/`list` metafield (a JSON-encoded array)."""
        field = self.order_metafield(external_id, "nfe", "list")
        if field is None:
            return []
        entries = json.loads(field["value"])
        return entries if isinstance(entries, list) else []

    def order_metafield(self, external_id: str, namespace: str, key: str) -> dict[str, Any] | None:
        for field in self.metafields.values():
            if (field["owner_resource"], field["owner_id"]) == ("Order", int(external_id)) and (
                field["namespace"],
                field["key"],
            ) == (namespace, key):
                return field
        return None

    def tracking_ready(self, external_id: str) -> bool:
        """The seller ships a paid, open order not shipped yet."""
        order = self.orders.get(int(external_id)) or {}
        return (
            order.get("status") == "open"
            and order.get("payment_status") == "paid"
            and order.get("shipping_status") not in {"shipped", "fulfilled"}
        )

    def tracking_code(self, external_id: str) -> str | None:
        order = self.orders.get(int(external_id)) or {}
        if order.get("shipping_status") not in {"shipped", "fulfilled"}:
            return None
        return order.get("shipping_tracking_number") or None

    # -- emulator controls ---------------------------------------------------------------------

    def variants(self) -> list[dict[str, Any]]:
        return [v for p in self.products.values() for v in p["variants"]]

    def issue_authorization_code(self) -> str:
        """The `code` of the consent redirect: valid for 30 seconds."""
        return self.issue_token(
            "code", {"user_id": self.store_id}, ttl=timedelta(seconds=wire.CODE_TTL_SECONDS)
        )

    def rate_limit_response(self, retry_after: float | None) -> Response:
        # Nuvemshop sends no Retry-After; the fault kit's value is passed on when given
        response = wire.error(429, "Too Many Requests", "Rate limit exceeded")
        response.headers.update(self._limit_headers(remaining=0))
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        return wire.error(status, "Internal Server Error" if status >= 500 else "Error")

    # -- plumbing ------------------------------------------------------------------------------

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            if not request.headers.get("user-agent", "").strip():
                return wire.error(400, "Bad Request", "A User-Agent header is required")
            if not self._authorised(request):
                return wire.error(401, "Unauthorized", "Invalid access token")
            with self._state:
                level = self._drain()
                if self.throttle and level + 1 > wire.BUCKET_SIZE:
                    return self.rate_limit_response(None)
                self._level = level + 1
            response = await handler(request)
            response.headers.update(self._limit_headers())
            return response

        return endpoint

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authentication", "").partition(" ")
        if not token:  # the ERP guide's spelling
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        if request.path_params.get("store_id") != self.store_id:
            return False
        if token == SANDBOX_TOKEN:
            return self.sandbox_token_valid
        payload = self.read_token("access", token)
        return payload is not None and payload.get("user_id") == self.store_id

    def _drain(self) -> float:
        now = self.clock().timestamp()
        if self._drained_at is not None:
            self._level = max(0.0, self._level - (now - self._drained_at) * wire.DRAIN_PER_SECOND)
        self._drained_at = now
        return self._level

    def _limit_headers(self, remaining: int | None = None) -> dict[str, str]:
        with self._state:
            level = self._drain()
        left = int(wire.BUCKET_SIZE - level) if remaining is None else remaining
        reset_ms = int(level / wire.DRAIN_PER_SECOND * 1000)
        return {
            "x-rate-limit-limit": str(wire.BUCKET_SIZE),
            "x-rate-limit-remaining": str(max(0, left)),
            "x-rate-limit-reset": str(reset_ms),
        }

    @staticmethod
    async def _json(request: Request) -> tuple[Any, Response | None]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return None, wire.error(
                415, "Unsupported Media Type", "Content-Type must be application/json"
            )
        try:
            return json.loads(await request.body()), None
        except ValueError:
            return None, JSONResponse({"error": "Problems parsing JSON"}, status_code=400)

    @staticmethod
    def _paging(request: Request, allowed: frozenset[str]) -> tuple[int, int] | Response:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:  # stricter than the platform on purpose: a misspelt filter fails loudly
            return wire.error(
                422, "Unprocessable Entity", None, **{k: ["unknown parameter"] for k in unknown}
            )
        try:
            page = int(request.query_params.get("page", "1"))
            per_page = int(request.query_params.get("per_page", str(wire.DEFAULT_PER_PAGE)))
        except ValueError:
            return wire.error(422, "Unprocessable Entity", None, page=["must be a number"])
        if page < 1 or not 1 <= per_page <= wire.MAX_PER_PAGE:
            return wire.error(422, "Unprocessable Entity", None, per_page=["must be 1 to 200"])
        return page, per_page

    def _page(
        self, request: Request, rows: list[dict[str, Any]], page: int, per_page: int
    ) -> Response:
        last = (len(rows) + per_page - 1) // per_page
        if page > last:
            return wire.error(404, "Not Found", f"Last page is {last}")
        params = {k: v for k, v in request.query_params.items() if k != "page"}
        base = str(request.url.replace(query=""))
        # a copy of this page only (the store goes on changing under the caller)
        body = json.loads(json.dumps(rows[(page - 1) * per_page : page * per_page]))
        headers = {
            "X-Total-Count": str(len(rows)),
            "Link": wire.link_header(base, params, page, last),
        }
        return JSONResponse(body, headers=headers)

    # -- token endpoint ------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        fields = await read_form(request)
        if fields.get("client_id") != CLIENT_ID or fields.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Invalid client"}, status_code=401
            )
        if fields.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        code = fields.get("code", "")
        payload = self.read_token("code", code)
        if payload is None or not self.use_once(code):
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "The authorization code has expired",
                },
                status_code=400,
            )
        # a new token invalidates the previous ones (resources/authentication.md)
        self.expire_access_tokens()
        token = self.issue_token("access", {"user_id": payload["user_id"]})
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "bearer",
                "scope": SCOPES,
                "user_id": payload["user_id"],
            }
        )

    # -- orders --------------------------------------------------------------------------------

    async def _orders(self, request: Request) -> Response:
        paging = self._paging(request, wire.ORDER_PARAMS)
        if isinstance(paging, Response):
            return paging
        query = request.query_params
        try:
            since = wire.parse_time(query["updated_at_min"]) if "updated_at_min" in query else None
            until = wire.parse_time(query["updated_at_max"]) if "updated_at_max" in query else None
        except ValueError:
            return wire.error(422, "Unprocessable Entity", None, updated_at_min=["invalid date"])
        payment = query.get("payment_status", "any")
        payments = wire.ANY_PAYMENT if payment == "any" else {payment}
        status = query.get("status", "any")
        shipping = query.get("shipping_status", "any")
        if (
            payment != "any" and payment not in wire.PAYMENT_STATUSES
        ) or shipping not in wire.SHIPPING_FILTERS:
            return wire.error(422, "Unprocessable Entity", None, payment_status=["invalid value"])
        with self._state:
            rows = list(self.orders.values())
        # stored times are all written by wire.iso (whole seconds, +0000): they compare as text
        low = wire.iso(since) if since is not None else None
        high = wire.iso(until) if until is not None else None
        found = []
        for order in rows:
            updated = order["updated_at"]
            if (low is not None and updated < low) or (high is not None and updated > high):
                continue
            if order["payment_status"] not in payments or status not in ("any", order["status"]):
                continue
            spellings = wire.SHIPPING_SPELLINGS.get(shipping, (shipping,))
            if shipping != "any" and order["shipping_status"] not in spellings:
                continue
            found.append(order)
        # no sort parameter: the platform orders by creation (TiendaNube/api-docs#22)
        found.sort(key=lambda o: (o["created_at"], o["id"]))
        return self._page(request, found, *paging)

    async def _order(self, request: Request) -> Response:
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
        if order is None:
            return wire.error(404, "Not Found", "Order with such id does not exist")
        return JSONResponse(order)

    async def _fulfill(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
            if order is None:
                return wire.error(404, "Not Found", "Order with such id does not exist")
            if order["status"] == "cancelled":
                return wire.error(422, "Unprocessable Entity", "Order is cancelled")
            # resources/order.md is silent on unpaid orders; the admin offers "mark as sent"
            # only once the payment is confirmed (next_action waiting_shipment), so an order
            # whose payment is not paid/authorized is refused like a cancelled one
            if order.get("payment_status") not in {"paid", "authorized"}:
                return wire.error(
                    422,
                    "Unprocessable Entity",
                    f"Order payment is {order.get('payment_status')}: it cannot be fulfilled",
                )
            order["shipping_status"] = "shipped"  # the docs' example answer says "shipped"
            order["shipping_tracking_number"] = (body or {}).get("shipping_tracking_number")
            order["shipping_tracking_url"] = (body or {}).get("shipping_tracking_url")
            order["shipped_at"] = order["updated_at"] = wire.iso(self.clock())
            return JSONResponse(order)

    # -- products and stock --------------------------------------------------------------------

    async def _products(self, request: Request) -> Response:
        paging = self._paging(request, wire.PRODUCT_PARAMS)
        if isinstance(paging, Response):
            return paging
        with self._state:
            rows = sorted(self.products.values(), key=lambda p: p["id"])
        return self._page(request, rows, *paging)

    async def _stock_price(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        if not isinstance(body, list):
            return wire.error(422, "Unprocessable Entity", "The body must be a list of products")
        count = sum(len(p.get("variants") or []) for p in body if isinstance(p, dict))
        if count > wire.STOCK_PRICE_MAX_VARIANTS:
            return wire.error(422, "Unprocessable Entity", "Too many variants sent for update")
        answer = []
        with self._state:
            for entry in body:
                pid = entry.get("id") if isinstance(entry, dict) else None
                product = self.products.get(pid) if isinstance(pid, int) else None
                outcomes = []
                for change in (entry.get("variants") or []) if isinstance(entry, dict) else []:
                    outcomes.append(self._apply_variant(product, change))
                answer.append(
                    {
                        "id": entry.get("id") if isinstance(entry, dict) else None,
                        "variants": outcomes,
                    }
                )
        return JSONResponse(answer)

    def _apply_variant(self, product: dict[str, Any] | None, change: Any) -> dict[str, Any]:
        variant_id = change.get("id") if isinstance(change, dict) else None
        variant = next(
            (v for v in (product or {}).get("variants", []) if v["id"] == variant_id), None
        )
        if variant is None:
            return {"id": variant_id, "success": False, "error": "Variant not found"}
        if variant_id in self.failing_variants:
            self.failing_variants.discard(variant_id)
            return {"id": variant_id, "success": False, "error": "Could not update the variant"}
        if "inventory_levels" in change:
            levels = change["inventory_levels"]
            known = {lv["location_id"]: lv for lv in variant["inventory_levels"]}
            for level in levels if isinstance(levels, list) else [None]:
                if not isinstance(level, dict) or level.get("location_id") not in known:
                    return {"id": variant_id, "success": False, "error": "Unknown location"}
                if not _stock_value(level.get("stock")):
                    return {"id": variant_id, "success": False, "error": "Invalid stock"}
            for level in levels:
                known[level["location_id"]]["stock"] = level["stock"]
            variant["stock"] = sum(int(lv["stock"] or 0) for lv in variant["inventory_levels"])
        elif "stock" in change:
            if not _stock_value(change["stock"]):
                return {"id": variant_id, "success": False, "error": "Invalid stock"}
            variant["stock"] = change["stock"]
            if variant["inventory_levels"]:  # only `stock`: the first inventory level takes it
                variant["inventory_levels"][0]["stock"] = change["stock"]
                variant["stock"] = sum(int(lv["stock"] or 0) for lv in variant["inventory_levels"])
        variant["updated_at"] = wire.iso(self.clock())
        return {"id": variant_id, "success": True}

    async def _put_variants(self, request: Request) -> Response:
        """Replaces the whole collection: variants left out are DELETED (as documented)."""
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        with self._state:
            product = self.products.get(request.path_params["product_id"])
            if product is None:
                return wire.error(404, "Not Found", "Product with such id does not exist")
            sent = {v.get("id") for v in body or [] if isinstance(v, dict)}
            product["variants"] = [v for v in product["variants"] if v["id"] in sent]
            return JSONResponse(product["variants"])

    # -- metafields (NF-e) ---------------------------------------------------------------------

    async def _create_metafield(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        required = ("key", "value", "namespace", "owner_resource", "owner_id")
        missing = [k for k in required if not isinstance(body, dict) or body.get(k) in (None, "")]
        if missing:
            return wire.error(
                422, "Unprocessable Entity", None, **{k: ["can't be blank"] for k in missing}
            )
        if not isinstance(body["value"], str):
            # a metafield holds a string: the NF-e list is a JSON-encoded string (the docs
            # insist its quotes be escaped), never a JSON array
            return wire.error(422, "Unprocessable Entity", None, value=["must be a string"])
        with self._state:
            if body["owner_resource"] == "Order" and int(body["owner_id"]) not in self.orders:
                return wire.error(422, "Unprocessable Entity", None, owner_id=["does not exist"])
            for field in self.metafields.values():
                same = (
                    field["namespace"],
                    field["key"],
                    field["owner_resource"],
                    field["owner_id"],
                )
                if same == (
                    body["namespace"],
                    body["key"],
                    body["owner_resource"],
                    int(body["owner_id"]),
                ):
                    return wire.error(
                        422, "Unprocessable Entity", None, key=["has already been taken"]
                    )
            now = wire.iso(self.clock())
            field = {
                "id": 5000 + len(self.metafields),
                "key": body["key"],
                "value": str(body["value"]),
                "namespace": body["namespace"],
                "description": body.get("description"),
                "owner_id": int(body["owner_id"]),
                "owner_resource": body["owner_resource"],
                "created_at": now,
                "updated_at": now,
            }
            self.metafields[field["id"]] = field
        return JSONResponse(field, status_code=201)

    async def _order_metafields(self, request: Request) -> Response:
        query = request.query_params
        with self._state:
            rows = [
                f
                for f in self.metafields.values()
                if f["owner_resource"] == "Order"
                and str(f["owner_id"]) == query.get("owner_id", str(f["owner_id"]))
                and f["namespace"] == query.get("namespace", f["namespace"])
                and f["key"] == query.get("key", f["key"])
            ]
        return JSONResponse(rows)

    async def _update_metafield(self, request: Request) -> Response:
        body, problem = await self._json(request)
        if problem is not None:
            return problem
        with self._state:
            field = self.metafields.get(request.path_params["metafield_id"])
            if field is None:
                return wire.error(404, "Not Found", "Metafield with such id does not exist")
            if isinstance(body, dict) and "value" in body:
                if not isinstance(body["value"], str):
                    return wire.error(422, "Unprocessable Entity", None, value=["must be a string"])
                field["value"] = body["value"]
                field["updated_at"] = wire.iso(self.clock())
            return JSONResponse(field)


def _stock_value(value: Any) -> bool:
    """A stock is a non-negative integer, or null (unlimited)."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
