"""The Anymarket connector against its emulator: the gumgaToken header, the orders feed
(acknowledged only after commit), partnerId write-back, stock in batches."""

from datetime import timedelta

import httpx
import pytest

from erpsync.connectors.anymarket import AnymarketConnector
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.anymarket.emulator.app import SANDBOX_TOKEN, STOCK_LOCALS
from erpsync.domain import OrderStatus, StockUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.errors import AuthError
from erpsync.store import ledger, orders, products, quarantine
from erpsync.testing import FakeTime, build_harness


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return AnymarketEmulator(seed=3, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emulator, time):
    h = build_harness(AnymarketConnector, emulator, time, name="any")
    yield h
    h.connector.close()
    h.store.close()


def seed(h, count):
    now = h.time.now()
    ids = h.emulator.seed_orders(count, start=now - timedelta(days=1), end=now)
    h.time.advance(minutes=5)
    return ids


def stock_all(h, quantity=100):
    with h.store.session() as session:
        for _, _, sku in h.emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", quantity)


def levels(h):
    with h.store.session() as session:
        return {k: (v.on_hand, v.reserved) for k, v in ledger.levels(session, ["main"]).items()}


def test_every_call_carries_the_gumga_token_header_and_no_query_token(harness):
    seed(harness, 3)
    harness.pull()
    calls = harness.emulator.requests_to("/v2/")
    assert calls
    for call in calls:
        assert call.headers["gumgatoken"] == SANDBOX_TOKEN
        assert "gumgaToken" not in call.params


def test_each_feed_entry_is_read_then_acknowledged_with_its_token(harness):
    ids = seed(harness, 3)
    tokens = harness.emulator.feed_entries()
    report = harness.pull()
    assert report.new == 3
    assert harness.emulator.feed_entries() == {}
    assert sorted(harness.emulator.acknowledged) == sorted(tokens.items())
    acks = harness.emulator.requests_to("/v2/orders/feeds/", "PUT")
    assert [a.json() for a in acks] == [{"token": tokens[int(i)]} for i in ids]


def test_the_feed_is_read_until_empty_across_its_page_cap(harness):
    ids = seed(harness, 120)  # the emulator serves 50 entries per read
    report = harness.pull()
    assert report.new == 120
    assert {o.external_id for o in harness.stored_orders()} == set(ids)
    assert len(harness.emulator.requests_to("/v2/orders/feeds", "GET")) == 4  # 50+50+20+empty


def test_nothing_is_acknowledged_before_its_page_is_committed(harness, monkeypatch):
    """requirement: the ack follows the page's transaction: at each ack the order is stored."""
    seed(harness, 4)
    store = harness.store
    original = harness.connector.request

    def checked(method, path, **kwargs):
        if method == "PUT" and path.startswith("/v2/orders/feeds/"):
            order_id = path.rsplit("/", 1)[1]
            with store.session() as session:
                assert orders.get_order(session, "any", order_id) is not None
        return original(method, path, **kwargs)

    monkeypatch.setattr(harness.connector, "request", checked)
    assert harness.pull().new == 4


