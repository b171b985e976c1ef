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
from erpsync.store import shipments as shipment_store
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
#: many new orders at once, their ids back in the rows' order
_INSERT_ORDERS = insert(_ORDERS).returning(_ORDERS.c.id, sort_by_parameter_order=True)
#: the holders of many sales at once (see _HOLDER): the first such order is the lowest id
_HOLDERS = (
    core_select(_ORDERS.c.sale_ref, func.min(_ORDERS.c.id))
    .where(
        _ORDERS.c.sale_ref.in_(bindparam("p_sales", expanding=True)),
        _ORDERS.c.connector != bindparam("p_connector"),
        _ORDERS.c.stock_copy_of.is_(None),
    )
    .group_by(_ORDERS.c.sale_ref)
)
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
    connection = s.connection()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = connection.execute(_STATES, {"p_connector": connector, "p_ids": chunk})
        found.update({external_id: OrderState(*rest) for external_id, *rest in rows})
    return found


def stock_holder(s: Session, sale: str, connector: str) -> int | None:
    """The id of the order another connector stored for the same sale (``sale_ref``), which
    moves the sale's stock; None when this connector's copy is the first."""
    found = s.execute(_HOLDER, {"p_sale": sale, "p_connector": connector}).first()
    return None if found is None else int(found[0])


def stock_holders(s: Session, sales: Iterable[str], connector: str) -> dict[str, int]:
    """``stock_holder`` for many sales in one query per CHUNK (a page of a pull): sale_ref ->
    the holder's id, for the sales another connector stored first."""
    refs = list(dict.fromkeys(sales))
    found: dict[str, int] = {}
    connection = s.connection()
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start : start + CHUNK]
        rows = connection.execute(_HOLDERS, {"p_sales": chunk, "p_connector": connector})
        found.update({str(sale): int(holder) for sale, holder in rows})
    return found


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
        _INSERT_ITEMS, [{"order_id": order_id, **row} for row in _item_rows(order, line_stock)]
    )
    return order_id


