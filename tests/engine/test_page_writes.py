"""A page's orders are written together (new ones and changed ones): the store ends up with
exactly the rows that writing them one at a time gives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from erpsync.connector import ConnectorSettings
from erpsync.domain import Order
from erpsync.engine.pull import PullReport, apply_order, load_catalogue, pull_orders
from erpsync.store import ledger, products
from erpsync.store.tables import OrderItemRow, OrderRow, ShipmentRow, StockMovement
from tests.backends import opened_store
from tests.engine.conftest import _seeded
from tests.engine.fakes import T0, FakeConnector, FakeOptions, payload

#: columns that say when a row was written (or its id), not what it holds
_WHEN = {"id", "imported_at", "last_seen_at", "created_at"}
_WRITTEN_AT = {"shipments": "updated_at"}


class ShippingShop(FakeConnector):
    """The fake connector, its orders carrying the shipments their payload lists."""

    def map_order(self, payload: Mapping[str, Any]) -> Order:
        order = super().map_order(payload)
        return order.model_copy(update={"extra": {"shipments": payload.get("shipments", [])}})


def shop() -> ShippingShop:
    settings = ConnectorSettings(name="shop", type="fake", options=FakeOptions(page_size=50))
    return ShippingShop(settings)


def shipped(ref: str, status: str, tracking: str | None = None) -> dict[str, Any]:
    return {"shipment_ref": ref, "status": status, "tracking_code": tracking}


def with_shipments(order: dict[str, Any], *shipments: dict[str, Any]) -> dict[str, Any]:
    return {**order, "shipments": list(shipments)}


FIRST = [
    with_shipments(payload("1", "pending", items=[("SKU-A", 2)]), shipped("S1", "pending")),
    with_shipments(payload("2", "pending", items=[("SKU-A", 1), ("SKU-B", 1)])),
    with_shipments(payload("3", "pending", items=[("KIT-AB", 1)]), shipped("S3", "pending")),
    with_shipments(payload("4", "paid", items=[("SKU-B", 3)]), shipped("S4", "ready")),
    with_shipments(payload("5", "paid", items=[("NOPE", 1)])),
]
LATER = T0 + timedelta(minutes=10)
SECOND = [
    # paid: the reservation becomes a baixa; a second shipment appears
    with_shipments(
        payload("1", "paid", updated=LATER, items=[("SKU-A", 2)]),
        shipped("S1", "ready"),
        shipped("S1b", "pending"),
    ),
    # edited while reserved: a line dropped, another grown, an unknown one added (parked)
    with_shipments(payload("2", "pending", updated=LATER, items=[("SKU-B", 2), ("NOPE", 1)])),
    # cancelled: the reservation released
    with_shipments(payload("3", "cancelled", updated=LATER, items=[("KIT-AB", 1)])),
    # shipped, with tracking, and a second shipment
    with_shipments(
        payload("4", "shipped", updated=LATER, items=[("SKU-B", 3)]),
        shipped("S4", "shipped", "BR123"),
        shipped("S4b", "ready"),
    ),
    # the same orders again later in the page (their rows, lines and shipments as the
    # first copy left them), and a new one
    with_shipments(
        payload("1", "delivered", updated=LATER + timedelta(minutes=1), items=[("SKU-A", 2)]),
        shipped("S1", "delivered"),
        shipped("S1b", "ready"),
    ),
    with_shipments(
        payload(
            "2", "shipped", updated=LATER + timedelta(minutes=3), items=[("SKU-B", 2), ("NOPE", 1)]
        )
    ),
    with_shipments(
        payload("6", "paid", updated=LATER, items=[("SKU-A", 1)]), shipped("S6", "ready")
    ),
    with_shipments(payload("6", "cancelled", updated=LATER + timedelta(minutes=2))),
]


def contents(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a pull writes, without ids and write times, in a stable order."""
    found = {}
    with store.session() as session:
        for table in (OrderRow, OrderItemRow, ShipmentRow, StockMovement):
            name = table.__tablename__
            columns = [
                c
                for c in table.__table__.columns  # type: ignore[attr-defined]
                if c.name not in _WHEN and c.name != _WRITTEN_AT.get(str(name))
            ]
            rows = session.execute(select(*columns)).all()
            found[table.__tablename__] = sorted(tuple(map(repr, row)) for row in rows)
    return found


def test_a_page_written_together_holds_what_one_order_at_a_time_writes(backend):
    """requirement: a page's new and changed orders (stock moved, lines edited, shipments
    updated and added, the same order twice in the page) leave the same rows, ledger
    included, as applying each order alone."""
    with opened_store(backend) as together, opened_store(backend) as alone:
        for store in (_seeded(together), _seeded(alone)):
            connector = shop()
            connector.orders = FIRST
            connector.context.clock = lambda: T0 + timedelta(minutes=1)
            pull_orders(connector, store)

        connector = shop()
        connector.orders = SECOND
        connector.context.clock = lambda: LATER + timedelta(minutes=5)
        report = pull_orders(connector, together)
        assert (report.new, report.updated) == (1, 7)

        for raw in sorted(SECOND, key=lambda p: p["updated"]):
            with alone.session() as session:
                catalogue = load_catalogue(session, "shop")
                order = connector.map_order(raw)
                catalogue.known |= products.known_skus(session, {i.sku for i in order.items})
                apply_order(session, connector, order, raw, PullReport("shop"), catalogue)

        assert contents(together) == contents(alone)


