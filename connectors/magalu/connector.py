"""The Magalu Open API connector (`type: magalu`): orders, portfolio SKUs and stock pushes.

Auth is ID Magalu OAuth2 (authorization code, then refresh tokens); calls go to the seller
Open API on api.magalu.com. Docs: https://developers.magalu.com (development guide, orders,
portfolios). Where the docs are silent or contradict each other, the choice and its source are
written next to the constant that encodes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from erpsync.connector import (
    HttpConnector,
    ListingSource,
    OAuthConsent,
    OrderPage,
    OrderSource,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    Window,
)
from erpsync.connectors.magalu import mapping
from erpsync.connectors.magalu.settings import MAX_PAGE_SIZE, MagaluCredentials, MagaluOptions
from erpsync.domain import Listing, Order, PushResult, StockUpdate, to_utc
from erpsync.errors import AuthError, FatalError
from erpsync.http.pagination import OffsetPaginator

ORDERS_PATH = "/seller/v1/orders"
SKUS_PATH = "/seller/v1/portfolios/skus"
STOCK_PATH = "/seller/v1/portfolios/stocks/{sku}"

#: The update-time filter on GET /seller/v1/orders, as (from, to) parameter names.
#: The development guide names `__gte`/`__lte`-style operators without listing them for orders;
#: the single-order and single-delivery pages show `updated_at__ge`
#: (ref: https://developers.magalu.com/docs/plataforma-do-seller-pedidos/get_order.en/), but the
#: orders list in orders.openapi.yaml uses `updated_at__gte`/`updated_at__lte` (and
#: `purchased_at__gte`/`__lte`), as integrators reading that spec note ("in /orders the date
#: filters use __gte/__lte; /orders/{code} and /deliveries/{id} use __ge: a real inconsistency of
#: the contract") and as integrator code calls it (`purchased_at__gte`). We follow the list spec.
UPDATED_AT_FILTERS = ("updated_at__gte", "updated_at__lte")
#: oldest change first, so a run that stops midway has read a prefix of the window
ORDERS_SORT = "updated_at:asc"
#: `_offset` ceiling integrators report for /orders (PAGE_MAX_OFFSET 5000) [R]; past it the
#: window must be narrowed (the paginator raises PaginationCapReached instead of losing orders)
ORDERS_MAX_OFFSET = 5000

#: Stock PATCH body `type`: the sellable quantity (ref: integrator code consistent across
#: codebases; `{"quantity": N, "type": "AVAILABLE"}` plus `channel.id` when the seller has one).
STOCK_TYPE = "AVAILABLE"
#: ref: https://developers.magalu.com/docs/first-steps/create-an-application/authentication-authorization
AUTHORIZATION_URL = "https://id.magalu.com/login"
#: the seller scopes erpsync uses: orders and deliveries (read), SKUs (read), stocks (read, write)
SCOPES = (
    "open:order-order-seller:read",
    "open:order-delivery-seller:read",
    "open:portfolio-skus-seller:read",
    "open:portfolio-stocks-seller:read",
    "open:portfolio-stocks-seller:write",
)


class MagaluPaginator(OffsetPaginator):
    """`_offset`/`_limit` paging that adopts the server's `meta.page.limit`/`max_limit`.

    The guide: `count` is "the number of records returned on this page" (not a total), and
    `max_limit` the largest `_limit` the list accepts
    (ref: https://developers.magalu.com/docs/development-guide/pagination-filtering-sorting).
    A server that serves fewer records than we asked for because of its cap must not look like a
    short (last) page, so the page size shrinks to what the server says it served.
    """

    def __init__(self, limit: int, *, max_offset: int | None = None) -> None:
        super().__init__(limit, offset_param="_offset", limit_param="_limit", max_offset=max_offset)

    def update_state(self, response: httpx.Response, records: list[Any]) -> None:
        page = _page_meta(response)
        served = [page.get("limit"), page.get("max_limit")]
        caps = [v for v in served if isinstance(v, int) and not isinstance(v, bool) and v > 0]
        if caps and min(caps) < self.limit:
            self.limit = min(caps)
        super().update_state(response, records)

    def update_request(self, params: dict[str, Any]) -> None:
        super().update_request(params)
        params[self.limit_param or "_limit"] = self.limit


class MagaluConnector(
    HttpConnector[MagaluCredentials, MagaluOptions], OrderSource, ListingSource, StockSink
):
    """Magalu Open API: pulls orders by update time, lists SKUs, pushes stock per SKU."""

    type = "magalu"
    platform = mapping.PLATFORM
    # offset paging over a filter on the update time: an order updated mid-pull shifts
    # the pages, so the engine re-reads the window until a pass finds nothing new
    reread_until_stable = True
    #: ID Magalu's consent page; the seller picks the store (tenant) there. The code exchange
    #: posts JSON, as the docs' example does (the refresh grant is a form, see build_auth).
    #: ref: https://developers.magalu.com/docs/first-steps/create-an-application/authentication-authorization
    consent = OAuthConsent(
        AUTHORIZATION_URL,
        scopes=SCOPES,
        code_exchange="json",
        params={"choose_tenants": "true"},
        spaces="%20",
    )
    default_base_url = "https://api.magalu.com"
    default_auth_url = "https://id.magalu.com/oauth/token"
    emulator = "erpsync.connectors.magalu.emulator:MagaluEmulator"
    #: Limits are per minute and per seller. The numbers are not in the docs we could read [U];
    #: integrator notes copy a table from the rate-limit page (orders read 850/min, stocks
    #: write 650 / read 850, products read 550). We run at about half of it and rely on the 429
    #: backoff (Retry-After is honoured when sent; the page does not document it).
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {
        "default": RateLimit.per_minute(300, burst=5),
        "orders": RateLimit.per_minute(400, burst=5),
        "skus": RateLimit.per_minute(250, burst=5),
        "stock_read": RateLimit.per_minute(400, burst=5),
        "stock_write": RateLimit.per_minute(300, burst=5),
    }

    def build_auth(self) -> httpx.Auth:
        """ID Magalu refresh grant, form-encoded.

        ref: https://developers.magalu.com/docs/first-steps/create-an-application/authentication-authorization
        The doc's cURL for the refresh grant posts application/x-www-form-urlencoded (the code
        exchange posts JSON), as integrators noted and as RFC 6749 §6 specifies; integrator
        code refreshing successfully uses a form body too. The refresh token that comes back is
        stored whether or not it changed (rotation is not documented).
        """
        return self.oauth_refresh(body_format="form")

    # -- orders --------------------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders whose `updated_at` falls in the window, oldest change first.

        ref: https://developers.magalu.com/docs/plataforma-do-seller-pedidos/get_order.en/
        The list returns whole orders (deliveries, items, shipping), so no detail call is made.
        """
        since, until = UPDATED_AT_FILTERS
        params = {since: _iso(window.start), until: _iso(window.end), "_sort": ORDERS_SORT}
        pages = self.paginate(
            MagaluPaginator(self.options.page_size, max_offset=ORDERS_MAX_OFFSET),
            ORDERS_PATH,
            records=_results,
            operation="orders",
            params=params,
            headers=self._headers(),
        )
        for page in pages:
            records = page.records
            if not records:
                continue
            versions = {
                str(order["id"]): to_utc(order["updated_at"]) if order.get("updated_at") else None
                for order in records
            }
            current = seen.current_of(versions)
            raws = [
                RawOrder(str(order["id"]), versions[str(order["id"])], {"order": order})
                for order in records
                if str(order["id"]) not in current
            ]
            yield OrderPage(orders=raws)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return mapping.map_order(payload, self.name)

    # -- listings and stock --------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every portfolio SKU as a listing. ref: https://developers.magalu.com/docs/seller-produtos/get_skus_list/"""
        pages = self.paginate(
            MagaluPaginator(min(self.options.page_size, MAX_PAGE_SIZE)),
            SKUS_PATH,
            records=_results,
            operation="skus",
            headers=self._headers(),
        )
        for page in pages:
            if not page.records:
                continue
            yield [
                mapping.map_listing(
                    sku,
                    self.name,
                    self.read_stock(str(sku["sku"])) if self.options.listing_stock else None,
                )
                for sku in page.records
            ]

    def read_stock(self, sku: str) -> int | None:
        """The AVAILABLE quantity Magalu shows for ``sku`` now; None when it has no stock entry.

        ref: GET /seller/v1/portfolios/stocks/{sku} (integrator code: `{results:[{type,
        quantity, channel:{id}}]}`).
        """
        try:
            response = self.request(
                "GET", self._stock_path(sku), operation="stock_read", headers=self._headers()
            )
        except FatalError as exc:
            if exc.status_code == 404:
                return None
            raise
        return mapping.available_quantity(response.json(), self.options.channel_id)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """One PATCH per SKU (no batch endpoint exists); 202 means accepted, applied later.

        ref: PATCH /seller/v1/portfolios/stocks/{sku} (portfolio stocks, developers.magalu.com;
        the official page was not captured, so the body follows integrator code [R]).
        """
        return [self._push_one(update) for update in updates]

    def _push_one(self, update: StockUpdate) -> PushResult:
        body: dict[str, Any] = {"quantity": update.quantity, "type": STOCK_TYPE}
        if self.options.channel_id:
            body["channel"] = {"id": self.options.channel_id}
        try:
            response = self.request(
                "PATCH",
                self._stock_path(update.sku or update.item_id),
                operation="stock_write",
                expect_json=False,
                json=body,
                headers=self._headers(),
            )
        except FatalError as exc:  # this SKU refused (400/404): its result only
            return PushResult(item_id=update.item_id, ok=False, error=str(exc))
        # 202 Accepted: Magalu applies stock asynchronously; verify_pending reads it back later
        pending = response.status_code == httpx.codes.ACCEPTED
        return PushResult(item_id=update.item_id, ok=True, pending=pending)

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read back pushes that were accepted asynchronously; flag the ones that never landed."""
        results = []
        for update in updates:
            shown = self.read_stock(update.sku or update.item_id)
            if shown == update.quantity:
                results.append(PushResult(item_id=update.item_id, ok=True))
                continue
            what = "no stock entry" if shown is None else str(shown)
            error = f"push of {update.quantity} not applied (channel shows {what})"
            results.append(PushResult(item_id=update.item_id, ok=False, error=error))
        return results

    # -- checks and errors ---------------------------------------------------------------------

    def check(self) -> str:
        """Authenticate and read one order page."""
        response = self.request(
            "GET", ORDERS_PATH, operation="orders", params={"_limit": 1}, headers=self._headers()
        )
        page = _page_meta(response)
        channel = f", channel {self.options.channel_id}" if self.options.channel_id else ""
        max_limit = page.get("max_limit", "?")
        return f"authenticated with ID Magalu{channel}; orders readable (max_limit {max_limit})"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Turn the Open API error structure into one readable line.

        ref: https://developers.magalu.com/docs/development-guide/error-structure
        `{slug, message, details:[{field, location, slug, message}]}`.
        """
        status = response.status_code
        text = _describe_error(response)
        if status == 401:
            reason = response.headers.get("x-authorization-error")
            suffix = f" ({reason})" if reason else ""
            return AuthError(
                f"access token rejected after a refresh: {text}{suffix}; "
                f"re-authorise: erpsync connectors authorize {self.name}",
                connector=self.name,
                status_code=status,
            )
        if status == 403:
            return AuthError(
                f"forbidden: {text}; the consent must come from an ADMIN of the store and "
                "include the seller scopes (open:order-order-seller:read, "
                "open:portfolio-skus-seller:read, open:portfolio-stocks-seller:read/write)",
                connector=self.name,
                status_code=status,
            )
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)

    # -- helpers -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        """X-Channel-Id when configured: some doc pages require it, the token already scopes
        the tenant according to integrators, so it is sent only when the user sets one."""
        return {"X-Channel-Id": self.options.channel_id} if self.options.channel_id else {}

    @staticmethod
    def _stock_path(sku: str) -> str:
        return STOCK_PATH.format(sku=quote(sku, safe=""))


def _results(response: httpx.Response) -> list[Any]:
    data = response.json()
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise FatalError("list response without a results array")
    return results


def _page_meta(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    page = ((data or {}).get("meta") or {}).get("page") if isinstance(data, dict) else None
    return page if isinstance(page, dict) else {}


def _describe_error(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if not isinstance(data, dict):
        return response.reason_phrase or "error"
    head = ": ".join(str(part) for part in (data.get("slug"), data.get("message")) if part)
    details = []
    for detail in data.get("details") or []:
        if isinstance(detail, dict):
            where = " in ".join(str(p) for p in (detail.get("field"), detail.get("location")) if p)
            what = detail.get("message") or detail.get("slug") or ""
            details.append(f"{where}: {what}" if where else str(what))
    text = head or response.reason_phrase or "error"
    return f"{text} ({'; '.join(details)})" if details else text


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as the docs' examples write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
