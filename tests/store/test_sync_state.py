"""Cursors, the run log and quarantine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from erpsync.store import cursors, quarantine, runs

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_cursor_never_moves_backwards(store):
    """requirement: advance_cursor ignores older values and returns what is stored."""
    with store.session() as s:
        assert cursors.get_cursor(s, "ml") is None
        assert cursors.advance_cursor(s, "ml", "orders", T0) == T0
        assert cursors.advance_cursor(s, "ml", "orders", T0 - timedelta(hours=1)) == T0
        later = datetime(2024, 5, 1, 10, 0, tzinfo=timezone(timedelta(hours=-3)))  # 13:00 UTC
        assert cursors.advance_cursor(s, "ml", "orders", later) == T0 + timedelta(hours=1)
    with store.session() as s:
        stored = cursors.get_cursor(s, "ml", "orders")
        assert cursors.get_cursor(s, "ml", "listings") is None
    assert stored == T0 + timedelta(hours=1) and stored.tzinfo is UTC


def test_reset_cursor_moves_back_or_forgets(store):
    with store.session() as s:
        cursors.advance_cursor(s, "ml", "orders", T0)
        cursors.reset_cursor(s, "ml", "orders", T0 - timedelta(days=3))
        assert cursors.get_cursor(s, "ml") == T0 - timedelta(days=3)
        cursors.reset_cursor(s, "ml", "orders", None)
        assert cursors.get_cursor(s, "ml") is None


def test_naive_cursor_is_refused(store):
    with store.session() as s, pytest.raises(ValueError, match="time without a UTC offset"):
        cursors.advance_cursor(s, "ml", "orders", datetime(2024, 5, 1))


def test_runs_record_outcome_counts_and_error(store):
    with store.session() as s:
        first = runs.start_run(s, "pull-orders", "ml", at=T0)
        second = runs.start_run(s, "push-stock", "amz", at=T0 + timedelta(seconds=1))
        runs.finish_run(s, first, "ok", {"new": 3}, None, at=T0 + timedelta(seconds=5))
        runs.finish_run(s, second, "failed", {}, "amz: GET /orders: HTTP 500", at=T0)
    with store.session() as s:
        latest = runs.last_runs(s, limit=5)
    assert [(r.command, r.outcome, r.counts, r.error) for r in latest] == [
        ("push-stock", "failed", {}, "amz: GET /orders: HTTP 500"),
        ("pull-orders", "ok", {"new": 3}, None),
    ]
    assert latest[1].finished_at == T0 + timedelta(seconds=5)


def test_unknown_run_outcome_is_refused(store):
    with store.session() as s:
        run = runs.start_run(s, "sync", None)
        with pytest.raises(ValueError, match="unknown run outcome 'meh'"):
            runs.finish_run(s, run, "meh", {}, None)


def test_quarantine_keeps_one_open_row_per_order(store):
    """requirement: quarantining the same order again updates its open row."""
    with store.session() as s:
        first = quarantine.add(s, "ml", "1", {"v": 1}, "KeyError: 'buyer'")
        again = quarantine.add(s, "ml", "1", {"v": 2}, "ValueError: bad CPF")
        other = quarantine.add(s, "amz", "1", {}, "x")
        anonymous = [quarantine.add(s, "ml", None, {}, "no id") for _ in range(2)]
        assert again == first and other != first and anonymous[0] != anonymous[1]
        assert [(q.external_id, q.payload, q.error) for q in quarantine.open_items(s, "ml")] == [
            ("1", {"v": 2}, "ValueError: bad CPF"),
            (None, {}, "no id"),
            (None, {}, "no id"),
        ]
        assert quarantine.resolve(s, first) is True
        assert quarantine.resolve(s, first) is False
        reopened = quarantine.add(s, "ml", "1", {"v": 3}, "still bad")
        assert reopened != first
        assert quarantine.resolve_order(s, "ml", "1") == 1
        assert [q.connector for q in quarantine.open_items(s)] == ["amz", "ml", "ml"]


def test_open_quarantine_ids_among_a_pages_orders(store):
    """requirement: a pull's page asks which of its own orders are quarantined and open; the
    answer leaves out resolved items, other connectors' and orders not asked about."""
    with store.session() as s:
        quarantine.add(s, "ml", "1", {}, "bad")
        quarantine.add(s, "ml", "2", {}, "bad")
        quarantine.resolve(s, quarantine.add(s, "ml", "3", {}, "bad"))
        quarantine.add(s, "amz", "4", {}, "bad")
        quarantine.add(s, "ml", None, {}, "no id")
        assert quarantine.open_ids(s, "ml", ["1", "3", "4", "5"]) == {"1"}
        assert quarantine.open_ids(s, "ml", []) == set()
        assert quarantine.open_ids(s, "ml") == {"1", "2"}
