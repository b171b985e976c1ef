"""Parked order lines: lines whose SKU was unknown when their order was pulled.

An order is imported whatever its lines say, and its stock effect (reserved, deducted) applies
to the lines whose SKU is known. The others are *parked* (``order_items.stock``). When their
SKU becomes known (a product import, a kit definition, a listing link or listings pull, or the
next pull), ``book_parked`` books, once, what the order's current effect holds: a reservation
for a pending order, a deduction (*baixa*) for a paid one. Lines of orders already shipped or
delivered are *waived* instead: their goods left before the product existed in erpsync, so any
stock count entered since already reflects them.

Exactly once: a line is booked in the same transaction that marks it booked, and each movement's
idempotency key names the order, its version and the line, so a replay books nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from erpsync.domain import OrderStatus
from erpsync.engine.stock import Catalogue, LineStock, holding_bucket, order_reference
from erpsync.store import ledger, listings, orders, products
from erpsync.store.tables import OrderItemRow, OrderRow

if TYPE_CHECKING:
    from erpsync.config import Config

_SHIPPED = frozenset({OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value})


@dataclass
class ParkedReport:
    booked: int = 0
    waived: int = 0
    waiting: int = 0

    def summary(self) -> str | None:
        """One line for the CLI, or None when no parked line moved."""
        if not (self.booked or self.waived):
            return None
        parts = [f"{self.booked} parked order line(s) booked"]
        if self.waived:
            parts.append(f"{self.waived} not booked (their orders shipped before the SKU existed)")
        if self.waiting:
            parts.append(f"{self.waiting} still waiting for their SKU")
        return ", ".join(parts)


def selling_locations(config: Config) -> dict[str, str]:
    """connector -> the location its orders book stock in (its first ``locations`` entry)."""
    return {name: settings.locations[0] for name, settings in config.connectors.items()}


def book_parked(
    session: Session,
    *,
    locations: Mapping[str, str],
    default_location: str,
    connector: str | None = None,
) -> ParkedReport:
    """Book every parked line whose SKU is known now (of one connector, or all).

    Every pull starts here, before its first request: the parked lines are first read as
    their SKU and listing only (no order or line objects), and only the lines whose SKU is
    known now are loaded in full. A seller whose unlinked lines stay parked pays one light
    query per pull, not the construction of every parked order (bench/pacing.py measured
    0.25 s of CPU for 300 such orders before each pull's first request).
    """
    report = ParkedReport()
    light = (
        core_select(  # sqlmodel's select types at most four columns
            col(OrderItemRow.id),
            col(OrderItemRow.sku),
            col(OrderItemRow.channel_item_id),
            col(OrderItemRow.variation_id),
            col(OrderRow.connector),
        )
        .join(OrderRow, col(OrderItemRow.order_id) == col(OrderRow.id))
        .where(col(OrderItemRow.stock) == LineStock.PARKED.value)
        .order_by(col(OrderRow.id), col(OrderItemRow.line))
    )
    if connector is not None:
        light = light.where(col(OrderRow.connector) == connector)
    parked = [_Parked(*row) for row in session.execute(light).all()]
    if not parked:
        return report
    kits = products.kit_components(session)
    known = products.known_skus(session, {line.sku for line in parked if line.sku})
    catalogues: dict[str, Catalogue] = {}

    def catalogue_of(name: str) -> Catalogue:
        if name not in catalogues:
            links = listings.sku_links(session, name)
            catalogues[name] = Catalogue(kits, known | set(links.values()), links)
        return catalogues[name]

    # in (order, line) order, as the lines are booked
    bookable = [line.id for line in parked if catalogue_of(line.connector).sku_of(line)]
    report.waiting = len(parked) - len(bookable)
    for start in range(0, len(bookable), orders.CHUNK):
        query = (
            select(OrderItemRow, OrderRow)
            .join(OrderRow, col(OrderItemRow.order_id) == col(OrderRow.id))
            .where(col(OrderItemRow.id).in_(bookable[start : start + orders.CHUNK]))
            .order_by(col(OrderRow.id), col(OrderItemRow.line))
        )
        for item, order in session.exec(query).all():
            _book_parked_line(
                session,
                item,
                order,
                catalogue_of(order.connector),
                locations,
                default_location,
                report,
            )
    return report


class _Parked(NamedTuple):
    """A parked line as the first, light query reads it."""

    id: int
    sku: str | None
    channel_item_id: str | None
    variation_id: str | None
    connector: str


def _book_parked_line(
    session: Session,
    item: OrderItemRow,
    order: OrderRow,
    catalogue: Catalogue,
    locations: Mapping[str, str],
    default_location: str,
    report: ParkedReport,
) -> None:
    sku = catalogue.sku_of(item)
    bucket = holding_bucket(order.stock_effect)
    assert item.id is not None
    assert sku is not None  # only lines whose SKU is known are loaded
    if bucket is None:  # not held any more: nothing to book (should not happen)
        orders.set_line_stock(session, item.id, LineStock.NONE.value)
        return
    if order.status in _SHIPPED:
        orders.set_line_stock(session, item.id, LineStock.WAIVED.value)
        report.waived += 1
        return
    location = locations.get(order.connector, default_location)
    _book_line(session, order, item, sku, catalogue, bucket, location)
    orders.set_line_stock(session, item.id, LineStock.BOOKED.value)
    report.booked += 1


def _book_line(
    session: Session,
    order: OrderRow,
    item: OrderItemRow,
    sku: str,
    catalogue: Catalogue,
    bucket: str,
    location: str,
) -> None:
    reference = order_reference(order)
    version = order.updated_at.isoformat()
    sign = 1 if bucket == "reserved" else -1
    for component, quantity in catalogue.units(sku, item.quantity):
        ledger.record(
            session,
            sku=component,
            location=location,
            bucket=bucket,
            quantity=sign * quantity,
            reason="parked-line",
            reference=reference,
            key=f"{reference}:unpark:{version}:{item.line}:{bucket}:{component}",
        )
