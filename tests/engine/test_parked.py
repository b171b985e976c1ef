"""Parked order lines: an order pulled before its products exist books its stock, exactly once,
when its SKU becomes known (product import, kit definition, listing link, the next pull)."""

from datetime import timedelta

import pytest

from erpsync.engine import reports
from erpsync.engine.parked import book_parked
from erpsync.engine.pull import pull_orders
from erpsync.store import ledger, listings, orders, products
from tests.engine.fakes import T0, payload

LOCATIONS = {"shop": "main"}


def levels(store, sku):
    with store.session() as session:
        level = ledger.levels(session, ["main"], [sku])[sku]
    return level.on_hand, level.reserved


def pull(connector, store, minutes, **kwargs):
    connector.context.clock = lambda: T0 + timedelta(minutes=minutes)
    return pull_orders(connector, store, **kwargs)


def add_product(store, sku, components=None, on_hand=None):
    """What `products import` does: the product, then the parked lines it makes known."""
    with store.session() as session:
        products.upsert_product(session, sku, name=sku, components=components)
        if on_hand is not None:
            ledger.set_on_hand(session, sku, "main", on_hand)
        return book_parked(session, locations=LOCATIONS, default_location="main")


def line_states(store, external_id):
    with store.session() as session:
        row = orders.get_order(session, "shop", external_id)
        return [(i.sku, i.stock) for i in orders.order_items(session, row.id)]


@pytest.mark.parametrize(
    ("status", "expected"), [("paid", (7, 0)), ("pending", (10, 3)), ("invoiced", (7, 0))]
)
def test_an_order_pulled_before_its_product_books_when_the_product_arrives(
    connector, store, status, expected
):
    """requirement: the unknown line is parked, then booked once as the order's status asks."""
    connector.orders = [payload("1", status, items=[("NEW-1", 3), ("SKU-A", 1)])]
    report = pull(connector, store, 1)
    assert report.unknown_skus == {"NEW-1"}
    assert line_states(store, "1") == [("NEW-1", "parked"), ("SKU-A", "booked")]

    booked = add_product(store, "NEW-1", on_hand=10)
    assert (booked.booked, booked.waived) == (1, 0)
    assert levels(store, "NEW-1") == expected
    assert line_states(store, "1") == [("NEW-1", "booked"), ("SKU-A", "booked")]

    # nothing books twice: another import, a re-pull of the same version, a newer version
    with store.session() as session:
        assert book_parked(session, locations=LOCATIONS, default_location="main").booked == 0
    pull(connector, store, 2, since=T0 - timedelta(days=1))
    connector.orders = [
        payload("1", status, updated=T0 + timedelta(minutes=3), items=[("NEW-1", 3), ("SKU-A", 1)])
    ]
    pull(connector, store, 4)
    assert levels(store, "NEW-1") == expected
    assert levels(store, "SKU-A") == ((99, 0) if status != "pending" else (100, 1))


def test_lines_still_unknown_stay_parked_and_are_counted_while_the_known_ones_book(
    connector, store
):
    """requirement: one booking pass books the lines whose SKU is known now, in order, and
    leaves the others parked (counted as waiting), whatever order and connector they are on."""
    connector.orders = [
        payload("1", "paid", items=[("NEW-1", 1), ("NEW-2", 2)]),
        payload("2", "paid", items=[("NEW-2", 3)]),
        payload("3", "paid", items=[("NEW-3", 4)]),
    ]
    pull(connector, store, 1)
    booked = add_product(store, "NEW-2", on_hand=10)
    assert (booked.booked, booked.waived, booked.waiting) == (2, 0, 2)
    assert levels(store, "NEW-2") == (5, 0)
    assert line_states(store, "1") == [("NEW-1", "parked"), ("NEW-2", "booked")]
    assert line_states(store, "2") == [("NEW-2", "booked")]
    assert line_states(store, "3") == [("NEW-3", "parked")]


def test_a_parked_reservation_becomes_a_deduction_when_paid(connector, store):
    connector.orders = [payload("1", "pending", items=[("NEW-1", 2)])]
    pull(connector, store, 1)
    add_product(store, "NEW-1", on_hand=10)
    assert levels(store, "NEW-1") == (10, 2)
    connector.orders = [
        payload("1", "paid", updated=T0 + timedelta(minutes=2), items=[("NEW-1", 2)])
    ]
    pull(connector, store, 3)
    assert levels(store, "NEW-1") == (8, 0)
    connector.orders = [
        payload("1", "cancelled", updated=T0 + timedelta(minutes=4), items=[("NEW-1", 2)])
    ]
    pull(connector, store, 5)
    assert levels(store, "NEW-1") == (10, 0)


