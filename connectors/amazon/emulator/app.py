"""AmazonEmulator: LWA, RDT, Orders v0 (with confirmShipment), Listings Items 2021-08-01,
Feeds 2021-06-30 and the Delivery by Amazon invoice offline.

Fidelity notes (what a client must cope with, as the real service does it):
- auth is the ``x-amz-access-token`` header; an expired token answers **403** (not 401) with
  details "The access token you provided has expired." (amzn/selling-partner-api-models#4122);
- every operation has its own token bucket (``USAGE_PLANS``); a 429 carries
  ``QuotaExceeded`` and no Retry-After; successes carry ``x-amzn-RateLimit-Limit``;
- NextToken/pageToken are opaque standard base64 (with ``+``, ``/`` and ``=``), so a client
  that does not URL-encode them gets 400 InvalidInput; getOrders refuses a LastUpdatedBefore
  later than now - 2 min and CreatedAfter together with LastUpdatedAfter;
- buyer and full address appear only with a Restricted Data Token naming ``buyerInfo`` /
  ``shippingAddress``; listings and feeds are in ``listings.py`` and ``feeds.py`` (mixins of
  the same emulator).

Like every emulator it imports nothing from the connector it checks: the usage plans, shapes and
seed data here are written from Amazon's docs, so the emulator cannot agree with a connector bug.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from erpsync.connectors.amazon.emulator.feeds import FeedsMixin
from erpsync.connectors.amazon.emulator.invoices import InvoicesMixin
from erpsync.connectors.amazon.emulator.listings import ListingsMixin
from erpsync.connectors.amazon.emulator.seed import EmulatedOrder, load_seed, make_order
from erpsync.connectors.amazon.emulator.shipping import ShippingMixin
from erpsync.connectors.amazon.emulator.wire import (
    BRAZIL_MARKETPLACE_ID,
    DENIED,
    EXPIRED,
    INVALID_TOKEN,
    MISSING_TOKEN,
    QUOTA,
    Handler,
    fingerprint,
    invalid_input,
    iso,
    page_token,
    parse_time,
    path_matches,
    read_page_token,
    sp_errors,
)
from erpsync.domain import utcnow
from erpsync.emulation import Emulator, TokenBucket, verify_token

SANDBOX_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - the sandbox app's published fixture
SANDBOX_REFRESH_TOKEN = "Atzr|sandbox-refresh"  # noqa: S105 - config.example.yaml's token
ACCESS_PREFIX = "Atza|"
RDT_PREFIX = "Atz.sprdt|"
TOKEN_TTL = timedelta(seconds=3600)
#: LastUpdatedBefore / CreatedBefore must be at least this long before now (ordersV0 model)
ORDERS_LAG = timedelta(minutes=2)
_EPOCH = datetime(1970, 1, 2, tzinfo=UTC)


#: SP-API usage plans, (rate per second, burst) per operation, as the "Usage Plan" table of each
#: operation in the official models (amzn/selling-partner-api-models) gives them; Amazon keeps
#: one token bucket per operation and selling-partner/app pair.
#: ref: https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits
USAGE_PLANS: dict[str, tuple[float, int]] = {
    "getOrders": (0.0167, 20),  # ordersV0.json
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2, 10),
    "createRestrictedDataToken": (1, 10),  # tokens_2021-03-01.json
    "searchListingsItems": (5, 5),  # listingsItems_2021-08-01.json
    "patchListingsItem": (5, 5),
    "getListingsItem": (5, 10),
    "createFeedDocument": (0.5, 15),  # feeds_2021-06-30.json
    "createFeed": (0.0083, 15),
    "getFeed": (2, 15),
    "getFeedDocument": (0.0222, 10),
}


class SimulatedClockBucket(TokenBucket):
    """A TokenBucket that forgives a microsecond: the emulator's clock is a datetime (whole
    microseconds), so a client waiting exactly 1/rate seconds can land a hair short of a token.
    """

    def try_take(self) -> bool:
        if super().try_take():
            return True
        if self.wait_time() * self.time_scale > 1e-6:
            return False
        with self._lock:
            self._tokens -= 1.0  # the (all but) whole token
        return True


class AmazonEmulator(ListingsMixin, FeedsMixin, InvoicesMixin, ShippingMixin, Emulator):
    """An in-process Selling Partner API for one seller on Amazon.com.br.

    Args:
        seed / clock / sandbox_orders: see ``erpsync.emulation.Emulator``.
        time_scale: how much faster than ``clock`` the rate-limit buckets refill (benchmarks).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], datetime] = utcnow,
        sandbox_orders: int = 10,
        time_scale: float = 1.0,
    ) -> None:
        self.time_scale = time_scale  # setup() (called by the base __init__) reads it
        super().__init__(seed=seed, clock=clock, sandbox_orders=sandbox_orders)

    def setup(self) -> None:
        data = load_seed()
        self.seller_id: str = data["seller_id"]
        self.catalog: list[dict[str, Any]] = data["catalog"]
        self.buyers: list[dict[str, Any]] = data["buyers"]
        # the sandbox app: the same values config.example.yaml ships with
        self.client_id = SANDBOX_CLIENT_ID
        self.client_secret = SANDBOX_CLIENT_SECRET
        self.refresh_token = SANDBOX_REFRESH_TOKEN
        #: True: the seller revoked the app, refresh answers invalid_grant
        self.grant_revoked = False
        #: operations answered 403 "access denied" (the app lacks the role)
        self.denied_operations: set[str] = set()
        #: orderItems page size [U]: Amazon does not document it
        self.items_page_size = 30
        self.orders: dict[str, EmulatedOrder] = {}
        self._seeded = 0
        self.buckets = {
            op: SimulatedClockBucket(rate, burst, clock=self._seconds, time_scale=self.time_scale)
            for op, (rate, burst) in USAGE_PLANS.items()
        }
        self.setup_listings()
        self.setup_feeds()
        self.setup_invoices()
        self.setup_shipping()

    def _seconds(self) -> float:
        return self.clock().timestamp()

    def routes(self) -> Sequence[BaseRoute]:
        api = self._api
        return [
            Route("/auth/o2/token", self._lwa_token, methods=["POST"]),
            Route(
                "/tokens/2021-03-01/restrictedDataToken",
                api("createRestrictedDataToken", self._restricted_data_token),
                methods=["POST"],
            ),
            Route("/orders/v0/orders", api("getOrders", self._get_orders)),
            Route("/orders/v0/orders/{orderId}", api("getOrder", self._get_order)),
            Route(
                "/orders/v0/orders/{orderId}/orderItems",
                api("getOrderItems", self._get_order_items),
            ),
            *self.listing_routes(),
            *self.feed_routes(),
            *self.invoice_routes(),
            *self.shipping_routes(),
        ]

    # -- the contract-suite API -----------------------------------------------------------------

    def settle(self) -> None:
        """Finish processing every submitted NF-e (Accepted, or Errored)."""
        self.settle_invoices()

    def credentials(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }

    def options(self) -> dict[str, Any]:
        return {
            "seller_id": self.seller_id,
            "marketplace_id": BRAZIL_MARKETPLACE_ID,
            "restricted_data": True,
        }

    def seed_orders(self, count: int, *, start: datetime, end: datetime) -> list[str]:
        ids: list[str] = []
        for n in range(count):
            updated = start + (end - start) * (n + 0.5) / max(count, 1)
            order = make_order(
                self._seeded,
                seed=self.seed,
                updated=updated,
                catalog=self.catalog,
                buyers=self.buyers,
            )
            self._seeded += 1
            self.orders[order.id] = order
            ids.append(order.id)
        return ids

    def update_order(self, external_id: str, **changes: Any) -> None:
        """Set Orders v0 fields (``OrderStatus="Shipped"``) or ``status`` in our vocabulary."""
        order = self.orders[external_id].order
        ours = {
            "pending": "Pending",
            "paid": "Unshipped",
            "invoiced": "Unshipped",
            "shipped": "Shipped",
            "delivered": "Shipped",
            "cancelled": "Canceled",
        }
        if "status" in changes:
            changes["OrderStatus"] = ours[str(changes.pop("status"))]
        order.update(changes)
        order["LastUpdateDate"] = iso(self.clock())

    def cancel_order(self, external_id: str) -> None:
        self.update_order(external_id, OrderStatus="Canceled")

    def expire_access_tokens(self) -> None:
        self.revoke_tokens("access")
        self.revoke_tokens("rdt")

    # -- faults in the platform's shapes --------------------------------------------------------

    def rate_limit_response(self, retry_after: float | None) -> Response:
        response = sp_errors(429, "QuotaExceeded", QUOTA)
        if retry_after is not None:  # Amazon sends none; only when a test asks for one
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def fault_response(self, status: int) -> Response:
        return sp_errors(status, "InternalFailure", "We encountered an internal error.")

    def malformed_response(self) -> Response:
        return Response(
            b'{"payload": {"Orders": [{"AmazonOrderId": ', media_type="application/json"
        )

    # -- auth ----------------------------------------------------------------------------------

    async def _lwa_token(self, request: Request) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/connecting-to-the-selling-partner-api"""
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return self._lwa_error(401, "invalid_client", "Client authentication failed")
        if form.get("grant_type") != "refresh_token":
            return self._lwa_error(400, "unsupported_grant_type", "Unsupported grant type")
        if form.get("refresh_token") != self.refresh_token or self.grant_revoked:
            return self._lwa_error(
                400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        access = ACCESS_PREFIX + self.issue_token("access", {"cid": self.client_id}, TOKEN_TTL)
        # LWA does not rotate: the same refresh token comes back
        body = {
            "access_token": access,
            "refresh_token": self.refresh_token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_TTL.total_seconds()),
        }
        return JSONResponse(body)

    @staticmethod
    def _lwa_error(status: int, code: str, description: str) -> Response:
        return JSONResponse({"error_description": description, "error": code}, status_code=status)

    def _api(self, operation: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler: auth, the operation's bucket, the usage-plan headers."""

        async def endpoint(request: Request) -> Response:
            granted = self._authorize(request, operation)
            if isinstance(granted, Response):
                return granted
            bucket = self.buckets.get(operation)
            if bucket is not None and not bucket.try_take():
                return sp_errors(429, "QuotaExceeded", QUOTA)
            response = await handler(request, granted)
            if operation in USAGE_PLANS:
                response.headers["x-amzn-RateLimit-Limit"] = f"{USAGE_PLANS[operation][0]:g}"
            response.headers["x-amzn-RequestId"] = hashlib.md5(  # noqa: S324 - an id, not security
                f"{self.seed}:{len(self.requests)}".encode()
            ).hexdigest()
            return response

        return endpoint

    def _authorize(self, request: Request, operation: str) -> frozenset[str] | Response:
        """The RDT dataElements granted (empty for an LWA token), or the 403 to answer."""
        token = request.headers.get("x-amz-access-token", "")
        if token.startswith(RDT_PREFIX):
            return self._authorize_rdt(request, token[len(RDT_PREFIX) :])
        if not token.startswith(ACCESS_PREFIX):
            return sp_errors(403, "Unauthorized", DENIED, INVALID_TOKEN if token else MISSING_TOKEN)
        if self.read_token("access", token[len(ACCESS_PREFIX) :]) is None:
            return self._rejected(token[len(ACCESS_PREFIX) :], "access")
        if operation in self.denied_operations:
            return sp_errors(403, "Unauthorized", DENIED)
        return frozenset()

    def _rejected(self, token: str, kind: str) -> Response:
        # a well-signed token that read_token refuses has expired (or was expired on purpose)
        genuine = verify_token(self.token_secret, kind, token, _EPOCH) is not None
        return sp_errors(403, "Unauthorized", DENIED, EXPIRED if genuine else INVALID_TOKEN)

    def _authorize_rdt(self, request: Request, token: str) -> frozenset[str] | Response:
        payload = self.read_token("rdt", token)
        if payload is None:
            return self._rejected(token, "rdt")
        for resource in payload.get("resources", []):
            if resource.get("method") == request.method and path_matches(
                str(resource.get("path", "")), request.url.path
            ):
                return frozenset(resource.get("dataElements") or [])
        return sp_errors(403, "Unauthorized", DENIED)

    async def _restricted_data_token(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/tokens-api-v2021-03-01-reference"""
        try:
            resources = (await request.json())["restrictedResources"]
            clean = [
                {"method": r["method"], "path": r["path"], "dataElements": r.get("dataElements")}
                for r in resources
            ]
        except (ValueError, KeyError, TypeError):
            return sp_errors(400, "InvalidRequest", "Request is missing or has invalid parameters")
        token = RDT_PREFIX + self.issue_token("rdt", {"resources": clean}, TOKEN_TTL)
        return JSONResponse({"restrictedDataToken": token, "expiresIn": 3600})

    # -- orders ---------------------------------------------------------------------------------

    async def _get_orders(self, request: Request, granted: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorders"""
        query = request.query_params
        filters = {k: v for k, v in query.items() if k != "NextToken"}
        offset = 0
        if "NextToken" in query:
            # the current model: "NextToken doesn't affect any filters that you include in your
            # request"; the filters may be repeated (and must then match) or left out
            state = self.read_page_token("orders", query["NextToken"])
            if state is None or (filters and state["f"] != fingerprint(filters)):
                return invalid_input("Invalid Input", "Invalid NextToken")
            offset, filters = int(state["o"]), state["q"]
        problem = self._orders_query_problem(filters)
        if problem:
            return invalid_input(problem)
        by_creation = "CreatedAfter" in filters
        field, low, high = (
            ("PurchaseDate", filters["CreatedAfter"], filters.get("CreatedBefore"))
            if by_creation
            else ("LastUpdateDate", filters["LastUpdatedAfter"], filters.get("LastUpdatedBefore"))
        )
        start = parse_time(low)
        end = parse_time(high) or self.clock() - ORDERS_LAG
        matches = [
            o
            for o in sorted(self.orders.values(), key=lambda o: o.id)  # no time order promised
            if start is not None and start <= _when(o.order[field]) <= end
        ]
        size = int(filters.get("MaxResultsPerPage", 100))
        payload: dict[str, Any] = {
            "Orders": [o.render(granted) for o in matches[offset : offset + size]]
        }
        if offset + size < len(matches):
            state = {"o": offset + size, "f": fingerprint(filters), "q": filters}
            payload["NextToken"] = self.page_token("orders", state)
        payload["CreatedBefore" if by_creation else "LastUpdatedBefore"] = iso(end)
        return JSONResponse({"payload": payload})

    def _orders_query_problem(self, filters: dict[str, str]) -> str | None:
        if not filters.get("MarketplaceIds"):
            return "MarketplaceIds is required."
        if "CreatedAfter" in filters and "LastUpdatedAfter" in filters:
            return "Only one of CreatedAfter or LastUpdatedAfter may be specified."
        if "CreatedAfter" not in filters and "LastUpdatedAfter" not in filters:
            return "Either CreatedAfter or LastUpdatedAfter must be specified."
        latest = self.clock() - ORDERS_LAG
        for name in ("CreatedAfter", "LastUpdatedAfter", "CreatedBefore", "LastUpdatedBefore"):
            if name in filters and parse_time(filters[name]) is None:
                return f"{name} is not a valid ISO 8601 date-time."
        for name in ("CreatedBefore", "LastUpdatedBefore"):
            when = parse_time(filters.get(name))
            if when is not None and when > latest:
                return f"{name} must be at least 2 minutes before the current time."
        size = filters.get("MaxResultsPerPage", "100")
        if not size.isdigit() or not 1 <= int(size) <= 100:
            return "MaxResultsPerPage must be between 1 and 100."
        return None

    async def _get_order(self, request: Request, granted: frozenset[str]) -> Response:
        order = self.orders.get(request.path_params["orderId"])
        if order is None:
            return sp_errors(404, "NotFound", "Invalid AmazonOrderId")
        return JSONResponse({"payload": order.render(granted)})

    async def _get_order_items(self, request: Request, _: frozenset[str]) -> Response:
        """ref: https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference#getorderitems"""
        order_id = request.path_params["orderId"]
        order = self.orders.get(order_id)
        if order is None:
            return sp_errors(404, "NotFound", "Invalid AmazonOrderId")
        offset = 0
        if "NextToken" in request.query_params:
            state = self.read_page_token("items", request.query_params["NextToken"])
            if state is None or state.get("id") != order_id:
                return invalid_input("Invalid Input", "Invalid NextToken")
            offset = int(state["o"])
        size = self.items_page_size
        payload: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "OrderItems": order.items[offset : offset + size],
        }
        if offset + size < len(order.items):
            payload["NextToken"] = self.page_token("items", {"o": offset + size, "id": order_id})
        return JSONResponse({"payload": payload})

    # -- opaque page tokens ---------------------------------------------------------------------

    def page_token(self, kind: str, state: dict[str, Any]) -> str:
        return page_token(self.token_secret, kind, state)

    def read_page_token(self, kind: str, token: str) -> dict[str, Any] | None:
        return read_page_token(self.token_secret, kind, token)


def _when(value: str) -> datetime:
    when = parse_time(value)
    if when is None:
        raise ValueError(f"bad stored time {value!r}")
    return when
