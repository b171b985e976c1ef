"""Olist ERP invoices by watermark: after a first run that asks order by order, each run makes
one `GET /notas` listing of its window and reads only the XML of a new authorised nota of
ours; the watermark moves only once what the run found is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from erpsync.config import parse_config
from erpsync.connectors.tiny import TinyConnector
from erpsync.connectors.tiny.emulator import TinyEmulator
from erpsync.engine.invoice_pull import CURSOR, pull_invoices
from erpsync.engine.order_push import push_erp_orders
from erpsync.errors import ConfigError, FatalError
from erpsync.store import cursors, invoices
from erpsync.store import erp as erp_store
from erpsync.testing import ErpContract, FakeTime, Harness, build_harness


class Orders(ErpContract):
    """The contract's helpers, used here outside pytest's collection."""

    connector_class = TinyConnector
    emulator_class = TinyEmulator


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emulator(time: FakeTime) -> TinyEmulator:
    return TinyEmulator(seed=1, clock=time.now, sandbox_orders=0)


@pytest.fixture
def harness(emulator: TinyEmulator, time: FakeTime) -> Harness:
    return build_harness(TinyConnector, emulator, time, name="erp")


def pushed(harness: Harness, count: int) -> list[str]:
    """``count`` channel orders created in the ERP; their ERP ids."""
    helper = Orders()
    made = helper.channel_orders(harness, count)
    push_erp_orders(harness.connector, harness.store)
    return [helper.remote_id(harness, order) for order in made]


def watermark(harness: Harness) -> datetime | None:
    with harness.store.session() as session:
        return cursors.get_cursor(session, "erp", CURSOR)


def requests(emulator: TinyEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests if not r.path.startswith("/realms")]


def nota_of(emulator: TinyEmulator, remote_id: str) -> dict:
    return emulator.notas[emulator.orders[int(remote_id)]["idNotaFiscal"]]


def last_listed_days(emulator: TinyEmulator) -> tuple[str, str]:
    """The days the last GET /notas listed: (dataInicial, dataFinal)."""
    listing = [r for r in emulator.requests if r.path == "/notas"][-1]
    return listing.params["dataInicial"], listing.params["dataFinal"]


def stored(harness: Harness, key: str) -> bool:
    """Whether the NF-e of this access key is in the store."""
    with harness.store.session() as session:
        return invoices.by_key(session, key) is not None


def test_the_first_run_asks_order_by_order_and_finds_old_invoices(harness, emulator, time):
    """requirement: with no watermark yet, every order awaiting an NF-e is asked about (an
    NF-e issued long before is found), then the watermark is the run's start."""
    first, _ = pushed(harness, 2)
    key = emulator.erp_invoice_order(first)
    emulator.nota_created[nota_of(emulator, first)["id"]] -= timedelta(days=30)
    time.advance(hours=20)
    started = time.now()
    report = pull_invoices(harness.connector, harness.store)
    assert (report.asked, report.one_by_one, report.new) == (2, 2, 1)
    assert report.cursor == started == watermark(harness)
    assert stored(harness, key)
    assert not [r for r in emulator.requests if r.path == "/notas"]


def test_a_quiet_run_is_one_listing_request(harness, emulator, time):
    """requirement: once a watermark exists, a run where nothing changed makes exactly one
    request to the ERP, the listing of its window's notas de saída by creation day."""
    pushed(harness, 3)
    pull_invoices(harness.connector, harness.store)
    time.advance(minutes=15)
    emulator.requests.clear()
    report = pull_invoices(harness.connector, harness.store)
    assert (report.asked, report.one_by_one, report.new) == (3, 0, 0)
    assert requests(emulator) == [("GET", "/notas")]
    (listing,) = [r for r in emulator.requests if r.path == "/notas"]
    day = (time.now() - timedelta(hours=3)).date().isoformat()  # São Paulo, UTC-3
    assert listing.params["tipo"] == "S"
    assert listing.params["dataFinal"] == day
    assert report.cursor == time.now()


def test_nothing_awaiting_asks_nothing(harness, emulator, time):
    """requirement: with no order awaiting an NF-e, a run sends no request at all."""
    pull_invoices(harness.connector, harness.store)
    emulator.requests.clear()
    time.advance(minutes=15)
    report = pull_invoices(harness.connector, harness.store)
    assert report.asked == 0 and requests(emulator) == []


def test_an_nfe_authorised_between_runs_is_found_on_the_next(harness, emulator, time):
    """requirement: an NF-e issued after the last run is found through the listing, its XML
    read once, no order read; the orders still waiting cost nothing more."""
    first, second, _ = pushed(harness, 3)
    pull_invoices(harness.connector, harness.store)
    time.advance(minutes=20)
    key = emulator.erp_invoice_order(second)
    time.advance(minutes=20)
    emulator.requests.clear()
    report = pull_invoices(harness.connector, harness.store)
    assert (report.new, report.refused) == (1, 0), report.errors
    nota = nota_of(emulator, second)["id"]
    assert requests(emulator) == [("GET", "/notas"), ("GET", f"/notas/{nota}/xml")]
    with harness.store.session() as session:
        row = invoices.by_key(session, key)
        assert row is not None and invoices.xml_of(row).startswith(b"<?xml")
    again = pull_invoices(harness.connector, harness.store)
    assert (again.asked, again.new) == (2, 0)
    del first


