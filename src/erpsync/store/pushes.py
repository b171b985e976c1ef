"""Push records in the store, for every resource pushed record by record (invoices, tracking).

A resource is a ``PushKind``: its push table (a ``PushRecord``), the table of the rows it
pushes (each with ``id`` and ``order_id``) and the push table's column naming that row. The
queries below are written once for all of them (erpsync.engine.record_push runs the flow).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.postsale.domain import PushState
from erpsync.store.tables import (
    InvoicePush,
    InvoiceRow,
    OrderRow,
    PushRecord,
    ShipmentRow,
    TrackingPush,
)

P = TypeVar("P", bound=PushRecord)
#: the rows a push record may point at (add a table here for a new resource)
PushedRow = InvoiceRow | ShipmentRow


@dataclass(frozen=True)
class PushKind(Generic[P]):
    """One resource pushed record by record."""

    table: type[P]
    rows: type[PushedRow]
    #: the column of ``table`` that holds the pushed row's id
    key: str

    def key_column(self) -> Any:
        return col(getattr(self.table, self.key))


INVOICES = PushKind(InvoicePush, InvoiceRow, "invoice_id")
TRACKING = PushKind(TrackingPush, ShipmentRow, "shipment_id")


def record(
    s: Session,
    kind: PushKind[P],
    row_id: int,
    connector: str,
    state: PushState,
    *,
    error: str | None = None,
    remote_ref: str | None = None,
) -> P:
    """Create or move one row's push record on one channel (one attempt more if "sent")."""
    push = s.get(kind.table, (row_id, connector))
    now = utcnow()
    if push is None:
        push = kind.table(connector=connector, state=state.value, first_sent_at=now)
        setattr(push, kind.key, row_id)
    push.state = state.value
    push.error = error
    if remote_ref is not None:
        push.remote_ref = remote_ref
    if state is PushState.SENT:
        push.attempts += 1
    push.updated_at = now
    s.add(push)
    s.flush()
    return push


def of(s: Session, kind: PushKind[P], row_ids: Iterable[int]) -> dict[int, dict[str, P]]:
    """row id -> connector -> its push record."""
    ids = list(row_ids)
    found: dict[int, dict[str, P]] = {}
    if not ids:
        return found
    query = select(kind.table).where(kind.key_column().in_(ids))
    for push in s.exec(query).all():
        found.setdefault(getattr(push, kind.key), {})[push.connector] = push
    return found


def candidates(
    s: Session,
    kind: PushKind[P],
    connector: str,
    states: Sequence[str],
    *,
    unsent: bool = False,
    where: Sequence[Any] = (),
    order_by: Sequence[Any] = (),
) -> list[tuple[Any, OrderRow, P | None]]:
    """The connector's rows (matching ``where``) whose push record there is in ``states``
    and, with ``unsent``, those with none yet: (row, its order, its record or None), in
    ``order_by`` order, then by row id."""
    rows = kind.rows
    query = (
        select(rows, OrderRow, kind.table)
        .join(OrderRow, col(OrderRow.id) == col(rows.order_id))
        .outerjoin(
            kind.table,
            (kind.key_column() == col(rows.id)) & (col(kind.table.connector) == connector),
        )
        .where(OrderRow.connector == connector, *where)
        .order_by(*order_by, col(rows.id))
    )
    return [
        (row, order, push)
        for row, order, push in s.exec(query).all()
        if (push is None and unsent) or (push is not None and push.state in states)
    ]


def stuck(s: Session, kind: PushKind[P]) -> list[tuple[P, Any, OrderRow]]:
    """Push records that did not end accepted, with their rows and orders, by connector."""
    rows = kind.rows
    query = (
        select(kind.table, rows, OrderRow)
        .where(kind.key_column() == col(rows.id), col(rows.order_id) == col(OrderRow.id))
        .where(col(kind.table.state) != PushState.ACCEPTED.value)
        .order_by(col(kind.table.connector), col(rows.id))
    )
    return [(push, row, order) for push, row, order in s.exec(query).all()]