def test_a_crash_between_commit_and_ack_re_reads_the_order_harmlessly(harness, monkeypatch):
    """requirement: a run killed after its commit but before its ack loses nothing, and the
    order read again next run books no stock twice."""
    stock_all(harness)
    ids = seed(harness, 6)
    connector = harness.connector

    def killed(entries, raws):
        raise KeyboardInterrupt  # the process dies right after the commit

    monkeypatch.setattr(connector, "_after_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        harness.pull()
    assert {o.external_id for o in harness.stored_orders()} == set(ids)
    assert set(harness.emulator.feed_entries()) == {int(i) for i in ids}  # not acknowledged
    after_crash = levels(harness)
    monkeypatch.undo()
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert report.new == 0 and report.fetched == 6
    assert harness.emulator.feed_entries() == {}
    assert levels(harness) == after_crash


def test_a_dry_run_acknowledges_nothing_and_ends(harness):
    seed(harness, 3)
    report = harness.pull(dry_run=True)
    assert report.new == 3
    assert len(harness.emulator.feed_entries()) == 3
    assert not harness.emulator.requests_to("/v2/orders/feeds/", "PUT")


def test_an_order_changed_after_its_ack_comes_back_through_the_feed(harness):
    ids = seed(harness, 2)
    harness.pull()
    harness.emulator.cancel_order(ids[0])
    harness.time.advance(minutes=5)
    report = harness.pull()
    assert (report.new, report.updated, report.fetched) == (0, 1, 1)
    with harness.store.session() as session:
        assert orders.get_order(session, "any", ids[0]).status == OrderStatus.CANCELLED.value


def test_an_ack_with_the_token_of_an_older_change_is_refused_and_the_entry_stays(emulator):
    emulator.seed_orders(1, start=emulator.clock() - timedelta(hours=1), end=emulator.clock())
    ((order_id, old),) = emulator.feed_entries().items()
    emulator.update_order(str(order_id))  # changed after the feed was read
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answer = c.put(
            f"/v2/orders/feeds/{order_id}", json={"token": old},
            headers={"gumgaToken": SANDBOX_TOKEN},
        )  # fmt: skip
    assert answer.status_code == 400
    assert order_id in emulator.feed_entries()


def test_our_reference_is_written_back_as_the_partner_id(harness):
    ids = seed(harness, 2)
    harness.pull()
    for order_id in ids:
        assert harness.emulator.orders[int(order_id)]["partnerId"] == f"any:{order_id}"
    writes = harness.emulator.requests_to("/v2/orders/partnerid/", "PUT")
    assert len(writes) == 2
    harness.emulator.update_order(ids[0])
    harness.time.advance(minutes=5)
    harness.pull()
    assert len(harness.emulator.requests_to("/v2/orders/partnerid/", "PUT")) == 2  # once


def test_a_quarantined_order_is_acknowledged_but_not_marked_integrated(harness):
    ids = seed(harness, 1)
    harness.emulator.update_order(ids[0], status="SOMETHING_NEW")
    report = harness.pull()
    assert report.quarantined == 1
    assert harness.emulator.feed_entries() == {}  # the quarantine keeps the payload
    assert harness.emulator.orders[int(ids[0])]["partnerId"] is None


def test_one_orders_failed_read_fails_that_order_only_and_the_feed_keeps_it(harness):
    """requirement (issue 11 §1): one order's read failing fails that order only: a transient
    failure (a 500 after every retry) leaves it to the next run, its feed entry unacknowledged
    so the feed names it again; the neighbours are stored and acknowledged."""
    stock_all(harness)
    ids = seed(harness, 4)
    tokens = harness.emulator.feed_entries()
    failing = ids[1]
    harness.emulator.faults.add(
        "status", status=500, times=6, path=f"/v2/orders/{failing}", method="GET"
    )

    report = harness.pull()

    assert (report.new, report.deferred, report.quarantined) == (3, 1, 0)
    assert {o.external_id for o in harness.stored_orders()} == set(ids) - {failing}
    assert set(harness.emulator.feed_entries()) == {int(failing)}
    assert sorted(harness.emulator.acknowledged) == sorted(
        (int(i), tokens[int(i)]) for i in ids if i != failing
    )
    assert harness.emulator.orders[int(failing)]["partnerId"] is None
    # its entry came back in the feed's next answer and was not read again this run
    assert len(harness.emulator.requests_to(f"/v2/orders/{failing}", "GET")) == 6
    with_neighbours = levels(harness)

    harness.time.advance(minutes=5)
    report = harness.pull()  # the fault is over: the feed still names the order

    assert (report.new, report.deferred, report.fetched) == (1, 0, 1)
    assert {o.external_id for o in harness.stored_orders()} == set(ids)
    assert harness.emulator.feed_entries() == {}
    assert harness.emulator.orders[int(failing)]["partnerId"] == f"any:{failing}"
    assert levels(harness) != with_neighbours  # its sale booked once it came in


def test_an_answer_that_is_not_json_leaves_that_order_to_the_next_run(harness):
    ids = seed(harness, 3)
    harness.emulator.faults.add("malformed_json", times=6, path=f"/v2/orders/{ids[0]}")

    report = harness.pull()

    assert (report.new, report.deferred) == (2, 1)
    assert set(harness.emulator.feed_entries()) == {int(ids[0])}
    harness.time.advance(minutes=5)
    assert harness.pull().new == 1
    assert {o.external_id for o in harness.stored_orders()} == set(ids)


def test_an_order_the_feed_names_but_the_api_does_not_know_is_quarantined(harness):
    """A 404 on the order's read is a refusal: the order is quarantined with the reason and
    its entry acknowledged (an entry that came back every read would fill the feed's answers);
    the neighbours are stored."""
    ids = seed(harness, 3)
    del harness.emulator.orders[int(ids[2])]

    report = harness.pull()

    assert (report.new, report.deferred, report.quarantined) == (2, 0, 1)
    assert {o.external_id for o in harness.stored_orders()} == set(ids[:2])
    with harness.store.session() as session:
        (item,) = quarantine.open_items(session, "any")
    assert item.external_id == ids[2]
    assert "a request for this order failed" in item.error and "HTTP 404" in item.error
    assert harness.emulator.feed_entries() == {}


def test_fulfillment_orders_are_imported_without_touching_stock(harness):
    stock_all(harness)
    ids = seed(harness, 14)
    before = levels(harness)
    harness.pull()
    full = [i for i in ids if harness.emulator.orders[int(i)]["fulfillment"]]
    assert full
    with harness.store.session() as session:
        for order_id in full:
            row = orders.get_order(session, "any", order_id)
            assert row.fulfilled_by_channel and row.stock_effect == "none"
    assert levels(harness) != before  # the others did move stock


def test_a_revoked_token_says_how_to_get_a_new_one(harness):
    seed(harness, 1)
    harness.emulator.expire_access_tokens()
    with pytest.raises(AuthError, match="generate a new integration token in the ANYMARKET panel"):
        harness.pull()


def test_check_reads_the_stock_locals(harness):
    assert harness.connector.check() == "authenticated with Anymarket; 2 stock locals"


# -- listings and stock ---------------------------------------------------------------------


def test_listings_follow_the_hateoas_next_link_and_read_the_partner_id(harness):
    pull_listings(harness.connector, harness.store)
    gets = harness.emulator.requests_to("/v2/products", "GET")
    assert [g.params for g in gets] == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
    ]  # fmt: skip  (3 products, 2 per page: the second page comes from links rel=next)
    batches = list(harness.connector.fetch_listings())
    found = {(listing.item_id, listing.sku) for batch in batches for listing in batch}
    assert ("190011", "CAM-AZUL-P") in found
    assert ("190032", None) in found  # no partnerId: listed, never linked to a SKU


