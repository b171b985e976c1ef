"""Anymarket stock per erpsync location (`options.stock_local_ids`): each location's
availability in its own `PUT /v2/stocks` element with its `stockLocalId`."""

import pytest
from pydantic import ValidationError

from erpsync.connectors.anymarket import AnymarketConnector
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.anymarket.emulator.app import STOCK_LOCALS
from erpsync.connectors.anymarket.settings import AnymarketOptions
from erpsync.domain import StockUpdate
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.store import ledger, listings, products
from erpsync.testing import FakeTime, build_harness

CD, LOJA = STOCK_LOCALS[0]["id"], STOCK_LOCALS[1]["id"]


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return AnymarketEmulator(seed=3, clock=time.now, sandbox_orders=0)


def harness_for(emulator, time, locals_):
    h = build_harness(
        AnymarketConnector,
        emulator,
        time,
        name="any",
        options={"stock_local_ids": locals_},
        locations=tuple(locals_),
    )
    pull_listings(h.connector, h.store)
    with h.store.session() as session:
        for _, _, sku in emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", 7)
            ledger.set_on_hand(session, sku, "loja", 2)
    return h


def test_each_erpsync_location_goes_to_its_stock_local(emulator, time):
    h = harness_for(emulator, time, {"main": CD, "loja": LOJA})
    report = push_stock(h.connector, h.store, safety_stock=0)
    refs = emulator.listing_refs()
    assert (report.sent, report.failed) == (2 * len(refs), 0)
    for item, _, _ in refs:
        assert (emulator.stock_at(item, CD), emulator.stock_at(item, LOJA)) == (7, 2)
    [put] = emulator.requests_to("/v2/stocks", "PUT")
    sku = refs[0][2]
    assert sorted(
        (e["stockLocalId"], e["quantity"]) for e in put.json() if e["partnerId"] == sku
    ) == [(CD, 7), (LOJA, 2)]
    h.connector.close()


def test_only_the_changed_location_is_sent_again(emulator, time):
    h = harness_for(emulator, time, {"main": CD, "loja": LOJA})
    push_stock(h.connector, h.store, safety_stock=0)
    _, _, sku = emulator.listing_refs()[0]
    with h.store.session() as session:
        ledger.set_on_hand(session, sku, "main", 9)
    assert push_stock(h.connector, h.store, safety_stock=0).sent == 1
    last = emulator.requests_to("/v2/stocks", "PUT")[-1].json()
    assert last == [{"partnerId": sku, "quantity": 9, "stockLocalId": CD}]
    h.connector.close()


def test_a_stock_local_the_account_does_not_have_fails_only_that_location(emulator, time):
    """requirement: ANYMARKET refuses an unknown stockLocalId (422, the whole batch); the
    connector retries element by element, so only that location's pushes fail, each recorded
    against its listing and location and sent again next run."""
    h = harness_for(emulator, time, {"main": CD, "loja": 99999})
    report = push_stock(h.connector, h.store, safety_stock=0)
    refs = emulator.listing_refs()
    assert (report.sent, report.failed) == (len(refs), len(refs))
    assert all("Local de estoque 99999 não encontrado" in e for e in report.errors)
    item = refs[0][0]
    assert emulator.stock_at(item, CD) == 7
    with h.store.session() as session:
        row = listings.get_listing(session, "any", item)
        records = listings.pushed_by_location(session, [row.id])
    assert records[(row.id, "main")].quantity == 7
    assert records[(row.id, "loja")].quantity is None and records[(row.id, "loja")].last_error
    h.connector.close()


def test_an_update_for_an_unmapped_location_is_refused_without_a_request(emulator, time):
    h = harness_for(emulator, time, {"main": CD, "loja": LOJA})
    calls = len(emulator.requests)
    [result] = h.connector.push_stock(
        [StockUpdate(item_id="190011", sku="CAM-AZUL-P", quantity=1, location="cd-sp")]
    )
    assert not result.ok and "'cd-sp' is not in options.stock_local_ids" in result.error
    assert len(emulator.requests) == calls
    h.connector.close()


@pytest.mark.parametrize(
    "options",
    [
        {"stock_local_id": CD, "stock_local_ids": {"main": CD}},
        {"stock_local_ids": {"main": CD, "loja": CD}},
        {"stock_local_ids": {"main": 0}},
    ],
    ids=["both-ways", "two-to-one", "not-positive"],
)
def test_a_stock_local_map_that_cannot_be_right_is_refused(options):
    with pytest.raises(ValidationError):
        AnymarketOptions(**options)
