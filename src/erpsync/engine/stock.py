"""Stock arithmetic: an order's transition written to the ledger, and what a channel may sell.

Kits (a SKU made of components) have no stock of their own: selling a kit moves its
components. What a channel may sell is computed in erpsync.engine.availability.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy import func
from sqlmodel import Session, select

from erpsync.domain import Order, OrderItem, OrderStatus
from erpsync.engine.effects import Action, Effect, Transition
from erpsync.store import ledger
from erpsync.store.tables import OrderItemRow, OrderRow, StockMovement

Kits = Mapping[str, Sequence[tuple[str, int]]]

#: statuses whose goods have left: a line whose SKU becomes known only now is not booked, since
#: any stock count made after the shipment already reflects it
_SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED})


class LineStock(StrEnum):
    """What stock did with one order line (stored on the line)."""

    NONE = "none"  # the order holds no stock (cancelled, fulfilled by the channel)
    BOOKED = "booked"  # its units are in the ledger under the order
    PARKED = "parked"  # its SKU is not known yet: booked once it becomes known
    WAIVED = "waived"  # its SKU became known after the order shipped: never booked


class LineRef(Protocol):
    """What names the product an order line sells (an ``OrderItem``, an ``OrderItemRow``)."""

    @property
    def sku(self) -> str | None: ...

    @property
    def channel_item_id(self) -> str | None: ...

    @property
    def variation_id(self) -> str | None: ...


@dataclass
class Catalogue:
    """What applying orders needs to know of the SKUs: kits, known products, listing links.

    ``known`` may grow while a pull runs (each page adds its SKUs); ``links`` maps a channel
    listing (item id, variation id or "") to the known SKU it was linked to, for lines that
    carry no SKU (or an unknown one) but name the listing.
    """

    kits: Kits
    known: set[str]
    links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: False for the orders of the ERP that is the stock source (``stock.source``): the ERP
    #: made their stock movements already, so they move nothing here
    stock_effects: bool = True

    def sku_of(self, item: LineRef) -> str | None:
        """The known SKU an order line sells, or None (parked until it becomes known)."""
        if item.sku is not None and item.sku in self.known:
            return item.sku
        if item.channel_item_id:
            return self.links.get((item.channel_item_id, item.variation_id or ""))
        return None

    def units(self, sku: str, quantity: int) -> list[tuple[str, int]]:
        """Stocked SKUs and units for ``quantity`` of ``sku`` (a kit moves its components)."""
        return [(c, quantity * per_kit) for c, per_kit in self.kits.get(sku) or [(sku, 1)]]


def line_key(item: OrderItem | OrderItemRow) -> str:
    """How a line is recognised across versions of its order (its SKU, else its listing)."""
    return item.sku or f"item:{item.channel_item_id}:{item.variation_id or ''}"


def order_reference(order: Order | OrderRow) -> str:
    return f"order:{order.connector}:{order.external_id}"


def line_states(
    order: Order, effect: Effect, catalogue: Catalogue, previous: Mapping[str, str]
) -> list[LineStock]:
    """Each line's stock state under ``effect``; ``previous`` is line_key -> stored state."""
    if effect not in _HOLDING:
        return [LineStock.NONE] * len(order.items)
    states = []
    for item in order.items:
        before = previous.get(line_key(item))
        if before == LineStock.WAIVED:
            states.append(LineStock.WAIVED)
        elif catalogue.sku_of(item) is None:
            states.append(LineStock.PARKED)
        elif before == LineStock.PARKED and order.status in _SHIPPED:
            states.append(LineStock.WAIVED)
        else:
            states.append(LineStock.BOOKED)
    return states


def demand(
    order: Order, catalogue: Catalogue, states: Sequence[LineStock] | None = None
) -> dict[str, int]:
    """Units per stocked SKU of the order's booked lines (kits expanded); without ``states``,
    of every line whose SKU is known."""
    units: dict[str, int] = defaultdict(int)
    for index, item in enumerate(order.items):
        sku = catalogue.sku_of(item)
        if sku is None or (states is not None and states[index] is not LineStock.BOOKED):
            continue
        for component, quantity in catalogue.units(sku, item.quantity):
            units[component] += quantity
    return dict(units)


def unknown_skus(order: Order, catalogue: Catalogue) -> list[str]:
    """The order's lines whose SKU is not known, as the CLI names them."""
    return [
        item.sku or f"(no SKU: item {item.channel_item_id})"
        for item in order.items
        if catalogue.sku_of(item) is None
    ]


def booked(session: Session, reference: str, bucket: str) -> dict[tuple[str, str], int]:
    """What the ledger already holds for one order in one bucket, per (sku, location)."""
    rows = session.exec(
        select(StockMovement.sku, StockMovement.location, func.sum(StockMovement.quantity))
        .where(StockMovement.reference == reference, StockMovement.bucket == bucket)
        .group_by(StockMovement.sku, StockMovement.location)
    ).all()
    return {(sku, location): int(total) for sku, location, total in rows if total}


