"""Orders in the store: upsert by (connector, external_id), look-ups, and the row <-> Order map."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from erpsync.domain import Address, Buyer, Order, OrderItem, utcnow
from erpsync.store.tables import STOCK_EFFECTS, OrderItemRow, OrderRow

#: ids per IN (...) query: far below SQLite's variable limit on every version we may meet
CHUNK = 500

_BUYER = {"buyer_name": "name", "buyer_document": "document", "buyer_email": "email"}
_BUYER |= {"buyer_phone": "phone"}
_ADDRESS = {
    "ship_street": "street",
    "ship_number": "number",
    "ship_complement": "complement",
    "ship_district": "district",
    "ship_city": "city",
    "ship_state": "state",
    "ship_zip": "zip",
    "ship_country": "country",
}


@dataclass(frozen=True)
class OrderState:
    """What the pull engine needs to know of a stored order, read without the ORM."""

    id: int
    status: str
    updated_at: datetime
    stock_effect: str
    #: the order that moves stock for this sale when this one is a copy of it
    stock_copy_of: int | None = None


_ORDERS: Table = OrderRow.__table__  # type: ignore[attr-defined]
_ITEMS: Table = OrderItemRow.__table__  # type: ignore[attr-defined]


# Statements built once with bound parameters: SQLAlchemy then compiles each only once, where
# building them per call (values inlined) cost more CPU than the HTTP calls of a pull.
_STATE = core_select(
    _ORDERS.c.id,
    _ORDERS.c.status,
    _ORDERS.c.updated_at,
    _ORDERS.c.stock_effect,
    _ORDERS.c.stock_copy_of,
).where(
    _ORDERS.c.connector == bindparam("p_connector"),
    _ORDERS.c.external_id == bindparam("p_external_id"),
)
_VERSIONS = select(_ORDERS.c.external_id, _ORDERS.c.updated_at).where(
    _ORDERS.c.connector == bindparam("p_connector"),
    _ORDERS.c.external_id.in_(bindparam("p_ids", expanding=True)),
)
_STATES = core_select(  # sqlmodel's select types at most four columns
    _ORDERS.c.external_id,
    _ORDERS.c.id,
    _ORDERS.c.status,
    _ORDERS.c.updated_at,
    _ORDERS.c.stock_effect,
    _ORDERS.c.stock_copy_of,
).where(
    _ORDERS.c.connector == bindparam("p_connector"),
    _ORDERS.c.external_id.in_(bindparam("p_ids", expanding=True)),
)
#: the order that moves stock for a sale: the first stored from another connector that is not
#: itself a copy
_HOLDER = (
    core_select(_ORDERS.c.id)
    .where(
        _ORDERS.c.sale_ref == bindparam("p_sale"),
        _ORDERS.c.connector != bindparam("p_connector"),
        _ORDERS.c.stock_copy_of.is_(None),
    )
    .order_by(_ORDERS.c.id)
    .limit(1)
)
_INSERT_ORDER = insert(_ORDERS)
_UPDATE_ORDER = update(_ORDERS).where(_ORDERS.c.id == bindparam("p_id"))
_DELETE_ITEMS = delete(_ITEMS).where(_ITEMS.c.order_id == bindparam("p_id"))
_INSERT_ITEMS = insert(_ITEMS)


def order_state(s: Session, connector: str, external_id: str) -> OrderState | None:
    """The stored state of one order (one indexed look-up, no ORM objects), or None."""
    row = s.execute(_STATE, {"p_connector": connector, "p_external_id": external_id}).first()
    return None if row is None else OrderState(*row)


def order_states(s: Session, connector: str, external_ids: Iterable[str]) -> dict[str, OrderState]:
    """``order_state`` for many orders in one query per CHUNK ids (a page of a pull)."""
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, OrderState] = {}
    for start in range(0, len(ids), CHUNK):
        rows = s.execute(_STATES, {"p_connector": connector, "p_ids": ids[start : start + CHUNK]})
        found.update({external_id: OrderState(*rest) for external_id, *rest in rows})
    return found


def stock_holder(s: Session, sale: str, connector: str) -> int | None:
    """The id of the order another connector stored for the same sale (``sale_ref``), which
    moves the sale's stock; None when this connector's copy is the first."""
    found = s.execute(_HOLDER, {"p_sale": sale, "p_connector": connector}).first()
    return None if found is None else int(found[0])


def sale_copies(s: Session, limit: int = 50) -> list[tuple[OrderRow, OrderRow]]:
    """(the order that moves stock, its copy) for sales seen through two connectors, the
    most recently updated copies first."""
    query = select(OrderRow).where(col(OrderRow.stock_copy_of).is_not(None))
    copies = list(s.exec(query.order_by(col(OrderRow.updated_at).desc()).limit(limit)).all())
    holders = {
        row.id: row
        for row in s.exec(
            select(OrderRow).where(col(OrderRow.id).in_([c.stock_copy_of for c in copies]))
        ).all()
    }
    return [(holders[c.stock_copy_of], c) for c in copies if c.stock_copy_of in holders]


def get_order(s: Session, connector: str, external_id: str) -> OrderRow | None:
    """The stored row of one order, or None."""
    query = select(OrderRow).where(
        OrderRow.connector == connector, OrderRow.external_id == external_id
    )
    return s.exec(query).first()


def order_items(s: Session, order_id: int) -> list[OrderItemRow]:
    """The item rows of one stored order, in line order."""
    query = select(OrderItemRow).where(OrderItemRow.order_id == order_id)
    return list(s.exec(query.order_by(col(OrderItemRow.line))).all())


def _order_values(order: Order, raw: dict[str, Any], stock_effect: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "connector": order.connector,
        "external_id": order.external_id,
        "platform": order.platform,
        "number": order.number,
        "status": order.status.value,
        "channel_status": order.channel_status,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "currency": order.currency,
        "items_total": order.items_total,
        "shipping_cost": order.shipping_cost,
        "discount": order.discount,
        "total": order.total,
        "fulfilled_by_channel": order.fulfilled_by_channel,
        "stock_effect": stock_effect,
        "extra": dict(order.extra),
        "notes": list(order.notes),
        "raw": raw,
        "sale_ref": order.sale_ref,
    }
    values |= {column: getattr(order.buyer, field) for column, field in _BUYER.items()}
    values |= {column: getattr(order.shipping_address, field) for column, field in _ADDRESS.items()}
    return values


def save_order(
    s: Session,
    order: Order,
    raw: dict[str, Any],
    stock_effect: str,
    *,
    at: datetime | None = None,
    state: OrderState | bool | None = True,
    line_stock: Sequence[str] | None = None,
    stock_copy_of: int | None = None,
) -> int:
    """Insert or update one order and replace its items; marks it seen now (``at``).

    ``line_stock`` is each line's stock state (erpsync.engine.stock.LineStock), "none" if
    not given.

    ``stock_copy_of``: the order that moves stock for this sale, when this one is its copy.

    ``state`` is the caller's fresh ``order_state`` (None: not stored yet), which saves a
    look-up on the hot path; left at True, it is read here. Written with SQL expressions rather
    than ORM objects: this runs once per pulled order, and the ORM's unit of work costs more
    than the rest of the pull. Returns the order's row id.

    Raises:
        ValueError: ``stock_effect`` is not one the store knows.
    """
    if stock_effect not in STOCK_EFFECTS:
        raise ValueError(f"unknown stock effect {stock_effect!r}")
    now = at or utcnow()
    if state is True:
        state = order_state(s, order.connector, order.external_id)
    values = _order_values(order, raw, stock_effect)
    values["stock_copy_of"] = stock_copy_of
    if isinstance(state, OrderState):
        order_id = state.id
        s.execute(_UPDATE_ORDER, {**values, "last_seen_at": now, "p_id": order_id})
        s.execute(_DELETE_ITEMS, {"p_id": order_id})
    else:
        result = s.execute(_INSERT_ORDER, {**values, "imported_at": now, "last_seen_at": now})
        order_id = int(cast(CursorResult[Any], result).inserted_primary_key[0])  # type: ignore[index]
    s.execute(
        _INSERT_ITEMS,
        [
            {
                "order_id": order_id,
                "line": line,
                "sku": item.sku,
                "channel_item_id": item.channel_item_id,
                "variation_id": item.variation_id,
                "title": item.title,
                "quantity": item.quantity,
                "unit_price": item.unit_price,
                "stock": line_stock[line - 1] if line_stock is not None else "none",
            }
            for line, item in enumerate(order.items, start=1)
        ],
    )
    return order_id


def set_line_stock(s: Session, item_id: int, stock: str) -> None:
    """Record what stock did with one order line."""
    s.execute(update(_ITEMS).where(_ITEMS.c.id == item_id).values(stock=stock))


def stored_versions(
    connection: Connection | Session, connector: str, external_ids: Iterable[str]
) -> dict[str, datetime]:
    """external_id -> stored ``updated_at`` for those of ``external_ids`` already stored."""
    ids = list(dict.fromkeys(external_ids))
    found: dict[str, datetime] = {}
    for start in range(0, len(ids), CHUNK):
        rows = connection.execute(
            _VERSIONS, {"p_connector": connector, "p_ids": ids[start : start + CHUNK]}
        )
        found.update({external_id: updated for external_id, updated in rows})
    return found


def list_orders(
    s: Session, *, connector: str | None = None, status: str | None = None, limit: int = 100
) -> list[OrderRow]:
    """The most recently updated orders first, optionally of one connector and/or status."""
    query = select(OrderRow)
    if connector is not None:
        query = query.where(OrderRow.connector == connector)
    if status is not None:
        query = query.where(OrderRow.status == status)
    query = query.order_by(col(OrderRow.updated_at).desc(), col(OrderRow.id).desc())
    return list(s.exec(query.limit(limit)).all())


def count_orders(s: Session, *, connector: str | None = None, status: str | None = None) -> int:
    """How many orders ``list_orders`` would return without a limit."""
    query = select(func.count()).select_from(OrderRow)
    if connector is not None:
        query = query.where(OrderRow.connector == connector)
    if status is not None:
        query = query.where(OrderRow.status == status)
    return int(s.exec(query).one())


def order_from_row(row: OrderRow, items: Sequence[OrderItemRow]) -> Order:
    """Rebuild the Order that ``save_order`` stored (Decimals and aware UTC times intact)."""
    buyer = Buyer(**{field: getattr(row, column) for column, field in _BUYER.items()})
    address = Address(**{field: getattr(row, column) for column, field in _ADDRESS.items()})
    return Order(
        connector=row.connector,
        platform=row.platform,
        external_id=row.external_id,
        number=row.number,
        status=row.status,
        channel_status=row.channel_status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        currency=row.currency,
        items_total=row.items_total,
        shipping_cost=row.shipping_cost,
        discount=row.discount,
        total=row.total,
        buyer=buyer,
        shipping_address=address,
        items=tuple(_item(item) for item in sorted(items, key=lambda i: i.line)),
        fulfilled_by_channel=row.fulfilled_by_channel,
        extra=dict(row.extra),
        notes=tuple(row.notes),
        sale_ref=row.sale_ref,
    )


def _item(row: OrderItemRow) -> OrderItem:
    return OrderItem(
        sku=row.sku,
        channel_item_id=row.channel_item_id,
        variation_id=row.variation_id,
        title=row.title,
        quantity=row.quantity,
        unit_price=row.unit_price,
    )


def load_order(s: Session, connector: str, external_id: str) -> Order | None:
    """The stored order as a domain Order, or None."""
    row = get_order(s, connector, external_id)
    if row is None or row.id is None:
        return None
    return order_from_row(row, order_items(s, row.id))


def find_orders(s: Session, ref: str) -> list[OrderRow]:
    """Orders matching ``ref``: "connector:external_id", an external id, or an order number."""
    matches: list[ColumnElement[bool]] = [
        col(OrderRow.external_id) == ref,
        col(OrderRow.number) == ref,
    ]
    connector, sep, external_id = ref.partition(":")
    if sep and connector and external_id:
        matches.append(
            and_(col(OrderRow.connector) == connector, col(OrderRow.external_id) == external_id)
        )
    query = select(OrderRow).where(or_(*matches))
    query = query.order_by(col(OrderRow.updated_at).desc(), col(OrderRow.id).desc())
    return list(s.exec(query).all())
