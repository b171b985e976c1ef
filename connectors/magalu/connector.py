"""The Magalu Open API connector (`type: magalu`): orders, portfolio SKUs and stock pushes.

Declarations, auth and errors here; the resources delegate to their pure modules: orders.py
(the mapper and status tables), listings.py, stock.py (PATCH bodies, read-back), paging.py
(the list envelope), errors.py (the error structure).

Auth is ID Magalu OAuth2 (authorization code, then refresh tokens); calls go to the seller
Open API on api.magalu.com. Docs: https://developers.magalu.com (development guide, orders,
portfolios). Where the docs are silent or contradict each other, the choice and its source are
written next to the constant that encodes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from erpsync.connector import (
    HttpConnector,
    InvoiceSink,
    LabelSource,
    ListingSource,
    OAuthConsent,
    OrderPage,
    OrderSource,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.magalu import listings, orders, paging, postsale, stock
from erpsync.connectors.magalu.errors import describe_error
from erpsync.connectors.magalu.settings import MAX_PAGE_SIZE, MagaluCredentials, MagaluOptions
from erpsync.domain import (
    Invoice,
    Label,
    LabelRequest,
    LabelResult,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
    to_utc,
)
from erpsync.errors import AuthError, FatalError, RetriableError

ORDERS_PATH = "/seller/v1/orders"
SKUS_PATH = "/seller/v1/portfolios/skus"

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
#: order pages requested ahead at most; the core asks for fewer when the orders limit spends
#: fewer in a round trip (6.7/s at 300 ms: 3), and at most these are wasted past the last page
ORDERS_PAGES_AHEAD = 4
#: the same for the SKU list: a portfolio of 10,000 SKUs is 200 pages, one round trip each
#: (60 s at 300 ms) where its limit (250/min) lets them go in 48 s
SKUS_PAGES_AHEAD = 4
#: ref: https://developers.magalu.com/docs/first-steps/create-an-application/authentication-authorization
AUTHORIZATION_URL = "https://id.magalu.com/login"
#: the seller scopes erpsync uses: orders (read), deliveries (read; write for the NF-e and the
#: shipping: the add-invoice and ship-delivery pages require open:order-delivery-seller:write),
#: SKUs (read), stocks (read, write)
SCOPES = (
    "open:order-order-seller:read",
    "open:order-delivery-seller:read",
    "open:order-delivery-seller:write",
    "open:portfolio-skus-seller:read",
    "open:portfolio-stocks-seller:read",
    "open:portfolio-stocks-seller:write",
)


class MagaluConnector(
    HttpConnector[MagaluCredentials, MagaluOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    LabelSource,
    TrackingSink,
):
    """Magalu Open API: pulls orders by update time, lists SKUs, pushes stock per SKU, the
    NF-e per delivery, Magalu Entregas labels, tracking of the seller's own deliveries."""

    type = "magalu"
    platform = orders.PLATFORM
    # offset paging over a filter on the update time: an order updated mid-pull shifts
    # the pages. The pages overlap by one order, which proves each boundary intact; only
    # when one is not does the engine re-read the window (until a pass finds nothing new)
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

    # -- orders: OrderSource -----------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders whose `updated_at` falls in the window, oldest change first.

        ref: https://developers.magalu.com/docs/plataforma-do-seller-pedidos/get_order.en/
        The list returns whole orders (deliveries, items, shipping), so no detail call is made.
        """
        since, until = UPDATED_AT_FILTERS
        params = {since: _iso(window.start), until: _iso(window.end), "_sort": ORDERS_SORT}
        # the list tells no total: later pages are requested before they are asked for
        # (``ahead``), and the next page is read while the engine commits this one
        pages = self.read_ahead(
            self.paginate(
                paging.paginator(
                    self.options.page_size, max_offset=ORDERS_MAX_OFFSET, overlap=True
                ),
                ORDERS_PATH,
                records=paging.results,
                operation="orders",
                params=params,
                headers=self._headers(),
                ahead=ORDERS_PAGES_AHEAD,
            )
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
        return orders.order_from_payload(payload, connector=self.name)

    # -- listings: ListingSource ---------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every portfolio SKU as a listing. ref: https://developers.magalu.com/docs/seller-produtos/get_skus_list/"""
        pages = self.paginate(
            paging.paginator(min(self.options.page_size, MAX_PAGE_SIZE)),
            SKUS_PATH,
            records=paging.results,
            operation="skus",
            headers=self._headers(),
            ahead=SKUS_PAGES_AHEAD,
        )
        for page in pages:
            if page.records:
                yield [self._listing(sku) for sku in page.records]

    def _listing(self, sku: Mapping[str, Any]) -> Listing:
        quantity = self.read_stock(str(sku["sku"])) if self.options.listing_stock else None
        return listings.listing_from_payload(sku, connector=self.name, quantity=quantity)

    # -- stock: StockSink ----------------------------------------------------------------------

    def read_stock(self, sku: str) -> int | None:
        """The AVAILABLE quantity Magalu shows for ``sku`` now; None when it has no stock entry.

        ref: GET /seller/v1/portfolios/stocks/{sku} (integrator code: `{results:[{type,
        quantity, channel:{id}}]}`).
        """
        try:
            response = self.request(
                "GET", stock.stock_path(sku), operation="stock_read", headers=self._headers()
            )
        except FatalError as exc:
            if exc.status_code == 404:
                return None
            raise
        return stock.available_quantity(response.json(), self.options.channel_id)

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """One PATCH per SKU (no batch endpoint exists), sent together (the stock_write
        limit paces them); 202 means accepted, applied later."""
        return [outcome.get() for outcome in self.each(self._push_one, updates)]

    def _push_one(self, update: StockUpdate) -> PushResult:
        try:
            response = self.request(
                "PATCH",
                stock.stock_path(stock.stock_sku(update)),
                operation="stock_write",
                expect_json=False,
                json=stock.stock_body(update, self.options.channel_id),
                headers=self._headers(),
            )
        except FatalError as exc:  # this SKU refused (400/404): its result only
            return PushResult(item_id=update.item_id, ok=False, error=str(exc))
        # 202 Accepted: Magalu applies stock asynchronously; verify_pending reads it back later
        pending = response.status_code == httpx.codes.ACCEPTED
        return PushResult(item_id=update.item_id, ok=True, pending=pending)

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read back pushes that were accepted asynchronously; flag the ones that never landed."""
        levels = self.each(lambda u: self.read_stock(stock.stock_sku(u)), updates)
        return [stock.verified(u, level.get()) for u, level in zip(updates, levels, strict=True)]

    # -- post-sale (per delivery: connectors/magalu/postsale.py) ------------------------------

    label_formats = frozenset({"pdf", "zpl"})
    label_batch_size = 10
    # the seller's own carrier only: Magalu Entregas and fulfillment deliveries are Magalu's
    # to ship and track (connectors/magalu/orders.py names each delivery's logistic type)
    tracking_logistic_types = frozenset({orders.OWN_LOGISTICS})

    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Each NF-e on its delivery (`POST /seller/v1/deliveries/{id}/invoices`)."""
        return [self._push_invoice(invoice) for invoice in invoices]

    def _push_invoice(self, invoice: Invoice) -> SendResult:
        ref = invoice.access_key
        if not invoice.shipment_ref:
            return SendResult(ref=ref, ok=False, error="the NF-e is linked to no Magalu delivery")
        if invoice.xml is None:
            return SendResult(ref=ref, ok=False, error="no XML stored")
        path = postsale.INVOICE_PATH.format(delivery_id=invoice.shipment_ref)
        try:
            self.request(
                "POST",
                path,
                operation="invoices",
                json=postsale.invoice_body(invoice, self.options.channel_id),
                headers=self._headers(),
            )
        except RetriableError as exc:
            return SendResult(ref=ref, ok=False, retry=True, error=str(exc))
        except FatalError as exc:
            if exc.status_code != 409:
                return SendResult(ref=ref, ok=False, error=str(exc))
            # 409: the delivery holds this key already (a replay) [U]; its validation is read
            # back like a new one's
        # 201 {status: "awaiting_validation"}: Magalu validates the NF-e afterwards; the next
        # run reads the delivery's invoices back (verify_invoices)
        return SendResult(ref=ref, ok=True, pending=True, remote_id=invoice.shipment_ref)

    def verify_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """`GET /seller/v1/deliveries/{id}/invoices` per delivery: the NF-e approved,
        still validating, or invalid (refused); a key Magalu does not list is sent again."""
        results = []
        for invoice in invoices:
            ref = invoice.access_key
            if not invoice.shipment_ref:
                results.append(SendResult(ref=ref, ok=False, retry=True, error="no delivery"))
                continue
            path = postsale.INVOICE_PATH.format(delivery_id=invoice.shipment_ref)
            try:
                answer = self.request(
                    "GET", path, operation="invoices", headers=self._headers()
                ).json()
            except RetriableError as exc:  # asked again next run
                results.append(SendResult(ref=ref, ok=True, pending=True, error=str(exc)))
                continue
            except FatalError as exc:
                results.append(SendResult(ref=ref, ok=False, retry=True, error=str(exc)))
                continue
            results.append(postsale.invoice_status(invoice, answer))
        return results

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Per delivery: `GET /seller/v1/deliveries/{id}`, then `POST .../shippings` with the
        tracking code (``protocol``), URL, carrier and ship date once the delivery is invoiced;
        a delivery Magalu already shows shipped or delivered is taken as done (a replay)."""
        return self.send_each(self._ship, updates, ref=lambda u: u.shipment_ref)

    def _ship(self, update: TrackingUpdate) -> SendResult:
        ref = update.shipment_ref
        delivery = self.request(
            "GET",
            postsale.DELIVERY_PATH.format(delivery_id=ref),
            operation="deliveries",
            headers=self._headers(),
        ).json()
        kind = orders.logistic_type(delivery)
        if kind != orders.OWN_LOGISTICS:
            return SendResult(
                ref=ref, ok=False, error=f"a {kind} delivery: Magalu ships and tracks it"
            )
        early = postsale.shipping_precheck(update, delivery)
        if early is not None:
            return early
        # not idempotent: a lost answer is not resent blind; the next run's GET shows whether
        # Magalu took it (the delivery is then shipped)
        answer = self.request(
            "POST",
            postsale.SHIPPINGS_PATH.format(delivery_id=ref),
            operation="shippings",
            json=postsale.shipping_body(update, self.options.channel_id, self.now()),
            headers=self._headers(),
            idempotent=False,
        ).json()
        shipping_id = answer.get("id") if isinstance(answer, dict) else None
        return SendResult(ref=ref, ok=True, remote_id=str(shipping_id or ref))

    def fetch_labels(self, requests: Sequence[LabelRequest], *, format: str) -> list[LabelResult]:
        """Per delivery: ask for the label, then download its signed URL (no bearer token:
        it is a storage host) before it expires."""
        return [self._label(request, format) for request in requests]

    def _label(self, request: LabelRequest, format: str) -> LabelResult:
        ref = request.shipment_ref
        never = postsale.NEVER_LABEL.get(request.logistic_type or "")
        if never is not None:
            return LabelResult(ref=ref, reason=never, never=True)
        try:
            answer = self.request(
                "POST",
                postsale.LABELS_PATH,
                operation="labels",
                json=postsale.label_body(ref, format, self.options.channel_id),
                headers=self._headers(),
            ).json()
        except FatalError as exc:  # not invoiced yet, not Magalu Entregas: Magalu says which
            return LabelResult(ref=ref, reason=str(exc))
        url = postsale.signed_url(answer)
        if url is None:
            return LabelResult(ref=ref, reason="Magalu answered no signed URL")
        try:
            content = self.request(
                "GET", url, operation="labels", auth=None, expect_json=False
            ).content
        except FatalError as exc:
            return LabelResult(ref=ref, reason=f"label download refused: {exc}")
        label = Label(
            order_external_id=request.order_external_id,
            shipment_ref=ref,
            format=format,
            content_type="application/pdf" if format == "pdf" else "text/plain",
            content=content,
        )
        return LabelResult(ref=ref, label=label)

    # -- checks and errors ---------------------------------------------------------------------

    def check(self) -> str:
        """Authenticate and read one order page."""
        response = self.request(
            "GET", ORDERS_PATH, operation="orders", params={"_limit": 1}, headers=self._headers()
        )
        page = paging.page_meta(response)
        channel = f", channel {self.options.channel_id}" if self.options.channel_id else ""
        max_limit = page.get("max_limit", "?")
        return f"authenticated with ID Magalu{channel}; orders readable (max_limit {max_limit})"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Turn the Open API error structure into one readable error (errors.py)."""
        status = response.status_code
        text = describe_error(response)
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
                "open:order-delivery-seller:read/write, open:portfolio-skus-seller:read, "
                "open:portfolio-stocks-seller:read/write)",
                connector=self.name,
                status_code=status,
            )
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)

    # -- helpers -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        """X-Channel-Id when configured: some doc pages require it, the token already scopes
        the tenant according to integrators, so it is sent only when the user sets one."""
        return {"X-Channel-Id": self.options.channel_id} if self.options.channel_id else {}


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as the docs' examples write times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
