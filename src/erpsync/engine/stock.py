"""Stock arithmetic: an order's transition written to the ledger, and what a channel may sell.

Kits (a SKU made of components) have no stock of their own: selling a kit moves its
components, and a kit's availability is the minimum over its components of
floor(component available / quantity per kit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from erpsync.domain import Order
from erpsync.engine.effects import Action, Effect, Transition
from erpsync.store import ledger
from erpsync.store.ledger import StockLevel
from erpsync.store.tables import StockMovement

Kits = Mapping[str, Sequence[tuple[str, int]]]


def order_reference(order: Order) -> str:
    return f"order:{order.connector}:{order.external_id}"


def demand(order: Order, kits: Kits, known: set[str]) -> tuple[dict[str, int], list[str]]:
    """Units per stocked SKU an order asks for (kits expanded), and the SKUs we do not know."""
    units: dict[str, int] = defaultdict(int)
    unknown: list[str] = []
    for item in order.items:
        if item.sku is None or item.sku not in known:
            unknown.append(item.sku or f"(no SKU: item {item.channel_item_id})")
            continue
        for component, per_kit in kits.get(item.sku) or [(item.sku, 1)]:
            units[component] += item.quantity * per_kit
    return dict(units), unknown


def _booked(session: Session, reference: str, bucket: str) -> dict[tuple[str, str], int]:
    """What the ledger already holds for one order in one bucket, per (sku, location)."""
    rows = session.exec(
        select(StockMovement.sku, StockMovement.location, func.sum(StockMovement.quantity))
        .where(StockMovement.reference == reference, StockMovement.bucket == bucket)
        .group_by(StockMovement.sku, StockMovement.location)
    ).all()
    return {(sku, location): int(total) for sku, location, total in rows if total}


def apply_transition(
    session: Session,
    order: Order,
    transition: Transition,
    *,
    location: str,
    kits: Kits,
    known: set[str],
) -> list[str]:
    """Write the ledger movements of one transition; return the unknown SKUs of the order.

    Releases and returns undo exactly what the ledger booked for this order (not what the
    order says now), and while an order holds stock its booked units follow its edits, so an
    edited order cannot leak stock.
    """
    units, unknown = demand(order, kits, known)
    action = transition.action
    reference = order_reference(order)
    if action is None:
        if transition.effect in _HOLDING:
            _follow_edits(session, order, reference, units, _HOLDING[transition.effect], location)
        return unknown
    moves: list[tuple[str, str, str, int, str]] = []  # sku, location, bucket, qty, reason
    if action in (Action.CONVERT, Action.RELEASE):
        for (sku, loc), qty in _booked(session, reference, "reserved").items():
            moves.append((sku, loc, "reserved", -qty, "release"))
    if action is Action.RETURN:
        for (sku, loc), qty in _booked(session, reference, "on_hand").items():
            moves.append((sku, loc, "on_hand", -qty, "return"))
    if action is Action.RESERVE:
        moves += [(sku, location, "reserved", qty, "reserve") for sku, qty in units.items()]
    if action in (Action.DEDUCT, Action.CONVERT):
        moves += [(sku, location, "on_hand", -qty, "sale") for sku, qty in units.items()]
    for sku, loc, bucket, qty, reason in moves:
        if qty == 0:
            continue
        ledger.record(
            session,
            sku=sku,
            location=loc,
            bucket=bucket,
            quantity=qty,
            reason=reason,
            reference=reference,
            key=f"{reference}:{action.value}:{bucket}:{sku}:{loc}",
        )
    return unknown


#: effects under which the ledger holds an order's units, and in which bucket
_HOLDING = {Effect.RESERVED: "reserved", Effect.DEDUCTED: "on_hand"}


def _follow_edits(
    session: Session,
    order: Order,
    reference: str,
    units: dict[str, int],
    bucket: str,
    location: str,
) -> None:
    """Make the units booked for a still-held order match what it asks for now: a line
    cancelled or reduced on the channel (a cancelled Magalu delivery, an Amazon line at 0)
    gives its stock back; one added takes it. Keyed by the order's version, so a replay of
    the same version books nothing."""
    sign = 1 if bucket == "reserved" else -1
    booked: dict[str, int] = defaultdict(int)
    for (sku, _), quantity in _booked(session, reference, bucket).items():
        booked[sku] += quantity
    version = order.updated_at.isoformat()
    for sku in sorted(set(booked) | set(units)):
        delta = sign * units.get(sku, 0) - booked.get(sku, 0)
        if delta:
            ledger.record(
                session,
                sku=sku,
                location=location,
                bucket=bucket,
                quantity=delta,
                reason="order-edit",
                reference=reference,
                key=f"{reference}:edit:{version}:{bucket}:{sku}",
            )


@dataclass(frozen=True)
class Availability:
    sku: str
    available: int
    explanation: str


def availability(
    sku: str, levels: Mapping[str, StockLevel], kits: Kits, safety_stock: int
) -> Availability:
    """What one SKU may be sold as on a channel, with the arithmetic spelled out."""
    components = kits.get(sku)
    if not components:
        level = levels.get(sku, StockLevel(on_hand=0, reserved=0))
        raw = level.on_hand - level.reserved - safety_stock
        return Availability(
            sku,
            max(raw, 0),
            f"on hand {level.on_hand} - reserved {level.reserved} - safety {safety_stock}"
            f" = {raw}" + (" -> 0" if raw < 0 else ""),
        )
    fits: list[int] = []
    details: list[str] = []
    for component, per_kit in components:
        part = availability(component, levels, kits, safety_stock)
        fits.append(part.available // per_kit)
        details.append(f"{component}: {part.available}//{per_kit}={fits[-1]}")
    return Availability(sku, min(fits), f"kit min({', '.join(details)})")


def skus_needed(skus: Iterable[str], kits: Kits) -> set[str]:
    """The stocked SKUs whose levels are needed to price these SKUs (kits expanded)."""
    needed: set[str] = set()
    for sku in skus:
        needed.update(c for c, _ in kits.get(sku) or [(sku, 1)])
    return needed
