"""Bling invoices by watermark: after a first run that asks order by order, each run lists
the sales orders changed in its window (`GET /pedidos/vendas?dataAlteracaoInicial=`) and reads
the NF-e only of those of ours among them; the watermark moves only once what the run found is
stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpsync.connector import Window
from erpsync.connectors.bling import BlingConnector
from erpsync.connectors.bling.emulator import BlingEmulator
from erpsync.engine.invoice_pull import CURSOR, pull_invoices
from erpsync.engine.order_push import push_erp_orders
from erpsync.errors import FatalError
from erpsync.store import cursors, invoices
from erpsync.testing import ErpContract, Harness


class Orders(ErpContract):
    """The contract's helpers, used here outside pytest's collection."""

    connector_class = BlingConnector
    emulator_class = BlingEmulator


def pushed(harness: Harness, count: int) -> list[str]:
    """``count`` channel orders created in Bling; their Bling ids."""
    helper = Orders()
    made = helper.channel_orders(harness, count)
    push_erp_orders(harness.connector, harness.store)
    # created before the overlap of the runs to come (a change within it is read again)
    harness.time.advance(minutes=30)
    return [helper.remote_id(harness, order) for order in made]


def watermark(harness: Harness) -> datetime | None:
    with harness.store.session() as session:
        return cursors.get_cursor(session, "bling", CURSOR)


def api_calls(emulator: BlingEmulator) -> list[tuple[str, str]]:
    return [
        (r.method, r.path.removeprefix("/Api/v3"))
        for r in emulator.requests
        if "/oauth/" not in r.path and "/situacoes/" not in r.path
    ]


def listings(emulator: BlingEmulator) -> list:
    return [
        r for r in emulator.requests if r.path.endswith("/pedidos/vendas") and r.method == "GET"
    ]


def test_a_quiet_run_is_one_listing_request(harness, time):
    """requirement: once a watermark exists, a run where nothing changed makes one request:
    the listing of the orders changed in its window, by day, in the seller's zone."""
    emulator = harness.emulator
    pushed(harness, 3)
    first = pull_invoices(harness.connector, harness.store)
    assert (first.asked, first.one_by_one) == (3, 3)
    time.advance(minutes=15)
    emulator.requests.clear()
    started = time.now()
    report = pull_invoices(harness.connector, harness.store)
    assert (report.asked, report.one_by_one, report.new) == (3, 0, 0)
    assert api_calls(emulator) == [("GET", "/pedidos/vendas")]
    (listing,) = listings(emulator)
    local = started - timedelta(hours=3)  # São Paulo, UTC-3
    assert listing.params["dataAlteracaoFinal"] == local.strftime("%Y-%m-%d %H:%M:%S")
    start = first.cursor - harness.connector.overlap - timedelta(hours=3)
    assert listing.params["dataAlteracaoInicial"] == start.strftime("%Y-%m-%d %H:%M:%S")
    assert listing.params["limite"] == "100" and listing.params["pagina"] == "1"
    assert report.cursor == started == watermark(harness)


def test_an_nfe_issued_between_runs_is_found_through_its_changed_order(harness, time):
    """requirement: an order invoiced since the last run is listed as changed; only it is read
    (order, NF-e, XML), the orders still waiting cost nothing more."""
    emulator = harness.emulator
    _, second, _ = pushed(harness, 3)
    pull_invoices(harness.connector, harness.store)
    time.advance(minutes=20)
    key = emulator.erp_invoice_order(second)
    time.advance(minutes=20)
    emulator.requests.clear()
    report = pull_invoices(harness.connector, harness.store)
    assert (report.new, report.refused) == (1, 0), report.errors
    paths = [path for _, path in api_calls(emulator)]
    nfe = emulator.pedidos[int(second)]["notaFiscal"]["id"]
    assert paths == [
        "/pedidos/vendas",
        f"/pedidos/vendas/{second}",
        f"/nfe/{nfe}",
        "/relatorios/nfe.xml.php",
    ]
    with harness.store.session() as session:
        assert invoices.by_key(session, key) is not None


def test_an_order_changed_late_in_the_overlap_is_not_lost(harness, time):
    """requirement: each window reaches back `overlap` before the watermark: an order changed
    just before the last run that Bling listed too late for that run is found by the next."""
    emulator = harness.emulator
    (remote,) = pushed(harness, 1)
    time.set(datetime(2026, 11, 3, 3, 0, 30, tzinfo=UTC))  # 00:00:30 in São Paulo
    pull_invoices(harness.connector, harness.store)
    key = emulator.erp_invoice_order(remote)
    emulator.altered[int(remote)] = datetime(2026, 11, 3, 2, 58, tzinfo=UTC)  # 23:58 the day before
    time.advance(minutes=5)
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1
    assert listings(emulator)[-1].params["dataAlteracaoInicial"] == "2026-11-02 23:50:30"
    with harness.store.session() as session:
        assert invoices.by_key(session, key) is not None


def test_a_failure_mid_run_leaves_the_watermark(harness, time):
    """requirement: a run that fails after the listing moves no watermark; the next run covers
    the same window and finds the NF-e."""
    emulator = harness.emulator
    first, _ = pushed(harness, 2)
    pull_invoices(harness.connector, harness.store)
    before = watermark(harness)
    time.advance(minutes=20)
    emulator.erp_invoice_order(first)
    nfe_id = emulator.pedidos[int(first)]["notaFiscal"]["id"]
    nfe = emulator.nfes.pop(nfe_id)  # GET /nfe/{id} answers 404
    with pytest.raises(FatalError):
        pull_invoices(harness.connector, harness.store)
    assert watermark(harness) == before
    emulator.nfes[nfe_id] = nfe
    time.advance(hours=5)
    started = time.now()
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1 and report.cursor == started


def test_a_long_window_is_listed_a_year_at_a_time(harness):
    """requirement: Bling refuses a period over one year (400): a longer window is asked in
    periods of a year at most, each paged."""
    start = datetime(2024, 1, 10, 12, tzinfo=UTC)
    window = Window(start, start + timedelta(days=800))
    changes = list(harness.connector.fetch_invoice_changes(window, []))
    assert all(not c.invoices and not c.unsettled for c in changes)
    asked = [
        (r.params["dataAlteracaoInicial"], r.params["dataAlteracaoFinal"])
        for r in listings(harness.emulator)
    ]
    assert all(r.status == 200 for r in listings(harness.emulator))
    assert asked == [
        ("2024-01-10 09:00:00", "2025-01-09 09:00:00"),
        ("2025-01-09 09:00:00", "2026-01-09 09:00:00"),
        ("2026-01-09 09:00:00", "2026-03-20 09:00:00"),
    ]
