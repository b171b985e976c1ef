"""The stock ledger: idempotent movements, levels summed over locations, adjustments."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from erpsync.store import ledger, open_store
from erpsync.store.ledger import StockLevel
from erpsync.store.tables import StockMovement


def _move(s, sku="CAM-P", location="main", bucket="on_hand", quantity=5, key=None):
    return ledger.record(
        s,
        sku=sku,
        location=location,
        bucket=bucket,
        quantity=quantity,
        reason="test",
        reference="order:ml:1",
        key=key,
    )


def _count(s) -> int:
    return s.exec(select(func.count()).select_from(StockMovement)).one()


def test_same_key_twice_writes_one_movement(store):
    """requirement: record() with a key already in the ledger returns False and writes nothing."""
    with store.session() as s:
        assert _move(s, key="order:ml:1:deduct") is True
    with store.session() as s:
        assert _move(s, quantity=99, key="order:ml:1:deduct") is False
        assert _count(s) == 1
        assert ledger.levels(s, ["main"])["CAM-P"] == StockLevel(on_hand=5, reserved=0)


def test_movements_without_key_always_append(store):
    with store.session() as s:
        assert _move(s) and _move(s)
        assert _count(s) == 2


def test_key_inserted_by_a_racing_writer_rolls_back_only_the_savepoint(store, monkeypatch):
    """requirement: a duplicate caught by the UNIQUE constraint returns False, and the caller's
    earlier work in the same transaction survives (only the SAVEPOINT is rolled back)."""
    with store.session() as s:
        _move(s, key="k")
        _move(s, sku="X")
        # the racing writer commits between our existence check and our insert
        answers = iter([False, True])
        monkeypatch.setattr(ledger, "key_exists", lambda _s, _k: next(answers))
        assert _move(s, quantity=99, key="k") is False
        monkeypatch.undo()
        assert _move(s, key="k2") is True
    with store.session() as s:
        kept = [(m.sku, m.quantity, m.idempotency_key) for m in ledger.movements(s)]
    assert kept == [("CAM-P", 5, "k2"), ("X", 5, None), ("CAM-P", 5, "k")]


def test_concurrent_writers_with_the_same_key_write_once(db_url):
    """requirement: threads racing on one key (own sessions, shared engine) write it once."""
    store = open_store(db_url)
    barrier = threading.Barrier(8)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with store.session() as s:
                results.append(_move(s, key="order:ml:9:deduct"))
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.session() as s:
        count = _count(s)
    store.close()
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    assert count == 1


def test_levels_sum_buckets_over_the_given_locations_only(store):
    """requirement: levels() sums on_hand and reserved per SKU over the listed locations."""
    with store.session() as s:
        _move(s, location="main", quantity=10)
        _move(s, location="loja", quantity=3)
        _move(s, location="full", quantity=100)
        _move(s, location="main", bucket="reserved", quantity=2)
        _move(s, location="main", quantity=-4)
        _move(s, sku="BONE", location="loja", quantity=1)
        both = ledger.levels(s, ["main", "loja"])
        one = ledger.levels(s, ["main"], ["CAM-P", "NEW"])
        none = ledger.levels(s, [], ["CAM-P"])
    assert both == {"CAM-P": StockLevel(9, 2), "BONE": StockLevel(1, 0)}
    assert one == {"CAM-P": StockLevel(6, 2), "NEW": StockLevel(0, 0)}
    assert one["CAM-P"].available == 4
    assert none == {"CAM-P": StockLevel(0, 0)}


def test_set_on_hand_writes_the_difference(store):
    """requirement: set_on_hand appends quantity - current and returns that delta."""
    with store.session() as s:
        _move(s, quantity=7)
        _move(s, bucket="reserved", quantity=3)
        assert ledger.set_on_hand(s, "CAM-P", "main", 10) == 3
        assert ledger.set_on_hand(s, "CAM-P", "main", 10) == 0
        assert ledger.set_on_hand(s, "CAM-P", "main", 4, reason="count") == -6
        latest = ledger.movements(s, "CAM-P", limit=1)[0]
        assert ledger.levels(s, ["main"])["CAM-P"] == StockLevel(4, 3)
    assert (latest.quantity, latest.reason, latest.bucket) == (-6, "count", "on_hand")


def test_unknown_bucket_is_refused(store):
    with store.session() as s, pytest.raises(ValueError, match="unknown stock bucket 'free'"):
        _move(s, bucket="free")
