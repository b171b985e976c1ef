"""The Anymarket connector (`type: anymarket`): declarations, auth and the thin resource
methods; the mappings live in orders.py, listings.py, stock.py and invoices.py.

API v2 at `{base_url}/v2/...` with the integration token in the `gumgaToken` header
(AnyMarket/anymarket-sdk-java `AnymarketTokenHeader`; no OAuth, no refresh). The sandbox host
is `http://sandbox-api.anymarket.com.br` (the SDK's `ANYMARKET_HOMOLOG_API_ENDPOINT`).

Orders come through the feed, the incremental method the hub recommends (the list has no
"updated since" filter): `GET /v2/orders/feeds` names the orders that changed, each with a feed
token; each is read with `GET /v2/orders/{id}`, stored, and only after its page's transaction
has committed acknowledged with `PUT /v2/orders/feeds/{id} {"token": ...}` (the engine's
``OrderPage.after_commit``). Unacknowledged entries come back in the next read, so a run that
dies between the commit and the acknowledgement reads those orders again, harmlessly. An
order whose read fails fails alone: a transient failure (5xx after the retries, a body that is
not JSON) leaves its entry unacknowledged for the next run, a refusal (404, an answer that is
not an order) is quarantined and acknowledged; its neighbours are stored and acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from erpsync.connectors.anymarket import invoices as post
from erpsync.connectors.anymarket import listings as listing_map
from erpsync.connectors.anymarket import orders as order_map
from erpsync.connectors.anymarket import stock as stock_map
from erpsync.connectors.anymarket.settings import AnymarketCredentials, AnymarketOptions
from erpsync.domain import (
    Invoice,
    Listing,
    Order,
    PushResult,
    SendResult,
    StockUpdate,
    TrackingUpdate,
)
from erpsync.errors import AuthError, ConnectorError, FatalError, RetriableError
from erpsync.http.auth import HeaderAuth
from erpsync.http.pagination import DrainPaginator, NextUrlPaginator, OffsetPaginator
from erpsync.http.session import platform_message

log = logging.getLogger("erpsync.connectors.anymarket")

#: the API's path prefix; base_url is the host the documented `/v2/...` paths are relative to
V2 = "/v2"


@dataclass(frozen=True)
class FeedEntry:
    """One `GET /v2/orders/feeds` element: an order that changed, and the token that
    acknowledges this very change."""

    order_id: str
    token: str


class AnymarketConnector(
    HttpConnector[AnymarketCredentials, AnymarketOptions],
    OrderSource,
    ListingSource,
    StockSink,
    InvoiceSink,
    TrackingSink,
):
    """Anymarket: marketplace orders through the hub's feed (acknowledged after commit), SKUs
    by `partnerId`, stock in batches, NF-e and tracking back to the hub."""

    type = "anymarket"
    platform = order_map.PLATFORM
    default_base_url = "https://api.anymarket.com.br"
    emulator = "erpsync.connectors.anymarket.emulator:AnymarketEmulator"
    #: ANYMARKET publishes no request rate we could find (the API notes mark it [U]); public
    #: integrator scripts pace at about one request a second and retry 429s. We declare 3/s
    #: with a burst of 10; 429s (with Retry-After when sent) are retried by the core.
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {"default": RateLimit(rate=3.0, burst=10)}
    push_batch_size = stock_map.MAX_BATCH

    def build_auth(self) -> httpx.Auth:
        # `gumgaToken: <token>` on every request (the Java SDK sends only this header; some
        # clients pass `?gumgaToken=`, which would put the secret in URLs and logs)
        return HeaderAuth("gumgaToken", self.credentials.token.get_secret_value())

    # -- orders: OrderSource ---------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        """Every order the feed names, one page per feed read; the window does not apply (the
        feed holds what changed since the last acknowledgement). Each page acknowledges its
        entries once committed; a dry run acknowledges nothing, so entries already read in
        this pull end it. ref: PHP SDK `Services/Order.php` feed()/feedUpdate()"""
        paginator = DrainPaginator(lambda entry: entry, skip_seen=True)
        for page in self.paginate(
            paginator, f"{V2}/orders/feeds", records=_feed_entries, operation="feeds"
        ):
            fresh = page.records  # entries not acknowledged yet come back: only the new ones
            if not fresh:
                continue  # the last answer: nothing new
            # the orders' reads together (the rate limit paces them); a failed read fails its
            # own order only (RawOrder.failure): the engine leaves a transient failure to the
            # next run and quarantines a refusal, the neighbours are stored either way
            reads = self.each(self._fetch, fresh)
            raws = [
                _failed(entry, read.error) if read.error is not None else read.get()
                for entry, read in zip(fresh, reads, strict=True)
            ]
            # an order left to the next run keeps its entry unacknowledged: the feed names it
            # again (the next run's first read). A quarantined one is acknowledged, as an
            # order that does not map is: its entry would otherwise come back every read, and
            # enough of them would fill the feed's answers; the order's next change names it
            # again. (Vnda's feed marks the same way.)
            later = {raw.external_id for raw in raws if isinstance(raw.failure, RetriableError)}
            acked = [entry for entry in fresh if entry.order_id not in later]
            stored = [raw for raw in raws if raw.failure is None]
            yield OrderPage(raws, after_commit=partial(self._after_commit, acked, stored))

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return order_map.order_from_payload(payload, connector=self.name)

    def _fetch(self, entry: FeedEntry) -> RawOrder:
        """The order as it is now. A 404 (the feed names an order the API does not know) or
        an answer that is not an order raises FatalError: that order is quarantined."""
        path = f"{V2}/orders/{entry.order_id}"
        order = self.request("GET", path).json()
        if not isinstance(order, dict):
            raise FatalError(f"GET {path}: the answer is not an object", connector=self.name)
        fetched = self.now()
        return RawOrder(
            entry.order_id,
            fetched,
            {"order": order, "fetched_at": fetched.isoformat()},
        )

    def _after_commit(self, entries: Sequence[FeedEntry], raws: Sequence[RawOrder]) -> None:
        """The page is committed: acknowledge its feed entries, then write our reference
        back on the orders that do not carry one. A failure here loses nothing (the entry
        comes back and is read again), so it is logged, not raised. The entries'
        acknowledgements go together, then the write-backs together (each its own order's)."""
        self.each(self._acknowledge, entries)
        if self.options.write_partner_id:
            self.each(self._write_partner_id, raws)

    def _acknowledge(self, entry: FeedEntry) -> None:
        try:
            self.request(
                "PUT",
                f"{V2}/orders/feeds/{entry.order_id}",
                operation="feeds",
                json={"token": entry.token},
                expect_json=False,
            )
        except ConnectorError as exc:
            log.warning(
                "%s: feed entry of order %s not acknowledged (it comes back): %s",
                self.name,
                entry.order_id,
                exc,
            )

    def partner_ref(self, external_id: str) -> str:
        """Our reference of an Anymarket order, written back as its `partnerId`: what
        `erpsync orders show` takes."""
        return f"{self.name}:{external_id}"

    def _write_partner_id(self, raw: RawOrder) -> None:
        order, _ = order_map.unwrap(raw.payload)
        ours = self.partner_ref(raw.external_id)
        if order.get("partnerId") == ours:
            return
        try:
            self.map_order(raw.payload)  # a quarantined order is not integrated: say nothing
        except (ValueError, KeyError, TypeError):
            return
        try:
            self.request(
                "PUT",
                f"{V2}/orders/partnerid/{raw.external_id}",
                json={"id": int(raw.external_id), "partnerId": ours},
                expect_json=False,
            )
        except ConnectorError as exc:
            log.warning("%s: partnerId of order %s not written: %s", self.name, ours, exc)

    # -- listings and stock ----------------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        """Every product's SKUs, following the HATEOAS `links` rel=next.
        ref: Java SDK `ProductService` (GET /v2/products?offset=&limit=)"""
        # the next page is read while this one's listings are stored (HttpConnector.read_ahead)
        pages = self.read_ahead(
            self.paginate(
                _FirstThenNext(self.options.page_size),
                f"{V2}/products",
                records=_content,
                operation="products",
            )
        )
        for page in pages:
            batch = [
                listing
                for product in page.records
                for listing in listing_map.listings_from_payload(product, connector=self.name)
            ]
            if batch:
                yield batch

    def stock_locations(self) -> Mapping[str, str]:
        """`options.stock_local_ids`: erpsync location -> ANYMARKET stock local id."""
        return {place: str(local) for place, local in self.options.stock_local_ids.items()}

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        """`PUT /v2/stocks` in batches; a refused batch is retried element by element, so
        one unknown SKU (or stock local) fails alone."""
        locals_ = self.options.stock_local_ids
        results = [
            stock_map.failed(u, f"location {u.location!r} is not in options.stock_local_ids")
            for u in updates
            if locals_ and u.location not in locals_
        ]
        wanted = [u for u in updates if not locals_ or u.location in locals_]
        local = self.options.stock_local_id
        for start in range(0, len(wanted), stock_map.MAX_BATCH):
            batch = wanted[start : start + stock_map.MAX_BATCH]
            try:
                self._put_stocks(stock_map.body(batch, local, locals_))
            except FatalError:
                results += [self._push_one(update) for update in batch]
            else:
                results += stock_map.accepted(batch)
        return results

    def _push_one(self, update: StockUpdate) -> PushResult:
        options = self.options
        local = stock_map.local_of(update, options.stock_local_id, options.stock_local_ids)
        try:
            self._put_stocks([stock_map.element(update, local)])
        except FatalError as exc:
            return stock_map.failed(update, str(exc))
        return PushResult(item_id=update.item_id, location=update.location, ok=True)

    def _put_stocks(self, body: list[dict[str, Any]]) -> None:
        self.request("PUT", f"{V2}/stocks", operation="stocks", json=body, expect_json=False)

    # -- post-sale: InvoiceSink, TrackingSink ----------------------------------------------------

    def push_invoices(self, invoices: Sequence[Invoice]) -> list[SendResult]:
        """Each NF-e: the order to INVOICED with the invoice data, then the XML to
        `/v2/orders/{id}/nfe`. An order already invoiced with this key is a replay (the XML
        is sent again: a PUT, harmless)."""
        return self.send_each(self._push_invoice, invoices, ref=_invoice_ref)

    def _push_invoice(self, invoice: Invoice) -> SendResult:
        ref, order_id = _invoice_ref(invoice), invoice.order_external_id
        if not order_id:
            return SendResult(ref=ref, ok=False, error="the NF-e names no Anymarket order")
        order = self._order(order_id)
        if order is None:
            return SendResult(ref=ref, ok=False, error=f"order {order_id} not on Anymarket")
        why, retry = post.invoice_refusal(invoice, order)
        if why is not None:
            return SendResult(ref=ref, ok=False, retry=retry, error=why)
        if post.invoice_key(order) != invoice.access_key:
            self.request(
                "PUT",
                f"{V2}/orders/{order_id}",
                json=post.invoice_body(invoice),
                expect_json=False,
            )
        if invoice.xml:
            self.request(
                "PUT",
                f"{V2}/orders/{order_id}/nfe",
                content=invoice.xml,
                headers={"Content-Type": "application/xml"},
                expect_json=False,
            )
        return SendResult(ref=ref, ok=True, remote_id=order_id)

    def push_tracking(self, updates: Sequence[TrackingUpdate]) -> list[SendResult]:
        """Each shipment: the order to PAID_WAITING_DELIVERY with its tracking (after the
        invoice, as the hub's transitions require); the same tracking again is a replay."""
        return self.send_each(self._push_tracking, updates, ref=_tracking_ref)

    def _push_tracking(self, update: TrackingUpdate) -> SendResult:
        ref = _tracking_ref(update)
        order = self._order(update.order_external_id)
        if order is None:
            return SendResult(ref=ref, ok=False, error="order not on Anymarket")
        if post.already_shipped(order, update):
            return SendResult(ref=ref, ok=True)
        status = order.get("status")
        if status == post.CANCELED:
            return SendResult(ref=ref, ok=False, error="the Anymarket order is cancelled")
        if status not in post.SHIPPABLE:
            return SendResult(
                ref=ref, ok=False, retry=True, error=f"the order is {status}: invoice it first"
            )
        self.request(
            "PUT",
            f"{V2}/orders/{update.order_external_id}",
            json=post.tracking_body(update, self.now()),
            expect_json=False,
        )
        return SendResult(ref=ref, ok=True)

    def _order(self, order_id: str) -> dict[str, Any] | None:
        data = self.read_optional(f"{V2}/orders/{order_id}")
        return data if isinstance(data, dict) else None

    # -- checks and errors -----------------------------------------------------------------------

    def check(self) -> str:
        """Authenticate and read the stock locals (a cheap call every token may make)."""
        data = self.request("GET", f"{V2}/stocks/locals").json()
        locals_ = data.get("content", data) if isinstance(data, dict) else data
        count = len(locals_) if isinstance(locals_, list) else "?"
        return f"authenticated with Anymarket; {count} stock locals"

    def classify_error(self, response: httpx.Response) -> Exception | None:
        status = response.status_code
        text = platform_message(response) or response.reason_phrase or "error"
        text = " ".join(self.http.redactor.text(text).split())[:300]
        if status in (401, 403):
            return AuthError(
                f"gumgaToken rejected (HTTP {status}: {text}): generate a new integration "
                f"token in the ANYMARKET panel and set connectors.{self.name}.credentials.token",
                connector=self.name,
                status_code=status,
            )
        return FatalError(f"HTTP {status} {text}", connector=self.name, status_code=status)


class _FirstThenNext(NextUrlPaginator):
    """`offset`/`limit` on the first request, then the `links` rel=next URL of each answer
    (Spring HATEOAS: `{"links": [{"rel": "next", "href": ...}], "content": [...]}`)."""

    def __init__(self, limit: int) -> None:
        super().__init__(_next_link)
        self.first = OffsetPaginator(limit)

    def init_request(self, params: dict[str, Any]) -> None:
        self.first.init_request(params)


def _next_link(response: httpx.Response) -> str | None:
    data = response.json()
    links = data.get("links") if isinstance(data, dict) else None
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def _content(response: httpx.Response) -> list[dict[str, Any]]:
    data = response.json()
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise FatalError("list response without a `content` array")
    return [r for r in content if isinstance(r, dict)]


def _feed_entries(response: httpx.Response) -> list[FeedEntry]:
    """The orders a `GET /v2/orders/feeds` answer names, each with its token."""
    data = response.json()
    if not isinstance(data, list):
        raise FatalError("GET /v2/orders/feeds: the answer is not a JSON array")
    return [
        FeedEntry(str(e["id"]), str(e["token"]))
        for e in data
        if isinstance(e, dict) and e.get("id") is not None and e.get("token")
    ]


def _failed(entry: FeedEntry, error: ConnectorError) -> RawOrder:
    """The order of a feed entry whose read failed: the entry is all there is of it (what
    the quarantine keeps; the token is the feed's, not a secret)."""
    payload = {"feed_entry": {"id": entry.order_id, "token": entry.token}}
    return RawOrder(entry.order_id, None, payload, failure=error)


def _invoice_ref(invoice: Invoice) -> str:
    return invoice.access_key


def _tracking_ref(update: TrackingUpdate) -> str:
    return update.shipment_ref or update.order_external_id
