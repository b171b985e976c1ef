"""A scriptable in-memory connector for engine tests (and the crash-safety subprocess)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from erpsync.connector import (
    Connector,
    ListingSource,
    NoSettings,
    OrderPage,
    OrderSource,
    RawOrder,
    SeenOrders,
    StockSink,
    Window,
)
from erpsync.domain import Listing, Order, PushResult, StockUpdate
from erpsync.errors import ConnectorError, FatalError
from erpsync.http.pagination import PaginationCapReached

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def payload(
    external_id: str,
    status: str = "paid",
    *,
    updated: datetime = T0,
    items: Sequence[tuple[str, int]] = (("SKU-A", 1),),
    fulfilled: bool = False,
    broken: bool = False,
) -> dict[str, Any]:
    return {
        "id": external_id,
        "status": status,
        "updated": updated.isoformat(),
        "items": [{"sku": sku, "qty": qty, "price": "10.00"} for sku, qty in items],
        "fulfilled": fulfilled,
        "broken": broken,
    }


class FakeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    page_size: int = 50
    generate: int = 0  # > 0: serve this many generated orders (crash-safety test)
    page_delay: float = 0.0
    broken: list[str] = []  # ids of generated orders whose payload does not map
    fail_skus: list[str] = []  # pushes of these SKUs are refused ("item is paused")
    listings: int = 0  # > 0: serve this many generated listings (crash-safety, workers)
    push_batch: int = 0  # > 0: push this many listings per call
    push_delay: float = 0.0  # seconds each push call takes
    fulfilled: list[str] = []  # ids of generated orders the channel fulfils (Full/FBA)
    withheld: list[str] = []  # ids of generated orders whose buyer the platform withheld
    announce_total: bool = False  # pages say how many they listed of the window's total


class FakeConnector(Connector[NoSettings, FakeOptions], OrderSource, ListingSource, StockSink):
    """Serves ``self.orders`` (payload dicts) whose update time falls in the window."""

    type = "fake"
    platform = "fake"

    def __init__(self, settings: Any, context: Any = None) -> None:
        super().__init__(settings, context)
        self.orders: list[dict[str, Any]] = []
        self.listings: list[Listing] = []
        self.pushed: list[StockUpdate] = []
        self.fail_skus: set[str] = set(self.options.fail_skus)
        self.accept_async = False  # answer pushes as accepted-but-pending (Magalu's 202)
        self.lost_skus: set[str] = set()  # pending pushes the channel silently dropped
        #: erpsync location -> channel location id: the channel takes stock per location
        self.location_ids: dict[str, str] = {}
        self.fail_after_pages: int | None = None
        self.checkpoints = False
        #: called with each page's order ids once the engine has committed the page
        self.on_commit: Any = None
        #: external id -> the error its detail request fails with (RawOrder.failure)
        self.failures: dict[str, ConnectorError] = {}
        if self.options.listings:
            self.listings = generated_listings(self.name, self.options.listings)
        if self.options.push_batch:
            self.push_batch_size = self.options.push_batch
        if self.options.generate:
            self.orders = generated_orders(self.options.generate)
            for order in self.orders:
                order["broken"] = order["id"] in self.options.broken
                order["fulfilled"] = order["id"] in self.options.fulfilled
                if order["id"] in self.options.withheld:
                    order["notes"] = ["buyer withheld: restricted data off"]

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        matching = sorted(
            (
                p
                for p in self.orders
                if window.start <= datetime.fromisoformat(p["updated"]) < window.end
            ),
            key=lambda p: p["updated"],
        )
        size = self.options.page_size
        for number, start in enumerate(range(0, len(matching), size)):
            if self.fail_after_pages is not None and number >= self.fail_after_pages:
                raise RuntimeError("connection lost mid-window")
            chunk = matching[start : start + size]
            raws = [
                RawOrder(
                    p["id"],
                    datetime.fromisoformat(p["updated"]),
                    p,
                    failure=self.failures.get(p["id"]),
                )
                for p in chunk
                if not seen.is_current(p["id"], datetime.fromisoformat(p["updated"]))
            ]
            if self.options.page_delay:
                time.sleep(self.options.page_delay)
            checkpoint = datetime.fromisoformat(chunk[-1]["updated"]) if self.checkpoints else None
            after = None
            if self.on_commit is not None:
                ids, hook = [r.external_id for r in raws], self.on_commit
                after = lambda ids=ids, hook=hook: hook(ids)  # noqa: E731
            announce = self.options.announce_total
            yield OrderPage(
                raws,
                checkpoint=checkpoint,
                after_commit=after,
                listed=len(chunk) if announce else None,
                listing_total=len(matching) if announce and number == 0 else None,
            )

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        if payload["broken"]:
            raise ValueError("field 'total' is not a number")
        items = [
            {
                "sku": i["sku"],
                "quantity": i["qty"],
                "unit_price": i["price"],
                "title": i["sku"],
                "channel_item_id": i.get("item"),
            }
            for i in payload["items"]
        ]
        total = sum(Decimal(i["price"]) * i["qty"] for i in payload["items"])
        return Order.model_validate(
            {
                "connector": self.name,
                "platform": "fake",
                "external_id": payload["id"],
                "status": payload["status"],
                "channel_status": payload["status"],
                "created_at": T0.isoformat(),
                "updated_at": payload["updated"],
                "items_total": total,
                "total": total,
                "items": items,
                "fulfilled_by_channel": payload["fulfilled"],
                "notes": payload.get("notes", []),
                "sale_ref": payload.get("sale"),
            }
        )

    def fetch_listings(self) -> Iterator[list[Listing]]:
        yield list(self.listings)

    def stock_locations(self) -> Mapping[str, str]:
        return self.location_ids

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        if self.options.push_delay:
            time.sleep(self.options.push_delay)
        results = []
        for update in updates:
            if update.sku in self.fail_skus:
                results.append(
                    PushResult(
                        item_id=update.item_id,
                        variation_id=update.variation_id,
                        location=update.location,
                        ok=False,
                        error="item is paused",
                    )
                )
                continue
            self.pushed.append(update)
            results.append(
                PushResult(
                    item_id=update.item_id,
                    variation_id=update.variation_id,
                    location=update.location,
                    ok=True,
                    pending=self.accept_async,
                )
            )
        return results

    def verify_pending(self, updates: Sequence[StockUpdate]) -> list[PushResult]:
        self.verified = list(updates)
        return [
            PushResult(
                item_id=u.item_id,
                variation_id=u.variation_id,
                location=u.location,
                ok=u.sku not in self.lost_skus,
                error="push not applied" if u.sku in self.lost_skus else None,
            )
            for u in updates
        ]


def generated_orders(count: int) -> list[dict[str, Any]]:
    """Deterministic orders over the last day, in every status, some with two items."""
    statuses = ["pending", "paid", "shipped", "cancelled", "paid", "delivered"]
    base = T0 - timedelta(days=1)  # fixed, so every run of a test sees the same orders
    out = []
    for n in range(count):
        items = [("SKU-A", 1 + n % 3)] + ([("SKU-B", 1)] if n % 4 == 0 else [])
        out.append(
            payload(
                f"G{n:05d}",
                statuses[n % len(statuses)],
                updated=base + timedelta(seconds=n * 7),
                items=items,
            )
        )
    return out


def generated_listings(connector: str, count: int) -> list[Listing]:
    """Deterministic listings, alternating SKU-A and SKU-B."""
    return [
        Listing(connector=connector, item_id=f"L{n:05d}", sku="SKU-A" if n % 2 else "SKU-B")
        for n in range(count)
    ]


class ExplodingConnector(Connector, OrderSource):
    """Fails every pull, as a platform that rejects the seller would."""

    type = "exploding"
    platform = "exploding"

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        raise FatalError("platform said no", connector=self.name)

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        raise AssertionError("never fetched")


class OffsetPagedConnector(FakeConnector):
    """Pages like an offset API over a live, filtered result: each page re-runs the query, so
    an order updated mid-pull leaves the result and shifts the later ones (ML, Magalu).
    ``cap``: like Magalu's _offset limit, refuse to page past it."""

    reread_until_stable = True
    cap: int | None = None
    after_first_page: Any = None  # a callable run once, after the first page is served

    def fetch_orders(self, window: Window, seen: SeenOrders) -> Iterator[OrderPage]:
        def live() -> list[dict[str, Any]]:
            return sorted(
                (
                    o
                    for o in self.orders
                    if window.start <= datetime.fromisoformat(o["updated"]) < window.end
                ),
                key=lambda o: o["id"],
            )

        size, offset = self.options.page_size, 0
        while True:
            if self.cap is not None and offset >= self.cap:
                raise PaginationCapReached(f"offset {offset} would pass the cap", offset=offset)
            chunk = live()[offset : offset + size]
            if not chunk:
                return
            yield OrderPage(
                [
                    RawOrder(p["id"], datetime.fromisoformat(p["updated"]), p)
                    for p in chunk
                    if not seen.is_current(p["id"], datetime.fromisoformat(p["updated"]))
                ]
            )
            if self.after_first_page is not None:
                hook, self.after_first_page = self.after_first_page, None
                hook()
            offset += size
