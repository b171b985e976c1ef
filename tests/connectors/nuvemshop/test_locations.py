"""Nuvemshop multi-inventory with one quantity per erpsync location (`options.location_ids`):
each location's availability to its own `inventory_levels` entry of the variant."""

import httpx
import pytest
from pydantic import ValidationError

from erpsync.connectors.nuvemshop import NuvemshopConnector
from erpsync.connectors.nuvemshop import listings as listing_map
from erpsync.connectors.nuvemshop import stock as stock_map
from erpsync.connectors.nuvemshop.emulator import NuvemshopEmulator
from erpsync.connectors.nuvemshop.emulator.app import STORE_ID
from erpsync.connectors.nuvemshop.settings import NuvemshopOptions
from erpsync.domain import StockUpdate
from erpsync.emulation import EmulatorTransport
from erpsync.engine.listings import pull_listings
from erpsync.engine.push import push_stock
from erpsync.store import ledger, listings, products
from erpsync.testing import FakeTime, build_harness

MAP = {"main": "LOC-CD", "loja": "LOC-LOJA"}


@pytest.fixture
def time():
    return FakeTime()


@pytest.fixture
def emulator(time):
    return NuvemshopEmulator(
        seed=3, clock=time.now, sandbox_orders=0, locations=("LOC-CD", "LOC-LOJA")
    )


def harness_for(emulator, time, location_ids):
    return build_harness(
        NuvemshopConnector,
        emulator,
        time,
        name="ns",
        options={"location_ids": location_ids},
        locations=tuple(location_ids),
    )


@pytest.fixture
def harness(emulator, time):
    h = harness_for(emulator, time, MAP)
    yield h
    h.connector.close()
    h.store.close()


def stock_everything(h, main, loja):
    pull_listings(h.connector, h.store)
    with h.store.session() as session:
        for _, _, sku in h.emulator.listing_refs():
            products.upsert_product(session, sku, name=sku)
            ledger.set_on_hand(session, sku, "main", main)
            ledger.set_on_hand(session, sku, "loja", loja)


def test_each_erpsync_location_goes_to_its_own_inventory_level(harness):
    stock_everything(harness, main=7, loja=2)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    refs = harness.emulator.listing_refs()
    assert (report.sent, report.failed) == (2 * len(refs), 0)
    for item, variation, _ in refs:
        assert harness.emulator.stock_at(item, variation, "LOC-CD") == 7
        assert harness.emulator.stock_at(item, variation, "LOC-LOJA") == 2
        assert harness.emulator.stock_of(item, variation) == 9  # `stock` is the sum
    [patch] = harness.emulator.requests_to(f"/{STORE_ID}/products/stock-price", "PATCH")
    variant = patch.json()[0]["variants"][0]
    assert "stock" not in variant
    assert variant["inventory_levels"] == [
        {"location_id": "LOC-CD", "stock": 7},
        {"location_id": "LOC-LOJA", "stock": 2},
    ]


def test_only_the_changed_location_is_sent_again(harness):
    stock_everything(harness, main=7, loja=2)
    push_stock(harness.connector, harness.store, safety_stock=0)
    item, variation, sku = harness.emulator.listing_refs()[0]
    with harness.store.session() as session:
        ledger.set_on_hand(session, sku, "loja", 5)
    report = push_stock(harness.connector, harness.store, safety_stock=0)
    assert report.sent == 1
    last = harness.emulator.requests_to(f"/{STORE_ID}/products/stock-price", "PATCH")[-1]
    assert last.json() == [
        {
            "id": int(item),
            "variants": [
                {
                    "id": int(variation),
                    "inventory_levels": [{"location_id": "LOC-LOJA", "stock": 5}],
                }
            ],
        }
    ]
    assert harness.emulator.stock_at(item, variation, "LOC-CD") == 7


def test_a_location_the_store_does_not_have_is_refused_and_recorded_per_location(emulator, time):
    """requirement: Nuvemshop refuses an unknown location id (the variant is not touched);
    each listing's location records the refusal and is sent again next run."""
    h = harness_for(emulator, time, {"main": "LOC-CD", "loja": "LOC-GONE"})
    stock_everything(h, main=7, loja=2)
    report = push_stock(h.connector, h.store, safety_stock=0)
    refs = h.emulator.listing_refs()
    assert (report.sent, report.failed) == (0, 2 * len(refs))
    assert "Unknown location" in report.errors[0]
    item, variation, _ = refs[0]
    assert h.emulator.stock_at(item, variation, "LOC-CD") != 7
    with h.store.session() as session:
        row = listings.get_listing(session, "ns", item, variation)
        records = listings.pushed_by_location(session, [row.id])
    assert records[(row.id, "loja")].last_error.endswith("Unknown location")
    assert records[(row.id, "main")].quantity is None
    h.connector.close()


def test_the_emulator_refuses_an_unknown_location_id(emulator):
    item, variation, _ = emulator.listing_refs()[0]
    body = [
        {
            "id": int(item),
            "variants": [
                {"id": int(variation), "inventory_levels": [{"location_id": "NOPE", "stock": 1}]}
            ],
        }
    ]
    with httpx.Client(transport=EmulatorTransport(emulator.app), base_url="http://x") as c:
        answer = c.patch(
            f"/v1/{STORE_ID}/products/stock-price",
            json=body,
            headers={"Authentication": "bearer sandbox-token", "User-Agent": "t (t@t.com)"},
        )
    assert answer.json()[0]["variants"] == [
        {"id": int(variation), "success": False, "error": "Unknown location"}
    ]


def test_a_variants_locations_stay_in_one_request_of_at_most_50_variants():
    updates = [
        StockUpdate(item_id=str(n // 3), variation_id=str(n), quantity=1, location=place)
        for n in range(60)
        for place in ("main", "loja")
    ]
    batches = list(stock_map.batches(updates))
    assert [len({u.variation_id for u in b}) for b in batches] == [50, 10]
    bodies = [stock_map.body(b, location_ids=MAP) for b in batches]
    assert all(
        len(v["inventory_levels"]) == 2 for body in bodies for p in body for v in p["variants"]
    )


def test_listings_read_each_locations_level():
    variant = {
        "id": 1,
        "sku": "A",
        "stock": 9,
        "inventory_levels": [
            {"location_id": "LOC-CD", "stock": 4},
            {"location_id": "LOC-LOJA", "stock": 5},
            {"location_id": "LOC-OTHER", "stock": 30},
        ],
    }
    found = listing_map.listing_from_payload(
        variant, connector="ns", product={"id": 2, "name": {"pt": "X"}}, locations=MAP
    )
    assert found.channel_quantity == 9  # the mapped locations only
    assert found.extra["inventory_levels"] == {"main": 4, "loja": 5}


@pytest.mark.parametrize(
    "options",
    [
        {"location_id": "LOC-CD", "location_ids": MAP},
        {"location_ids": {"main": "LOC-CD", "loja": "LOC-CD"}},
    ],
    ids=["both-ways", "two-to-one"],
)
def test_a_location_map_that_cannot_be_right_is_refused(options):
    with pytest.raises(ValidationError):
        NuvemshopOptions(store_id=1, user_agent="erp (ti@x.com)", **options)