def test_stock_goes_in_one_batch_by_partner_id_and_the_unlinked_sku_is_never_written(harness):
    pull_listings(harness.connector, harness.store)
    stock_all(harness, 7)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    assert report.failed == 0 and report.sent == len(harness.emulator.listing_refs())
    puts = harness.emulator.requests_to("/v2/stocks", "PUT")
    assert len(puts) == 1
    body = puts[0].json()
    assert {e["partnerId"] for e in body} == {s for _, _, s in harness.emulator.listing_refs()}
    assert all(e["quantity"] == 7 and "stockLocalId" not in e for e in body)
    assert harness.emulator.stock_of("190032") is None  # the SKU without partnerId


def test_the_configured_stock_local_is_sent(emulator, time):
    h = build_harness(
        AnymarketConnector, emulator, time, name="any", options={"stock_local_id": 45480}
    )
    updates = [StockUpdate(item_id="190011", sku="CAM-AZUL-P", quantity=4)]
    assert [r.ok for r in h.connector.push_stock(updates)] == [True]
    assert emulator.stock_at("190011", STOCK_LOCALS[1]["id"]) == 4
    assert emulator.stock_of("190011") is None


def test_a_refused_batch_fails_only_the_element_the_hub_cannot_place(harness):
    updates = [
        StockUpdate(item_id="190011", sku="CAM-AZUL-P", quantity=3),
        StockUpdate(item_id="999", sku="NOT-THERE", quantity=3),
        StockUpdate(item_id="190021", sku="CAN-300", quantity=5),
    ]
    results = harness.connector.push_stock(updates)
    assert [r.ok for r in results] == [True, False, True]
    assert "SKU NOT-THERE não encontrado" in results[1].error
    assert harness.emulator.stock_of("190021") == 5


def test_more_than_100_updates_go_in_several_batches(harness):
    updates = [StockUpdate(item_id="190011", sku="CAM-AZUL-P", quantity=n) for n in range(230)]
    harness.connector.push_stock(updates)
    sizes = [len(r.json()) for r in harness.emulator.requests_to("/v2/stocks", "PUT")]
    assert sizes == [100, 100, 30]


def test_an_order_that_changes_between_its_read_and_its_ack_is_read_again(harness, monkeypatch):
    """requirement: the ack carries the token of the change we read; a newer change keeps its
    entry (the hub refuses the old token), and the same pull reads it."""
    ids = seed(harness, 1)
    connector = harness.connector
    fetch = connector._fetch
    changed = []

    def fetch_then_change(entry):
        raw = fetch(entry)
        if not changed:  # the marketplace cancels it right after we read it
            harness.emulator.cancel_order(ids[0])
            changed.append(entry)
        return raw

    monkeypatch.setattr(connector, "_fetch", fetch_then_change)
    report = harness.pull()
    assert report.fetched == 2 and report.new == 1
    assert harness.emulator.feed_entries() == {}
    [stored] = harness.stored_orders()
    assert stored.status is OrderStatus.CANCELLED


def test_the_emulator_answers_in_the_published_shapes(emulator):
    """requirement: the feed and an order carry the published samples' keys (fixtures/)."""
    import json
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[3] / "connectors" / "anymarket" / "fixtures"
    sample_feed = json.loads((fixtures / "feed.json").read_text(encoding="utf-8"))
    sample_order = json.loads((fixtures / "order-710002.json").read_text(encoding="utf-8"))
    emulator.seed_orders(1, start=emulator.clock() - timedelta(hours=1), end=emulator.clock())
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        headers = {"gumgaToken": SANDBOX_TOKEN}
        feed = c.get("/v2/orders/feeds", headers=headers).json()
        order = c.get(f"/v2/orders/{feed[0]['id']}", headers=headers).json()
    assert set(feed[0]) == set(sample_feed[0])
    assert set(order) <= set(sample_order)
    assert set(order["items"][0]) <= set(sample_order["items"][0])
    assert set(order["buyer"]) <= set(sample_order["buyer"])
