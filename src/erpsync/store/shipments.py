"""Shipments in the store: kept in step with each pulled order, looked up per order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.postsale.domain import Shipment
from erpsync.store.tables import ShipmentRow

#: fields the channel reports; tracking the seller recorded by hand is kept when the
#: channel reports none
_CHANNEL_FIELDS = ("logistic_type", "fulfilled_by_channel", "status", "substatus")
_SELLER_FIELDS = ("carrier", "tracking_code", "tracking_url")


def sync_shipments(
    s: Session, order_id: int, connector: str, shipments: Sequence[Shipment]
) -> None:
    """Upsert the order's shipments by their channel reference. Shipments the channel no
    longer lists are kept (an invoice or a label may point at them)."""
    if not shipments:
        return
    stored = {row.shipment_ref: row for row in shipments_of(s, order_id)}
    now = utcnow()
    for shipment in shipments:
        row = stored.get(shipment.shipment_ref)
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


def shipments_of(s: Session, order_id: int) -> list[ShipmentRow]:
    query = select(ShipmentRow).where(ShipmentRow.order_id == order_id)
    return list(s.exec(query.order_by(col(ShipmentRow.id))).all())
