"""TemplateConnector: declarations and auth; orders, listings and stock delegate to their modules.

Copy, rename (class, ``type``, settings), then:
1. declare the platform: ``type``, ``platform``, base/auth URLs, ``rate_limits`` (per operation,
   with the doc page as ``ref:``), ``emulator``, ``consent`` if it has an OAuth consent page;
2. list the resources it implements after the base class (``OrderSource``, ``ListingSource``,
   ``StockSink``; later ``InvoiceSink``, ``LabelSource``, ``TrackingSink``; ERPs: ``OrderSink``,
   ``StockSource``, ``InvoiceSource``). Capabilities follow from that list: never write them;
3. implement each resource's methods with ``self.request()`` / ``self.paginate()`` (a Page
   carries records, response and paginator: read totals and tokens from it) and the pure
   mappers of orders.py / listings.py / stock.py;
4. describe the platform's error body in ``classify_error``.
A connector never loops over pages by hand, sleeps, retries or opens a database session.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

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
from erpsync.connectors._template import listings, orders, stock
from erpsync.connectors._template.settings import TemplateCredentials, TemplateOptions
from erpsync.domain import Listing, Order, PushResult, StockUpdate, to_utc
from erpsync.errors import FatalError
from erpsync.http.pagination import OffsetPaginator


class TemplateConnector(
    HttpConnector[TemplateCredentials, TemplateOptions], OrderSource, ListingSource, StockSink
):
    """TODO: one line on what this connector does for the seller."""

    type = "template"
    platform = orders.PLATFORM
    default_base_url = "https://api.template.example"
    default_auth_url = "https://api.template.example/oauth/token"
    emulator = "erpsync.connectors._template.emulator:TemplateEmulator"
    #: TODO: the documented limits (ref: ...), one bucket per operation name used below
    rate_limits: ClassVar[Mapping[str, RateLimit]] = {
        "default": RateLimit(rate=5, burst=5),
        "orders": RateLimit.per_minute(120, burst=10),
    }
    #: TODO: delete when the platform has no consent page
    consent = OAuthConsent("https://auth.template.example/authorize", scopes=("orders", "stock"))
    #: TODO: True when the order search pages by offset over a live, update-time filter
    reread_until_stable = False

    def build_auth(self) -> httpx.Auth:
        # a static key instead of OAuth: erpsync.http.auth.HeaderAuth("X-Api-Key", key), or
        # bearer(token); never an httpx.Auth class of the connector's own
        return self.oauth_refresh(body_format="form")

    def check(self) -> str:
        me = self.request("GET", "/me").json()
        return f"authenticated as {me.get('name', '?')}"

    # -- orders: OrderSource ---------------------------------------------------------------------

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        params = {"updated_from": window.start.isoformat(), "updated_to": window.end.isoformat()}
        for page in self.paginate(
            OffsetPaginator(self.options.page_size),
            "/orders",
            records=_results,
            operation="orders",
            params=params,
        ):
            versions = {str(o["id"]): to_utc(o["updated_at"]) for o in page.records}
            current = seen.current_of(versions) if versions else set()
            raws = [
                RawOrder(str(o["id"]), versions[str(o["id"])], {"order": o})
                for o in page.records
                if str(o["id"]) not in current
            ]
            if raws:
                yield OrderPage(raws)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        return orders.order_from_payload(payload, connector=self.name)

    # -- listings: ListingSource -----------------------------------------------------------------

    def fetch_listings(self) -> Iterator[list[Listing]]:
        for page in self.paginate(
            OffsetPaginator(self.options.page_size), "/products", records=_results
        ):
            if page.records:
                yield [listings.listing_from_payload(p, connector=self.name) for p in page.records]

    # -- stock: StockSink ------------------------------------------------------------------------

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        results = []
        for update in updates:
            try:
                self.request(
                    "PUT", f"/products/{update.item_id}/stock", json=stock.stock_body(update)
                )
            except FatalError as exc:  # this item refused: its result, not the run's
                results.append(PushResult(item_id=update.item_id, ok=False, error=str(exc)))
            else:
                results.append(PushResult(item_id=update.item_id, ok=True))
        return results


def _results(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json().get("results") or [])
