"""push-stock to a channel that takes stock per location (StockSink.stock_locations): each
location's availability on its own, one quantity per listing and location, recorded apart."""

import pytest

from erpsync.connector import ConnectorSettings
from erpsync.domain import Listing
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import plan_push, push_stock
from erpsync.errors import ConfigError
from erpsync.store import ledger, listings
from tests.engine.fakes import FakeConnector, FakeOptions


@pytest.fixture
def shop(store):
    settings = ConnectorSettings(
        name="shop", type="fake", options=FakeOptions(), locations=("main", "loja")
    )
    connector = FakeConnector(settings)
    connector.location_ids = {"main": "LOC-CD", "loja": "LOC-LOJA"}
    connector.listings = [
        Listing(connector="shop", item_id="P1", variation_id="V1", sku="SKU-A"),
        Listing(connector="shop", item_id="P2", variation_id="V2", sku="KIT-AB"),
    ]
    pull_listings(connector, store)
    with store.session() as session:
        ledger.set_on_hand(session, "SKU-A", "loja", 7)
        ledger.set_on_hand(session, "SKU-B", "loja", 3)
    return connector


def sent(connector):
    return {(u.item_id, u.location): u.quantity for u in connector.pushed}


def test_each_location_gets_its_own_availability(shop, store):
    """requirement: one quantity per listing and location, computed over that location only
    (safety stock and kits as everywhere); not the sum the single-location path sends."""
    report = push_stock(shop, store, safety_stock=1)
    # main: SKU-A 100-1, kit min((100-1)//2, 50-1); loja: SKU-A 7-1, kit min((7-1)//2, 3-1)
    assert sent(shop) == {
        ("P1", "main"): 99,
        ("P2", "main"): 49,
        ("P1", "loja"): 6,
        ("P2", "loja"): 2,
    }
    assert report.sent == 4
    assert {p.ref for p in report.plan} == {"P1:V1@main", "P1:V1@loja", "P2:V2@main", "P2:V2@loja"}


def test_only_the_location_that_changed_is_sent_again(shop, store):
    push_stock(shop, store, safety_stock=0)
    shop.pushed.clear()
    with store.session() as session:
        ledger.set_on_hand(session, "SKU-A", "loja", 8)
    report = push_stock(shop, store, safety_stock=0)
    assert sent(shop) == {("P1", "loja"): 8}
    assert report.unchanged == 3


def test_a_location_refused_is_retried_alone_and_recorded_per_location(shop, store):
    """requirement: a half-applied push is recorded per listing and location: the refused
    location keeps its last accepted value and error; the accepted one is not sent again."""
    refuse_loja = shop.push_stock

    def push(updates):
        results = refuse_loja(updates)
        return [
            r.model_copy(update={"ok": False, "error": "unknown location"})
            if r.location == "loja" and r.item_id == "P1"
            else r
            for r in results
        ]

    shop.push_stock = push
    report = push_stock(shop, store, safety_stock=0)
    assert (report.sent, report.failed) == (3, 1)
    assert report.errors == ["P1:V1@loja: unknown location"]
    with store.session() as session:
        records = listings.pushed_by_location(session, [1])
        assert records[(1, "main")].quantity == 100
        assert records[(1, "loja")].quantity is None
        assert records[(1, "loja")].last_error == "unknown location"
        assert listings.pushed(session, [1]) == {}  # the single-location record is untouched
    del shop.push_stock
    shop.pushed.clear()
    push_stock(shop, store, safety_stock=0)
    assert sent(shop) == {("P1", "loja"): 7}


def test_a_location_map_must_match_the_locations_the_channel_sells_from(shop, store):
    """requirement: a mapped location the connector does not sell from, or one it sells from
    left unmapped (its stock would reach no channel location), is a config error."""
    shop.location_ids = {"main": "LOC-CD", "cd-sp": "LOC-SP"}
    with pytest.raises(ConfigError) as error:
        plan_push(shop, store, safety_stock=0)
    assert str(error.value) == (
        "connectors.shop: stock location map: 'cd-sp' is not in its locations; "
        "'loja' (in its locations) has no channel location (locations: main, loja)"
    )


def test_without_a_location_map_one_quantity_sums_the_locations(shop, store):
    """requirement: the single-location path is unchanged: the sum over the locations."""
    shop.location_ids = {}
    push_stock(shop, store, safety_stock=0)
    assert sent(shop) == {("P1", None): 107, ("P2", None): 53}


def test_pending_pushes_are_read_back_per_location(shop, store):
    shop.accept_async = True
    assert push_stock(shop, store, safety_stock=0).pending == 4
    shop.pushed.clear()
    shop.accept_async = False
    shop.lost_skus = {"KIT-AB"}
    push_stock(shop, store, safety_stock=0)
    assert {(u.sku, u.location) for u in shop.verified} == {
        ("SKU-A", "main"),
        ("SKU-A", "loja"),
        ("KIT-AB", "main"),
        ("KIT-AB", "loja"),
    }
    assert sent(shop) == {("P2", "main"): 50, ("P2", "loja"): 3}