def test_a_line_parked_while_pending_and_paid_still_unknown_deducts_once_known(connector, store):
    connector.orders = [payload("1", "pending", items=[("NEW-1", 2)])]
    pull(connector, store, 1)
    connector.orders = [
        payload("1", "paid", updated=T0 + timedelta(minutes=2), items=[("NEW-1", 2)])
    ]
    pull(connector, store, 3)
    assert line_states(store, "1") == [("NEW-1", "parked")]
    add_product(store, "NEW-1", on_hand=10)
    assert levels(store, "NEW-1") == (8, 0)


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_lines_of_orders_already_shipped_are_waived_not_booked(connector, store, status):
    """requirement: goods that left before the product existed are in any later count."""
    connector.orders = [payload("1", status, items=[("NEW-1", 2)])]
    pull(connector, store, 1)
    result = add_product(store, "NEW-1", on_hand=10)
    assert (result.booked, result.waived) == (0, 1)
    assert levels(store, "NEW-1") == (10, 0)
    # later versions neither book it (delivered) nor return it (nothing was taken)
    connector.orders = [
        payload("1", "delivered", updated=T0 + timedelta(minutes=2), items=[("NEW-1", 2)])
    ]
    pull(connector, store, 3)
    assert levels(store, "NEW-1") == (10, 0)
    assert line_states(store, "1") == [("NEW-1", "waived")]
    connector.orders = [
        payload("1", "cancelled", updated=T0 + timedelta(minutes=4), items=[("NEW-1", 2)])
    ]
    pull(connector, store, 5)
    assert levels(store, "NEW-1") == (10, 0)


def test_a_kit_defined_later_books_its_components(connector, store):
    connector.orders = [payload("1", "paid", items=[("KIT-NEW", 2)])]
    pull(connector, store, 1)
    add_product(store, "KIT-NEW", components=[("SKU-A", 3)])
    assert levels(store, "SKU-A") == (94, 0)


def test_a_listing_link_resolves_a_line_without_sku(connector, store):
    order = payload("1", "paid", items=[("IGNORED", 1)])
    order["items"][0] |= {"sku": None, "item": "MLB123"}
    connector.orders = [order]
    pull(connector, store, 1)
    assert line_states(store, "1") == [(None, "parked")]
    with store.session() as session:
        listings.link(session, "shop", "MLB123", None, "SKU-B")
        book_parked(session, locations=LOCATIONS, default_location="main", connector="shop")
    assert levels(store, "SKU-B") == (49, 0)


def test_the_next_pull_books_lines_whose_product_appeared_another_way(connector, store):
    connector.orders = [payload("1", "paid", items=[("NEW-1", 2)])]
    pull(connector, store, 1)
    with store.session() as session:
        products.upsert_product(session, "NEW-1")
    pull(connector, store, 2)
    assert levels(store, "NEW-1") == (-2, 0)


def test_dry_run_says_stock_moves_only_for_lines_that_book(connector, store):
    """requirement: `pull-orders --dry-run` does not announce a deduction nothing will book."""
    connector.orders = [
        payload("1", "paid", items=[("NEW-1", 1)]),
        payload("2", "paid", items=[("SKU-A", 1), ("NEW-2", 1)]),
    ]
    report = pull(connector, store, 1, dry_run=True)
    assert report.changes == [
        "new 1 paid (parked until known: NEW-1)",
        "new 2 paid (stock: deduct; parked until known: NEW-2)",
    ]


def test_status_lists_parked_lines_until_they_are_booked(connector, store):
    connector.orders = [payload("1", "pending", items=[("NEW-1", 2)])]
    pull(connector, store, 1)
    with store.session() as session:
        parked = reports.status_summary(session)["parked_lines"]
    assert parked == [{"connector": "shop", "sku": "NEW-1", "orders": 1, "units": 2}]
    # the product exists but nothing booked it yet (no import, no pull): still listed
    with store.session() as session:
        products.upsert_product(session, "NEW-1")
    with store.session() as session:
        assert reports.status_summary(session)["parked_lines"] != []
        book_parked(session, locations=LOCATIONS, default_location="main")
    with store.session() as session:
        assert reports.status_summary(session)["parked_lines"] == []
