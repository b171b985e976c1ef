"""The ERP side in the store: which channel orders went into which ERP (``erp_pushes``), the
stock each ERP last reported (``erp_stock``) and its product ids per SKU (``erp_products``)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from erpsync.domain import StockLevel, utcnow
from erpsync.store.tables import (
    ErpProduct,
    ErpPush,
    ErpStock,
    InvoiceRow,
    OrderRow,
    StockMovement,
)


class ErpPushState(StrEnum):
    SENDING = "sending"  # intent recorded; the answer was not seen: look it up first
    CREATED = "created"
    REFUSED = "refused"  # the ERP said no (unknown SKU, validation): tried again next run
    SKIPPED = "skipped"  # cancelled before it was ever created: never created
    CANCELLED = "cancelled"
    CANCEL_REFUSED = "cancel_refused"  # the ERP cannot take the cancellation: reported


#: states in which the ERP has the order (its stock is the ERP's business now)
IN_ERP = frozenset({ErpPushState.CREATED, ErpPushState.CANCELLED, ErpPushState.CANCEL_REFUSED})


def push_of(s: Session, order_id: int, connector: str) -> ErpPush | None:
    return s.get(ErpPush, (order_id, connector))


def record(
    s: Session,
    order_id: int,
    connector: str,
    state: ErpPushState,
    *,
    remote_id: str | None = None,
    error: str | None = None,
    attempt: bool = False,
) -> ErpPush:
    """Create or move one order's record in one ERP; ``attempt`` counts a create sent."""
    push = s.get(ErpPush, (order_id, connector))
    now = utcnow()
    if push is None:
        push = ErpPush(order_id=order_id, connector=connector, state=state.value)
        push.first_sent_at = now
    push.state = state.value
    push.error = error
    if remote_id is not None:
        push.remote_id = remote_id
    if attempt:
        push.attempts += 1
    push.updated_at = now
    s.add(push)
    s.flush()
    return push


def pushes(s: Session, connector: str) -> dict[int, ErpPush]:
    """order_id -> record, for every order this ERP connector has a record of."""
    rows = s.exec(select(ErpPush).where(ErpPush.connector == connector)).all()
    return {row.order_id: row for row in rows}