# -- the page's stock movements ----------------------------------------------------------------

#: a page that moves the ledger every way, over FIRST as stored: new sales and reservations of
#: catalogued SKUs (a kit among them), a conversion, a release, a return of stock deducted on
#: an earlier page, an edit while reserved, a sale and its return within the page, and a
#: reinstated sale
MIXED = [
    payload("7", "paid", updated=LATER, items=[("SKU-A", 2)]),
    payload("8", "pending", updated=LATER, items=[("KIT-AB", 1), ("SKU-B", 2)]),
    payload("9", "paid", updated=LATER, items=[("SKU-B", 1), ("NOPE", 1)]),
    payload("1", "paid", updated=LATER, items=[("SKU-A", 2)]),
    payload("3", "cancelled", updated=LATER, items=[("KIT-AB", 1)]),
    payload("4", "cancelled", updated=LATER, items=[("SKU-B", 3)]),
    payload("2", "pending", updated=LATER, items=[("SKU-A", 3), ("SKU-B", 1)]),
    payload("7", "cancelled", updated=LATER + timedelta(minutes=1), items=[("SKU-A", 2)]),
    payload("4", "paid", updated=LATER + timedelta(minutes=2), items=[("SKU-B", 3)]),
    payload("8", "pending", updated=LATER + timedelta(minutes=3), items=[("SKU-B", 4)]),
]


def test_a_pages_movements_written_together_leave_the_ledger_and_notes_of_one_at_a_time(
    backend,
):
    """requirement: a page's stock movements queued and written together at its end
    (ledger.PageMovements) leave the same ledger rows, and the same change notes (what
    "moved" reported: "stock: ..."), as each movement written as it comes."""
    with opened_store(backend) as together, opened_store(backend) as alone:
        for store in (_seeded(together), _seeded(alone)):
            connector = shop()
            connector.orders = [{k: v for k, v in o.items() if k != "shipments"} for o in FIRST]
            connector.context.clock = lambda: T0 + timedelta(minutes=1)
            pull_orders(connector, store)

        connector = shop()
        connector.orders = MIXED
        connector.context.clock = lambda: LATER + timedelta(minutes=5)
        report = pull_orders(connector, together)
        assert (report.new, report.updated) == (3, 7)

        one_by_one = PullReport("shop")
        for raw in MIXED:
            with alone.session() as session:
                catalogue = load_catalogue(session, "shop")
                order = connector.map_order(raw)
                catalogue.known |= products.known_skus(session, {i.sku for i in order.items})
                apply_order(session, connector, order, raw, one_by_one, catalogue)

        assert report.changes == one_by_one.changes
        assert contents(together) == contents(alone)
        with together.session() as session:
            reasons = set(session.execute(select(StockMovement.reason)).scalars())
        assert {"sale", "reserve", "release", "return", "order-edit", "reinstated-sale"} <= reasons
        assert "new 7 paid (stock: deduct)" in report.changes


def test_page_movements_answer_moved_as_the_ledger_does(backend):
    """A queued movement is "moved" unless its key is in the ledger or queued already, and
    what an order holds counts the queued movements."""
    with opened_store(backend) as store, store.session() as session:
        ref = "order:shop:1"
        ledger.record(
            session, sku="SKU-A", location="main", bucket="reserved", quantity=2,
            reason="reserve", reference=ref, key=f"{ref}:reserve",
        )  # fmt: skip
        page = ledger.PageMovements(session, [ref, "order:shop:2"])
        assert page.booked(ref, "reserved") == {("SKU-A", "main"): 2}

        def move(key: str, quantity: int, bucket: str = "reserved") -> bool:
            return page.record(
                sku="SKU-A", location="main", bucket=bucket, quantity=quantity,
                reason="test", reference=ref, key=key,
            )  # fmt: skip

        assert not move(f"{ref}:reserve", 2)  # in the ledger
        assert move(f"{ref}:release", -2)
        assert not move(f"{ref}:release", -2)  # queued
        assert move(f"{ref}:sale", -2, "on_hand")
        assert page.booked(ref, "reserved") == {}  # 2 - 2: nothing held
        assert page.booked(ref, "on_hand") == {("SKU-A", "main"): -2}
        with pytest.raises(ValueError, match="not one of the page's references"):
            page.record(
                sku="SKU-A", location="main", bucket="on_hand", quantity=1,
                reason="test", reference="order:shop:3", key=None,
            )  # fmt: skip
        assert page.flush() == 2
        keys = set(session.execute(select(StockMovement.idempotency_key)).scalars())
        assert keys == {f"{ref}:reserve", f"{ref}:release", f"{ref}:sale"}
        assert page.flush() == 0
