"""One sale, two connectors: a marketplace pulled directly and the same sale relayed by a hub
(Anymarket) carry the same sale_ref ("MARKETPLACE:number"); only the first copy stored moves
stock, whichever arrives first, and `status` says which one that is."""

from datetime import timedelta

import pytest

from erpsync.connector import ConnectorSettings
from erpsync.engine.pull import pull_orders
from erpsync.engine.reports import status_summary
from erpsync.store import ledger, orders
from tests.engine.fakes import T0, FakeConnector, FakeOptions, payload

SALE = "MERCADO_LIVRE:2000009000000101"


def channel(name):
    settings = ConnectorSettings(name=name, type="fake", options=FakeOptions(page_size=10))
    return FakeConnector(settings)


def pull(connector, store, at):
    connector.context.clock = lambda: at
    return pull_orders(connector, store, since=T0 - timedelta(days=1))


def levels(store, sku="SKU-A"):
    with store.session() as session:
        level = ledger.levels(session, ["main"], [sku]).get(sku)
    return (level.on_hand, level.reserved) if level else (0, 0)


def sale(external_id, status, *, minutes=0, qty=2):
    order = payload(
        external_id, status, updated=T0 + timedelta(minutes=minutes), items=[("SKU-A", qty)]
    )
    order["sale"] = SALE
    return order


@pytest.mark.parametrize("first", ["direct", "hub"])
def test_a_sale_seen_directly_and_through_the_hub_moves_stock_once(store, first):
    """requirement: both arrival orders keep one stock effect: the first copy's."""
    direct, hub = channel("ml-main"), channel("anymarket")
    direct.orders = [sale("2000009000000101", "pending")]
    hub.orders = [sale("50001", "pending")]
    one, two = (direct, hub) if first == "direct" else (hub, direct)
    pull(one, store, T0 + timedelta(minutes=5))
    assert levels(store) == (100, 2)
    report = pull(two, store, T0 + timedelta(minutes=5))
    assert report.new == 1
    assert levels(store) == (100, 2)  # reserved once, not twice
    assert any("seen before" in change for change in report.changes)
    # both are paid now: one baixa
    direct.orders = [sale("2000009000000101", "paid", minutes=10)]
    hub.orders = [sale("50001", "paid", minutes=10)]
    pull(one, store, T0 + timedelta(minutes=15))
    pull(two, store, T0 + timedelta(minutes=15))
    assert levels(store) == (98, 0)
    twins = status_summary_of(store)
    assert twins == [
        {"sale": SALE, "stock": f"{one.name}:{_id(one)}", "copy": f"{two.name}:{_id(two)}"}
    ]


def _id(connector):
    return connector.orders[0]["id"]


def status_summary_of(store):
    with store.session() as session:
        return status_summary(session)["sales_seen_twice"]


def test_the_copy_never_moves_stock_even_when_it_alone_is_cancelled(store):
    direct, hub = channel("ml-main"), channel("anymarket")
    direct.orders = [sale("2000009000000101", "paid")]
    hub.orders = [sale("50001", "paid")]
    pull(direct, store, T0 + timedelta(minutes=5))
    pull(hub, store, T0 + timedelta(minutes=5))
    assert levels(store) == (98, 0)
    hub.orders = [sale("50001", "cancelled", minutes=10)]
    pull(hub, store, T0 + timedelta(minutes=15))
    assert levels(store) == (98, 0)  # the authoritative copy still says paid
    direct.orders = [sale("2000009000000101", "cancelled", minutes=10)]
    pull(direct, store, T0 + timedelta(minutes=15))
    assert levels(store) == (100, 0)  # returned once


def test_orders_of_one_connector_sharing_a_sale_each_move_their_own_stock(store):
    """requirement: two orders of one Mercado Livre pack (one sale ref) are not twins."""
    direct = channel("ml-main")
    first, second = sale("2000009000000101", "paid"), sale("2000009000000102", "paid")
    direct.orders = [first, second]
    pull(direct, store, T0 + timedelta(minutes=5))
    assert levels(store) == (96, 0)
    assert status_summary_of(store) == []


def test_a_sale_without_a_marketplace_ref_is_never_matched(store):
    one, two = channel("shop-a"), channel("shop-b")
    one.orders = [payload("1", "paid", items=[("SKU-A", 1)])]
    two.orders = [payload("1", "paid", items=[("SKU-A", 1)])]
    pull(one, store, T0 + timedelta(minutes=5))
    pull(two, store, T0 + timedelta(minutes=5))
    assert levels(store) == (98, 0)


def test_both_copies_keep_the_sale_ref(store):
    direct, hub = channel("ml-main"), channel("anymarket")
    direct.orders = [sale("2000009000000101", "paid")]
    hub.orders = [sale("50001", "paid")]
    pull(hub, store, T0 + timedelta(minutes=5))
    pull(direct, store, T0 + timedelta(minutes=5))
    with store.session() as session:
        hub_row = orders.get_order(session, "anymarket", "50001")
        direct_row = orders.get_order(session, "ml-main", "2000009000000101")
        assert hub_row.sale_ref == direct_row.sale_ref == SALE
        assert hub_row.stock_copy_of is None and direct_row.stock_copy_of == hub_row.id
        assert orders.load_order(session, "ml-main", "2000009000000101").sale_ref == SALE
