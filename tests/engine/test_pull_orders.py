"""pull-orders: upsert by (connector, external_id), stock effects exactly once, safe cursor."""

from datetime import timedelta

import pytest

from erpsync.engine.pull import pull_orders
from erpsync.errors import FatalError, RetriableError
from erpsync.store import cursors, ledger, orders, quarantine
from tests.engine.fakes import T0, payload


def levels(store, sku):
    with store.session() as session:
        level = ledger.levels(session, ["main"], [sku]).get(sku)
    return (level.on_hand, level.reserved) if level else (0, 0)


def pull(connector, store, at, **kwargs):
    connector.context.clock = lambda: at
    return pull_orders(connector, store, **kwargs)


def test_pending_reserves_then_paid_deducts_then_cancel_returns(connector, store):
    """requirement: pending reserves; paid turns the reservation into a baixa; cancel returns it."""
    connector.orders = [payload("1", "pending", items=[("SKU-A", 3)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    assert levels(store, "SKU-A") == (100, 3)

    connector.orders = [
        payload("1", "paid", updated=T0 + timedelta(minutes=2), items=[("SKU-A", 3)])
    ]
    pull(connector, store, T0 + timedelta(minutes=3))
    assert levels(store, "SKU-A") == (97, 0)

    connector.orders = [
        payload("1", "cancelled", updated=T0 + timedelta(minutes=4), items=[("SKU-A", 3)])
    ]
    pull(connector, store, T0 + timedelta(minutes=5))
    assert levels(store, "SKU-A") == (100, 0)


def test_cancelling_a_pending_order_releases_the_reservation(connector, store):
    connector.orders = [payload("1", "pending", items=[("SKU-A", 2)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    connector.orders = [
        payload("1", "cancelled", updated=T0 + timedelta(minutes=2), items=[("SKU-A", 2)])
    ]
    pull(connector, store, T0 + timedelta(minutes=3))
    assert levels(store, "SKU-A") == (100, 0)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("paid", (98, 0)), ("delivered", (98, 0)), ("cancelled", (100, 0)), ("pending", (100, 2))],
)
def test_first_sight_of_an_order(connector, store, status, expected):
    """requirement: arriving paid deducts directly; arriving cancelled touches nothing."""
    connector.orders = [payload("1", status, items=[("SKU-A", 2)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    assert levels(store, "SKU-A") == expected


def test_fulfilled_by_channel_orders_are_imported_without_touching_stock(connector, store):
    connector.orders = [payload("1", "paid", items=[("SKU-A", 2)], fulfilled=True)]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert report.new == 1
    assert levels(store, "SKU-A") == (100, 0)


def test_replays_and_overlapping_windows_apply_nothing_twice(connector, store):
    """requirement: re-running, overlapping windows and replays never apply an effect twice."""
    connector.orders = [
        payload(str(n), "paid", updated=T0 + timedelta(seconds=n)) for n in range(7)
    ]
    first = pull(connector, store, T0 + timedelta(minutes=1))
    again = pull(connector, store, T0 + timedelta(minutes=2), since=T0 - timedelta(days=1))
    assert (first.new, again.new, again.updated) == (7, 0, 0)
    assert levels(store, "SKU-A") == (93, 0)


def test_an_older_snapshot_never_overwrites_a_newer_one(connector, store):
    """requirement: out-of-order updates are ignored (the order keeps its newest state)."""
    connector.orders = [payload("1", "paid", updated=T0 + timedelta(minutes=5))]
    pull(connector, store, T0 + timedelta(minutes=6))
    connector.orders = [payload("1", "pending", updated=T0 + timedelta(minutes=1))]
    report = pull(connector, store, T0 + timedelta(minutes=7), since=T0)
    assert report.stale == 1
    with store.session() as session:
        assert orders.get_order(session, "shop", "1").status == "paid"
    assert levels(store, "SKU-A") == (99, 0)


def test_kits_move_their_components(connector, store):
    connector.orders = [payload("1", "paid", items=[("KIT-AB", 2)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    assert levels(store, "SKU-A") == (96, 0)
    assert levels(store, "SKU-B") == (48, 0)


def test_unknown_skus_are_imported_and_reported(connector, store):
    """requirement: items whose SKU is unknown are still imported and reported, not dropped."""
    connector.orders = [payload("1", "paid", items=[("NOPE", 1), ("SKU-A", 1)])]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert report.unknown_skus == {"NOPE"}
    with store.session() as session:
        order = orders.load_order(session, "shop", "1")
    assert [i.sku for i in order.items] == ["NOPE", "SKU-A"]
    assert levels(store, "SKU-A") == (99, 0)


def test_unmappable_payloads_go_to_quarantine_and_the_rest_import(connector, store):
    connector.orders = [payload("1", broken=True), payload("2")]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert (report.new, report.quarantined) == (1, 1)
    with store.session() as session:
        [item] = quarantine.open_items(session)
    assert item.external_id == "1"
    assert "total" in item.error


def test_the_cursor_moves_only_after_the_whole_window_is_committed(connector, store):
    """requirement: a failure mid-window keeps committed pages and leaves the cursor behind."""
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(9)]
    connector.fail_after_pages = 2
    with pytest.raises(RuntimeError):
        pull(connector, store, T0 + timedelta(minutes=1))
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") is None
        assert len(orders.list_orders(session, connector="shop")) == 6
    connector.fail_after_pages = None
    report = pull(connector, store, T0 + timedelta(minutes=2))
    assert (report.new, report.unchanged) == (3, 0)
    assert levels(store, "SKU-A") == (91, 0)
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(minutes=2)


def test_a_transient_failure_of_one_orders_request_leaves_only_that_order_for_the_next_run(
    connector, store
):
    """requirement: a detail call that still fails after its retries fails its own order, not
    its neighbours on the page; the cursor stays, so the next run reads the order again."""
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(5)]
    connector.failures["2"] = RetriableError("HTTP 503: unavailable", connector="shop")
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert (report.new, report.deferred, report.quarantined) == (4, 1, 0)
    assert report.shortfall() == "1 order left for the next run"
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") is None
        stored = {o.external_id for o in orders.list_orders(session, connector="shop")}
        assert stored == {"0", "1", "3", "4"}
        assert quarantine.open_items(session) == []
    connector.failures.clear()
    report = pull(connector, store, T0 + timedelta(minutes=2))
    assert (report.new, report.deferred) == (1, 0)
    assert levels(store, "SKU-A") == (95, 0)
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(minutes=2)


def test_a_held_order_keeps_later_checkpoints_from_moving_the_cursor(connector, store):
    """requirement: with page checkpoints, the cursor stops at the last page before the
    failed order, never past it."""
    connector.checkpoints = True
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(9)]
    connector.failures["4"] = RetriableError("timed out", connector="shop")
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert (report.new, report.deferred) == (8, 1)
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(seconds=2)


def test_a_refused_request_of_one_order_quarantines_that_order_only(connector, store):
    """requirement: a detail call the platform refuses (retrying cannot help) sends its order
    to the quarantine with the reason; the neighbours import and the cursor moves on."""
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(3)]
    connector.failures["1"] = FatalError("HTTP 400: bad shipment id", connector="shop")
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert (report.new, report.quarantined, report.deferred) == (2, 1, 0)
    with store.session() as session:
        [item] = quarantine.open_items(session)
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(minutes=1)
    assert item.external_id == "1"
    assert "bad shipment id" in item.error


def test_next_window_starts_at_the_cursor_minus_the_overlap(connector, store):
    connector.orders = []
    pull(connector, store, T0)
    report = pull(connector, store, T0 + timedelta(hours=1))
    assert report.window.start == T0 - connector.overlap


def test_checkpoints_move_the_cursor_page_by_page(connector, store):
    connector.checkpoints = True
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(5)]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert report.cursor == T0 + timedelta(seconds=4)


def test_dry_run_writes_nothing(connector, store):
    """requirement: --dry-run shows what would change and writes nothing."""
    connector.orders = [payload("1", "paid"), payload("2", broken=True)]
    report = pull(connector, store, T0 + timedelta(minutes=1), dry_run=True)
    assert report.new == 1 and report.quarantined == 1
    assert any(c.startswith("new 1") for c in report.changes)
    with store.session() as session:
        assert orders.list_orders(session) == []
        assert quarantine.open_items(session) == []
        assert cursors.get_cursor(session, "shop", "orders") is None
    assert levels(store, "SKU-A") == (100, 0)


def test_a_quarantined_order_keeps_no_personal_data_in_its_error(connector, store, monkeypatch):
    """requirement: documents are personal data: a mapping error names the field, not the CPF."""
    original = type(connector).map_order

    def with_bad_cpf(self, payload):
        order = original(self, payload)
        data = order.model_dump()
        data["buyer"] = {"name": "Ana", "document": "471.852.036-36"}
        return type(order).model_validate(data)

    monkeypatch.setattr(type(connector), "map_order", with_bad_cpf)
    connector.orders = [payload("1")]
    pull(connector, store, T0 + timedelta(minutes=1))
    with store.session() as session:
        [item] = quarantine.open_items(session)
    assert item.error.startswith("ValidationError: buyer.document: Value error, invalid CPF")
    assert "036-36" not in item.error and "03636" not in item.error


def offset_connector(**attrs):
    from erpsync.connector import ConnectorSettings
    from tests.engine.fakes import FakeOptions, OffsetPagedConnector

    connector = OffsetPagedConnector(
        ConnectorSettings(name="shop", type="fake", options=FakeOptions(page_size=3))
    )
    for name, value in attrs.items():
        setattr(connector, name, value)
    return connector


def test_an_order_updated_mid_pull_does_not_make_another_one_skipped(store):
    """requirement: offset paging over a live result loses nothing. Order 0 is updated after
    page 1 (it leaves the window), every later record shifts back by one and order 3 falls
    between pages; the engine reads the window again and finds it."""
    connector = offset_connector()
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(8)]

    def update_order_0():
        connector.orders[0] = payload("0", updated=T0 + timedelta(hours=2))

    connector.after_first_page = update_order_0
    report = pull(connector, store, T0 + timedelta(minutes=1))
    with store.session() as session:
        stored = {r.external_id for r in orders.list_orders(session, connector="shop")}
    assert stored == {str(n) for n in range(8)}
    assert report.new == 8
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(minutes=1)


def test_a_window_the_platform_will_not_page_through_is_split(store):
    """requirement: a platform's paging cap (Magalu's _offset) splits the window, not fails it."""
    connector = offset_connector(cap=6)
    connector.orders = [payload(str(n), updated=T0 - timedelta(hours=n)) for n in range(20)]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert report.new == 20
    with store.session() as session:
        assert len(orders.list_orders(session, connector="shop")) == 20


@pytest.mark.parametrize(
    ("status", "after_edit"),
    [
        ("paid", {"SKU-A": (98, 0), "SKU-B": (50, 0)}),
        ("pending", {"SKU-A": (100, 2), "SKU-B": (50, 0)}),
    ],
)
def test_a_line_removed_from_a_held_order_gives_its_stock_back(
    connector, store, status, after_edit
):
    """requirement: a partially cancelled order (a cancelled delivery, a line at 0) returns the
    stock of what it no longer asks for, once, and a later full cancel returns the rest."""
    connector.orders = [payload("1", status, items=[("SKU-A", 2), ("SKU-B", 1)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    edited = payload("1", status, updated=T0 + timedelta(minutes=2), items=[("SKU-A", 2)])
    connector.orders = [edited]
    pull(connector, store, T0 + timedelta(minutes=3))
    pull(connector, store, T0 + timedelta(minutes=4), since=T0)  # a replay changes nothing
    assert {sku: levels(store, sku) for sku in after_edit} == after_edit
    cancelled = payload("1", "cancelled", updated=T0 + timedelta(minutes=5), items=[("SKU-A", 2)])
    connector.orders = [cancelled]
    pull(connector, store, T0 + timedelta(minutes=6))
    assert (levels(store, "SKU-A"), levels(store, "SKU-B")) == ((100, 0), (50, 0))


def test_a_later_version_that_maps_closes_the_quarantine_item(connector, store):
    connector.orders = [payload("1", broken=True)]
    pull(connector, store, T0 + timedelta(minutes=1))
    connector.orders = [payload("1", updated=T0 + timedelta(minutes=2))]
    report = pull(connector, store, T0 + timedelta(minutes=3))
    assert report.new == 1
    with store.session() as session:
        assert quarantine.open_items(session) == []


def test_an_unmappable_order_does_not_hold_the_cursor_of_a_re_read_window(store):
    """requirement: the re-reads of offset-paged windows stop on orders stored or changed; a
    quarantined order, yielded by every pass, must not keep the cursor from moving."""
    connector = offset_connector()
    connector.orders = [payload("1"), payload("2", broken=True)]
    report = pull(connector, store, T0 + timedelta(minutes=1))
    assert (report.new, report.quarantined) == (1, 2)  # pass 2 stored nothing new: done
    with store.session() as session:
        assert cursors.get_cursor(session, "shop", "orders") == T0 + timedelta(minutes=1)
        assert len(quarantine.open_items(session)) == 1


@pytest.mark.parametrize(
    ("first", "again", "expected"),
    [("paid", "paid", (98, 0)), ("pending", "pending", (100, 2)), ("cancelled", "paid", (98, 0))],
)
def test_a_cancellation_the_channel_reverts_books_again_exactly_once(
    connector, store, first, again, expected
):
    """requirement: cancelled, then paid (or pending) again in a newer version: booked once more,
    and `status` names the order."""
    from erpsync.engine import reports

    updates = [(first, 0), ("cancelled", 2), (again, 4)]
    for status, minute in updates:
        connector.orders = [
            payload("1", status, updated=T0 + timedelta(minutes=minute), items=[("SKU-A", 2)])
        ]
        pull(connector, store, T0 + timedelta(minutes=minute + 1))
    assert levels(store, "SKU-A") == expected
    # replays and overlapping windows of that version book nothing more
    pull(connector, store, T0 + timedelta(minutes=6), since=T0 - timedelta(days=1))
    pull(connector, store, T0 + timedelta(minutes=7))
    assert levels(store, "SKU-A") == expected
    with store.session() as session:
        reinstated = reports.status_summary(session)["reinstated"]
    assert [(r["connector"], r["external_id"]) for r in reinstated] == [("shop", "1")]
    # and a second cancellation gives the stock back again
    connector.orders = [
        payload("1", "cancelled", updated=T0 + timedelta(minutes=8), items=[("SKU-A", 2)])
    ]
    pull(connector, store, T0 + timedelta(minutes=9))
    assert levels(store, "SKU-A") == (100, 0)


def test_a_cancelled_and_a_paid_snapshot_of_the_same_version_keep_the_cancellation(
    connector, store
):
    connector.orders = [payload("1", "cancelled", items=[("SKU-A", 2)])]
    pull(connector, store, T0 + timedelta(minutes=1))
    connector.orders = [payload("1", "paid", items=[("SKU-A", 2)])]
    pull(connector, store, T0 + timedelta(minutes=2), since=T0 - timedelta(days=1))
    assert levels(store, "SKU-A") == (100, 0)


def test_after_commit_runs_once_each_page_is_committed_and_never_on_a_dry_run(connector, store):
    """requirement: a page's after_commit hook (a feed acknowledgement) runs only after its
    transaction committed: the orders it names are readable from another session by then."""
    connector.orders = [payload(str(n), updated=T0 + timedelta(seconds=n)) for n in range(5)]
    seen_committed: list[list[str]] = []

    def hook(ids):
        with store.session() as session:
            stored = {o.external_id for o in orders.list_orders(session)}
        assert set(ids) <= stored
        seen_committed.append(ids)

    connector.on_commit = hook
    pull(connector, store, T0 + timedelta(minutes=1), dry_run=True)
    assert seen_committed == []
    pull(connector, store, T0 + timedelta(minutes=1))
    assert seen_committed == [["0", "1", "2"], ["3", "4"]]


def test_a_run_that_dies_in_after_commit_keeps_the_committed_page(connector, store):
    """requirement: dying between the commit and the acknowledgement loses nothing; the
    re-read that follows books nothing twice."""
    connector.orders = [payload("1", "paid", items=[("SKU-A", 2)])]

    def die(ids):
        raise KeyboardInterrupt

    connector.on_commit = die
    with pytest.raises(KeyboardInterrupt):
        pull(connector, store, T0 + timedelta(minutes=1))
    assert levels(store, "SKU-A") == (98, 0)
    connector.on_commit = None
    report = pull(connector, store, T0 + timedelta(minutes=1), since=T0 - timedelta(hours=1))
    assert report.new == 0
    assert levels(store, "SKU-A") == (98, 0)
