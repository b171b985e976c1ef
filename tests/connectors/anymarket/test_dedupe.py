"""The same sale through Anymarket and from its marketplace directly: both mappers give the
same sale_ref, and the real Anymarket connector's copy of a sale a direct channel already
stored moves no stock (the engine's side is specified in tests/engine/test_sale_twins.py)."""

import json
from datetime import timedelta
from pathlib import Path

import pytest

from erpsync.connector import ConnectorSettings
from erpsync.connectors.amazon import orders as amazon
from erpsync.connectors.anymarket import AnymarketConnector
from erpsync.connectors.anymarket import orders as anymarket
from erpsync.connectors.anymarket.emulator import AnymarketEmulator
from erpsync.connectors.magalu import orders as magalu
from erpsync.connectors.mercadolivre import orders as mercadolivre
from erpsync.engine.pull import pull_orders
from erpsync.engine.reports import status_summary
from erpsync.store import ledger, orders, products
from erpsync.testing import FakeTime, build_harness
from tests.engine.fakes import FakeConnector, FakeOptions, payload

ROOT = Path(__file__).resolve().parents[3] / "connectors"


def fixture(platform, name):
    return json.loads((ROOT / platform / "fixtures" / name).read_text(encoding="utf-8"))


def test_every_marketplace_mapper_says_which_sale_an_order_is():
    hub = anymarket.order_from_payload(fixture("anymarket", "order-710002.json"), connector="a")
    assert hub.sale_ref == "AMAZON:701-1234567-7654321"
    ml = mercadolivre.order_from_payload(
        fixture("mercadolivre", "order-2000009000000101.json"), connector="ml"
    )
    assert ml.sale_ref == f"MERCADO_LIVRE:{ml.number}"
    for name in sorted(p.name for p in (ROOT / "amazon" / "fixtures").glob("order-*.json")):
        order = amazon.order_from_payload(fixture("amazon", name), connector="amz")
        assert order.sale_ref == f"AMAZON:{order.external_id}", name
    mg = magalu.order_from_payload(fixture("magalu", "order-new.json"), connector="mg")
    assert mg.sale_ref == f"MAGAZINE_LUIZA:{mg.number}"


@pytest.mark.parametrize("first", ["direct", "hub"])
def test_anymarket_relaying_a_mercado_livre_sale_pulled_directly_books_it_once(first):
    time = FakeTime()
    emulator = AnymarketEmulator(seed=5, clock=time.now, sandbox_orders=0)
    hub = build_harness(AnymarketConnector, emulator, time, name="anymarket")
    ids = emulator.seed_orders(1, start=time.now() - timedelta(hours=2), end=time.now())
    emulator.update_order(ids[0], marketPlace="MERCADO_LIVRE", status="PAID_WAITING_SHIP")
    relayed = emulator.orders[int(ids[0])]
    sku, amount = relayed["items"][0]["sku"]["partnerId"], relayed["items"][0]["amount"]
    direct = FakeConnector(
        ConnectorSettings(name="ml-main", type="fake", options=FakeOptions()),
    )
    direct.context.clock = time.now
    direct_order = payload("ML-1", "paid", updated=time.now(), items=[(sku, amount)])
    direct_order["sale"] = f"MERCADO_LIVRE:{relayed['marketPlaceNumber']}"
    direct.orders = [direct_order]
    store = hub.store
    with store.session() as session:
        products.upsert_product(session, sku, name=sku)
        ledger.set_on_hand(session, sku, "main", 50)
    time.advance(minutes=5)
    runs = [hub.pull, lambda: pull_orders(direct, store)]
    for run in runs if first == "hub" else runs[::-1]:
        run()
    with store.session() as session:
        assert ledger.levels(session, ["main"], [sku])[sku].on_hand == 50 - amount
        twins = status_summary(session)["sales_seen_twice"]
        copy = orders.get_order(session, "anymarket" if first == "direct" else "ml-main",
                                ids[0] if first == "direct" else "ML-1")  # fmt: skip
        assert copy.stock_copy_of is not None and copy.stock_effect == "none"
    assert [t["stock"].split(":")[0] for t in twins] == [
        "anymarket" if first == "hub" else "ml-main"
    ]
    hub.connector.close()
    store.close()
