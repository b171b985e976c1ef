"""MagaluEmulator: ID Magalu's token endpoint and the seller Open API, in-process.

Real paths and shapes: POST /oauth/token (refresh grant, rotating single-use refresh tokens,
Doorkeeper-style `invalid_grant` JSON), GET /seller/v1/orders (+/{id}) with `_offset`/`_limit`
capped at `max_limit`, `_sort` and the `updated_at__gte`/`__lte` filter, GET
/seller/v1/portfolios/skus, GET/PATCH /seller/v1/portfolios/stocks/{sku} (202, applied later),
the error structure `{slug, message, details}` (ref:
https://developers.magalu.com/docs/development-guide/error-structure). Like a strict API, unknown
query parameters are a 400, so a misspelt filter cannot pass silently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.magalu.emulator import seed, wire
from erpsync.connectors.magalu.emulator.postsale import PostSaleMixin
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, bearer_token, read_form

# the sandbox app and consent: the values config.example.yaml ships with, so `sandbox: true`
# works offline with the example as it is
CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the emulator's fake app secret
BOOTSTRAP_REFRESH_TOKEN = "sandbox-refresh"  # noqa: S105 - the example config's refresh token
SCOPES = (
    "open:order-order-seller:read open:order-delivery-seller:read "
    "open:order-delivery-seller:write "
    "open:portfolio-skus-seller:read open:portfolio-stocks-seller:read "
    "open:portfolio-stocks-seller:write"
)
ACCESS_TTL = timedelta(seconds=7200)  # expires_in 7200 in the ID Magalu example [R]
REFRESH_TTL = timedelta(days=30)  # about 30 days according to integrators [R]
MAX_OFFSET = 5000  # the /orders `_offset` ceiling integrators report [R]
# Query parameters each list accepts: the emulator's own copy, written from the docs (not
# imported from the connector, so a typo on either side shows up as a 400).
ORDER_FILTERS = frozenset(
    {"status", "code", "purchased_at__gte", "purchased_at__lte", "updated_at__gte"}
    | {"updated_at__lte", "created_at__gte", "created_at__lte"}
)


@dataclass
class _PendingPush:
    sku: str
    quantity: int
    due: int  # applied when the request counter reaches this


class MagaluEmulator(PostSaleMixin, Emulator):
    """The Magalu seller Open API and ID Magalu token endpoint.

    Args (besides the kit's seed/clock/sandbox_orders):
        max_limit: the `meta.page.max_limit` of the orders list (`_limit` above it is capped).
        stock_apply_after: a 202 stock PATCH becomes visible once this many further requests
            have been served (1: the very next read is still stale, the one after sees it).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 10,
        max_limit: int = 100,
        stock_apply_after: int = 1,
    ) -> None:
        self.max_limit = max_limit
        self.stock_apply_after = stock_apply_after
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        self.catalog = seed.load_catalog()
        self.channel_id: str = self.catalog["channel"]["id"]
        self.skus = {e["sku"]: wire.sku_resource(e, self.channel_id) for e in self.catalog["skus"]}
        self.stock: dict[str, int] = {e["sku"]: int(e["stock"]) for e in self.catalog["skus"]}
        self.stock_updated: dict[str, str] = {sku: wire.iso(self.clock()) for sku in self.stock}
        self.orders: dict[str, dict[str, Any]] = {}
        self.pending: list[_PendingPush] = []
        self.pushes_to_drop: list[str | None] = []
        self.served = 0
        self._state = threading.RLock()
        #: headers of each signed-URL label download (it must carry no bearer token)
        self.label_downloads: list[dict[str, str]] = []

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/oauth/token", self._token, methods=["POST"]),
            Route("/seller/v1/orders", self._api(self._orders), methods=["GET"]),
            Route("/seller/v1/orders/{order_id}", self._api(self._order), methods=["GET"]),
            Route("/seller/v1/portfolios/skus", self._api(self._skus), methods=["GET"]),
            Route(
                "/seller/v1/portfolios/stocks/{sku}",
                self._api(self._stock),
                methods=["GET", "PATCH"],
            ),
            *self.postsale_routes(),
        ]

    # -- the contract-suite API ------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": BOOTSTRAP_REFRESH_TOKEN,
        }

    def options(self) -> dict[str, Any]:
        return {"channel_id": self.channel_id, "page_size": 50}

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        step = (end - start) / max(count, 1)
        ids = []
        with self._state:
            for index in range(count):
                number = len(self.orders) + 1
                offset = step * self.random.random()
                moment = start + step * index + offset
                moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
                kind = seed.KINDS[(number - 1) % len(seed.KINDS)]
                order = seed.build_order(
                    self.random, self.catalog, number=number, kind=kind, updated_at=moment
                )
                self.orders[order["id"]] = order
                ids.append(order["id"])
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        """Change an order. ``delivery_status=`` sets every delivery's status."""
        with self._state:
            order = self.orders[external_id]
            delivery_status = changes.pop("delivery_status", None)
            if delivery_status is not None:
                for delivery in order["deliveries"]:
                    delivery["status"] = delivery_status
            order.update(changes)
            if order["status"] != "new" and not order.get("approved_at"):
                order["approved_at"] = wire.iso(self.clock())
            order["updated_at"] = wire.iso(self.clock())

    def cancel_order(self, external_id: str) -> None:
        self.update_order(external_id, status="cancelled", delivery_status="cancelled")

    def listing_refs(self) -> list[tuple[str, str | None, str]]:
        return [(sku, None, sku) for sku in self.skus]

    def stock_of(self, item_id: str, variation_id: str | None = None) -> int | None:
        """The quantity the channel converges to (accepted pushes applied, dropped ones not)."""
        self.settle()
        return self.stock.get(item_id)

    # -- emulator controls ---------------------------------------------------------------------

    def drop_stock_pushes(self, times: int = 1, *, sku: str | None = None) -> None:
        """The next ``times`` stock PATCHes (of ``sku``, or any) answer 202 and are lost."""
        self.pushes_to_drop.extend([sku] * times)

    def settle(self) -> None:
        """Apply every accepted stock push now, and validate every NF-e awaiting it."""
        with self._state:
            for push in self.pending:
                self._apply(push)
            self.pending.clear()
        self.settle_invoices()

    def issue_authorization_code(self) -> str:
        """A code the token endpoint trades (as after the seller's consent on id.magalu.com)."""
        return self.issue_token("code", {"client_id": CLIENT_ID}, ttl=timedelta(minutes=10))

    def rate_limit_response(self, retry_after: float | None) -> Response:
        # the 429 body of the error-structure page; Retry-After is not documented, sent if set
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        body = {
            "slug": "TOO_MANY_REQUESTS",
            "message": "You have sent too many requests in a given amount of time",
        }
        return JSONResponse(body, status_code=429, headers=headers)

    def fault_response(self, status: int) -> Response:
        return JSONResponse(wire.error_body(status), status_code=status)

    # -- token endpoint ------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        """ID Magalu: form (refresh grant, as the docs' cURL) or JSON (code exchange) bodies."""
        self._tick()
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return _oauth_error(400, "invalid_request", "The request body is not valid JSON.")
            fields = {k: str(v) for k, v in body.items()}
        else:
            fields = await read_form(request)
        if fields.get("client_id") != CLIENT_ID or fields.get("client_secret") != CLIENT_SECRET:
            return _oauth_error(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication "
                "included, or unsupported authentication method.",
            )
        grant = fields.get("grant_type")
        if grant == "refresh_token":
            presented = fields.get("refresh_token", "")
            kind = "refresh"
        elif grant == "authorization_code":
            presented = fields.get("code", "")
            kind = "code"
        else:
            return _oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        known = (kind == "refresh" and presented == BOOTSTRAP_REFRESH_TOKEN) or (
            self.read_token(kind, presented) is not None
        )
        # single use: every refresh rotates the token and spends the one presented
        if not known or not self.use_once(presented):
            return _oauth_error(
                400,
                "invalid_grant",
                "The provided authorization grant is invalid, expired, revoked, does not match "
                "the redirection URI used in the authorization request, or was issued to "
                "another client.",
            )
        return JSONResponse(
            {
                "access_token": self.issue_token("access", {"client_id": CLIENT_ID}, ACCESS_TTL),
                "token_type": "Bearer",
                "expires_in": int(ACCESS_TTL.total_seconds()),
                # rotated on every use: the old one is spent (single use within this emulator)
                "refresh_token": self.issue_token("refresh", {"client_id": CLIENT_ID}, REFRESH_TTL),
                "scope": SCOPES,
                "created_at": int(self.clock().timestamp()),
            }
        )

    # -- the Open API ----------------------------------------------------------------------------

    def _api(self, handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self._tick()
            if self.read_token("access", bearer_token(request)) is None:
                return JSONResponse(
                    wire.error_body(401),
                    status_code=401,
                    headers={
                        "x-authorization-error": "Authorization token not found or has invalid "
                        "format, or it expired."
                    },
                )
            channel = request.headers.get("x-channel-id")
            if channel is not None and channel != self.channel_id:
                problem = wire.detail("X-Channel-Id", "header", f"unknown channel {channel}")
                return JSONResponse(wire.error_body(400, [problem]), status_code=400)
            try:
                result: Response = await handler(request)
            except wire.ApiError as exc:
                return JSONResponse(
                    wire.error_body(exc.status, exc.details), status_code=exc.status
                )
            return result

        return endpoint

    async def _orders(self, request: Request) -> Response:
        params = wire.query_params(request, ORDER_FILTERS | wire.PAGING)
        offset, limit = wire.paging(params, self.max_limit)
        if offset > MAX_OFFSET:
            raise wire.ApiError(
                400, [wire.detail("_offset", "query", f"must be at most {MAX_OFFSET}")]
            )
        matches = wire.matcher(params)
        with self._state:
            orders = [o for o in self.orders.values() if matches(o)]
        field, reverse = wire.sort_key(params.get("_sort", "purchased_at:desc"))
        orders.sort(key=lambda o: (o.get(field) or "", o["id"]), reverse=reverse)
        return wire.page(request, orders, offset, limit, self.max_limit)

    async def _order(self, request: Request) -> Response:
        # the single-order page documents `updated_at__ge` (sic): accepted here, not on lists
        params = wire.query_params(request, frozenset({"updated_at__ge"}))
        with self._state:
            order = self.orders.get(request.path_params["order_id"])
        if order is None:
            raise wire.ApiError(404)
        since = params.get("updated_at__ge")
        if since is not None and wire.as_time(order["updated_at"]) < wire.parse_time(
            "updated_at__ge", since
        ):
            raise wire.ApiError(404)
        return JSONResponse(order)

    async def _skus(self, request: Request) -> Response:
        offset, limit = wire.paging(
            wire.query_params(request, frozenset({"_offset", "_limit"})), 100
        )
        with self._state:
            skus = list(self.skus.values())
        return wire.page(request, skus, offset, limit, 100)

    async def _stock(self, request: Request) -> Response:
        sku = request.path_params["sku"]
        wire.query_params(request, frozenset())
        if sku not in self.skus:
            raise wire.ApiError(404)
        if request.method == "PATCH":
            return self._patch_stock(sku, await wire.json_body(request))
        with self._state:
            quantity, updated = self.stock[sku], self.stock_updated[sku]
        entry = {
            "type": "AVAILABLE",
            "quantity": quantity,
            "channel": {"id": self.channel_id},
            "created_at": updated,
            "updated_at": updated,
        }
        return wire.page(request, [entry], 0, 50, 100)

    def _patch_stock(self, sku: str, body: dict[str, Any]) -> Response:
        problems = []
        quantity = body.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            problems.append(
                wire.detail(
                    "quantity", "body", "must be an integer >= 0", "INVALID_PARAMETER_VALUE"
                )
            )
        if body.get("type") != "AVAILABLE":
            problems.append(
                wire.detail("type", "body", "must be AVAILABLE", "INVALID_PARAMETER_VALUE")
            )
        channel = body.get("channel")
        if channel is not None and (
            not isinstance(channel, dict) or channel.get("id") != self.channel_id
        ):
            problems.append(
                wire.detail("channel.id", "body", "unknown channel", "INVALID_PARAMETER_VALUE")
            )
        if problems:
            raise wire.ApiError(422, problems)
        assert isinstance(quantity, int)
        with self._state:
            drop = next((i for i, s in enumerate(self.pushes_to_drop) if s in (None, sku)), None)
            if drop is not None:
                del self.pushes_to_drop[drop]  # accepted, then silently lost
            else:
                due = self.served + 1 + self.stock_apply_after
                self.pending.append(_PendingPush(sku, quantity, due))
        return Response(status_code=202)

    # -- internals -----------------------------------------------------------------------------

    def _tick(self) -> None:
        """Count a served request; apply the stock pushes that are due."""
        with self._state:
            self.served += 1
            due = [p for p in self.pending if p.due <= self.served]
            self.pending = [p for p in self.pending if p.due > self.served]
            for push in due:
                self._apply(push)

    def _apply(self, push: _PendingPush) -> None:
        self.stock[push.sku] = push.quantity
        self.stock_updated[push.sku] = wire.iso(self.clock())


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)