def _item_rows(order: Order, line_stock: Sequence[str] | None) -> list[dict[str, Any]]:
    """The item rows of ``order``, without their ``order_id``."""
    return [
        {
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
    ]


class NewOrders:
    """A page's new orders, written together (``flush``) instead of one by one.

    ``save_order`` plus ``shipments.sync_shipments`` cost three statements per new order, and
    SQLAlchemy's work around each statement cost several times SQLite's own
    (``bench/pull_orders.py --profile``). Here a page's new orders go in one INSERT (their ids
    come back in order), their items in one, their shipments in one. The caller flushes
    before anything reads those rows: at the end of the page's transaction, and before the
    same order comes again in the page (``in``).
    """

    def __init__(self, s: Session) -> None:
        self._s = s
        self._orders: list[dict[str, Any]] = []
        self._items: list[list[dict[str, Any]]] = []
        self._shipments: list[list[dict[str, Any]]] = []
        self._pending: set[str] = set()

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._pending

    def add(
        self,
        order: Order,
        raw: dict[str, Any],
        stock_effect: str,
        *,
        line_stock: Sequence[str] | None = None,
        stock_copy_of: int | None = None,
        shipments: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Queue one new order as ``save_order`` would insert it, with its shipment rows
        (``shipments.new_rows``).

        Raises:
            ValueError: ``stock_effect`` is not one the store knows.
        """
        if stock_effect not in STOCK_EFFECTS:
            raise ValueError(f"unknown stock effect {stock_effect!r}")
        now = utcnow()
        values = _order_values(order, raw, stock_effect)
        values |= {"stock_copy_of": stock_copy_of, "imported_at": now, "last_seen_at": now}
        self._orders.append(values)
        self._items.append(_item_rows(order, line_stock))
        self._shipments.append(list(shipments))
        self._pending.add(order.external_id)

    def flush(self) -> dict[str, int]:
        """Write the queued orders; returns external_id -> row id."""
        if not self._orders:
            return {}
        connection = self._s.connection()
        ids = [int(row[0]) for row in connection.execute(_INSERT_ORDERS, self._orders)]
        items = [
            {"order_id": order_id, **row}
            for order_id, rows in zip(ids, self._items, strict=True)
            for row in rows
        ]
        if items:
            connection.execute(_INSERT_ITEMS, items)
        shipment_store.insert_rows(
            connection,
            [
                {"order_id": order_id, **row}
                for order_id, rows in zip(ids, self._shipments, strict=True)
                for row in rows
            ],
        )
        saved = {
            str(values["external_id"]): order_id
            for values, order_id in zip(self._orders, ids, strict=True)
        }
        self._orders, self._items, self._shipments = [], [], []
        self._pending.clear()
        return saved


class OrderUpdates:
    """A page's changed orders, written together (``flush``) instead of one by one.

    ``save_order`` on a stored order costs three statements (the row's UPDATE, its items'
    DELETE and INSERT); here a page's updates go in one executemany each. The same rules as
    ``NewOrders``: the caller flushes before anything reads those rows, at the end of the
    page's transaction and before the same order comes again in the page (``in``).
    """

    def __init__(self, s: Session) -> None:
        self._s = s
        self._orders: list[dict[str, Any]] = []
        self._items: list[dict[str, Any]] = []
        self._pending: set[str] = set()

    def __contains__(self, external_id: object) -> bool:
        return external_id in self._pending

    def add(
        self,
        order: Order,
        raw: dict[str, Any],
        stock_effect: str,
        *,
        state: OrderState,
        line_stock: Sequence[str] | None = None,
        stock_copy_of: int | None = None,
    ) -> int:
        """Queue the update ``save_order(..., state=state)`` would make; returns the row id.

        Raises:
            ValueError: ``stock_effect`` is not one the store knows.
        """
        if stock_effect not in STOCK_EFFECTS:
            raise ValueError(f"unknown stock effect {stock_effect!r}")
        values = _order_values(order, raw, stock_effect)
        values |= {"stock_copy_of": stock_copy_of, "last_seen_at": utcnow(), "p_id": state.id}
        self._orders.append(values)
        self._items += [{"order_id": state.id, **row} for row in _item_rows(order, line_stock)]
        self._pending.add(order.external_id)
        return state.id

    def flush(self) -> None:
        """Write the queued updates."""
        if not self._orders:
            return
        connection = self._s.connection()
        connection.execute(_UPDATE_ORDER, self._orders)
        connection.execute(_DELETE_ITEMS, [{"p_id": values["p_id"]} for values in self._orders])
        if self._items:
            connection.execute(_INSERT_ITEMS, self._items)
        self._orders, self._items = [], []
        self._pending.clear()


def items_of(s: Session, order_ids: Iterable[int]) -> dict[int, list[OrderItemRow]]:
    """``order_items`` for many orders in one query per CHUNK ids: order id -> its item rows
    in line order (orders without items left out)."""
    ids = list(dict.fromkeys(order_ids))
    found: dict[int, list[OrderItemRow]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(OrderItemRow).where(col(OrderItemRow.order_id).in_(chunk))
        for row in s.exec(query.order_by(col(OrderItemRow.order_id), col(OrderItemRow.line))):
            found.setdefault(row.order_id, []).append(row)
    return found


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


def carts_numbered(s: Session, cart: str) -> list[OrderRow]:
    """The orders of the connector-scoped carts numbered ``cart``: those whose ``sale_ref`` is
    ``<kind>:<their connector>:<cart>`` (the files connector's `cart`, ``files:<connector>:
    <cart>``), by id. A channel's own cart number is the orders' ``number`` (Mercado Livre's
    pack id): ``find_orders`` finds those."""
    query = select(OrderRow).where(col(OrderRow.sale_ref).endswith(f":{cart}", autoescape=True))
    rows = s.exec(query.order_by(col(OrderRow.id))).all()
    return [r for r in rows if (r.sale_ref or "").endswith(f":{r.connector}:{cart}")]


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
