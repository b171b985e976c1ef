"""push-stock: available = on hand - reserved - safety (kits by components); send only changes."""

from erpsync.domain import Listing
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.store import ledger, listings


def listing(item, sku, variation=None, fulfilled=False):
    return Listing(
        connector="shop",
        item_id=item,
        variation_id=variation,
        sku=sku,
        fulfilled_by_channel=fulfilled,
    )


def sent(connector):
    return {(u.item_id, u.variation_id): u.quantity for u in connector.pushed}


def test_available_is_on_hand_minus_reserved_minus_safety(connector, store):
    connector.listings = [listing("MLB1", "SKU-A"), listing("MLB2", "KIT-AB")]
    pull_listings(connector, store)
    with store.session() as session:
        ledger.record(
            session,
            sku="SKU-A",
            location="main",
            bucket="reserved",
            quantity=10,
            reason="reserve",
            reference="x",
            key="r1",
        )
    report = push_stock(connector, store, safety_stock=5)
    # SKU-A: 100 - 10 - 5 = 85; kit: min(85 // 2, (50 - 0 - 5) // 1) = 42
    assert sent(connector) == {("MLB1", None): 85, ("MLB2", None): 42}
    assert report.sent == 2


def test_only_changed_listings_are_sent_unless_full(connector, store):
    """requirement: only listings whose available value changed since the last push are sent."""
    connector.listings = [listing("MLB1", "SKU-A"), listing("MLB2", "SKU-B")]
    pull_listings(connector, store)
    push_stock(connector, store, safety_stock=0)
    connector.pushed.clear()
    with store.session() as session:
        ledger.set_on_hand(session, "SKU-B", "main", 49)
    report = push_stock(connector, store, safety_stock=0)
    assert sent(connector) == {("MLB2", None): 49}
    assert report.unchanged == 1
    connector.pushed.clear()
    push_stock(connector, store, safety_stock=0, full=True)
    assert len(connector.pushed) == 2


def test_a_failed_push_is_retried_on_the_next_run(connector, store):
    connector.listings = [listing("MLB1", "SKU-A")]
    pull_listings(connector, store)
    connector.fail_skus = {"SKU-A"}
    report = push_stock(connector, store, safety_stock=0)
    assert (report.sent, report.failed) == (0, 1)
    assert report.errors == ["MLB1: item is paused"]
    connector.fail_skus = set()
    report = push_stock(connector, store, safety_stock=0)
    assert sent(connector) == {("MLB1", None): 100}


def test_channel_fulfilled_listings_are_never_pushed(connector, store):
    connector.listings = [listing("MLB1", "SKU-A", fulfilled=True)]
    pull_listings(connector, store)
    report = push_stock(connector, store, safety_stock=0)
    assert connector.pushed == [] and report.skipped_fulfilled == 1


def test_listings_without_sku_and_skus_without_listing_are_reported(connector, store):
    connector.listings = [listing("MLB1", None), listing("MLB2", "SKU-A")]
    pull_listings(connector, store)
    report = push_stock(connector, store, safety_stock=0)
    assert report.listings_without_sku == ["MLB1 (no SKU)"]
    assert report.skus_without_listing == ["KIT-AB", "SKU-B"]


def test_item_scope_pushes_every_variation_of_a_changed_item(connector, store):
    """requirement: platforms that take all variations at once get the whole item."""
    type(connector).stock_push_scope = "item"
    try:
        connector.listings = [listing("MLB1", "SKU-A", "1"), listing("MLB1", "SKU-B", "2")]
        pull_listings(connector, store)
        push_stock(connector, store, safety_stock=0)
        connector.pushed.clear()
        with store.session() as session:
            ledger.set_on_hand(session, "SKU-A", "main", 7)
        push_stock(connector, store, safety_stock=0)
        assert sent(connector) == {("MLB1", "1"): 7, ("MLB1", "2"): 50}
    finally:
        type(connector).stock_push_scope = "listing"


def test_dry_run_plans_without_sending(connector, store):
    connector.listings = [listing("MLB1", "SKU-A")]
    pull_listings(connector, store)
    report = push_stock(connector, store, safety_stock=3, dry_run=True)
    [planned] = report.plan
    assert (planned.ref, planned.old, planned.new, planned.send) == ("MLB1", None, 97, True)
    assert planned.explanation == "on hand 100 - reserved 0 - safety 3 = 97"
    assert connector.pushed == []
    with store.session() as session:
        assert listings.pushed(session, [1]) == {}


def test_asynchronous_pushes_are_read_back_and_resent_when_lost(connector, store):
    """requirement: a push accepted asynchronously (202) is read back on the next run, and
    one that never took effect is sent again."""
    connector.listings = [listing("MLB1", "SKU-A"), listing("MLB2", "SKU-B")]
    pull_listings(connector, store)
    connector.accept_async = True
    assert push_stock(connector, store, safety_stock=0).pending == 2
    connector.pushed.clear()
    connector.lost_skus = {"SKU-B"}
    push_stock(connector, store, safety_stock=0, dry_run=True)
    assert not hasattr(connector, "verified")  # a dry run reads nothing back, writes nothing
    push_stock(connector, store, safety_stock=0)
    assert {u.sku for u in connector.verified} == {"SKU-A", "SKU-B"}
    assert sent(connector) == {("MLB2", None): 50}
