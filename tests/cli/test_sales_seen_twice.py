"""`erpsync status` names, for a sale seen through two connectors, which copy moves stock."""

from datetime import timedelta

import yaml

from erpsync.connector import ConnectorSettings
from erpsync.engine.pull import pull_orders
from erpsync.store import open_store
from tests.engine.fakes import T0, FakeConnector, FakeOptions, payload

SALE = "MERCADO_LIVRE:2000009000000101"


def _pull_twins(database):
    store = open_store(database)
    try:
        for name, external_id in (("ml-main", "2000009000000101"), ("anymarket", "50001")):
            connector = FakeConnector(
                ConnectorSettings(name=name, type="fake", options=FakeOptions())
            )
            order = payload(external_id, "paid", items=[("SKU-A", 1)])
            order["sale"] = SALE
            connector.orders = [order]
            connector.context.clock = lambda: T0 + timedelta(minutes=5)
            pull_orders(connector, store, since=T0 - timedelta(days=1))
    finally:
        store.close()


def test_status_says_which_copy_of_a_sale_moves_stock(run, workdir):
    assert run("pull-orders").exit_code == 0  # creates the database
    config = yaml.safe_load((workdir / "erpsync.yaml").read_text(encoding="utf-8"))
    _pull_twins(config["database"])
    status = run("status", "--json").json()
    assert status["sales_seen_twice"] == [
        {"sale": SALE, "stock": "ml-main:2000009000000101", "copy": "anymarket:50001"}
    ]
    text = run("status")
    assert text.exit_code == 0, text.stderr
    shown = text.stdout + text.stderr
    assert "moves stock (authoritative)\tcopy (no stock)" in shown
    assert "ml-main:2000009000000101" in shown and "anymarket:50001" in shown
