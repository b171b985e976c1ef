"""Listings: upsert from the channel, manual links that survive, push records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from erpsync.domain import Listing
from erpsync.store import listings

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _listing(item_id, sku=None, variation_id=None, **kw):
    return Listing(connector="ml", item_id=item_id, variation_id=variation_id, sku=sku, **kw)


def _skus(s):
    return {(r.ref, r.sku, r.source) for r in listings.list_listings(s, "ml")}


def test_upsert_inserts_then_updates_by_item_and_variation(store):
    """requirement: one row per (connector, item, variation); no variation is stored as ""."""
    with store.session() as s:
        written = listings.upsert_listings(
            s, "ml", [_listing("MLB1", "CAM-P"), _listing("MLB2", "CAM-M", "V1")]
        )
        listings.upsert_listings(
            s, "ml", [_listing("MLB1", "CAM-G", title="Camiseta", channel_quantity=4)]
        )
        rows = listings.list_listings(s)
    assert written == 2
    assert [(r.item_id, r.variation_id, r.sku) for r in rows] == [
        ("MLB1", "", "CAM-G"),
        ("MLB2", "V1", "CAM-M"),
    ]
    assert (rows[0].title, rows[0].channel_quantity) == ("Camiseta", 4)


def test_a_listing_reported_twice_in_one_batch_is_stored_as_last_reported(store):
    """requirement: a channel that lists an item on two pages of one batch (a listing edited
    while paged) leaves one row, with what it reported last."""
    with store.session() as s:
        written = listings.upsert_listings(
            s,
            "ml",
            [_listing("MLB1", "CAM-P", title="old"), _listing("MLB1", "CAM-G", title="new")],
        )
        rows = listings.list_listings(s)
    assert written == 2
    assert [(r.ref, r.sku, r.title, r.source) for r in rows] == [
        ("MLB1", "CAM-G", "new", "channel")
    ]


@pytest.mark.parametrize("channel_sku", [None, "OTHER", "CAM-P"])
def test_manual_link_survives_the_next_pull(store, channel_sku):
    """requirement: a manual link keeps its SKU whatever the channel reports."""
    with store.session() as s:
        listings.upsert_listings(s, "ml", [_listing("MLB1", None)])
        linked = listings.link(s, "ml", "MLB1", None, "CAM-P")
        listings.upsert_listings(s, "ml", [_listing("MLB1", channel_sku)])
        assert _skus(s) == {("MLB1", "CAM-P", "manual")}
    assert linked.source == "manual"


def test_link_creates_an_unknown_listing(store):
    with store.session() as s:
        row = listings.link(s, "ml", "MLB9", "V2", "CAM-P")
        assert _skus(s) == {("MLB9:V2", "CAM-P", "manual")}
    assert row.id is not None


def test_listing_of_another_connector_is_refused(store):
    with store.session() as s, pytest.raises(ValueError, match="MLB1 belongs to ml, not amz"):
        listings.upsert_listings(s, "amz", [_listing("MLB1")])


def test_record_push_keeps_the_last_accepted_quantity_on_failure(store):
    """requirement: success sets quantity/pushed_at and clears the error; failure keeps the
    last accepted quantity and stores the error."""
    t1, t2, t3 = T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    with store.session() as s:
        listings.upsert_listings(s, "ml", [_listing("MLB1", "A"), _listing("MLB2", "B")])
        one, two = (r.id for r in listings.list_listings(s, "ml"))
        listings.record_push(s, one, 5, ok=True, at=t1)
        listings.record_push(s, one, 3, ok=False, error="HTTP 500", at=t2)
        listings.record_push(s, two, 7, ok=False, error="bad item", at=t1)
        after_failure = listings.pushed(s, [one, two, 999])
        state = {
            k: (v.quantity, v.pushed_at, v.last_error, v.last_attempt_at)
            for k, v in after_failure.items()
        }
        assert state == {one: (5, t1, "HTTP 500", t2), two: (None, None, "bad item", t1)}
        listings.record_push(s, one, 3, ok=True, pending=True, at=t3)
        row = listings.pushed(s, [one])[one]
    assert (row.quantity, row.pushed_at, row.pending, row.last_error) == (3, t3, True, None)


def test_a_batch_of_push_records_read_beforehand_is_recorded_as_one_by_one(store):
    """requirement: record_push with the batch's records read beforehand (known_pushes)
    updates the existing records and creates the new ones, per listing and per location,
    exactly as recording each alone does; they are written when the session commits."""
    t1, t2 = T0, T0 + timedelta(minutes=1)
    with store.session() as s:
        listings.upsert_listings(s, "ml", [_listing("MLB1", "A"), _listing("MLB2", "B")])
        one, two = (r.id for r in listings.list_listings(s, "ml"))
        listings.record_push(s, one, 5, ok=True, at=t1)
        listings.record_push(s, one, 4, ok=True, at=t1, location="cd")
    with store.session() as s:
        keys = [one, two, (one, "cd"), (two, "cd")]
        known = listings.known_pushes(s, keys)
        assert set(known) == {one, (one, "cd")}
        listings.record_push(s, one, 3, ok=False, error="HTTP 500", at=t2, known=known)
        listings.record_push(s, two, 7, ok=True, at=t2, known=known)
        listings.record_push(s, one, 2, ok=True, pending=True, at=t2, location="cd", known=known)
        listings.record_push(s, two, 1, ok=False, error="bad", at=t2, location="cd", known=known)
    with store.session() as s:
        plain = {
            k: (v.quantity, v.pushed_at, v.pending, v.last_error, v.last_attempt_at)
            for k, v in listings.pushed(s, [one, two]).items()
        }
        located = {
            k: (v.quantity, v.pushed_at, v.pending, v.last_error, v.last_attempt_at)
            for k, v in listings.pushed_by_location(s, [one, two]).items()
        }
    assert plain == {one: (5, t1, False, "HTTP 500", t2), two: (7, t2, False, None, t2)}
    assert located == {
        (one, "cd"): (2, t2, True, None, t2),
        (two, "cd"): (None, None, False, "bad", t2),
    }
