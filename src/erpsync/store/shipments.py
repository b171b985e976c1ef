"""Shipments in the store: kept in step with each pulled order, the tracking the seller records,
and each shipment's tracking push record per channel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.postsale.domain import PushState, Shipment
from erpsync.store import pushes
from erpsync.store.tables import OrderRow, ShipmentRow, TrackingPush

#: fields the channel reports; tracking the seller recorded by hand is kept when the
#: channel reports none
_CHANNEL_FIELDS = ("logistic_type", "fulfilled_by_channel", "status", "substatus")
_SELLER_FIELDS = ("carrier", "tracking_code", "tracking_url")
#: order ids per IN (...) query
CHUNK = 500


def sync_shipments(
    s: Session,
    order_id: int,
    connector: str,
    shipments: Sequence[Shipment],
    *,
    new_order: bool = False,
    stored: Sequence[ShipmentRow] | None = None,
) -> None:
    """Upsert the order's shipments by their channel reference. Shipments the channel no
    longer lists are kept (an invoice or a label may point at them).

    ``stored``: the order's shipment rows as the caller read them already (``by_order``, a
    page's in one query), instead of a look-up here.

    ``new_order``: the order row was inserted just now, so it has no shipments yet: they are
    inserted in one statement, without a look-up or ORM objects (this runs once per pulled
    order: ``bench/pull_orders.py`` measured the ORM path as the costliest step of a pull).
    """
    if not shipments:
        return
    now = utcnow()
    if new_order:
        rows = [{"order_id": order_id, **row} for row in new_rows(connector, shipments, now)]
        s.execute(_INSERT, rows)
        return
    by_ref = {
        row.shipment_ref: row for row in (shipments_of(s, order_id) if stored is None else stored)
    }
    for shipment in shipments:
        row = by_ref.get(shipment.shipment_ref)
        if row is None:
            s.add(
                ShipmentRow(
                    order_id=order_id,
                    connector=connector,
                    updated_at=now,
                    **shipment.model_dump(mode="json"),
                )
            )
            continue
        changed = False
        for name in _CHANNEL_FIELDS:
            value = getattr(shipment, name)
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        for name in _SELLER_FIELDS:
            value = getattr(shipment, name)
            if value is not None and getattr(row, name) != value:
                setattr(row, name, value)
                changed = True
        if changed:
            row.updated_at = now
            s.add(row)


_SHIPMENTS: Table = ShipmentRow.__table__  # type: ignore[attr-defined]
_INSERT = insert(_SHIPMENTS)


def new_rows(
    connector: str, shipments: Sequence[Shipment], now: datetime | None = None
) -> list[dict[str, Any]]:
    """The rows of a new order's shipments, without their ``order_id`` (``insert_rows``)."""
    at = now or utcnow()
    return [
        {"connector": connector, "updated_at": at, **shipment.model_dump(mode="json")}
        for shipment in shipments
    ]


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert shipment rows (``new_rows`` with their ``order_id``) in one statement."""
    if rows:
        connection.execute(_INSERT, rows)


def by_order(s: Session, order_ids: Iterable[int]) -> dict[int, list[ShipmentRow]]:
    """``shipments_of`` for many orders in one query per CHUNK ids: order id -> its rows
    (every order asked for is a key, with no rows when it has none)."""
    ids = list(dict.fromkeys(order_ids))
    found: dict[int, list[ShipmentRow]] = {order_id: [] for order_id in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(ShipmentRow).where(col(ShipmentRow.order_id).in_(chunk))
        for row in s.exec(query.order_by(col(ShipmentRow.id))):
            found[row.order_id].append(row)
    return found


def shipments_of(s: Session, order_id: int) -> list[ShipmentRow]:
    query = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
    return list(s.exec(query.order_by(col(ShipmentRow.id))).all())


def set_tracking(
    s: Session,
    order_id: int,
    connector: str,
    shipment_ref: str,
    *,
    tracking_code: str,
    carrier: str | None = None,
    tracking_url: str | None = None,
    shipped_at: datetime | None = None,
) -> tuple[ShipmentRow, bool]:
    """Record the seller's tracking on one shipment (created when the order has none yet:
    stores and files orders carry no shipment until the seller ships). Returns the row and
    whether anything changed. A changed code or carrier makes the shipment due again on its
    channel (its push record is dropped); the same values again change nothing."""
    row = s.exec(
        select(ShipmentRow).where(
            ShipmentRow.order_id == order_id, ShipmentRow.shipment_ref == shipment_ref
        )
    ).first()
    now = utcnow()
    if row is None:
        row = ShipmentRow(
            order_id=order_id,
            connector=connector,
            shipment_ref=shipment_ref,
            updated_at=now,
        )
    wanted = {"tracking_code": tracking_code, "carrier": carrier, "tracking_url": tracking_url}
    if row.id is not None and all(
        value is None or getattr(row, name) == value for name, value in wanted.items()
    ):
        return row, False
    was_sent = row.id is not None and row.tracking_code is not None
    for name, value in wanted.items():
        if value is not None or name == "tracking_code":
            setattr(row, name, value)
    row.shipped_at = shipped_at or row.shipped_at or now
    row.updated_at = now
    s.add(row)
    s.flush()
    if was_sent:
        for push in s.exec(select(TrackingPush).where(TrackingPush.shipment_id == row.id)).all():
            s.delete(push)
        s.flush()
    return row, True


def record_tracking_push(
    s: Session,
    shipment_id: int,
    connector: str,
    state: PushState,
    *,
    error: str | None = None,
    remote_ref: str | None = None,
) -> TrackingPush:
    """Create or move one shipment's tracking push record (one attempt more if "sent")."""
    return pushes.record(
        s, pushes.TRACKING, shipment_id, connector, state, error=error, remote_ref=remote_ref
    )


def tracking_pushes_of(
    s: Session, shipment_ids: Iterable[int]
) -> dict[int, dict[str, TrackingPush]]:
    """shipment id -> connector -> its tracking push record."""
    return pushes.of(s, pushes.TRACKING, shipment_ids)


def with_tracking(s: Session, *, limit: int = 500) -> list[tuple[ShipmentRow, OrderRow]]:
    """Shipments that carry a tracking code, with their orders, most recently shipped first."""
    query = (
        select(ShipmentRow, OrderRow)
        .where(ShipmentRow.order_id == OrderRow.id, col(ShipmentRow.tracking_code).is_not(None))
        .order_by(col(ShipmentRow.updated_at).desc(), col(ShipmentRow.id).desc())
        .limit(limit)
    )
    return [(shipment, order) for shipment, order in s.exec(query).all()]
