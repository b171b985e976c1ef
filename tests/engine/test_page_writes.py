"""A page's orders are written together (new ones and changed ones): the store ends up with
exactly the rows that writing them one at a time gives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from erpsync.connector import ConnectorSettings
from erpsync.domain import Order
from erpsync.engine.pull import PullReport, apply_order, load_catalogue, pull_orders
from erpsync.store import products
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