def test_an_nfe_indexed_late_in_the_overlap_is_not_lost(harness, emulator, time):
    """requirement: each window reaches back `overlap` before the watermark: an NF-e created
    just before the last run (on the day before, in the seller's zone) that the ERP listed
    too late for that run is found by the next one."""
    (remote,) = pushed(harness, 1)
    time.set(datetime(2026, 11, 3, 3, 0, 30, tzinfo=UTC))  # 00:00:30 in São Paulo
    pull_invoices(harness.connector, harness.store)
    key = emulator.erp_invoice_order(remote)
    nota = nota_of(emulator, remote)["id"]
    # created at 23:58 the day before: not yet indexed when that run listed
    emulator.nota_created[nota] = datetime(2026, 11, 3, 2, 58, tzinfo=UTC)
    time.advance(minutes=5)
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1
    assert last_listed_days(emulator)[0] == "2026-11-02"
    assert stored(harness, key)


def sao_paulo(day: int, hour: int, minute: int) -> datetime:
    """A November 2026 time in São Paulo (UTC-3, no summer time), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=3)


def test_a_nota_seen_pending_late_in_a_day_and_authorised_after_midnight_is_found(
    harness, emulator, time
):
    """requirement: the listing filters by the nota's creation day: a nota created at 23:50
    and listed pending holds the watermark, so after midnight the next window still starts on
    the day before and finds it authorised."""
    (remote,) = pushed(harness, 1)
    time.set(sao_paulo(2, 23, 40))
    pull_invoices(harness.connector, harness.store)
    time.set(sao_paulo(2, 23, 50))
    key = emulator.erp_invoice_order(remote)
    emulator.erp_invoice_situation(remote, "pending")
    time.set(sao_paulo(2, 23, 55))
    seen = pull_invoices(harness.connector, harness.store)
    assert (seen.new, seen.cursor) == (0, sao_paulo(2, 23, 40))  # held by the pending nota
    time.set(sao_paulo(3, 0, 20))
    emulator.erp_invoice_situation(remote, "authorised")
    time.set(sao_paulo(3, 0, 30))
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1 and report.cursor == time.now()
    assert last_listed_days(emulator) == ("2026-11-02", "2026-11-03")
    assert stored(harness, key)


def test_a_nota_created_late_on_a_day_the_last_window_covered_is_found(harness, emulator, time):
    """requirement: a nota created (and authorised) at 23:40, after a run at 23:00 that
    listed that day, is found by the run after midnight: its window starts on that day."""
    (remote,) = pushed(harness, 1)
    time.set(sao_paulo(2, 23, 0))
    pull_invoices(harness.connector, harness.store)
    time.set(sao_paulo(2, 23, 40))
    key = emulator.erp_invoice_order(remote)
    time.set(sao_paulo(3, 0, 20))
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1
    assert last_listed_days(emulator)[0] == "2026-11-02"
    assert stored(harness, key)


@pytest.mark.parametrize("zone", [ZoneInfo("America/Sao_Paulo"), UTC], ids=["sao-paulo", "utc"])
def test_a_nota_created_after_21h_is_found_whichever_zone_the_days_are(zone, time):
    """requirement: Tiny does not say whose calendar day `dataInicial`/`dataFinal` compare.
    From 21:00 in São Paulo, UTC is already on the next day: a window from 21:10 to 21:40
    lists from São Paulo's day to UTC's, so a nota created at 21:25 is found the same run on
    either reading (São Paulo's days alone would miss it until midnight on UTC's, UTC's alone
    for good on São Paulo's)."""
    emulator = TinyEmulator(seed=1, clock=time.now, sandbox_orders=0, nota_day_zone=zone)
    harness = build_harness(TinyConnector, emulator, time, name="erp")
    (remote,) = pushed(harness, 1)
    time.set(sao_paulo(2, 21, 20))
    pull_invoices(harness.connector, harness.store)
    time.set(sao_paulo(2, 21, 25))
    key = emulator.erp_invoice_order(remote)
    time.set(sao_paulo(2, 21, 40))
    report = pull_invoices(harness.connector, harness.store)
    assert report.window is not None and report.window.start == sao_paulo(2, 21, 10)
    assert report.new == 1, report.errors
    assert last_listed_days(emulator) == ("2026-11-02", "2026-11-03")
    assert stored(harness, key)


def test_a_failure_mid_run_leaves_the_watermark(harness, emulator, time):
    """requirement: a run that fails after the listing moves no watermark; the next run covers
    the same window and finds the NF-e."""
    first, second = pushed(harness, 2)
    pull_invoices(harness.connector, harness.store)
    before = watermark(harness)
    time.advance(minutes=20)
    emulator.erp_invoice_order(first)
    nota = nota_of(emulator, first)["id"]
    xml = emulator.xmls.pop(nota)  # the XML read fails (404)
    with pytest.raises(FatalError):
        pull_invoices(harness.connector, harness.store)
    assert watermark(harness) == before
    emulator.xmls[nota] = xml
    time.advance(hours=20)
    report = pull_invoices(harness.connector, harness.store)
    assert report.new == 1 and report.cursor == time.now()
    del second


def test_an_order_recorded_late_for_an_older_erp_order_is_asked_one_by_one(harness, emulator, time):
    """requirement: an order whose push was recorded since the last run but was sent before
    this window (found after a lost answer) may have an NF-e older than the window: it is
    asked about one by one, the others by the listing."""
    first, second = pushed(harness, 2)
    pull_invoices(harness.connector, harness.store)
    key = emulator.erp_invoice_order(second)
    emulator.nota_created[nota_of(emulator, second)["id"]] -= timedelta(days=5)
    time.advance(minutes=30)
    with harness.store.session() as session:
        push = erp_store.pushes(session, "erp")
        late = next(p for p in push.values() if p.remote_id == second)
        late.first_sent_at = time.now() - timedelta(days=6)
        late.updated_at = time.now()
        session.add(late)
        early = next(p for p in push.values() if p.remote_id == first)
        early.first_sent_at = early.updated_at = time.now() - timedelta(days=6)
        session.add(early)
    report = pull_invoices(harness.connector, harness.store)
    assert (report.asked, report.one_by_one, report.new) == (2, 1, 1)
    assert stored(harness, key)


def test_the_summary_tells_one_by_one_from_the_listing(harness, emulator, time):
    """requirement: the run's line says how many orders awaiting an NF-e were asked one by one
    and that the rest came from one listing, and since when."""
    pushed(harness, 2)
    first = pull_invoices(harness.connector, harness.store)
    assert first.summary() == "2 orders awaiting an NF-e: 2 asked one by one; 0 new, 0 refused"
    assert first.counts()["one_by_one"] == 2 and first.counts()["listed"] == 0
    time.advance(minutes=15)
    quiet = pull_invoices(harness.connector, harness.store)
    assert quiet.window is not None
    since = quiet.window.start.isoformat()
    assert quiet.summary() == (
        f"2 orders awaiting an NF-e: all by one listing since {since}; 0 new, 0 refused"
    )
    assert quiet.counts()["listed"] == 2


def test_recheck_asks_every_order_one_by_one_and_keeps_the_watermark_forward(
    harness, emulator, time
):
    """requirement: `invoices pull --recheck` asks about every order awaiting an NF-e one by
    one, whatever the listing would show (an NF-e issued long before the window is found),
    and the watermark then moves to this run's start, never back."""
    (remote,) = pushed(harness, 1)
    pull_invoices(harness.connector, harness.store)
    time.advance(minutes=20)
    key = emulator.erp_invoice_order(remote)
    # listed outside every window from now on: only asking the order finds it
    emulator.nota_created[nota_of(emulator, remote)["id"]] -= timedelta(days=60)
    time.advance(minutes=20)
    assert pull_invoices(harness.connector, harness.store).new == 0
    time.advance(minutes=20)
    emulator.requests.clear()
    started = time.now()
    report = pull_invoices(harness.connector, harness.store, recheck=True)
    assert (report.asked, report.one_by_one, report.new) == (1, 1, 1)
    assert not [r for r in emulator.requests if r.path == "/notas"]
    assert report.cursor == watermark(harness) == started
    assert stored(harness, key)


TINY = """
connectors:
  erp:
    type: tiny
    sandbox: true
    credentials: {client_id: c, client_secret: s, refresh_token: t}
"""


def test_invoice_hold_hours_sets_the_hold_and_72_hours_is_the_default():
    """requirement: `invoice_hold_hours` is how long a stuck NF-e may hold an ERP's invoices
    watermark; without it, 72 hours."""
    plain = parse_config(yaml.safe_load(TINY), db="sqlite://")
    assert plain.connectors["erp"].invoice_hold == timedelta(hours=72)
    held = parse_config(yaml.safe_load(TINY + "    invoice_hold_hours: 24\n"), db="sqlite://")
    assert held.connectors["erp"].invoice_hold == timedelta(hours=24)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be >= 1"),
        ("1000", "must be <= 720"),
        ("3 days", "must be an integer"),
    ],
)
def test_a_bad_invoice_hold_is_one_clear_line(value, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_load(TINY + f"    invoice_hold_hours: {value}\n"), db="sqlite://")
    assert caught.value.problems == [f"erpsync.yaml: connectors.erp.invoice_hold_hours: {message}"]
