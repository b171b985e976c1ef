"""The E-commerce da Olist connector (`type: vnda`, the Vnda API v2): declarations, auth and
the thin resource methods; the mappings live in orders.py, listings.py, stock.py, invoices.py
and shipping.py.

Every call carries `Authorization: Bearer <token>` and `X-Shop-Host: <store host>` (ref:
developers.vnda.com.br, "Chave de acesso e requisições"; the vendor's own curl in "Criação de
pedidos via API"). The token never expires; there is nothing to refresh.

Orders come from the Orders Feed by default (`GET {feed_base_url}/api/feed/orders`): a list of
order *events*, each a whole order snapshot, which the vendor recommends for integrations
("to avoid duplicated or missing orders"). Events are marked with `POST /api/feed/orders
{"orders": [{"code": ...}]}` so the feed moves on (ref: developers.vnda.com.br/api/orders/
operations/post-api-feed-orders) — and only after the engine has committed them (the engine's
``OrderPage.after_commit``), so a run that dies between reading and storing leaves the events
in the feed.
How many events one answer holds, and whether a mark also hides the order's later events,
is not documented [U]: the connector reads until an answer is empty, and an order that
changes after its mark is expected back as a new event (the emulator behaves so).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import httpx

from erpsync.connector import (
    HttpConnector,
    InvoiceSink,
    ListingSource,
    OrderPage,
    OrderSource,
    RateLimit,
    RawOrder,
    SeenOrders,
    StockSink,
    TrackingSink,
    Window,
)
from erpsync.connectors.vnda import invoices as invoice_map
from erpsync.connectors.vnda import listings as listing_map
from erpsync.connectors.vnda import orders as order_map
from erpsync.connectors.vnda import shipping as tracking_map
from erpsync.connectors.vnda import stock as stock_map
from erpsync.connectors.vnda.settings import VndaCredentials, VndaOptions
from erpsync.domain import (
    Invoice,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import AuthError, FatalError, RetriableError
from erpsync.http.auth import bearer
from erpsync.http.pagination import DrainPaginator, PageNumberPaginator
from erpsync.http.session import HttpSession, platform_message

ORDERS = "/api/v2/orders"
PRODUCTS = "/api/v2/products"
FEED = "/api/feed/orders"
BATCH_STOCK = "/api/v2/variants/quantity"


class VndaConnector(
    HttpConnector[VndaCredentials, VndaOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    TrackingSink,
):
    """E-commerce da Olist (Vnda): orders from the Orders Feed, variants as listings, stock by
    SKU, NF-e and tracking on the order's package."""

    type = "vnda"
    platform = order_map.PLATFORM
    default_base_url = "https://api.vnda.com.br"
    emulator = "erpsync.connectors.vnda.emulator:VndaEmulator"
    #: Vnda publishes no numbers [U: "Chave de acesso e requisições" and the API reference
    #: name none]; public clients retry 429 with backoff. Two requests a second with a burst
    #: of 10 is the cautious pace every call (feed, details, stock) shares.
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit(rate=2.0, burst=10)}
    push_batch_size = 500

    def build_session(self) -> HttpSession:
        session = super().build_session()
        session.headers["X-Shop-Host"] = self.options.shop_host
        session.headers["Accept"] = "application/json"
        return session

    def build_auth(self) -> httpx.Auth:
        return bearer(self.credentials.token.get_secret_value())

    def check(self) -> str:
        """Authenticate and read one order."""
        response = self.request("GET", ORDERS, params={"per_page": 1})
        total = _pagination(response).get("total_count", "?")
        return f"authenticated for store {self.options.shop_host}; {total} orders"

    # -- orders: OrderSource ---------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        if self.options.orders_from == "list":
            return self._listed_orders(window, seen)
        return self._feed_orders(seen)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return order_map.order_from_payload(payload, connector=self.name)

    def feed_url(self) -> str:
        """`options.feed_base_url`; else the configured `base_url` (a test server or a proxy:
        the API reference lists the feed on the API host too, https://api.vnda.com.br/api/
        feed/orders); else the store's own host, as the vendor's guide curls it."""
        base = (
            self.options.feed_base_url
            or (self.settings.base_url or "").rstrip("/")
            or f"https://{self.options.shop_host}"
        )
        return f"{base}{FEED}"

    def _feed_orders(self, seen: SeenOrders) -> Iterator[OrderPage]:
        """Every unmarked feed event, the newest snapshot per order; each answer is marked
        once the engine has stored it (see the module docstring). ref: GET /api/feed/orders"""
        mark = self.options.mark_feed and not self.context.dry_run
        # skip_seen: the events of an order whose read failed for now stay unmarked, so later
        # answers hold them again, beside new ones: only the new ones are read (once a run)
        paginator = DrainPaginator(order_map.event_key, drain=mark, skip_seen=True)
        for page in self.paginate(paginator, self.feed_url(), records=_records, operation="feed"):
            current = order_map.newest_per_order(page.records)
            raws = self._raw_orders(current, seen, reread=True)
            # an order left to the next run is not marked: the feed keeps it for that run
            later = {raw.external_id for raw in raws if isinstance(raw.failure, RetriableError)}
            codes = [code for code in _codes(page.records) if code not in later]
            if mark and not codes:
                paginator.stop()  # nothing to mark: asking again would get the same answer
            yield OrderPage(
                orders=raws,
                after_commit=partial(self._mark, codes) if mark and codes else None,
            )

    def _mark(self, codes: Sequence[str]) -> None:
        """The engine committed the answer; only now may the feed forget it. A failed mark
        fails the run (the events stay in the feed, read again next run).
        ref: POST /api/feed/orders"""
        self.request(
            "POST",
            self.feed_url(),
            operation="feed",
            expect_json=False,
            json={"orders": [{"code": code} for code in codes]},
        )

    def _listed_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Orders received within the window's days (store time), page by page with the
        `X-Pagination` header. ref: GET /api/v2/orders (start, finish, page, per_page)"""
        params = {
            "start": window.start.astimezone(order_map.LOCAL).date().isoformat(),
            "finish": window.end.astimezone(order_map.LOCAL).date().isoformat(),
            "per_page": self.options.per_page,
        }
        paginator = PageNumberPaginator(self.options.per_page, total_pages=_total_pages)
        for page in self.paginate(
            paginator, ORDERS, records=_records, operation="orders", params=params
        ):
            current = order_map.newest_per_order(page.records)
            yield OrderPage(
                orders=self._raw_orders(current, seen),
                listed=len(page.records),
                listing_total=_total_count(page.response) if page.number == 1 else None,
            )

    def _raw_orders(
        self, current: Mapping[str, Mapping[str, Any]], seen: SeenOrders, *, reread: bool = False
    ) -> list[RawOrder]:
        """Orders not stored at this version, completed with their items and address.

        ``reread``: read the order itself too (feed events). A mark hides every event of the
        order, those not read yet included (it is per order: "marcar os pedidos"), so the
        newest snapshot of one answer may not be the newest there is: the order resource is."""
        versions: dict[str, Any] = {}
        for key, event in current.items():
            try:
                versions[key] = order_map.version(event)[1]
            except ValueError:
                versions[key] = None  # mapped (and quarantined) as it is
        stored = seen.current_of({k: v for k, v in versions.items() if v is not None})
        wanted = [key for key in current if key not in stored]
        # each order's reads are independent of the others': orders in flight together,
        # paced by the rate limit (one order's reads stay in order: the first says what else)
        todo = [key for key in wanted if versions[key] is not None]
        completed = self.each(lambda key: self._complete(current[key], reread=reread), todo)
        payloads = dict(zip(todo, completed, strict=True))
        raws = []
        for key in wanted:
            if versions[key] is None:
                raws.append(RawOrder(key, None, dict(current[key])))
                continue
            read = payloads[key]
            if read.error is not None:
                # this order's reads failed: it fails alone (the engine leaves a transient
                # failure to the next run, quarantines a refusal with the snapshot at hand)
                raws.append(RawOrder(key, versions[key], dict(current[key]), failure=read.error))
                continue
            payload = read.value
            assert payload is not None
            try:
                moment = order_map.version(payload)[1]
            except ValueError:
                moment = None
            raws.append(RawOrder(key, moment, payload))
        return raws

    def _complete(self, order: Mapping[str, Any], *, reread: bool) -> dict[str, Any]:
        """The order (read again when ``reread``) with `items` and `shipping_address` from
        their sub-resources when they are not inline (feed events and the order resource
        carry neither). ref: GET /api/v2/orders/{code}, /items, /shipping_address"""
        code = order_map.code_of(order)
        fresh = self._detail(f"{ORDERS}/{code}") if reread else None
        payload = dict(fresh) if isinstance(fresh, Mapping) else dict(order)
        if not isinstance(payload.get("items"), list):
            items = self._detail(f"{ORDERS}/{code}/items")
            if isinstance(items, list):
                payload["items"] = items
        if not isinstance(payload.get("shipping_address"), Mapping):
            address = self._detail(f"{ORDERS}/{code}/shipping_address")
            if isinstance(address, Mapping):
                payload["shipping_address"] = address
        return payload

    def _detail(self, path: str) -> Any:
        """A sub-resource; a 404 (the order vanished) leaves it out, and the mapping says
        what is missing."""
        return self.read_optional(path, operation="orders")

    # -- listings and stock ----------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every product's variants (inline in the product list [R: public clients read them
        there], else from the product's variants). ref: GET /api/v2/products"""
        paginator = PageNumberPaginator(self.options.per_page, total_pages=_total_pages)
        params = {"per_page": self.options.per_page}
        for page in self.paginate(
            paginator, PRODUCTS, records=_records, operation="products", params=params
        ):
            batch = [
                listing
                for product in page.records
                if isinstance(product, Mapping)
                for listing in listing_map.listings_from_payload(
                    self._with_variants(product), connector=self.name
                )
            ]
            if batch:
                yield batch

    def _with_variants(self, product: Mapping[str, Any]) -> Mapping[str, Any]:
        """The product with its variants: inline, or from its sub-resource when the list
        leaves them out. ref: GET /api/v2/products/{product_id}/variants"""
        if isinstance(product.get("variants"), list) or product.get("id") is None:
            return product
        variants = self._detail(f"{PRODUCTS}/{product['id']}/variants")
        return {**product, "variants": variants if isinstance(variants, list) else []}

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """One SKU per call for a few (each with its own answer); the batch endpoint for many
        (applied in the background: pending until read back)."""
        sendable = [u for u in updates if _sendable(u)]
        refused = [
            stock_map.failed(u, "the Vnda variant has no SKU to send stock to")
            for u in updates
            if not _sendable(u)
        ]
        if len(sendable) >= self.options.batch_from:
            return refused + self._push_batch(sendable)
        return refused + [self._push_one(u) for u in sendable]

    def _push_one(self, update: StockUpdate) -> PushResult:
        """ref: POST /api/v2/variants/{sku}/quantity?quantity=<n>"""
        try:
            response = self.request(
                "POST",
                stock_map.single_path(update),
                operation="stock",
                params={"quantity": update.quantity},
            )
        except FatalError as exc:
            return stock_map.failed(update, str(exc))
        return stock_map.single_result(update, response.json())

    def _push_batch(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """ref: POST /api/v2/variants/quantity (applied in about a minute)"""
        try:
            self.request(
                "POST",
                BATCH_STOCK,
                operation="stock",
                expect_json=False,
                json=stock_map.batch_body(updates),
            )
        except FatalError as exc:
            return [stock_map.failed(u, str(exc)) for u in updates]
        return [stock_map.ok(u, pending=True) for u in updates]

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """Read each product back. ref: GET /api/v2/products/{id}"""
        by_product: dict[str, list[StockUpdate]] = {}
        for update in updates:
            by_product.setdefault(update.item_id, []).append(update)
        results: list[PushResult] = []
        for product_id, group in by_product.items():
            try:
                product = self.request("GET", f"{PRODUCTS}/{product_id}").json()
            except FatalError as exc:
                results += [stock_map.failed(u, str(exc)) for u in group]
                continue
            results += stock_map.read_back(group, product)
        return results

    # -- post-sale -------------------------------------------------------------------------------

    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Each NF-e on its order's package; the same key already there is a replay."""
        return self.send_each(self._push_invoice, invoices, ref=_invoice_ref)

    def _push_invoice(self, invoice: Invoice) -> SendResult:
        ref, code = _invoice_ref(invoice), invoice.order_external_id
        if not code:
            return SendResult(ref=ref, ok=False, error="the NF-e names no Vnda order")
        order = self._order(code)
        if order is None:
            return SendResult(ref=ref, ok=False, error=f"order {code} not on Vnda")
        why = invoice_map.refusal(invoice, order)
        if why is not None:
            return SendResult(ref=ref, ok=False, error=why, retry="not confirmed" in why)
        package = invoice_map.package_for(invoice, self._packages(code))
        if package is None:
            return SendResult(
                ref=ref, ok=False, retry=True, error="the order has no single package yet"
            )
        path = f"{ORDERS}/{code}/packages/{package}/invoices"
        if invoice_map.held(self.request("GET", path).json(), ref):
            return SendResult(ref=ref, ok=True, remote_id=package)
        self.request("POST", path, json=invoice_map.body(invoice))
        return SendResult(ref=ref, ok=True, remote_id=package)

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Each tracking code on the order's only package; a code already there is a replay.
        Vnda ships per order: each update's ``shipment_ref`` is the order's code.
        ref: POST /api/v2/orders/{code}/packages/{package_code}/trackings"""
        return self.send_each(self._push_tracking, updates, ref=_tracking_ref)

    def _push_tracking(self, update: TrackingUpdate) -> SendResult:
        ref, code = _tracking_ref(update), update.order_external_id
        order = self._order(code)
        if order is None:
            return SendResult(ref=ref, ok=False, error=f"order {code} not on Vnda")
        if order.get("status") == "canceled":
            return SendResult(ref=ref, ok=False, error="the Vnda order is canceled")
        package = tracking_map.package_for(self._packages(code))
        if package is None:
            return SendResult(
                ref=ref, ok=False, retry=True, error="the order has no single package yet"
            )
        path = f"{ORDERS}/{code}/packages/{package}/trackings"
        if not tracking_map.held(self.request("GET", path).json(), update.tracking_code):
            self.request("POST", path, json=tracking_map.body(update))
        return SendResult(ref=ref, ok=True, remote_id=package)

    def _order(self, code: str) -> dict[str, Any] | None:
        answer = self._detail(f"{ORDERS}/{code}")
        return answer if isinstance(answer, dict) else None

    def _packages(self, code: str) -> list[Mapping[str, Any]]:
        answer = self._detail(f"{ORDERS}/{code}/packages")
        return [p for p in answer if isinstance(p, Mapping)] if isinstance(answer, list) else []

    # -- errors ----------------------------------------------------------------------------------

    def classify_error(self, response: httpx.Response) -> Exception | None:
        """Vnda's error bodies: `{"error": "..."}` (404: "Domínio de loja não encontrado" when
        X-Shop-Host names no store), `{"errors": {field: [...]}}` (422), `{"status": "error",
        "message": ...}` (stock)."""
        status = response.status_code
        text = _describe(response)
        if status in (401, 403):
            return AuthError(
                f"token refused (HTTP {status}: {text}): create a token in the store's Admin → "
                f"Configurações → Integrações → API and set connectors.{self.name}."
                "credentials.token",
                connector=self.name,
                status_code=status,
            )
        if status == 404 and "loja" in text.lower():
            return FatalError(
                f"HTTP 404 {text}: no store answers to X-Shop-Host {self.options.shop_host}; "
                f"check connectors.{self.name}.options.shop_host",
                connector=self.name,
                status_code=status,
            )
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)


def _records(response: httpx.Response) -> list[Any]:
    data = response.json()
    if isinstance(data, list):
        return data
    raise FatalError(f"expected a JSON list, got {type(data).__name__}")


def _pagination(response: httpx.Response) -> dict[str, Any]:
    """The `X-Pagination` header: `{total_pages, total_count, current_page, prev_page,
    next_page}` (ref: developers.vnda.com.br, "Filtros e paginação")."""
    try:
        data = json.loads(response.headers.get("X-Pagination", "{}"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _total_count(response: httpx.Response) -> int | None:
    """How many orders the listing holds (`total_count`), for the progress line."""
    count = _pagination(response).get("total_count")
    return int(count) if isinstance(count, int | str) and str(count).isdigit() else None


def _total_pages(response: httpx.Response) -> int | None:
    meta = _pagination(response)
    if meta.get("next_page") is False:
        return int(meta.get("current_page") or 0) or None
    pages = meta.get("total_pages")
    return int(pages) if isinstance(pages, int | str) and str(pages).isdigit() else None


def _has_code(event: Any) -> bool:
    return isinstance(event, Mapping) and isinstance(event.get("code"), str | int)


def _sendable(update: StockUpdate) -> bool:
    sku = stock_map.sku(update)
    return bool(sku) and not sku.startswith("#")


def _describe(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("errors"), dict):
        return "; ".join(
            f"{field}: {', '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for field, msgs in data["errors"].items()
        )
    return platform_message(response) or response.reason_phrase


def _codes(events: Iterable[Any]) -> list[str]:
    return sorted({str(e["code"]) for e in events if _has_code(e)})


def _invoice_ref(invoice: Invoice) -> str:
    return invoice.access_key


def _tracking_ref(update: TrackingUpdate) -> str:
    return update.shipment_ref or update.order_external_id
