"""`erpsync status` lists the orders whose NF-e has been stuck in their ERP, and since when."""

from datetime import UTC, datetime, timedelta

import yaml

from erpsync.connector import ConnectorSettings
from erpsync.engine.pull import pull_orders
from erpsync.store import open_store, orders
from erpsync.store.erp import ErpPushState
from erpsync.store.tables import ErpPush
from tests.engine.fakes import T0, FakeConnector, FakeOptions, payload

SINCE = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _stuck_order(database: str) -> None:
    store = open_store(database)
    try:
        connector = FakeConnector(
            ConnectorSettings(name="ml-main", type="fake", options=FakeOptions())
        )
        connector.orders = [payload("2000001", "paid", items=[("SKU-A", 1)])]
        connector.context.clock = lambda: T0 + timedelta(minutes=5)
        pull_orders(connector, store, since=T0 - timedelta(days=1))
        with store.session() as session:
            row = orders.get_order(session, "ml-main", "2000001")
            assert row is not None and row.id is not None
            session.add(
                ErpPush(
                    order_id=row.id,
                    connector="erp",
                    state=ErpPushState.CREATED.value,
                    remote_id="901",
                    invoice_stuck_since=SINCE,
                )
            )
    finally:
        store.close()


def test_status_shows_an_order_whose_nfe_is_stuck_since_when(run, workdir):
    assert run("pull-orders").exit_code == 0  # creates the database
    config = yaml.safe_load((workdir / "erpsync.yaml").read_text(encoding="utf-8"))
    _stuck_order(config["database"])
    status = run("status", "--json").json()
    assert status["invoices_stuck_in_erp"] == [
        {"erp": "erp", "order": "ml-main:2000001", "remote_id": "901", "since": SINCE.isoformat()}
    ]
    text = run("status")
    assert text.exit_code == 0, text.stderr
    shown = text.stdout + text.stderr
    assert "erp\torder\terp order\tstuck since" in shown
    assert "ml-main:2000001" in shown and "2026-11-20 12:00:00-03:00" in shown
