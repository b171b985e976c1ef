"""Quarantine: payloads a connector could not map, kept with the error until replayed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from erpsync.domain import utcnow
from erpsync.store.tables import QuarantineRow

#: ids per IN (...) query
CHUNK = 500
_QUARANTINE: Table = QuarantineRow.__table__  # type: ignore[attr-defined]
_OPEN_IDS = select_columns(_QUARANTINE.c.external_id).where(
    _QUARANTINE.c.connector == bindparam("p_connector"),
    _QUARANTINE.c.resolved_at.is_(None),
)
#: built once (a pull asks it for every page): SQLAlchemy compiles it once
_OPEN_AMONG = _OPEN_IDS.where(_QUARANTINE.c.external_id.in_(bindparam("p_ids", expanding=True)))


def _open_row(s: Session, connector: str, external_id: str) -> QuarantineRow | None:
    query = select(QuarantineRow).where(
        QuarantineRow.connector == connector,
        QuarantineRow.external_id == external_id,
        col(QuarantineRow.resolved_at).is_(None),
    )
    return s.exec(query.order_by(col(QuarantineRow.id))).first()


def add(
    s: Session,
    connector: str,
    external_id: str | None,
    payload: Any,
    error: str,
    *,
    at: datetime | None = None,
) -> int:
    """Quarantine a payload; return the row id.

    One open row per (connector, external_id): quarantining the same order again refreshes its
    payload and error instead of piling up copies. Payloads without an id always get a new row.
    """
    row = None if external_id is None else _open_row(s, connector, external_id)
    if row is None:
        row = QuarantineRow(
            connector=connector,
            external_id=external_id,
            payload=payload,
            error=error,
            created_at=at or utcnow(),
        )
    else:
        row.payload = payload
        row.error = error
    s.add(row)
    s.flush()
    assert row.id is not None
    return row.id


def open_items(s: Session, connector: str | None = None) -> list[QuarantineRow]:
    """Unresolved rows, oldest first, optionally of one connector."""
    query = select(QuarantineRow).where(col(QuarantineRow.resolved_at).is_(None))
    if connector is not None:
        query = query.where(QuarantineRow.connector == connector)
    return list(s.exec(query.order_by(col(QuarantineRow.id))).all())


def open_ids(s: Session, connector: str, among: Iterable[str] | None = None) -> set[str]:
    """The external ids of a connector's open items (no payloads loaded); with ``among``,
    only those of them (a pull's page asks about its own orders, so the query does not grow
    with the quarantine)."""
    connection = s.connection()
    if among is None:
        rows = connection.execute(_OPEN_IDS, {"p_connector": connector})
        return {external_id for (external_id,) in rows if external_id is not None}
    ids = list(dict.fromkeys(among))
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = connection.execute(_OPEN_AMONG, {"p_connector": connector, "p_ids": chunk})
        found.update(external_id for (external_id,) in rows if external_id is not None)
    return found


def get_item(s: Session, item_id: int) -> QuarantineRow | None:
    return s.get(QuarantineRow, item_id)


def resolve(s: Session, item_id: int, *, at: datetime | None = None) -> bool:
    """Mark a row resolved (replayed successfully); False when it was unknown or resolved."""
    row = s.get(QuarantineRow, item_id)
    if row is None or row.resolved_at is not None:
        return False
    row.resolved_at = at or utcnow()
    s.add(row)
    s.flush()
    return True


def resolve_order(
    s: Session, connector: str, external_id: str, *, at: datetime | None = None
) -> int:
    """Resolve the open row of an order that has now mapped fine; return how many closed."""
    row = _open_row(s, connector, external_id)
    if row is None or row.id is None:
        return 0
    return int(resolve(s, row.id, at=at))