def candidates(
    s: Session, connector: str, exclude: Collection[str], *, limit: int | None = None
) -> list[OrderRow]:
    """Channel orders push-orders has something to do for in ``connector``: never seen by it,
    not settled (sending, refused), or created and cancelled since. Orders of the connectors
    in ``exclude`` (the ERPs themselves) are never candidates. Oldest first."""
    push = select(ErpPush.order_id, ErpPush.state).where(ErpPush.connector == connector)
    settled = push.subquery()
    query = (
        select(OrderRow)
        .outerjoin(settled, col(OrderRow.id) == settled.c.order_id)
        .where(col(OrderRow.connector).not_in(list(exclude) or [""]))
        # a sale already stored through another connector (a marketplace pulled directly and
        # through a hub) goes into the ERP once, as its first copy
        .where(col(OrderRow.stock_copy_of).is_(None))
        .where(
            (settled.c.state.is_(None))
            | (settled.c.state.in_([ErpPushState.SENDING.value, ErpPushState.REFUSED.value]))
            | ((settled.c.state == ErpPushState.CREATED.value) & (OrderRow.status == "cancelled"))
        )
        .order_by(col(OrderRow.created_at), col(OrderRow.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return list(s.exec(query).all())


def _has_no_invoice() -> Any:
    """The query's channel order (``OrderRow``) has no invoice attached."""
    return ~select(InvoiceRow.id).where(col(InvoiceRow.order_id) == col(OrderRow.id)).exists()


def awaiting_invoices(s: Session, connector: str) -> list[tuple[OrderRow, ErpPush]]:
    """Channel orders created in ``connector`` (with their record) that have no invoice yet,
    oldest first: one query, however many orders were invoiced before."""
    rows = s.exec(
        select(OrderRow, ErpPush)
        .join(ErpPush, col(ErpPush.order_id) == col(OrderRow.id))
        .where(ErpPush.connector == connector)
        .where(ErpPush.state == ErpPushState.CREATED.value)
        .where(col(ErpPush.remote_id).is_not(None))
        .where(_has_no_invoice())
        .order_by(col(OrderRow.created_at), col(OrderRow.id))
    ).all()
    return [(order, push) for order, push in rows]


def note_invoices_stuck(
    s: Session, connector: str, *, stuck: Iterable[int], settled: Iterable[int], now: datetime
) -> dict[int, datetime]:
    """Record, per order (id) created in the ERP ``connector``, since when its NF-e is stuck:
    ``now`` for one newly ``stuck`` (an earlier time is kept), nothing for one ``settled``.
    Returns the time of each stuck order."""
    since: dict[int, datetime] = {}
    for order_id in stuck:
        push = s.get(ErpPush, (order_id, connector))
        if push is None:
            continue
        if push.invoice_stuck_since is None:
            push.invoice_stuck_since = now
            s.add(push)
        since[order_id] = push.invoice_stuck_since
    for order_id in settled:
        push = s.get(ErpPush, (order_id, connector))
        if push is not None and push.invoice_stuck_since is not None:
            push.invoice_stuck_since = None
            s.add(push)
    s.flush()
    return since


def stuck_invoices(s: Session) -> list[dict[str, str]]:
    """Orders created in an ERP whose NF-e has been stuck there (pending, rejected, or its
    invoice refused here) and that still have no invoice, longest stuck first (``status``)."""
    rows = s.exec(
        select(ErpPush.connector, OrderRow.connector, OrderRow.external_id, ErpPush)
        .join(OrderRow, col(ErpPush.order_id) == col(OrderRow.id))
        .where(col(ErpPush.invoice_stuck_since).is_not(None))
        .where(_has_no_invoice())
        .order_by(col(ErpPush.invoice_stuck_since), col(OrderRow.id))
    ).all()
    return [
        {
            "erp": erp,
            "order": f"{channel}:{external_id}",
            "remote_id": push.remote_id or "",
            "since": push.invoice_stuck_since.isoformat() if push.invoice_stuck_since else "",
        }
        for erp, channel, external_id, push in rows
    ]


def remote_ids(s: Session, connector: str) -> set[str]:
    """The ERP ids of every order erpsync created in ``connector``."""
    rows = s.exec(
        select(ErpPush.remote_id)
        .where(ErpPush.connector == connector)
        .where(col(ErpPush.remote_id).is_not(None))
    ).all()
    return {r for r in rows if r is not None}


# -- stock -------------------------------------------------------------------------------------


def save_levels(s: Session, connector: str, levels: Iterable[StockLevel]) -> int:
    """Replace the stored level of each (sku, location) given; how many were written."""
    now = utcnow()
    count = 0
    for level in levels:
        row = s.get(ErpStock, (connector, level.sku, level.location))
        if row is None:
            row = ErpStock(connector=connector, sku=level.sku, location=level.location, available=0)
        row.available = level.available
        row.on_hand = level.on_hand
        row.reserved = level.reserved
        row.product_id = level.product_id
        row.fetched_at = now
        s.add(row)
        count += 1
    s.flush()
    return count


def levels(
    s: Session, connector: str, skus: Collection[str] | None = None, *, limit: int | None = None
) -> list[ErpStock]:
    query = select(ErpStock).where(ErpStock.connector == connector)
    if skus is not None:
        query = query.where(col(ErpStock.sku).in_(list(skus)))
    query = query.order_by(col(ErpStock.sku), col(ErpStock.location))
    if limit is not None:
        query = query.limit(limit)
    return list(s.exec(query).all())


def available(
    s: Session, connector: str, skus: Collection[str], locations: Sequence[str]
) -> dict[str, int]:
    """ERP available per SKU summed over ``locations`` (0 for a SKU the ERP never reported)."""
    found = {sku: 0 for sku in skus}
    rows = s.exec(
        select(ErpStock.sku, func.sum(ErpStock.available))
        .where(ErpStock.connector == connector)
        .where(col(ErpStock.sku).in_(list(skus)))
        .where(col(ErpStock.location).in_(list(locations)))
        .group_by(col(ErpStock.sku))
    ).all()
    for sku, total in rows:
        found[sku] = int(total or 0)
    return found


def not_yet_in_erp(
    s: Session, connector: str, skus: Collection[str], exclude: Collection[str]
) -> dict[str, int]:
    """Units per SKU that orders erpsync imported still hold in its ledger while the ERP does
    not have them yet (no record in ``connector`` in an IN_ERP state): the ERP's available
    does not count them, so the channels must not sell them again. Orders of the connectors in
    ``exclude`` (the ERPs' own orders) are the ERP's already."""
    held = func.sum(
        case(
            (col(StockMovement.bucket) == "reserved", col(StockMovement.quantity)),
            else_=-col(StockMovement.quantity),
        )
    )
    in_erp = (
        select(ErpPush.order_id)
        .where(ErpPush.connector == connector)
        .where(col(ErpPush.state).in_([state.value for state in IN_ERP]))
    )
    reference = "order:" + col(OrderRow.connector) + ":" + col(OrderRow.external_id)
    rows = s.exec(
        select(StockMovement.sku, held)
        .join(OrderRow, col(StockMovement.reference) == reference)
        .where(col(StockMovement.sku).in_(list(skus)))
        .where(col(OrderRow.connector).not_in(list(exclude) or [""]))
        .where(col(OrderRow.id).not_in(in_erp))
        .group_by(col(StockMovement.sku))
    ).all()
    found = {sku: 0 for sku in skus}
    for sku, units in rows:
        found[sku] = max(int(units or 0), 0)
    return found


# -- product ids -------------------------------------------------------------------------------


def product_ids(s: Session, connector: str) -> dict[str, str]:
    """SKU -> product id, as ``connector`` resolved them in earlier runs."""
    rows = s.exec(select(ErpProduct).where(ErpProduct.connector == connector)).all()
    return {row.sku: row.product_id for row in rows}


def save_product_ids(
    s: Session, connector: str, resolved: Mapping[str, str], dropped: Collection[str]
) -> None:
    """Store newly resolved ids and forget the ones the ERP no longer knows."""
    now = utcnow()
    for sku in dropped:
        if sku in resolved:
            continue
        row = s.get(ErpProduct, (connector, sku))
        if row is not None:
            s.delete(row)
    for sku, product_id in resolved.items():
        row = s.get(ErpProduct, (connector, sku))
        if row is None:
            row = ErpProduct(connector=connector, sku=sku, product_id=product_id)
        row.product_id = product_id
        row.resolved_at = now
        s.add(row)
    s.flush()
