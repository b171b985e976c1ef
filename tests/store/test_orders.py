"""Orders in the store: exact round-trip, upsert by (connector, external_id), look-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from erpsync.domain import OrderItem
from erpsync.store import orders
from erpsync.store.tables import OrderItemRow, OrderRow

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_round_trip_keeps_decimals_aware_times_and_document(store, make_order):
    """requirement: load_order returns exactly the Order save_order stored."""
    order = make_order()
    with store.session() as s:
        orders.save_order(s, order, {"id": 2000001234, "total_amount": 279.6}, "deducted")
    with store.session() as s:
        loaded = orders.load_order(s, "ml-main", "2000001234")
        row = orders.get_order(s, "ml-main", "2000001234")
    assert loaded == order
    assert loaded.total == Decimal("279.60") and str(loaded.items[1].unit_price) == "60.00"
    assert loaded.created_at == datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
    assert loaded.created_at.tzinfo is UTC
    assert loaded.buyer.document == "52998224725"
    assert row.raw == {"id": 2000001234, "total_amount": 279.6}
    assert row.stock_effect == "deducted"


def test_money_is_stored_as_exact_text(store, make_order):
    """requirement: money columns hold the Decimal's text, never a float."""
    with store.session() as s:
        orders.save_order(s, make_order(), {}, "none")
        stored = s.connection().exec_driver_sql("SELECT total, shipping_cost FROM orders").one()
    assert tuple(stored) == ("279.60", "19.90")


def test_save_again_updates_in_place_and_replaces_items(store, make_order):
    """requirement: one row per (connector, external_id); items replaced, not appended."""
    first_seen = T0
    later = T0 + timedelta(hours=1)
    changed = make_order(
        status="cancelled",
        channel_status="cancelled",
        updated_at=T0 + timedelta(hours=2),
        items=(OrderItem(sku="CAM-P", quantity=1, unit_price="99.90"),),
    )
    with store.session() as s:
        first_id = orders.save_order(s, make_order(), {}, "deducted", at=first_seen)
    with store.session() as s:
        orders.save_order(s, changed, {"v": 2}, "returned", at=later)
    with store.session() as s:
        rows = s.exec(select(OrderRow)).all()
        items = s.exec(select(OrderItemRow)).all()
        loaded = orders.load_order(s, "ml-main", "2000001234")
    assert [r.id for r in rows] == [first_id]
    assert (rows[0].imported_at, rows[0].last_seen_at) == (first_seen, later)
    assert len(items) == 1 and loaded == changed


def test_stored_versions_answers_only_for_stored_orders(store, make_order):
    """requirement: external_id -> stored updated_at, for one connector, unknown ids absent."""
    with store.session() as s:
        orders.save_order(s, make_order(external_id="A"), {}, "none")
        orders.save_order(s, make_order(external_id="B", updated_at=T0), {}, "none")
        orders.save_order(s, make_order(external_id="A", connector="other"), {}, "none")
        versions = orders.stored_versions(s, "ml-main", ["A", "B", "C"])
    assert versions == {"A": datetime(2024, 5, 1, 13, 0, tzinfo=UTC), "B": T0}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("ml-main:100", [("ml-main", "100")]),
        ("100", [("amz", "100"), ("ml-main", "100")]),
        ("#77", [("ml-main", "100")]),
        ("amz:nope", []),
    ],
)
def test_find_orders_by_ref_external_id_or_number(store, make_order, ref, expected):
    """requirement: a ref is "connector:external_id", an external id, or an order number."""
    with store.session() as s:
        orders.save_order(s, make_order(external_id="100", number="#77"), {}, "none")
        orders.save_order(
            s,
            make_order(connector="amz", external_id="100", number=None, updated_at=T0),
            {},
            "none",
        )
        found = orders.find_orders(s, ref)
    assert sorted((r.connector, r.external_id) for r in found) == expected


def test_list_orders_filters_and_orders_newest_first(store, make_order):
    """requirement: list_orders filters by connector/status, newest update first, limited."""
    with store.session() as s:
        for n in range(3):
            orders.save_order(
                s, make_order(external_id=f"O{n}", updated_at=T0 + timedelta(minutes=n)), {}, "none"
            )
        orders.save_order(s, make_order(external_id="C", status="cancelled"), {}, "none")
        paid = orders.list_orders(s, connector="ml-main", status="paid", limit=2)
    assert [r.external_id for r in paid] == ["O2", "O1"]


def test_unknown_stock_effect_is_refused(store, make_order):
    with store.session() as s, pytest.raises(ValueError, match="unknown stock effect 'gone'"):
        orders.save_order(s, make_order(), {}, "gone")
