"""invoices pull: an invoice the ERP gives back that is refused here and names no order
awaiting one (here: an order not in the store) has no order to be asked about again. It is
kept in the quarantine with its XML, holds the invoices watermark only for the hold (as a
stuck NF-e does), and is attached once its order is there (a later run, or `quarantine
replay`)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence

import pytest
import yaml

from erpsync.config import parse_config
from erpsync.connector import ErpOrderRef, InvoiceChanges, Window
from erpsync.connectors.tiny import TinyConnector
from erpsync.connectors.tiny import invoices as invoice_map
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.domain import Invoice
from erpsync.engine.invoice_pull import CURSOR, QUARANTINE_KIND, pull_invoices
from erpsync.engine.order_push import push_erp_orders
from erpsync.engine.replay import replay_quarantine
from erpsync.store import cursors, invoices, quarantine
from erpsync.testing import ErpContract, FakeTime, Harness, build_harness


class Orders(ErpContract):
    """The contract's helpers, used here outside pytest's collection."""

    connector_class = TinyConnector
    emulator_class = TinyEmulator


HELPER = Orders()
#: the channel order the orphan NF-e names: not in the store when it comes
LATE = 9


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def harness(time: FakeTime) -> Harness:
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)
    return build_harness(TinyConnector, emulator, time, name="erp")


def orphan_nfe(harness: Harness) -> Invoice:
    """An authorised NF-e of the ERP (a sale erpsync did not create) that names channel order
    `SO-9`, which the store does not have."""
    emulator = harness.emulator
    assert isinstance(emulator, TinyEmulator)
    remote = emulator.erp_add_order("HUB-1", emulator.erp_skus()[0], 1)
    emulator.erp_invoice_order(remote)
    nota = emulator.notas[emulator.orders[int(remote)]["idNotaFiscal"]]
    ref = ErpOrderRef(HELPER.channel, f"SO-{LATE}", f"100{LATE}", remote)
    return invoice_map.invoice_from_nota(nota, emulator.xmls[nota["id"]], ref, issuer_document="")


def listing_also_gives(harness: Harness, monkeypatch: pytest.MonkeyPatch, nfe: Invoice) -> None:
    """The ERP's listing of every window gives ``nfe`` too."""
    connector = harness.connector
    listing = connector.fetch_invoice_changes

    def with_orphan(window: Window, orders: Sequence[ErpOrderRef]) -> Iterator[InvoiceChanges]:
        yield InvoiceChanges(invoices=[nfe])
        yield from listing(window, orders)

    monkeypatch.setattr(connector, "fetch_invoice_changes", with_orphan)


def watermark(harness: Harness):
    with harness.store.session() as session:
        return cursors.get_cursor(session, "erp", CURSOR)


def start(harness: Harness) -> None:
    """One order awaiting its NF-e in the ERP, and a first run: the watermark is set."""
    HELPER.channel_orders(harness, 1)
    push_erp_orders(harness.connector, harness.store)
    pull_invoices(harness.connector, harness.store)
    harness.time.advance(minutes=15)


def test_an_orphan_nfe_is_quarantined_with_its_xml_and_holds_the_watermark_meanwhile(
    harness, monkeypatch
):
    """requirement: the refused NF-e is kept (its XML byte for byte) in the quarantine under
    the ERP's name, with the reason; the run's line counts it; while younger than the hold it
    holds the watermark, so the next window reads it again."""
    start(harness)
    before = watermark(harness)
    nfe = orphan_nfe(harness)
    listing_also_gives(harness, monkeypatch, nfe)
    report = pull_invoices(harness.connector, harness.store)
    assert (report.refused, report.quarantined, report.new) == (1, 1, 0)
    assert report.summary().endswith("0 new, 1 refused, 1 quarantined")
    assert report.cursor == before == watermark(harness)
    with harness.store.session() as session:
        (row,) = quarantine.open_items(session, "erp")
    assert row.external_id == f"nfe:{nfe.access_key}"
    assert row.error == f"{HELPER.channel}:SO-{LATE}: no such order in the store"
    assert row.payload["kind"] == QUARANTINE_KIND
    assert base64.b64decode(row.payload["xml_base64"]) == nfe.xml


def test_an_orphan_nfe_holds_the_watermark_no_longer_than_the_hold(harness, monkeypatch, time):
    """requirement: past `invoice_hold_hours` (72 h by default) since it was first refused,
    the orphan no longer holds the watermark: the windows stop growing; it stays in the
    quarantine (one row), visible and replayable."""
    start(harness)
    listing_also_gives(harness, monkeypatch, orphan_nfe(harness))
    first_seen = time.now()
    pull_invoices(harness.connector, harness.store)
    for _ in range(3):  # a run a day or so (the ERP's refresh token lives a day)
        time.advance(hours=20)
        pull_invoices(harness.connector, harness.store)
    time.advance(hours=11)
    held = pull_invoices(harness.connector, harness.store)
    assert held.window is not None and held.window.start < first_seen
    assert held.cursor is not None and held.cursor < first_seen
    time.advance(hours=2)
    report = pull_invoices(harness.connector, harness.store)
    assert report.quarantined == 1
    assert report.cursor == time.now() == watermark(harness)
    with harness.store.session() as session:
        (row,) = quarantine.open_items(session, "erp")
    assert row.created_at == first_seen


def test_an_orphan_nfe_is_attached_by_a_later_run_once_its_order_is_there(harness, monkeypatch):
    """requirement: once the order it names is in the store, the next run (whose window still
    reads it) attaches the NF-e and closes its quarantine row; the watermark moves on."""
    start(harness)
    nfe = orphan_nfe(harness)
    listing_also_gives(harness, monkeypatch, nfe)
    pull_invoices(harness.connector, harness.store)
    HELPER.channel_orders(harness, 1, start=LATE)
    harness.time.advance(minutes=15)
    report = pull_invoices(harness.connector, harness.store)
    assert (report.new, report.refused, report.quarantined) == (1, 0, 0), report.errors
    assert report.cursor == harness.time.now()
    with harness.store.session() as session:
        assert quarantine.open_items(session, "erp") == []
        assert invoices.by_key(session, nfe.access_key) is not None


TINY = """
connectors:
  erp:
    type: tiny
    sandbox: true
    credentials: {client_id: c, client_secret: s, refresh_token: t}
"""


def test_quarantine_replay_attaches_an_orphan_nfe_once_its_order_is_there(harness, monkeypatch):
    """requirement: `quarantine replay` attaches a quarantined ERP NF-e from its kept XML, with
    no ERP request: still failing (its reason refreshed) while the order is missing, attached
    and closed once it is there."""
    start(harness)
    nfe = orphan_nfe(harness)
    listing_also_gives(harness, monkeypatch, nfe)
    pull_invoices(harness.connector, harness.store)
    config = parse_config(yaml.safe_load(TINY), db="sqlite://")
    harness.emulator.requests.clear()
    assert replay_quarantine(config, harness.store, None) == (0, 1)
    HELPER.channel_orders(harness, 1, start=LATE)
    assert replay_quarantine(config, harness.store, None) == (1, 0)
    assert harness.emulator.requests == []
    with harness.store.session() as session:
        assert quarantine.open_items(session, "erp") == []
        row = invoices.by_key(session, nfe.access_key)
        assert row is not None and row.source == "erp"
        assert invoices.xml_of(row) == nfe.xml
