"""Record the tracking of a shipment the seller ships (``shipments set`` / ``shipments import``).

Checks against the order, in the caller's transaction; ``TrackingRefusedError`` says why not:

- the order is paid (or later) and not cancelled, and the channel does not ship it (Full, FBA);
- the code is one token of printable characters (no spaces), at most 64 long, and the URL, when
  given, is http(s);
- the shipment: ``shipment_ref`` when given (it must be the order's), else the order's only
  shipment, else a new one named after the order (stores and files orders have no shipment
  until the seller ships). An order with several shipments (Magalu deliveries) needs the ref.

The same values again change nothing; a different code or carrier replaces the old one and
makes the shipment due again on its channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from erpsync.domain import OrderStatus
from erpsync.errors import ConfigError
from erpsync.store import shipments
from erpsync.store.tables import OrderRow, ShipmentRow

_CODE = re.compile(r"[!-~]{1,64}")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


class TrackingRefusedError(ConfigError):
    """Tracking erpsync will not record for this order (cancelled, the channel ships it, ...)."""


@dataclass
class Recorded:
    order: str  # CONNECTOR:EXTERNAL_ID
    shipment_ref: str
    tracking_code: str
    changed: bool


def record_tracking(
    s: Session,
    order: OrderRow,
    tracking_code: str,
    *,
    carrier: str | None = None,
    tracking_url: str | None = None,
    shipment_ref: str | None = None,
    shipped_at: datetime | None = None,
) -> Recorded:
    ref = f"{order.connector}:{order.external_id}"
    assert order.id is not None
    code = tracking_code.strip()
    if not _CODE.fullmatch(code):
        raise TrackingRefusedError(
            f"{ref}: tracking code {tracking_code!r} is not one word of at most 64 characters"
        )
    url = (tracking_url or "").strip() or None
    if url is not None and not _URL.fullmatch(url):
        raise TrackingRefusedError(f"{ref}: tracking URL {url!r} is not an http(s) address")
    carrier = (carrier or "").strip() or None
    if order.status == OrderStatus.CANCELLED:
        raise TrackingRefusedError(f"{ref} is cancelled: no tracking is recorded for it")
    if order.status == OrderStatus.PENDING:
        raise TrackingRefusedError(f"{ref} is not paid yet (pending): ship it once it is paid")
    if order.fulfilled_by_channel:
        raise TrackingRefusedError(
            f"{ref} is fulfilled by the channel (Full/FBA): the channel ships it and tracks it"
        )
    target = _shipment_ref(s, order, ref, shipment_ref)
    if any(r.shipment_ref == target and r.fulfilled_by_channel for r in _rows(s, order)):
        raise TrackingRefusedError(
            f"{ref}: shipment {target} is fulfilled by the channel: it ships and tracks it"
        )
    _, changed = shipments.set_tracking(
        s,
        order.id,
        order.connector,
        target,
        tracking_code=code,
        carrier=carrier,
        tracking_url=url,
        shipped_at=shipped_at,
    )
    return Recorded(ref, target, code, changed)


def _shipment_ref(s: Session, order: OrderRow, ref: str, wanted: str | None) -> str:
    assert order.id is not None
    known = [row.shipment_ref for row in _rows(s, order)]
    if wanted:
        if known and wanted not in known:
            raise TrackingRefusedError(
                f"{ref} has no shipment {wanted!r} (its shipments: {', '.join(known)})"
            )
        return wanted
    if len(known) > 1:
        raise TrackingRefusedError(
            f"{ref} has {len(known)} shipments ({', '.join(known)}): say which with --shipment"
        )
    return known[0] if known else order.external_id


def _rows(s: Session, order: OrderRow) -> list[ShipmentRow]:
    assert order.id is not None
    return shipments.shipments_of(s, order.id)
