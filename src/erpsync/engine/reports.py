"""What `erpsync status` shows: last runs, cursors, unknown SKUs, withheld data, failing pushes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.engine import invoices, tracking_push
from erpsync.store import erp, orders
from erpsync.store.tables import (
    ListingRow,
    OrderItemRow,
    OrderRow,
    Product,
    PushedStock,
    PushedStockLocation,
    QuarantineRow,
    StockMovement,
    SyncCursor,
    SyncRun,
)


def status_summary(session: Session, *, runs: int = 20) -> dict[str, Any]:
    """Everything `erpsync status` prints, as JSON-ready data."""
    return {
        "runs": _runs(session, runs),
        "cursors": [
            {"connector": c.connector, "resource": c.resource, "value": c.value.isoformat()}
            for c in session.exec(select(SyncCursor).order_by(col(SyncCursor.connector))).all()
        ],
        "unknown_skus": _unknown_skus(session),
        "parked_lines": _parked_lines(session),
        "reinstated": _reinstated(session),
        "sales_seen_twice": _sales_seen_twice(session),
        "withheld": _withheld(session),
        "unlisted_skus": _unlisted_skus(session),
        "push_errors": _push_errors(session),
        "cancelled_after_invoice": invoices.cancelled_after_invoice(session, utcnow()),
        "invoice_pushes": invoices.stuck_pushes(session),
        "invoices_stuck_in_erp": erp.stuck_invoices(session),
        "tracking_pushes": tracking_push.stuck_pushes(session),
        "quarantine": session.exec(
            select(func.count())
            .select_from(QuarantineRow)
            .where(col(QuarantineRow.resolved_at).is_(None))
        ).one(),
    }


def _runs(session: Session, limit: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(SyncRun)
        .order_by(col(SyncRun.started_at).desc(), col(SyncRun.id).desc())
        .limit(limit)
    ).all()
    return [
        {
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "command": r.command,
            "connector": r.connector,
            "outcome": r.outcome,
            "counts": r.counts,
            "error": r.error,
        }
        for r in rows
    ]


def _unknown_skus(session: Session) -> list[dict[str, Any]]:
    """Order items whose SKU is not a product: imported, but stock could not follow them."""
    known = select(Product.sku)
    rows = session.exec(
        select(OrderRow.connector, OrderItemRow.sku, func.count(func.distinct(OrderRow.id)))
        .join(OrderRow, col(OrderItemRow.order_id) == col(OrderRow.id))
        .where(col(OrderItemRow.sku).not_in(known) | col(OrderItemRow.sku).is_(None))
        .group_by(col(OrderRow.connector), col(OrderItemRow.sku))
        .order_by(col(OrderRow.connector), col(OrderItemRow.sku))
    ).all()
    return [{"connector": c, "sku": s, "orders": n} for c, s, n in rows]


def _withheld(session: Session) -> list[dict[str, Any]]:
    """Notes on orders (data a platform withheld), grouped: one row per connector and note,
    with how many orders carry it and the most recently updated of them."""
    rows = session.exec(
        select(OrderRow.connector, OrderRow.external_id, OrderRow.notes)
        .where(col(OrderRow.notes) != [])
        .order_by(col(OrderRow.updated_at).desc())
    ).all()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for connector, external_id, notes in rows:
        for note in notes or ():
            group = groups.setdefault(
                (connector, note),
                {"connector": connector, "note": note, "orders": 0, "latest": external_id},
            )
            group["orders"] += 1
    return list(groups.values())


def _unlisted_skus(session: Session, examples: int = 20) -> dict[str, Any]:
    """Products no channel lists (kits' components aside, nothing pushes their stock): said
    once here rather than by every push of every connector."""
    listed = select(ListingRow.sku).where(col(ListingRow.sku).is_not(None))
    query = select(Product.sku).where(col(Product.sku).not_in(listed)).order_by(col(Product.sku))
    skus = list(session.exec(query).all())
    return {"count": len(skus), "examples": skus[:examples]}


def _push_errors(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(ListingRow, PushedStock)
        .join(PushedStock, col(PushedStock.listing_id) == col(ListingRow.id))
        .where(col(PushedStock.last_error).is_not(None))
    ).all()
    errors = [
        {"connector": listing.connector, "listing": listing.ref, "error": pushed.last_error}
        for listing, pushed in rows
    ]
    by_location = session.exec(
        select(ListingRow, PushedStockLocation)
        .join(PushedStockLocation, col(PushedStockLocation.listing_id) == col(ListingRow.id))
        .where(col(PushedStockLocation.last_error).is_not(None))
    ).all()
    return errors + [
        {
            "connector": listing.connector,
            "listing": f"{listing.ref}@{pushed.location}",
            "error": pushed.last_error,
        }
        for listing, pushed in by_location
    ]


def _parked_lines(session: Session) -> list[dict[str, Any]]:
    """Order lines whose stock waits for their SKU to become known (see engine.parked)."""
    sku = func.coalesce(OrderItemRow.sku, "(no SKU)")
    rows = session.exec(
        select(
            OrderRow.connector,
            sku,
            func.count(func.distinct(OrderRow.id)),
            func.sum(OrderItemRow.quantity),
        )
        .join(OrderRow, col(OrderItemRow.order_id) == col(OrderRow.id))
        .where(OrderItemRow.stock == "parked")
        .group_by(col(OrderRow.connector), sku)
        .order_by(col(OrderRow.connector), sku)
    ).all()
    return [{"connector": c, "sku": s, "orders": n, "units": int(u)} for c, s, n, u in rows]


def _sales_seen_twice(session: Session) -> list[dict[str, Any]]:
    """Sales that came through two connectors (a marketplace pulled directly and a hub): the
    copy that moves stock (the first stored) and the one that does not."""
    return [
        {
            "sale": copy.sale_ref,
            "stock": f"{holder.connector}:{holder.external_id}",
            "copy": f"{copy.connector}:{copy.external_id}",
        }
        for holder, copy in orders.sale_copies(session)
    ]


def _reinstated(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    """Orders a channel brought back after a cancellation, whose stock was booked again."""
    rows = session.exec(
        select(StockMovement.reference, func.max(StockMovement.created_at))
        .where(col(StockMovement.reason).startswith("reinstated-"))
        .group_by(col(StockMovement.reference))
        .order_by(func.max(StockMovement.created_at).desc())
        .limit(limit)
    ).all()
    found = []
    for reference, at in rows:
        _, connector, external_id = (reference or "::").split(":", 2)
        found.append({"connector": connector, "external_id": external_id, "booked_at": str(at)})
    return found