class LedgerWriter(Protocol):
    """Where a transition's movements go: the ledger at once (``_AtOnce``), or a page's
    batch (``ledger.PageMovements``), which answers the same."""

    def record(
        self,
        *,
        sku: str,
        location: str,
        bucket: str,
        quantity: int,
        reason: str,
        reference: str,
        key: str | None,
    ) -> bool: ...

    def booked(self, reference: str, bucket: str) -> dict[tuple[str, str], int]: ...


@dataclass(frozen=True)
class _AtOnce:
    """Each movement written as it comes (``ledger.record``), ``booked`` read from the ledger."""

    session: Session

    def record(
        self,
        *,
        sku: str,
        location: str,
        bucket: str,
        quantity: int,
        reason: str,
        reference: str,
        key: str | None,
    ) -> bool:
        return ledger.record(
            self.session,
            sku=sku,
            location=location,
            bucket=bucket,
            quantity=quantity,
            reason=reason,
            reference=reference,
            key=key,
        )

    def booked(self, reference: str, bucket: str) -> dict[tuple[str, str], int]:
        return booked(self.session, reference, bucket)


@dataclass(frozen=True)
class Applied:
    """The outcome of one transition: each line's state, and whether any stock moved."""

    lines: list[LineStock]
    moved: bool

    @property
    def parked(self) -> bool:
        return LineStock.PARKED in self.lines


def apply_transition(
    session: Session,
    order: Order,
    transition: Transition,
    *,
    location: str,
    catalogue: Catalogue,
    previous_lines: Mapping[str, str] | None = None,
    movements: ledger.PageMovements | None = None,
) -> Applied:
    """Write the ledger movements of one transition (queued in ``movements``, the page's
    batch, when given; else written at once).

    Only booked lines move stock; lines with an unknown SKU are parked (see
    erpsync.engine.parked). Releases and returns undo exactly what the ledger booked for this
    order (not what the order says now), and while an order holds stock its booked units
    follow its edits, so an edited order cannot leak stock. Every key carries the order's
    version: a replay of one version books nothing, and an order reinstated after a
    cancellation books again.
    """
    states = line_states(order, transition.effect, catalogue, previous_lines or {})
    units = demand(order, catalogue, states)
    action = transition.action
    reference = order_reference(order)
    version = order.updated_at.isoformat()
    writer: LedgerWriter = movements if movements is not None else _AtOnce(session)
    if action is None:
        moved = False
        if transition.effect in _HOLDING:
            moved = _follow_edits(
                writer, reference, version, units, _HOLDING[transition.effect], location
            )
        return Applied(states, moved)
    moves: list[tuple[str, str, str, int, str]] = []  # sku, location, bucket, qty, reason
    if action in (Action.CONVERT, Action.RELEASE):
        for (sku, loc), qty in writer.booked(reference, "reserved").items():
            moves.append((sku, loc, "reserved", -qty, "release"))
    if action is Action.RETURN:
        for (sku, loc), qty in writer.booked(reference, "on_hand").items():
            moves.append((sku, loc, "on_hand", -qty, "return"))
    again = "reinstated-" if transition.reinstated else ""
    if action is Action.RESERVE:
        moves += [(sku, location, "reserved", qty, f"{again}reserve") for sku, qty in units.items()]
    if action in (Action.DEDUCT, Action.CONVERT):
        moves += [(sku, location, "on_hand", -qty, f"{again}sale") for sku, qty in units.items()]
    moved = False
    for sku, loc, bucket, qty, reason in moves:
        if qty == 0:
            continue
        moved |= writer.record(
            sku=sku,
            location=loc,
            bucket=bucket,
            quantity=qty,
            reason=reason,
            reference=reference,
            key=f"{reference}:{action.value}:{version}:{bucket}:{sku}:{loc}",
        )
    return Applied(states, moved)


#: effects under which the ledger holds an order's units, and in which bucket
_HOLDING = {Effect.RESERVED: "reserved", Effect.DEDUCTED: "on_hand"}


def holding_bucket(effect: Effect | str) -> str | None:
    """The ledger bucket an order with this effect holds its units in, or None."""
    return _HOLDING.get(Effect(effect))


def _follow_edits(
    writer: LedgerWriter,
    reference: str,
    version: str,
    units: dict[str, int],
    bucket: str,
    location: str,
) -> bool:
    """Make the units booked for a still-held order match what it asks for now: a line
    cancelled or reduced on the channel (a cancelled Magalu delivery, an Amazon line at 0)
    gives its stock back; one added takes it. Keyed by the order's version, so a replay of
    the same version books nothing."""
    sign = 1 if bucket == "reserved" else -1
    held: dict[str, int] = defaultdict(int)
    for (sku, _), quantity in writer.booked(reference, bucket).items():
        held[sku] += quantity
    moved = False
    for sku in sorted(set(held) | set(units)):
        delta = sign * units.get(sku, 0) - held.get(sku, 0)
        if delta:
            moved |= writer.record(
                sku=sku,
                location=location,
                bucket=bucket,
                quantity=delta,
                reason="order-edit",
                reference=reference,
                key=f"{reference}:edit:{version}:{bucket}:{sku}",
            )
    return moved
